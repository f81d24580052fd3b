// Times the fused label-smoothing criterion against the Annotated Transformer's materialised
// target (full N x K distribution + KLDivLoss), forward + backward, on CPU.
//
//   bench_criterion [N=8192] [K=37000] [iterations=5]
//
// Peak memory is the growth of the process's resident high-water mark (VmHWM) beyond the
// logits; the fused path runs first, so the materialised figure is what it needs on top of
// the fused path's peak (gradient buffer included).

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

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
Figures measure(int iterations, const std::function<void()>& step) {
  const double before = vm_hwm_mib();
  step();  // warm-up
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) step();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return {ms / iterations, vm_hwm_mib() - before};
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 8192;
  const int64_t k = argc > 2 ? std::atoll(argv[2]) : 37000;
  const int iterations = argc > 3 ? std::atoi(argv[3]) : 5;
  const int64_t pad = 0;
  const double eps = 0.1;
  torch::manual_seed(0);
  torch::Tensor logits = torch::randn({n, k}).requires_grad_();
  torch::Tensor target = torch::randint(0, k, {n}, torch::kLong);
  target.narrow(0, 0, n / 10).fill_(pad);  // 10% padding

  tmt::CriterionConfig config;  // annotated, kl, mean
  config.label_smoothing = eps;
  tmt::LabelSmoothingLoss fused(config, k, pad);
  const Figures f = measure(iterations, [&] {
    logits.mutable_grad() = torch::Tensor();
    fused(logits, target).loss.backward();
  });

  const Figures m = measure(iterations, [&] {
    logits.mutable_grad() = torch::Tensor();
    torch::Tensor q = torch::full({n, k}, eps / (k - 2));       // [N, K] the materialised target
    q.scatter_(1, target.unsqueeze(1), 1.0 - eps);
    q.select(1, pad).zero_();
    q.index_put_({target.eq(pad)}, 0.0);
    torch::Tensor l = torch::log_softmax(logits, 1);            // [N, K]
    torch::Tensor loss = torch::kl_div(l, q, at::Reduction::Sum) / target.ne(pad).sum();
    loss.backward();
  });

  std::printf("criterion N=%lld K=%lld (logits %.0f MiB fp32), %d threads, LibTorch %s\n",
              static_cast<long long>(n), static_cast<long long>(k), n * k * 4 / 1048576.0,
              torch::get_num_threads(), TORCH_VERSION);
  std::printf("  fused        %8.1f ms/iter  peak RSS growth %8.1f MiB\n", f.ms, f.peak_growth_mib);
  std::printf("  materialised %8.1f ms/iter  peak RSS growth %8.1f MiB\n", m.ms, m.peak_growth_mib);
  std::printf("  speed-up %.2fx\n", m.ms / f.ms);
  return 0;
}
