#pragma once
// The label-smoothing criterion family of ../shared/LABEL_SMOOTHING.md, computed from a few
// per-row statistics so that the N x K target distribution is never built.

#include <torch/torch.h>

#include <cstdint>

#include "train/train_config.h"

namespace tmt {

/// What a mean divides by: the counted (non-padding) rows and, for gold_nll weighting, the sum of
/// their gold classes' weights (PyTorch's weighted mean divides its NLL term by that).
struct Normaliser {
  double tokens = 0.0;
  double gold_weight = 0.0;
};

/// What one criterion call returns: the loss to optimise plus detached statistics for logs.
struct LossResult {
  torch::Tensor loss;     // scalar for sum/mean, [N] for none; differentiable w.r.t. logits
  torch::Tensor sum;      // scalar: the loss summed over counted rows, detached (a gold_nll mean:
                          // loss * the normaliser's tokens), so that intervals add up per token
  torch::Tensor nll_sum;  // scalar: sum over counted rows of -log p(gold), detached
  torch::Tensor correct;  // scalar int64: counted rows whose argmax is the gold class
  torch::Tensor tokens;   // scalar int64: counted (non-padding) rows
};

/// Label-smoothed KL / cross-entropy over logits [N, K] and gold classes [N].
///
/// Memory beyond the logits is O(N) in the forward pass (row statistics computed in bounded
/// chunks) and the backward pass writes softmax - q straight into the gradient buffer.
class LabelSmoothingLoss {
 public:
  /// padding_idx < 0 means none; the `annotated` variant requires one.
  LabelSmoothingLoss(const CriterionConfig& config, int64_t num_classes, int64_t padding_idx);

  /// The loss of logits [N, K] against target [N], reduced as config().reduction says; a mean
  /// divides by the normaliser of `target` itself.
  LossResult operator()(const torch::Tensor& logits, const torch::Tensor& target) const;

  /// The same with a mean that divides by `over`: the normaliser of a whole update (its batches,
  /// on every rank), so that the losses of the update's batches add up to the update's mean.
  /// Values and gradients equal the one-call form's when `over` is this target's own.
  LossResult operator()(const torch::Tensor& logits, const torch::Tensor& target, const Normaliser& over) const;

  /// The normaliser of `target` [N] (int64, any device), in float32 as the criterion sums it.
  Normaliser normaliser(const torch::Tensor& target) const;

  /// Target probability of the gold class and of every other smoothed class.
  double gold_probability() const { return gold_; }
  double smoothed_probability() const { return smooth_; }

  const CriterionConfig& config() const { return config_; }
  int64_t num_classes() const { return num_classes_; }
  int64_t padding_idx() const { return padding_idx_; }

 private:
  /// Throws (LibTorch's c10::Error) for logits or targets of the wrong shape, type or range.
  void check(const torch::Tensor& logits, const torch::Tensor& target) const;
  /// The loss of checked inputs, a mean dividing by `over`.
  LossResult compute(const torch::Tensor& logits, const torch::Tensor& target, const Normaliser& over) const;

  CriterionConfig config_;
  int64_t num_classes_;
  int64_t padding_idx_;
  double gold_ = 1.0;    // q at the gold class
  double smooth_ = 0.0;  // q at each other class of the support
  torch::Tensor weights_;  // [K] double, undefined when unweighted
};

}  // namespace tmt
