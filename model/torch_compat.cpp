#include "model/torch_compat.h"

#include <sys/resource.h>

#include <mutex>
#include <stdexcept>

#include <ATen/CPUGeneratorImpl.h>

#ifdef TMT_WITH_CUDA
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace tmt {

bool cuda_built() {
#ifdef TMT_WITH_CUDA
  return true;
#else
  return false;
#endif
}

void allow_tf32() {
#ifdef TMT_WITH_CUDA
  at::globalContext().setFloat32MatmulPrecision("high");
  at::globalContext().setAllowTF32CuDNN(true);
#endif
}

void disallow_tf32() {
#ifdef TMT_WITH_CUDA
  at::globalContext().setFloat32MatmulPrecision("highest");
  at::globalContext().setAllowTF32CuDNN(false);
#endif
}

void configure_cuda_kernels() {
#ifdef TMT_WITH_CUDA
  allow_tf32();
#if TMT_TORCH_AT_LEAST(2, 5)
  at::globalContext().setSDPUseCuDNN(false);
#endif
#endif
}

AutocastGuard::AutocastGuard(const torch::Device& device, bool bf16) {
#ifdef TMT_WITH_CUDA
  if (!bf16 || !device.is_cuda()) return;
  active_ = true;
#if TMT_TORCH_AT_LEAST(2, 4)
  was_enabled_ = at::autocast::is_autocast_enabled(at::kCUDA);
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
  was_enabled_ = at::autocast::is_enabled();
  at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  at::autocast::set_enabled(true);
#endif
  at::autocast::increment_nesting();
#else
  (void)device;
  (void)bf16;
#endif
}

AutocastGuard::~AutocastGuard() {
#ifdef TMT_WITH_CUDA
  if (!active_) return;
  // Leaving the outermost autocast region frees the casted weight copies it cached.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if TMT_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(at::kCUDA, was_enabled_);
#else
  at::autocast::set_enabled(was_enabled_);
#endif
#endif
}

void synchronize(const torch::Device& device) {
#ifdef TMT_WITH_CUDA
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
#else
  (void)device;
#endif
}

namespace {

at::Generator default_generator(const torch::Device& device) {
#ifdef TMT_WITH_CUDA
  if (device.is_cuda()) return at::cuda::detail::getDefaultCUDAGenerator(device.index());
#else
  (void)device;
#endif
  return at::detail::getDefaultCPUGenerator();
}

}  // namespace

torch::Tensor rng_state(const torch::Device& device) {
  at::Generator generator = default_generator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_rng_state(const torch::Device& device, const torch::Tensor& state) {
  at::Generator generator = default_generator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

int64_t peak_memory_bytes(const torch::Device& device) {
#ifdef TMT_WITH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    return stats.allocated_bytes[0].peak;  // index 0: the aggregate over pool types
  }
#else
  (void)device;
#endif
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

int64_t allocated_memory_bytes(const torch::Device& device) {
#ifdef TMT_WITH_CUDA
  if (device.is_cuda()) return c10::cuda::CUDACachingAllocator::getDeviceStats(device.index()).allocated_bytes[0].current;
#else
  (void)device;
#endif
  return 0;
}

void reset_peak_memory(const torch::Device& device) {
#ifdef TMT_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#else
  (void)device;
#endif
}

}  // namespace tmt
