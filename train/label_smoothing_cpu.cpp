#include "train/label_smoothing_cpu.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace tmt {
namespace {

using torch::Tensor;

constexpr float kInf = std::numeric_limits<float>::infinity();

// Cephes' expf: exp(x) = 2^n exp(r), n = round(x log2 e), |r| <= ln2 / 2, exp(r) by a degree-7
// polynomial; branch-free so that loops of it vectorise.
inline float exp_one(float x) {
  constexpr float kLow = -87.3365478515625f;  // exp(kLow) is the smallest normal float
  constexpr float kHigh = 88.0f;              // 2^127 keeps the scale finite
  const bool nan = x != x;
  float c = nan ? 0.0f : x;
  c = c > kHigh ? kHigh : c;
  c = c < kLow ? kLow : c;
  float n = c * 1.44269504088896341f + 12582912.0f;  // 1.5 * 2^23: rounds to the nearest integer
  n -= 12582912.0f;
  const float r = (c - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const auto bits = static_cast<int32_t>((static_cast<int32_t>(n) + 127) << 23);
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  float result = y * scale;
  result = x < kLow ? 0.0f : result;
  result = x > kHigh ? kInf : result;
  return nan ? x : result;
}

__attribute__((target_clones("avx2", "default"))) void exp_all(const float* x, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = exp_one(x[i]);
}

// Sum of term(i) over i < n: eight float lanes over blocks of 256 elements, which vectorise, and
// the blocks' sums in double, so that 8,000 terms lose no more than LibTorch's pairwise sum does.
// Inlined into each caller's target clones, so that the term vectorises with the loop.
template <class Term>
__attribute__((always_inline)) inline float blocked_sum(int64_t n, const Term& term) {
  constexpr int64_t kBlock = 256;
  double total = 0.0;
  int64_t i = 0;
  while (i + 8 <= n) {
    const int64_t block_end = i + std::min<int64_t>(kBlock, (n - i) / 8 * 8);
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (; i < block_end; i += 8) {
      for (int l = 0; l < 8; ++l) acc[l] += term(i + l);
    }
    total += static_cast<double>(((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])));
  }
  for (; i < n; ++i) total += static_cast<double>(term(i));
  return static_cast<float>(total);
}

// Sum of x[i] (times w[i] when w is not null).
__attribute__((target_clones("avx2", "default"))) float lane_sum(const float* x, const float* w, int64_t n) {
  if (w == nullptr) return blocked_sum(n, [x](int64_t i) { return x[i]; });
  return blocked_sum(n, [x, w](int64_t i) { return x[i] * w[i]; });
}

// The largest of n >= 1 floats and the first index holding it. Eight lanes in GCC's vector
// types (the compiler does not vectorise the index bookkeeping by itself): each lane keeps its
// maximum and the first index where it saw it.
__attribute__((target_clones("avx2", "default"))) float lane_argmax(const float* x, int64_t n, int64_t& index) {
  using Floats = float __attribute__((vector_size(32)));
  using Ints = int32_t __attribute__((vector_size(32)));
  Floats m = {-kInf, -kInf, -kInf, -kInf, -kInf, -kInf, -kInf, -kInf};
  Ints at = {0, 1, 2, 3, 4, 5, 6, 7};
  Ints position = at;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    Floats v;
    std::memcpy(&v, x + i, sizeof v);
    const Ints greater = v > m;
    m = greater ? v : m;
    at = greater ? position : at;
    position += 8;
  }
  float best = -kInf;
  int64_t best_at = n;
  for (int l = 0; l < 8; ++l) {
    if (m[l] > best || (m[l] == best && at[l] < best_at)) {
      best = m[l];
      best_at = at[l];
    }
  }
  for (; i < n; ++i) {
    if (x[i] > best) {
      best = x[i];
      best_at = i;
    }
  }
  index = best_at < n ? best_at : 0;  // every element -inf (or NaN): the first, as argmax picks
  return best;
}

// Sum of exp(x[i] - shift).
__attribute__((target_clones("avx2", "default"))) float sum_exp_shifted(const float* x, float shift, int64_t n) {
  return blocked_sum(n, [x, shift](int64_t i) { return exp_one(x[i] - shift); });
}

// Sum over the support: every column but `excluded`, in two pieces so that a -inf logit in the
// excluded column cannot turn the sum into NaN.
float support_sum(const float* z, const float* w, int64_t k, int64_t excluded) {
  if (excluded < 0) return lane_sum(z, w, k);
  return lane_sum(z, w, excluded) +
         lane_sum(z + excluded + 1, w == nullptr ? nullptr : w + excluded + 1, k - excluded - 1);
}

__attribute__((target_clones("avx2", "default"))) void grad_row(const float* z, float lse, float p_scale, float a,
                                                                const float* w, float* g, int64_t k) {
  if (w == nullptr) {
    for (int64_t j = 0; j < k; ++j) g[j] = exp_one(z[j] - lse) * p_scale - a;
  } else {
    for (int64_t j = 0; j < k; ++j) g[j] = exp_one(z[j] - lse) * p_scale - a * w[j];
  }
}

int64_t rows_per_task(int64_t k) { return std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(k, 1)); }

const float* data_or_null(const Tensor& t) { return t.defined() ? t.data_ptr<float>() : nullptr; }

}  // namespace

bool criterion_rows_apply(const Tensor& logits) {
  return logits.device().is_cpu() && logits.scalar_type() == torch::kFloat && logits.dim() == 2 &&
         logits.is_contiguous();
}

void exp_floats(const float* x, float* out, int64_t n) { exp_all(x, out, n); }

void criterion_row_stats(const Tensor& logits, const Tensor& target, const Tensor& counted,
                         const Tensor& support_weights, int64_t excluded, Tensor& lse, Tensor& gold,
                         Tensor& support, Tensor& correct) {
  const int64_t n = logits.size(0), k = logits.size(1);
  lse = torch::empty({n}, logits.options());
  gold = torch::empty({n}, logits.options());
  support = torch::empty({n}, logits.options());
  const Tensor y = target.contiguous();
  const Tensor c = counted.contiguous();
  const Tensor w = support_weights.defined() ? support_weights.contiguous() : support_weights;
  const float* z = logits.data_ptr<float>();
  const int64_t* yp = y.data_ptr<int64_t>();
  const bool* cp = c.data_ptr<bool>();
  const float* wp = data_or_null(w);
  float* lse_p = lse.data_ptr<float>();
  float* gold_p = gold.data_ptr<float>();
  float* support_p = support.data_ptr<float>();
  std::vector<int64_t> hits(static_cast<size_t>(std::max<int64_t>(at::get_num_threads(), 1)), 0);
  at::parallel_for(0, n, rows_per_task(k), [&](int64_t begin, int64_t end) {
    int64_t correct_here = 0;
    for (int64_t i = begin; i < end; ++i) {
      const float* row = z + i * k;
      int64_t argmax = 0;
      const float max = lane_argmax(row, k, argmax);
      if (cp[i] && argmax == yp[i]) ++correct_here;
      gold_p[i] = row[yp[i]];
      support_p[i] = support_sum(row, wp, k, excluded);
      // A NaN logit makes the sum NaN; all -inf gives -inf and a +inf logit +inf, as logsumexp.
      lse_p[i] = std::isinf(max) ? max : max + std::log(sum_exp_shifted(row, max, k));
    }
    hits[static_cast<size_t>(at::get_thread_num())] += correct_here;
  });
  int64_t total = 0;
  for (int64_t h : hits) total += h;
  correct = torch::tensor(total, torch::kLong);
}

Tensor criterion_row_grad(const Tensor& logits, const Tensor& lse, const Tensor& p_scale, const Tensor& a,
                          const Tensor& b, const Tensor& target, const Tensor& counted, const Tensor& support_weights,
                          int64_t excluded) {
  const int64_t n = logits.size(0), k = logits.size(1);
  Tensor grad = torch::empty_like(logits);
  const Tensor lse_c = lse.contiguous(), ps_c = p_scale.contiguous(), a_c = a.contiguous(), b_c = b.contiguous();
  const Tensor y = target.contiguous(), c = counted.contiguous();
  const Tensor w = support_weights.defined() ? support_weights.contiguous() : support_weights;
  const float* z = logits.data_ptr<float>();
  const float *lp = lse_c.data_ptr<float>(), *pp = ps_c.data_ptr<float>(), *ap = a_c.data_ptr<float>(),
              *bp = b_c.data_ptr<float>();
  const int64_t* yp = y.data_ptr<int64_t>();
  const bool* cp = c.data_ptr<bool>();
  const float* wp = data_or_null(w);
  float* g = grad.data_ptr<float>();
  at::parallel_for(0, n, rows_per_task(k), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float* out = g + i * k;
      if (!cp[i]) {
        std::fill(out, out + k, 0.0f);
        continue;
      }
      const float* row = z + i * k;
      grad_row(row, lp[i], pp[i], ap[i], wp, out, k);
      if (excluded >= 0) out[excluded] = exp_one(row[excluded] - lp[i]) * pp[i];  // outside the support
      out[yp[i]] -= bp[i];
    }
  });
  return grad;
}

}  // namespace tmt
