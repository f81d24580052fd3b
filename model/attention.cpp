#include "model/attention.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "model/cpu_attention.h"
#include "model/torch_compat.h"

namespace tmt {
namespace {

#if TMT_TORCH_AT_LEAST(2, 0)
// softmax(q k^T / sqrt(head_dim)) v in one at::scaled_dot_product_attention call, which picks a
// fused kernel (flash or memory-efficient attention on CUDA) where the inputs allow one. Its bool
// mask means what ours does (true = the key takes part) and its default scale is
// 1/sqrt(head_dim). q [batch, heads, tgt_len, head_dim], k and v [batch, heads, src_len, head_dim].
//
// A query row whose keys are all masked is NaN in SDPA's math backend (softmax over -inf only),
// and zeroing the NaN output afterwards is not enough: the backward pass through that softmax
// row is NaN * 0 = NaN and spreads into the gradients of every key and value. So such rows are
// let attend to every key (a finite result that is thrown away) and their output is then zeroed,
// which is the explicit path's contract: zero weights, output = out_proj bias, zero gradient.
// Doing this with tensor ops for every call, instead of falling back to the explicit path when
// such a row exists, avoids a device-to-host sync per attention call on CUDA.
torch::Tensor fused_attention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v, const torch::Tensor& mask,
                              double dropout_p) {
  if (!mask.defined()) {
    // [batch, heads, tgt_len, head_dim]
    return at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, dropout_p,
                                            /*is_causal=*/false);
  }
  // [batch|1, 1, tgt_len|1, 1]
  const auto no_key = mask.any(/*dim=*/-1, /*keepdim=*/true).logical_not();
  const auto safe_mask = mask.logical_or(no_key);  // [batch|1, 1, tgt_len|1, src_len]
  return at::scaled_dot_product_attention(q, k, v, safe_mask, dropout_p, /*is_causal=*/false)
      .masked_fill(no_key, 0.0);  // [batch, heads, tgt_len, head_dim]
}
#endif

}  // namespace

bool fused_attention_available() { return TMT_TORCH_AT_LEAST(2, 0); }

const char* automatic_attention_kernel(const torch::Device& device) {
  if (device.is_cpu()) return "cpu";
  return fused_attention_available() ? "sdpa" : "explicit";
}

MultiHeadAttentionImpl::MultiHeadAttentionImpl(int64_t d_model, int64_t heads,
                                               double dropout)
    : d_model_(d_model),
      heads_(heads),
      head_dim_(heads > 0 ? d_model / heads : 0) {
  if (d_model < 1 || heads < 1 || d_model % heads != 0) {
    throw std::invalid_argument("attention heads must divide d_model (d_model " +
                                std::to_string(d_model) + ", heads " + std::to_string(heads) +
                                ")");
  }
  const auto linear = torch::nn::LinearOptions(d_model, d_model).bias(true);
  q_proj = register_module("q_proj", torch::nn::Linear(linear));
  k_proj = register_module("k_proj", torch::nn::Linear(linear));
  v_proj = register_module("v_proj", torch::nn::Linear(linear));
  out_proj = register_module("out_proj", torch::nn::Linear(linear));
  attention_dropout = register_module("attention_dropout", Dropout(dropout));
}

void MultiHeadAttentionImpl::set_kernel(AttentionKernel kernel) {
  if (kernel == AttentionKernel::sdpa && !fused_attention_available()) {
    throw std::invalid_argument(
        "fused attention needs at::scaled_dot_product_attention from LibTorch >= 2.0, this is "
        "LibTorch " + torch_version() + "; use the explicit formula or the CPU kernel");
  }
  kernel_ = kernel;
}

torch::Tensor MultiHeadAttentionImpl::forward(const torch::Tensor& query, const torch::Tensor& key,
                                              const torch::Tensor& value,
                                              const torch::Tensor& mask) {
  TORCH_CHECK(query.dim() == 3 && key.dim() == 3 && value.dim() == 3,
              "attention expects query/key/value of shape [batch, len, d_model], got ",
              query.sizes(), ", ", key.sizes(), ", ", value.sizes());
  TORCH_CHECK(query.size(2) == d_model_ && key.size(2) == d_model_ && value.size(2) == d_model_,
              "attention expects feature size d_model ", d_model_, ", got ", query.size(2), ", ",
              key.size(2), ", ", value.size(2));
  TORCH_CHECK(key.size(0) == query.size(0) && value.size(0) == query.size(0),
              "attention batch sizes differ: query ", query.size(0), ", key ", key.size(0),
              ", value ", value.size(0));
  TORCH_CHECK(key.size(1) == value.size(1), "attention key length ", key.size(1),
              " != value length ", value.size(1));
  check_mask(mask, query.size(0), query.size(1), key.size(1));
  const auto q = split_heads(q_proj(query));  // [batch, heads, tgt_len, head_dim]
  const auto k = split_heads(k_proj(key));    // [batch, heads, src_len, head_dim]
  const auto v = split_heads(v_proj(value));  // [batch, heads, src_len, head_dim]
  return out_proj(merge_heads(attend(q, k, v, mask)));  // [batch, tgt_len, d_model]
}

std::pair<torch::Tensor, torch::Tensor> MultiHeadAttentionImpl::project_kv(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == d_model_,
              "project_kv expects [batch, len, d_model ", d_model_, "], got ", x.sizes());
  return {split_heads(k_proj(x)),   // [batch, heads, len, head_dim]
          split_heads(v_proj(x))};  // [batch, heads, len, head_dim]
}

torch::Tensor MultiHeadAttentionImpl::attend_cached(const torch::Tensor& query,
                                                    const torch::Tensor& k,
                                                    const torch::Tensor& v,
                                                    const torch::Tensor& mask) {
  TORCH_CHECK(query.dim() == 3 && query.size(2) == d_model_,
              "attend_cached expects query [batch, tgt_len, d_model ", d_model_, "], got ",
              query.sizes());
  TORCH_CHECK(k.dim() == 4 && k.size(0) == query.size(0) && k.size(1) == heads_ &&
                  k.size(3) == head_dim_ && v.sizes() == k.sizes(),
              "attend_cached expects k and v [batch ", query.size(0), ", heads ", heads_,
              ", src_len, head_dim ", head_dim_, "], got ", k.sizes(), " and ", v.sizes());
  check_mask(mask, query.size(0), query.size(1), k.size(2));
  const auto q = split_heads(q_proj(query));            // [batch, heads, tgt_len, head_dim]
  return out_proj(merge_heads(attend(q, k, v, mask)));  // [batch, tgt_len, d_model]
}

void MultiHeadAttentionImpl::check_mask(const torch::Tensor& mask, int64_t batch,
                                        int64_t tgt_len, int64_t src_len) const {
  if (!mask.defined()) return;
  TORCH_CHECK(mask.scalar_type() == torch::kBool && mask.dim() == 4,
              "attention mask must be a 4-D bool tensor, got ", mask.scalar_type(), " ",
              mask.sizes());
  TORCH_CHECK((mask.size(0) == 1 || mask.size(0) == batch) && mask.size(1) == 1 &&
                  (mask.size(2) == 1 || mask.size(2) == tgt_len) && mask.size(3) == src_len,
              "attention mask ", mask.sizes(), " does not broadcast to [batch ", batch,
              ", 1, tgt_len ", tgt_len, ", src_len ", src_len, "]");
}

torch::Tensor MultiHeadAttentionImpl::split_heads(const torch::Tensor& x) const {
  return x.view({x.size(0), x.size(1), heads_, head_dim_})  // [batch, len, heads, head_dim]
      .transpose(1, 2);                                      // [batch, heads, len, head_dim]
}

torch::Tensor MultiHeadAttentionImpl::merge_heads(const torch::Tensor& x) const {
  return x.transpose(1, 2)                                  // [batch, len, heads, head_dim]
      .contiguous()
      .view({x.size(0), x.size(2), d_model_});              // [batch, len, d_model]
}

torch::Tensor MultiHeadAttentionImpl::attend(const torch::Tensor& q, const torch::Tensor& k,
                                             const torch::Tensor& v, const torch::Tensor& mask) {
  const double dropout_p = is_training() ? attention_dropout->p() : 0.0;
  AttentionKernel kernel = kernel_;
  if (kernel == AttentionKernel::automatic) {
    kernel = cpu_attention_supports(q, k, v) ? AttentionKernel::cpu
             : fused_attention_available()   ? AttentionKernel::sdpa
                                             : AttentionKernel::explicit_formula;
  }
  switch (kernel) {
    case AttentionKernel::cpu:
      return cpu_attention(q, k, v, mask, dropout_p);  // [batch, heads, tgt_len, head_dim]
#if TMT_TORCH_AT_LEAST(2, 0)
    case AttentionKernel::sdpa:
      return fused_attention(q, k, v, mask, dropout_p);  // [batch, heads, tgt_len, head_dim]
#endif
    default:
      return attend_explicit(q, k, v, mask);  // [batch, heads, tgt_len, head_dim]
  }
}

torch::Tensor MultiHeadAttentionImpl::attend_explicit(const torch::Tensor& q,
                                                      const torch::Tensor& k,
                                                      const torch::Tensor& v,
                                                      const torch::Tensor& mask) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  auto scores = torch::matmul(q, k.transpose(-2, -1)) * scale;  // [batch, heads, tgt_len, src_len]
  torch::Tensor blocked;
  if (mask.defined()) {
    blocked = mask.logical_not();  // [batch|1, 1, tgt_len|1, src_len]
    scores = scores.masked_fill(blocked, -std::numeric_limits<double>::infinity());
  }
  auto weights = torch::softmax(scores, /*dim=*/-1);  // [batch, heads, tgt_len, src_len]
  if (mask.defined()) {
    // A row with every key masked is softmax(-inf...) = NaN; zeroing the masked entries turns
    // it into all-zero weights (output = out_proj bias) and leaves other rows bit-identical.
    // The backward pass of masked_fill also zeroes that row's NaN gradient.
    weights = weights.masked_fill(blocked, 0.0);
  }
  weights = attention_dropout(weights);
  return torch::matmul(weights, v);  // [batch, heads, tgt_len, head_dim]
}

}  // namespace tmt
