#include "model/cpu_attention.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "model/dropout.h"

namespace tmt {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// A [batch, heads, len, head_dim] float tensor by pointer and strides (head_dim contiguous).
struct Strided {
  float* data = nullptr;
  int64_t sb = 0, sh = 0, st = 0;

  explicit Strided(const Tensor& t)
      : data(t.data_ptr<float>()), sb(t.stride(0)), sh(t.stride(1)), st(t.stride(2)) {}
  float* row(int64_t b, int64_t h, int64_t t) const { return data + b * sb + h * sh + t * st; }
};

// Everything one (sentence, head) pair needs, forward and backward.
struct Problem {
  int64_t batch, heads, tgt_len, src_len, head_dim;
  float scale;
  Strided q, k, v, out;
  float* probs;  // [batch, heads, tgt_len, src_len] contiguous: softmax before dropout
  const bool* mask = nullptr;  // broadcast to [batch, 1, tgt_len, src_len] by its strides
  int64_t mask_sb = 0, mask_st = 0, mask_ss = 0;
  uint64_t seed = 0;
  uint32_t drop_threshold = 0;  // 0: no dropout
  float keep_scale = 1.0f;      // 1 / (1 - p)

  bool allowed(int64_t b, int64_t t, int64_t s) const {
    return mask == nullptr || mask[b * mask_sb + t * mask_st + s * mask_ss];
  }
  // What dropout multiplies weight (b, h, t, s) by: 1 / (1 - p) or 0 (1 without dropout).
  float dropout_factor(int64_t b, int64_t h, int64_t t, int64_t s) const {
    if (drop_threshold == 0) return 1.0f;
    const auto index = static_cast<uint64_t>(((b * heads + h) * tgt_len + t) * src_len + s);
    return dropout_keeps(seed, index, drop_threshold) ? keep_scale : 0.0f;
  }
};

// Eight independent partial sums, which the compiler turns into one vector register.
inline float dot(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; ++l) acc[l] += a[i + l] * b[i + l];
  }
  float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// y += a * x
inline void axpy(float a, const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

__attribute__((target_clones("avx2", "default"))) void forward_pair(const Problem& g, int64_t b, int64_t h) {
  const int64_t S = g.src_len, D = g.head_dim;
  for (int64_t t = 0; t < g.tgt_len; ++t) {
    const float* q = g.q.row(b, h, t);
    float* p = g.probs + ((b * g.heads + h) * g.tgt_len + t) * S;
    float max = -std::numeric_limits<float>::infinity();
    for (int64_t s = 0; s < S; ++s) {
      if (g.allowed(b, t, s)) {
        p[s] = dot(q, g.k.row(b, h, s), D) * g.scale;
        max = std::max(max, p[s]);
      }
    }
    float* o = g.out.row(b, h, t);
    std::fill(o, o + D, 0.0f);
    if (max == -std::numeric_limits<float>::infinity()) {  // every key masked: zero weights
      std::fill(p, p + S, 0.0f);
      continue;
    }
    float sum = 0.0f;
    for (int64_t s = 0; s < S; ++s) {
      p[s] = g.allowed(b, t, s) ? std::exp(p[s] - max) : 0.0f;
      sum += p[s];
    }
    const float inverse = 1.0f / sum;
    for (int64_t s = 0; s < S; ++s) {
      p[s] *= inverse;
      const float w = p[s] * g.dropout_factor(b, h, t, s);
      if (w != 0.0f) axpy(w, g.v.row(b, h, s), o, D);
    }
  }
}

// Gradients of one pair: grad_out holds dL/d(out); dq, dk, dv are accumulated into (zeroed).
__attribute__((target_clones("avx2", "default"))) void backward_pair(const Problem& g, const Strided& grad_out,
                                                                     const Strided& dq, const Strided& dk,
                                                                     const Strided& dv, int64_t b, int64_t h,
                                                                     float* scratch) {
  const int64_t S = g.src_len, D = g.head_dim;
  float* ds = scratch;  // [S]
  for (int64_t t = 0; t < g.tgt_len; ++t) {
    const float* p = g.probs + ((b * g.heads + h) * g.tgt_len + t) * S;
    const float* go = grad_out.row(b, h, t);
    // dL/dp_s = dropout'(dL/dw_s) with dL/dw_s = go . v_s; dv_s += w_s go.
    float weighted = 0.0f;
    for (int64_t s = 0; s < S; ++s) {
      ds[s] = 0.0f;
      if (p[s] == 0.0f) continue;  // masked (or underflowed): no gradient flows through it
      const float factor = g.dropout_factor(b, h, t, s);
      if (factor != 0.0f) {
        axpy(p[s] * factor, go, dv.row(b, h, s), D);
        ds[s] = dot(go, g.v.row(b, h, s), D) * factor;
      }
      weighted += p[s] * ds[s];
    }
    // Softmax: dL/dscore_s = p_s (dL/dp_s - sum_r p_r dL/dp_r), then through the 1/sqrt(d) scale.
    const float* q = g.q.row(b, h, t);
    float* dq_row = dq.row(b, h, t);
    for (int64_t s = 0; s < S; ++s) {
      if (p[s] == 0.0f) continue;
      const float d_score = p[s] * (ds[s] - weighted) * g.scale;
      axpy(d_score, g.k.row(b, h, s), dq_row, D);
      axpy(d_score, q, dk.row(b, h, s), D);
    }
  }
}

// Pairs per parallel task: enough multiply-adds per task to outweigh scheduling.
int64_t grain(const Problem& g) {
  return std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, g.tgt_len * g.src_len * g.head_dim));
}

Problem make_problem(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out, const Tensor& probs,
                     const Tensor& mask) {
  Problem g{q.size(0), q.size(1), q.size(2), k.size(2), q.size(3),
            static_cast<float>(1.0 / std::sqrt(static_cast<double>(q.size(3)))),
            Strided(q), Strided(k), Strided(v), Strided(out), probs.data_ptr<float>()};
  if (mask.defined()) {
    g.mask = mask.data_ptr<bool>();
    g.mask_sb = mask.stride(0);
    g.mask_st = mask.stride(2);
    g.mask_ss = mask.stride(3);
  }
  return g;
}

struct CpuAttentionFunction : public torch::autograd::Function<CpuAttentionFunction> {
  static Tensor forward(AutogradContext* ctx, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                        double dropout_p) {
    RECORD_FUNCTION("tmt::cpu_attention", std::vector<c10::IValue>());  // names it in profiles
    const int64_t batch = q.size(0), heads = q.size(1), tgt_len = q.size(2), src_len = k.size(2);
    // [batch, tgt_len, heads, head_dim] memory seen as [batch, heads, tgt_len, head_dim]
    Tensor out = torch::empty({batch, tgt_len, heads, q.size(3)}, q.options()).transpose(1, 2);
    Tensor probs = torch::empty({batch, heads, tgt_len, src_len}, q.options());
    // [batch, 1, tgt_len, src_len] view with stride 0 where the mask broadcasts
    const Tensor m = mask.expand({batch, 1, tgt_len, src_len});
    Problem g = make_problem(q, k, v, out, probs, m);
    if (dropout_p > 0.0) {
      g.seed = draw_dropout_seed();
      g.drop_threshold = dropout_threshold(dropout_p);
      g.keep_scale = static_cast<float>(1.0 / (1.0 - dropout_p));
    }
    at::parallel_for(0, batch * heads, grain(g), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) forward_pair(g, i / heads, i % heads);
    });
    ctx->save_for_backward({q, k, v, probs});
    ctx->saved_data["seed"] = static_cast<int64_t>(g.seed);
    ctx->saved_data["dropout_p"] = dropout_p;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &q = saved[0], &k = saved[1], &v = saved[2], &probs = saved[3];
    const double dropout_p = ctx->saved_data["dropout_p"].toDouble();
    Tensor grad_out = grad_outputs[0];
    if (grad_out.stride(3) != 1) grad_out = grad_out.contiguous();
    Tensor dq = torch::zeros_like(q), dk = torch::zeros_like(k), dv = torch::zeros_like(v);
    // The mask is already in probs (masked weights are exactly 0); only the shape matters here.
    Problem g = make_problem(q, k, v, grad_out, probs, Tensor());
    if (dropout_p > 0.0) {
      g.seed = static_cast<uint64_t>(ctx->saved_data["seed"].toInt());
      g.drop_threshold = dropout_threshold(dropout_p);
      g.keep_scale = static_cast<float>(1.0 / (1.0 - dropout_p));
    }
    const Strided go(grad_out), gq(dq), gk(dk), gv(dv);
    at::parallel_for(0, g.batch * g.heads, grain(g), [&](int64_t begin, int64_t end) {
      std::vector<float> scratch(static_cast<size_t>(g.src_len));
      for (int64_t i = begin; i < end; ++i) backward_pair(g, go, gq, gk, gv, i / g.heads, i % g.heads, scratch.data());
    });
    return {dq, dk, dv, Tensor(), Tensor()};
  }
};

}  // namespace

bool cpu_attention_supports(const Tensor& q, const Tensor& k, const Tensor& v) {
  for (const Tensor* t : {&q, &k, &v}) {
    if (!t->device().is_cpu() || t->scalar_type() != torch::kFloat || t->dim() != 4 || t->stride(3) != 1) return false;
  }
  return true;
}

Tensor cpu_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, double dropout_p) {
  TORCH_CHECK(cpu_attention_supports(q, k, v),
              "cpu_attention needs CPU float [batch, heads, len, head_dim] tensors with a contiguous last dimension");
  TORCH_CHECK(k.sizes() == v.sizes() && q.size(0) == k.size(0) && q.size(1) == k.size(1) && q.size(3) == k.size(3),
              "cpu_attention: q ", q.sizes(), " does not fit k ", k.sizes(), " and v ", v.sizes());
  TORCH_CHECK(!mask.defined() || (mask.scalar_type() == torch::kBool && mask.dim() == 4 && mask.size(1) == 1),
              "cpu_attention: mask must be bool [batch|1, 1, tgt_len|1, src_len]");
  TORCH_CHECK(dropout_p >= 0.0 && dropout_p < 1.0, "cpu_attention: dropout must be in [0, 1), got ", dropout_p);
  // LibTorch's custom functions take no undefined tensors: no mask is a mask that allows all.
  const Tensor allow = mask.defined() ? mask : torch::ones({1, 1, 1, 1}, torch::kBool);
  return CpuAttentionFunction::apply(q, k, v, allow, dropout_p);
}

}  // namespace tmt
