#pragma once
// Multi-head scaled dot-product attention (Vaswani et al. 2017, section 3.2).

#include <torch/torch.h>

#include <utility>

#include "model/dropout.h"

namespace tmt {

/// True when LibTorch provides the fused at::scaled_dot_product_attention (LibTorch >= 2.0).
bool fused_attention_available();

/// How the attention weights and their weighted sum are computed. All compute the same function
/// (tests compare them); they differ in speed and in where they run.
enum class AttentionKernel {
  automatic,         // cpu for CPU float tensors, else sdpa where available, else explicit_formula
  explicit_formula,  // softmax(q k^T / sqrt(head_dim)) v in LibTorch operators
  sdpa,              // at::scaled_dot_product_attention (LibTorch >= 2.0): flash attention on CUDA
  cpu,               // tmt's CPU kernel (model/cpu_attention.h): CPU float tensors only
};

/// What automatic picks for float tensors on `device`: "cpu", "sdpa" or "explicit".
const char* automatic_attention_kernel(const torch::Device& device);

/// Multi-head attention with biased q/k/v/out projections and dropout on the attention weights.
class MultiHeadAttentionImpl : public torch::nn::Module {
 public:
  /// d_model must be divisible by heads; throws std::invalid_argument otherwise.
  MultiHeadAttentionImpl(int64_t d_model, int64_t heads, double dropout);

  /// query [batch, tgt_len, d_model] attends over key/value [batch, src_len, d_model] (the
  /// same tensor for self-attention, the encoder memory for cross-attention) where mask is true;
  /// mask is bool, broadcastable to [batch, heads, tgt_len, src_len], or undefined for no mask.
  /// Returns [batch, tgt_len, d_model]. A query whose every key is masked gets zero weights.
  torch::Tensor forward(const torch::Tensor& query, const torch::Tensor& key,
                        const torch::Tensor& value, const torch::Tensor& mask = {});

  /// Keys and values of x [batch, len, d_model] (key = value = x), projected and split into
  /// heads: each [batch, heads, len, head_dim]. Incremental decoding computes them once per
  /// source (cross-attention) or once per new token (self-attention) and caches them.
  std::pair<torch::Tensor, torch::Tensor> project_kv(const torch::Tensor& x);

  /// query [batch, tgt_len, d_model] attends over already projected keys/values k, v
  /// [batch, heads, src_len, head_dim] (from project_kv, possibly concatenated over steps);
  /// mask as in forward. Equals forward(query, x, x, mask) when (k, v) = project_kv(x).
  torch::Tensor attend_cached(const torch::Tensor& query, const torch::Tensor& k,
                              const torch::Tensor& v, const torch::Tensor& mask = {});

  /// Number of heads h.
  int64_t heads() const { return heads_; }
  /// Width of one head, d_model / h.
  int64_t head_dim() const { return head_dim_; }

  /// Chooses the kernel (default automatic). Throws std::invalid_argument for sdpa when
  /// fused_attention_available() is false (LibTorch < 2.0).
  void set_kernel(AttentionKernel kernel);
  AttentionKernel kernel() const { return kernel_; }

  torch::nn::Linear q_proj{nullptr};
  torch::nn::Linear k_proj{nullptr};
  torch::nn::Linear v_proj{nullptr};
  torch::nn::Linear out_proj{nullptr};
  Dropout attention_dropout{nullptr};

 private:
  // Projection, attention and head merging are separate steps so that incremental decoding can
  // project only the newest query and reuse cached, already split keys/values.
  void check_mask(const torch::Tensor& mask, int64_t batch, int64_t tgt_len,
                  int64_t src_len) const;
  torch::Tensor split_heads(const torch::Tensor& x) const;
  torch::Tensor merge_heads(const torch::Tensor& x) const;
  torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& mask);
  torch::Tensor attend_explicit(const torch::Tensor& q, const torch::Tensor& k,
                                const torch::Tensor& v, const torch::Tensor& mask);

  int64_t d_model_;
  int64_t heads_;
  int64_t head_dim_;
  AttentionKernel kernel_ = AttentionKernel::automatic;
};
TORCH_MODULE(MultiHeadAttention);

}  // namespace tmt
