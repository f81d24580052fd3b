#pragma once
// The training run's policy: read each update's batches, apply it, log, validate, save, and
// stop on max_updates, max_epochs, max_minutes, early stopping or a signal. Everything that
// must survive a restart is gathered by state() and put back by restore().

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "data/batch_stream.h"
#include "model/checkpoint.h"
#include "train/distributed.h"
#include "train/train_config.h"
#include "train/train_log.h"
#include "train/trainer.h"
#include "train/validation_result.h"

namespace tmt {

class TrainingLoop {
 public:
  /// Measures the model on held-out data (the loop notes the update and keeps the best).
  using Validate = std::function<ValidationResult()>;

  /// Checkpoints go to `run_dir` with `header` (config, vocabulary). Without `validate` there is
  /// no validation (the copy task). With a communicator this is one rank of a multi-process
  /// job: it trains on its share of every update's batches; only rank 0 logs, validates and
  /// writes files. Every argument must outlive the loop.
  TrainingLoop(const TrainConfig& config, std::string run_dir, CheckpointHeader header, BatchStream& stream,
               Trainer& trainer, Validate validate = {}, Communicator* communicator = nullptr);

  /// Where training stands: with the weights, enough to continue bit for bit on one process.
  TrainingState state() const;
  /// Continues from `state`, read from checkpoint `origin`: the trainer's update count and Adam
  /// moments, the random generators, the data position, the validation and NaN counters and the
  /// training time so far.
  void restore(const TrainingState& state, const std::string& origin);

  /// Trains until a stopping rule fires, then validates (unless stopped by a signal) and saves.
  /// Returns the process exit code: 0, or 128 + the signal's number.
  int run();

 private:
  // Why training ended; ranks agree on the largest value.
  enum class Stop : int64_t { none, max_updates, max_epochs, max_minutes, early_stopping, signal };

  double elapsed() const;
  /// Share of train.max_minutes spent (0 without that limit), by this process's clock.
  double minutes_spent() const;
  /// Share of the training budget spent before the next update: of max_updates, or of
  /// max_minutes as rank 0 last measured it, whichever is larger (the cool-down's progress).
  double budget_spent() const;
  Stop agree_on_stop(bool epochs_done, bool signalled);
  void after_update(const UpdateStats& s);
  void log_interval();
  void validate();
  Checkpoint snapshot() const;
  std::string save();
  int finish(Stop stop, int signal_number);

  using Clock = std::chrono::steady_clock;

  const TrainConfig& config_;
  std::string run_dir_;
  CheckpointHeader header_;
  BatchStream& stream_;
  Trainer& trainer_;
  Validate validate_;
  Communicator* communicator_;
  bool main_;
  std::optional<TrainLog> log_;  // opened by run(), once the starting update is known

  bool running_ = false;
  Clock::time_point start_;
  Clock::time_point last_save_;
  Clock::time_point interval_start_;
  double elapsed_before_ = 0.0;  // training time of earlier runs (and of this one, once it ends)
  double minutes_spent_ = 0.0;   // share of max_minutes spent, as rank 0 measured it after the last update
  torch::Tensor data_position_;  // where the stream stands after the batches trained on
  int64_t epoch_ = 0;
  int64_t bad_in_row_ = 0;
  double best_value_;
  int64_t best_update_ = 0;
  int64_t stale_validations_ = 0;
  bool stop_early_ = false;
  int64_t last_saved_update_ = 0;
  int64_t last_validated_update_ = 0;
  IntervalStats interval_;
  double interval_grad_norm_ = 0.0;
  int64_t interval_updates_ = 0;
  int64_t interval_positions_ = 0;
  int64_t interval_padding_ = 0;
  double last_lr_ = 0.0;
};

}  // namespace tmt
