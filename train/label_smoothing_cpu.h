#pragma once
// The label-smoothing criterion's two passes over the logits as row kernels for CPU float
// tensors: one read of each row computes every statistic the loss needs, one read and one write
// per row form the gradient. LibTorch operators need about ten passes over the N x K logits
// (max, subtract, exp, sum, log, gather, sum, argmax; then subtract, exp, multiply, ...), each
// allocating and touching N x K floats: at Multi30k's 2,048 x 8,000 that was a quarter of a
// training update. The double path (and every other device and dtype) keeps those operators.

#include <torch/torch.h>

#include <cstdint>

namespace tmt {

/// Whether the row kernels take these logits: a contiguous CPU float [N, K] tensor.
bool criterion_rows_apply(const torch::Tensor& logits);

/// Per-row statistics of logits [N, K] float for gold classes target [N] int64: lse [N] the
/// log-sum-exp, gold [N] the gold logit, support [N] the sum of w_j z_j over every class but
/// `excluded` (< 0: none) with w = support_weights [K] float (undefined: all ones); correct is a
/// scalar int64, the rows with counted [N] bool whose first argmax is the gold class. The outputs
/// are float tensors [N] the function allocates.
void criterion_row_stats(const torch::Tensor& logits, const torch::Tensor& target, const torch::Tensor& counted,
                         const torch::Tensor& support_weights, int64_t excluded, torch::Tensor& lse,
                         torch::Tensor& gold, torch::Tensor& support, torch::Tensor& correct);

/// The gradient [N, K] of the smoothed loss: p_ij * p_scale_i - a_i w_j [j in support] - b_i
/// [j = y_i] with p = exp(z - lse), zero on rows that are not counted. All per-row inputs are
/// float [N]; support_weights as in criterion_row_stats.
torch::Tensor criterion_row_grad(const torch::Tensor& logits, const torch::Tensor& lse, const torch::Tensor& p_scale,
                                 const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& target,
                                 const torch::Tensor& counted, const torch::Tensor& support_weights,
                                 int64_t excluded);

/// exp(x) for each of n floats into out, vectorised (AVX2 where the CPU has it); within 2 ulp
/// of std::exp, 0 below -87.3, +inf above 88.7, NaN for NaN. Exposed for tests.
void exp_floats(const float* x, float* out, int64_t n);

}  // namespace tmt
