// Times the fused label-smoothing criterion against the Annotated Transformer's materialised
// target (full N x K distribution + KLDivLoss), forward + backward, on CPU or CUDA.
//
//   bench_criterion [N=8192] [K=37000] [iterations=5] [device=cpu]
//
// Peak memory beyond the logits: on CPU the growth of the process's resident high-water mark
// (VmHWM; the fused path runs first, so the materialised figure is what it needs on top of the
// fused path's peak, gradient buffer included); on CUDA the allocator's peak minus what was
// allocated before each path (reset in between), which is exact. The last line is
// `RESULT {json}` for scripts.

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

#include "model/device.h"
#include "model/torch_compat.h"
#include "train/label_smoothing.h"

namespace {

double vm_hwm_mib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0.0;
}

struct Figures {
  double ms = 0.0;
  double peak_growth_mib = 0.0;
};

// Peak growth counts from before the warm-up, whose allocations are the ones that matter.
Figures measure(const torch::Device& device, int iterations, const std::function<void()>& step) {
  tmt::synchronize(device);
  const bool cuda = device.is_cuda();
  const double before =
      cuda ? static_cast<double>(tmt::allocated_memory_bytes(device)) / 1048576.0 : vm_hwm_mib();
  if (cuda) tmt::reset_peak_memory(device);
  step();  // warm-up
  tmt::synchronize(device);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) step();
  tmt::synchronize(device);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  const double peak =
      cuda ? static_cast<double>(tmt::peak_memory_bytes(device)) / 1048576.0 : vm_hwm_mib();
  return {ms / iterations, peak - before};
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 8192;
  const int64_t k = argc > 2 ? std::atoll(argv[2]) : 37000;
  const int iterations = argc > 3 ? std::atoi(argv[3]) : 5;
  const torch::Device device = tmt::resolve_device(tmt::DeviceSpec::parse(argc > 4 ? argv[4] : "cpu"));
  const int64_t pad = 0;
  const double eps = 0.1;
  torch::manual_seed(0);
  torch::Tensor logits = torch::randn({n, k}, device).requires_grad_();
  torch::Tensor target = torch::randint(0, k, {n}, torch::TensorOptions(torch::kLong).device(device));
  target.narrow(0, 0, n / 10).fill_(pad);  // 10% padding

  tmt::CriterionConfig config;  // annotated, kl, mean
  config.label_smoothing = eps;
  tmt::LabelSmoothingLoss fused(config, k, pad);
  const Figures f = measure(device, iterations, [&] {
    logits.mutable_grad() = torch::Tensor();
    fused(logits, target).loss.backward();
  });

  logits.mutable_grad() = torch::Tensor();
  const Figures m = measure(device, iterations, [&] {
    logits.mutable_grad() = torch::Tensor();
    torch::Tensor q = torch::full({n, k}, eps / (k - 2), device);  // [N, K] the materialised target
    q.scatter_(1, target.unsqueeze(1), 1.0 - eps);
    q.select(1, pad).zero_();
    q.index_put_({target.eq(pad)}, 0.0);
    torch::Tensor l = torch::log_softmax(logits, 1);            // [N, K]
    torch::Tensor loss = torch::kl_div(l, q, at::Reduction::Sum) / target.ne(pad).sum();
    loss.backward();
  });

  const char* what = device.is_cuda() ? "peak CUDA memory beyond the logits" : "peak RSS growth";
  std::printf("criterion N=%lld K=%lld (logits %.0f MiB fp32), device %s, %d threads, LibTorch %s\n",
              static_cast<long long>(n), static_cast<long long>(k), n * k * 4 / 1048576.0, device.str().c_str(),
              torch::get_num_threads(), TORCH_VERSION);
  std::printf("  fused        %8.1f ms/iter  %s %8.1f MiB\n", f.ms, what, f.peak_growth_mib);
  std::printf("  materialised %8.1f ms/iter  %s %8.1f MiB\n", m.ms, what, m.peak_growth_mib);
  std::printf("  speed-up %.2fx, memory ratio %.3f\n", m.ms / f.ms, f.peak_growth_mib / m.peak_growth_mib);
  std::printf("RESULT {\"n\": %lld, \"k\": %lld, \"device\": \"%s\", \"fused_ms\": %.3f, \"fused_peak_mib\": %.1f, "
              "\"materialised_ms\": %.3f, \"materialised_peak_mib\": %.1f}\n",
              static_cast<long long>(n), static_cast<long long>(k), device.str().c_str(), f.ms, f.peak_growth_mib, m.ms,
              m.peak_growth_mib);
  return 0;
}
