#pragma once
// Scaled dot-product attention for CPU float tensors, forward and backward, one (sentence, head)
// pair at a time. LibTorch 1.13 multiplies [batch * heads] small matrices with one BLAS call
// each, behind a select per matrix: at Multi30k's shapes that bookkeeping cost more than the
// model's real matrix products. Here each pair's scores, mask, softmax, dropout and weighted sum
// stay in cache, and the backward pass recomputes dropout's mask from its seed.

#include <torch/torch.h>

namespace tmt {

/// Whether cpu_attention takes these inputs: CPU float tensors [batch, heads, len, head_dim]
/// whose last dimension is contiguous.
bool cpu_attention_supports(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);

/// softmax(q k^T / sqrt(head_dim) where mask) v, with dropout of probability `dropout_p` on the
/// weights (0: none): the explicit formula of MultiHeadAttentionImpl, differentiable in q, k and
/// v. q [batch, heads, tgt_len, head_dim], k and v [batch, heads, src_len, head_dim] with any
/// strides (a head-split view of a projection needs no copy); mask bool broadcastable to
/// [batch, 1, tgt_len, src_len], or undefined. A query whose every key is masked gets zero
/// weights. Dropout keeps weight (b, h, t, s) when dropout_keeps(seed, index) for its index in
/// a contiguous [batch, heads, tgt_len, src_len] tensor, seed from draw_dropout_seed(): what
/// tmt::Dropout does to the explicit formula's weights. Returns [batch, heads, tgt_len,
/// head_dim] laid out as [batch, tgt_len, heads, head_dim], so merging heads is free.
torch::Tensor cpu_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                            const torch::Tensor& mask, double dropout_p);

}  // namespace tmt
