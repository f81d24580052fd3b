#pragma once
// One optimizer update at a time: forward, label-smoothed loss, backward, Adam with the
// paper's learning-rate schedule.

#include <torch/torch.h>

#include <cstdint>
#include <memory>

#include "data/batch.h"
#include "model/transformer.h"
#include "train/label_smoothing.h"
#include "train/train_config.h"

namespace tmt {

/// What one update measured; sums over its target tokens so intervals can be aggregated.
struct UpdateStats {
  int64_t update = 0;      // updates done so far, this one included
  double lr = 0.0;         // the rate this update used
  double loss_sum = 0.0;   // label-smoothed loss summed over target tokens
  double nll_sum = 0.0;    // -log p(gold) summed over target tokens
  int64_t correct = 0;     // target tokens whose argmax is the gold token
  int64_t tokens = 0;      // non-padding target tokens
};

/// Owns the optimizer and criterion for a model and applies updates to it.
class Trainer {
 public:
  Trainer(Transformer model, const TrainConfig& config);

  /// One optimizer update on `batch`.
  UpdateStats step(const Batch& batch);

  /// Loss statistics of `batch` without touching the weights (eval mode, no gradients).
  UpdateStats evaluate(const Batch& batch);

  int64_t updates() const { return updates_; }
  Transformer& model() { return model_; }

 private:
  Transformer model_;
  TrainConfig config_;
  LabelSmoothingLoss criterion_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  int64_t updates_ = 0;

  /// Forward pass and criterion over a batch; the statistics of `r` for a log line.
  LossResult loss_of(const Batch& batch);
  UpdateStats stats_of(const LossResult& r) const;
};

/// Token-weighted totals of several updates, for a log line.
struct IntervalStats {
  double loss_sum = 0.0;
  double nll_sum = 0.0;
  int64_t correct = 0;
  int64_t tokens = 0;

  void add(const UpdateStats& s);
  double loss() const;        // smoothed loss per token
  double nll() const;         // NLL per token
  double perplexity() const;  // exp(NLL per token)
  double accuracy() const;    // fraction of tokens predicted right
};

}  // namespace tmt
