#pragma once
// One optimizer update at a time: forward and label-smoothed loss over the update's batches
// (gradients accumulated), NaN/Inf guard, optional clipping, Adam with the paper's schedule.

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/batch.h"
#include "model/transformer.h"
#include "train/adam.h"
#include "train/distributed.h"
#include "train/label_smoothing.h"
#include "train/train_config.h"

namespace tmt {

/// What one update measured; sums over its target tokens so intervals can be aggregated.
struct UpdateStats {
  int64_t update = 0;      // updates done so far, this one included (if it was applied)
  double lr = 0.0;         // the rate this update used
  double loss_sum = 0.0;   // label-smoothed loss summed over target tokens
  double nll_sum = 0.0;    // -log p(gold) summed over target tokens
  int64_t correct = 0;     // target tokens whose argmax is the gold token
  int64_t tokens = 0;      // non-padding target tokens
  double grad_norm = 0.0;  // global L2 norm of the gradient, before clipping
  bool skipped = false;    // NaN/Inf loss or gradient: the weights were left as they were
  int64_t positions = 0;   // padded source + target positions of the update's batches
  int64_t padding = 0;     // of those, padding
};

/// Owns the optimizer and criterion for a model and applies updates to it.
class Trainer {
 public:
  /// The model is moved to `device`. With a communicator, every update also sums gradients and
  /// statistics over all ranks, so each rank applies the same update.
  Trainer(Transformer model, const TrainConfig& config, const torch::Device& device = torch::kCPU,
          Communicator* communicator = nullptr);

  /// One optimizer update over `batches` (config.update_freq of them, normally; on several
  /// ranks, this rank's share, possibly none): their gradients are accumulated and a mean loss
  /// divides by the whole update's normaliser (target tokens; gold weights too for gold_nll),
  /// over all ranks. A non-finite loss or
  /// gradient norm skips the update (the returned stats, summed over ranks, say so).
  UpdateStats step(const std::vector<Batch>& batches);
  UpdateStats step(const Batch& batch) { return step(std::vector<Batch>{batch}); }

  /// Loss statistics of `batch` without touching the weights (eval mode, no gradients).
  UpdateStats evaluate(const Batch& batch);

  /// Continues from a checkpoint: `updates` done, Adam's moments as saved.
  void restore(int64_t updates, const NamedTensors& optimizer_state, const std::string& origin);

  /// Multiplies the schedule's rate of the updates to come (the cool-down's share; 1 by default).
  void set_lr_scale(double scale) { lr_scale_ = scale; }

  int64_t updates() const { return updates_; }
  Transformer& model() { return model_; }
  const torch::Device& device() const { return device_; }
  const Adam& optimizer() const { return *optimizer_; }

 private:
  Transformer model_;
  TrainConfig config_;
  torch::Device device_;
  Communicator* communicator_;
  LabelSmoothingLoss criterion_;
  std::unique_ptr<Adam> optimizer_;
  int64_t updates_ = 0;
  double lr_scale_ = 1.0;

  /// Forward pass and criterion over a batch on the training device; a mean divides by `update`.
  LossResult loss_of(const Batch& batch, const Normaliser& update);
  void add_stats(const LossResult& r, UpdateStats& s) const;
  /// Sums the gradients and `s` over all ranks (the communicator's job).
  void sum_over_ranks(UpdateStats& s);
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
