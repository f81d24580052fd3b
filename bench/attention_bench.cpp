// Attention alone: tmt's CPU kernel against the explicit formula (and SDPA on LibTorch >= 2.0),
// forward and backward, at a training batch's shapes.
//
//   bench_attention [--batch 128] [--heads 4] [--tgt-len 16] [--src-len 16] [--head-dim 32]
//                   [--dropout 0.1] [--iters 20]
//
// Times softmax(q k^T / sqrt(d) + causal mask) v with dropout on the weights, then the backward
// pass for a fixed upstream gradient; prints the median milliseconds of each kernel.

#include <torch/torch.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "model/attention.h"
#include "model/cpu_attention.h"
#include "model/cpu_runtime.h"

namespace {

struct Shape {
  int64_t batch = 128, heads = 4, tgt_len = 16, src_len = 16, head_dim = 32;
  double dropout = 0.1;
  int iters = 20;
};

// Median milliseconds of forward + backward through `attention` (q, k, v -> out).
template <typename Attention>
double time_ms(const Shape& s, Attention&& attention) {
  const auto options = torch::TensorOptions().dtype(torch::kFloat);
  // Projection-like layout: [batch, len, heads, head_dim] memory seen as [batch, heads, len, head_dim].
  auto q = torch::randn({s.batch, s.tgt_len, s.heads, s.head_dim}, options).transpose(1, 2).requires_grad_(true);
  auto k = torch::randn({s.batch, s.src_len, s.heads, s.head_dim}, options).transpose(1, 2).requires_grad_(true);
  auto v = torch::randn({s.batch, s.src_len, s.heads, s.head_dim}, options).transpose(1, 2).requires_grad_(true);
  const auto upstream = torch::randn({s.batch, s.heads, s.tgt_len, s.head_dim}, options);
  std::vector<double> ms;
  for (int i = 0; i < s.iters + 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    attention(q, k, v).backward(upstream);
    if (i >= 3) ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tmt's CPU attention kernel against the explicit formula, forward and backward"};
  Shape s;
  app.add_option("--batch", s.batch);
  app.add_option("--heads", s.heads);
  app.add_option("--tgt-len", s.tgt_len);
  app.add_option("--src-len", s.src_len);
  app.add_option("--head-dim", s.head_dim);
  app.add_option("--dropout", s.dropout);
  app.add_option("--iters", s.iters);
  CLI11_PARSE(app, argc, argv);
  tmt::ensure_fast_cpu_runtime(argv, /*training=*/false);
  const auto mask = torch::ones({s.tgt_len, s.src_len}, torch::kBool).tril().view({1, 1, s.tgt_len, s.src_len});
  tmt::Dropout dropout(s.dropout);
  dropout->train();
  const double kernel = time_ms(s, [&](auto& q, auto& k, auto& v) { return tmt::cpu_attention(q, k, v, mask, s.dropout); });
  const double explicit_formula = time_ms(s, [&](auto& q, auto& k, auto& v) {
    const double scale = 1.0 / std::sqrt(static_cast<double>(s.head_dim));
    auto scores = torch::matmul(q, k.transpose(-2, -1)) * scale;  // [batch, heads, tgt_len, src_len]
    auto weights = torch::softmax(scores.masked_fill(mask.logical_not(), -INFINITY), -1);
    return torch::matmul(dropout(weights), v);  // [batch, heads, tgt_len, head_dim]
  });
  const double macs = 4.0 * static_cast<double>(s.batch * s.heads * s.tgt_len * s.src_len * s.head_dim);
  std::printf("bench_attention: %s\n", tmt::cpu_engine_description().c_str());
  std::printf("  shape          %lld x %lld heads x %lld x %lld x %lld, dropout %.2f, causal mask\n",
              static_cast<long long>(s.batch), static_cast<long long>(s.heads), static_cast<long long>(s.tgt_len),
              static_cast<long long>(s.src_len), static_cast<long long>(s.head_dim), s.dropout);
  std::printf("  cpu kernel     %.2f ms (forward + backward, %.1f GFLOP/s on the products)\n", kernel,
              2.0 * 1.5 * macs / (kernel / 1e3) / 1e9);
  std::printf("  explicit       %.2f ms\n", explicit_formula);
  std::printf("RESULT {\"kernel_ms\": %.4f, \"explicit_ms\": %.4f}\n", kernel, explicit_formula);
  return 0;
}
