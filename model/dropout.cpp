#include "model/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <string>

namespace tmt {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// out[i] = x[i] * (scale where dropout_keeps(seed, first + i), else 0). Compiled twice, for AVX2
// and for the baseline, and chosen at load time: the hash vectorises eight lanes wide on AVX2.
// The loop runs over 32-bit counters (the high half of the index is constant within a segment)
// and selects without branches, so that it vectorises.
__attribute__((target_clones("avx2", "default"))) void masked_scale(const float* x, float* out, int64_t n,
                                                                    uint64_t seed, uint64_t first,
                                                                    uint32_t threshold, float scale) {
  while (n > 0) {
    const auto low = static_cast<uint32_t>(first);
    const int64_t segment = std::min<int64_t>(n, (int64_t{1} << 32) - low);
    const uint32_t high = static_cast<uint32_t>(first >> 32) ^ static_cast<uint32_t>(seed >> 32);
    const auto seed_low = static_cast<uint32_t>(seed);
    for (int64_t i = 0; i < segment; ++i) {
      const uint32_t h = mix32(mix32((low + static_cast<uint32_t>(i)) ^ seed_low) ^ high);
      out[i] = x[i] * (h >= threshold ? scale : 0.0f);
    }
    x += segment;
    out += segment;
    first += static_cast<uint64_t>(segment);
    n -= segment;
  }
}

// x * mask for contiguous float x; index i of the flattened tensor is hash counter i.
Tensor apply_mask(const Tensor& x, uint64_t seed, double p) {
  const Tensor in = x.contiguous();
  Tensor out = torch::empty_like(in);
  const float* src = in.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const uint32_t threshold = dropout_threshold(p);
  const auto scale = static_cast<float>(1.0 / (1.0 - p));
  at::parallel_for(0, in.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
    masked_scale(src + begin, dst + begin, end - begin, seed, static_cast<uint64_t>(begin), threshold, scale);
  });
  return out;
}

struct DropoutFunction : public torch::autograd::Function<DropoutFunction> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, double p) {
    RECORD_FUNCTION("tmt::dropout", std::vector<c10::IValue>());  // names it in profiles
    const uint64_t seed = draw_dropout_seed();
    ctx->saved_data["seed"] = static_cast<int64_t>(seed);
    ctx->saved_data["p"] = p;
    return apply_mask(x, seed, p);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto seed = static_cast<uint64_t>(ctx->saved_data["seed"].toInt());
    return {apply_mask(grad_outputs[0], seed, ctx->saved_data["p"].toDouble()), Tensor()};
  }
};

}  // namespace

uint32_t dropout_threshold(double p) {
  if (!(p >= 0.0 && p < 1.0)) throw std::invalid_argument("dropout probability must be in [0, 1), got " + std::to_string(p));
  return static_cast<uint32_t>(std::min<long long>(std::llround(p * 4294967296.0), 0xFFFFFFFFLL));
}

uint64_t draw_dropout_seed() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

Tensor dropout_mask(uint64_t seed, torch::IntArrayRef shape, double p) {
  return apply_mask(torch::ones(shape, torch::kFloat), seed, p);
}

DropoutImpl::DropoutImpl(double p) : p_(p) {
  dropout_threshold(p);  // validates p
}

Tensor DropoutImpl::forward(const Tensor& x) {
  if (!is_training() || p_ == 0.0) return x;
  if (x.device().is_cpu() && x.scalar_type() == torch::kFloat) return DropoutFunction::apply(x, p_);
  return torch::dropout(x, p_, /*train=*/true);
}

}  // namespace tmt
