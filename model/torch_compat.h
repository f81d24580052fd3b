#pragma once
// The one place that knows which LibTorch it is built against. Debian's libtorch-dev is 1.13
// (CPU); pip's torch ships 2.x with CUDA. Everything version- or CUDA-dependent goes through
// here. TMT_WITH_CUDA is defined by CMake when LibTorch has CUDA.

#include <torch/torch.h>
#include <torch/version.h>

#include <cstdint>
#include <string>

#define TMT_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace tmt {

/// "1.13.1": the LibTorch the binary was compiled against.
inline std::string torch_version() { return TORCH_VERSION; }

/// True when LibTorch was built with CUDA and a device is visible.
inline bool cuda_available() { return torch::cuda::is_available(); }

/// True when tmt was compiled against a LibTorch with CUDA (whether or not a GPU is present).
bool cuda_built();

/// Lets float32 matrix products use TF32 tensor cores (Ampere and later); a no-op on CPU.
void allow_tf32();
/// Back to full float32 products (LibTorch's default); tests that compare with the CPU use it.
void disallow_tf32();

/// What tmt runs with on a GPU: TF32 products, and scaled_dot_product_attention without its
/// cuDNN backend (LibTorch >= 2.5 picks it for bf16 on Hopper; it builds a graph for every new
/// batch shape, ~100 ms each, and its steady state was slower than the memory-efficient kernel
/// on an H200: docs/RESULTS.md). A no-op on CPU builds.
void configure_cuda_kernels();

/// Runs the enclosed forward pass under bf16 autocast on CUDA (weights and optimizer state
/// stay fp32). Does nothing when disabled or on CPU.
class AutocastGuard {
 public:
  AutocastGuard(const torch::Device& device, bool bf16);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  bool was_enabled_ = false;
};

/// Waits for queued device work (CUDA); timings must call it before reading the clock.
void synchronize(const torch::Device& device);

/// The state of the default random generator of `device` (CPU, or that CUDA device), which
/// dropout draws from; set_rng_state puts it back.
torch::Tensor rng_state(const torch::Device& device);
void set_rng_state(const torch::Device& device, const torch::Tensor& state);

/// Peak memory since the last reset: CUDA allocator peak on a GPU, the process's peak resident
/// set size on CPU (which cannot be reset).
int64_t peak_memory_bytes(const torch::Device& device);
void reset_peak_memory(const torch::Device& device);
/// Memory the CUDA allocator holds for tensors now; 0 on CPU.
int64_t allocated_memory_bytes(const torch::Device& device);

}  // namespace tmt
