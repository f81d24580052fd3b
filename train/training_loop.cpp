#include "train/training_loop.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "model/torch_compat.h"
#include "train/lr_schedule.h"
#include "train/run_checkpoints.h"
#include "train/stop_signals.h"

namespace tmt {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TrainingLoop::TrainingLoop(const TrainConfig& config, std::string run_dir, CheckpointHeader header,
                           BatchStream& stream, Trainer& trainer, Validate validate, Communicator* communicator)
    : config_(config),
      run_dir_(std::move(run_dir)),
      header_(std::move(header)),
      stream_(stream),
      trainer_(trainer),
      validate_(std::move(validate)),
      communicator_(communicator),
      main_(communicator == nullptr || communicator->rank() == 0),
      data_position_(stream.state()),
      best_value_(std::numeric_limits<double>::quiet_NaN()) {}

TrainingState TrainingLoop::state() const {
  TrainingState t;
  t.update = trainer_.updates();
  t.optimizer = trainer_.optimizer().state();
  t.data_position = data_position_;
  t.rng_cpu = rng_state(torch::kCPU);
  if (trainer_.device().is_cuda()) t.rng_cuda = rng_state(trainer_.device());
  t.bad_updates = bad_in_row_;
  t.best_value = best_value_;
  t.best_update = best_update_;
  t.stale_validations = stale_validations_;
  t.elapsed_s = elapsed();
  return t;
}

void TrainingLoop::restore(const TrainingState& state, const std::string& origin) {
  trainer_.restore(state.update, state.optimizer, origin);
  set_rng_state(torch::kCPU, state.rng_cpu);
  if (trainer_.device().is_cuda() && state.rng_cuda.defined()) set_rng_state(trainer_.device(), state.rng_cuda);
  stream_.seek(state.data_position);
  data_position_ = state.data_position;
  bad_in_row_ = state.bad_updates;
  best_value_ = state.best_value;
  best_update_ = state.best_update;
  stale_validations_ = state.stale_validations;
  elapsed_before_ = state.elapsed_s;
}

int TrainingLoop::run() {
  const TrainConfig& tc = config_;
  const int64_t world = communicator_ != nullptr ? communicator_->world_size() : 1;
  const int64_t rank = communicator_ != nullptr ? communicator_->rank() : 0;
  if (rank != 0) {
    // Dropout differs between ranks. Checkpoints hold rank 0's generator, so only a
    // single-process run resumes bit for bit; other ranks reseed from the update count.
    torch::manual_seed(tc.seed + 1000003ULL * static_cast<uint64_t>(rank) +
                       7919ULL * static_cast<uint64_t>(trainer_.updates()));
  }
  StopSignals signals;
  // A signal that came while the run was being set up: not one update to save.
  if (agree_on_stop(false, signals.received() != 0) == Stop::signal) {
    if (!main_) return 128 + signals.received();
    spdlog::info("[train] stopped by signal {} before the first update of this run: nothing to save{}",
                 signals.received(),
                 trainer_.updates() > 0 ? fmt::format(" (the run stays at update {})", trainer_.updates()) : "");
    return 128 + signals.received();
  }
  log_.emplace(run_dir_, trainer_.updates(), tc.max_updates, main_);
  running_ = true;
  start_ = Clock::now();
  last_save_ = start_;
  interval_start_ = start_;
  last_saved_update_ = last_validated_update_ = trainer_.updates();
  // Every rank restored the same training time: the cool-down's clock until the first update.
  minutes_spent_ = tc.max_minutes > 0 ? elapsed_before_ / (60.0 * tc.max_minutes) : 0.0;
  Stop stop = Stop::none;
  while (stop == Stop::none) {
    if (trainer_.updates() >= tc.max_updates) {
      stop = Stop::max_updates;
      break;
    }
    // One update reads world * update_freq batches; rank r trains on the r-th run of
    // update_freq of them. Every rank reads the same stream, so the position is global.
    std::vector<Batch> batches;
    int64_t window = 0;
    bool epochs_done = false;
    for (int64_t i = 0; i < world * tc.update_freq; ++i) {
      // Only a run bounded in epochs may have to put a batch back (CopyStream's state is a copy
      // of its generator: not worth taking for every batch).
      torch::Tensor before = tc.max_epochs > 0 ? stream_.state() : torch::Tensor();
      Batch batch = stream_.next();
      if (tc.max_epochs > 0 && batch.epoch >= tc.max_epochs) {
        data_position_ = before;  // that batch stays unread for a run with more epochs
        epochs_done = true;
        break;
      }
      epoch_ = batch.epoch;
      ++window;
      if (i / tc.update_freq == rank) batches.push_back(std::move(batch));
    }
    if (!epochs_done) data_position_ = stream_.state();
    if (tc.cooldown > 0.0) trainer_.set_lr_scale(cooldown_scale(budget_spent(), tc.cooldown));
    if (window > 0) after_update(trainer_.step(batches));
    stop = agree_on_stop(epochs_done, signals.received() != 0);
  }
  const int code = finish(stop, signals.received() != 0 ? signals.received() : SIGTERM);
  elapsed_before_ = elapsed();
  running_ = false;
  return code;
}

double TrainingLoop::elapsed() const { return elapsed_before_ + (running_ ? seconds_since(start_) : 0.0); }

double TrainingLoop::minutes_spent() const {
  return config_.max_minutes > 0 ? elapsed() / (60.0 * config_.max_minutes) : 0.0;
}

double TrainingLoop::budget_spent() const {
  return std::max(static_cast<double>(trainer_.updates()) / static_cast<double>(config_.max_updates), minutes_spent_);
}

// Whether to stop after this update. Rank 0 decides on time and early stopping, any rank may
// have been signalled; all ranks take the most pressing reason, so they stop together.
TrainingLoop::Stop TrainingLoop::agree_on_stop(bool epochs_done, bool signalled) {
  // Only rank 0's clock counts; the others learn the time spent with the stop code.
  const double spent = main_ ? minutes_spent() : 0.0;
  Stop local = Stop::none;
  if (epochs_done) local = Stop::max_epochs;
  if (spent >= 1.0) local = Stop::max_minutes;
  if (stop_early_) local = Stop::early_stopping;
  if (signalled) local = Stop::signal;
  minutes_spent_ = spent;
  if (communicator_ == nullptr) return local;
  torch::Tensor agreed = torch::tensor({static_cast<double>(local), spent}, torch::kDouble);
  communicator_->max(agreed);
  minutes_spent_ = agreed[1].item<double>();
  return static_cast<Stop>(static_cast<int64_t>(agreed[0].item<double>()));
}

void TrainingLoop::after_update(const UpdateStats& s) {
  const TrainConfig& tc = config_;
  interval_positions_ += s.positions;
  interval_padding_ += s.padding;
  if (s.skipped) {
    ++bad_in_row_;
    log_->clear_progress();
    if (main_) {
      spdlog::warn("[train] update {} skipped: non-finite loss or gradient (loss {:.4g}, grad norm {:.4g}); {} in a row",
                   s.update + 1, s.loss_sum, s.grad_norm, bad_in_row_);
    }
    if (bad_in_row_ >= tc.max_bad_updates) {
      const std::string path = main_ ? save() : last_checkpoint_path(run_dir_) + " (by rank 0)";
      throw std::runtime_error(
          std::to_string(bad_in_row_) + " updates in a row had a non-finite loss or gradient (train.max_bad_updates " +
          std::to_string(tc.max_bad_updates) + "); stopped at update " + std::to_string(trainer_.updates()) +
          " and saved the last good state as " + path +
          ". Lower train.lr_factor, set train.clip_norm, or check the data, then run the same command to resume");
    }
    return;
  }
  bad_in_row_ = 0;
  interval_.add(s);
  interval_grad_norm_ += s.grad_norm;
  ++interval_updates_;
  last_lr_ = s.lr;
  const double interval_seconds = seconds_since(interval_start_);
  log_->progress(s.update, interval_.loss(), interval_.tokens / std::max(interval_seconds, 1e-9), elapsed());
  if (!main_) return;
  if (s.update % tc.log_every == 0 || s.update == tc.max_updates) log_interval();
  if (validate_ && tc.valid_every > 0 && s.update % tc.valid_every == 0) validate();
  const bool minutes_due = tc.save_minutes > 0 && seconds_since(last_save_) >= 60.0 * tc.save_minutes;
  if ((tc.save_every > 0 && s.update % tc.save_every == 0) || minutes_due) save();
}

void TrainingLoop::log_interval() {
  IntervalReport r;
  r.update = trainer_.updates();
  r.epoch = epoch_ + 1;
  r.lr = last_lr_;
  r.stats = interval_;
  r.tokens_per_s = interval_.tokens / std::max(seconds_since(interval_start_), 1e-9);
  r.grad_norm = interval_updates_ > 0 ? interval_grad_norm_ / static_cast<double>(interval_updates_) : 0.0;
  r.padding = interval_positions_ > 0 ? static_cast<double>(interval_padding_) / static_cast<double>(interval_positions_) : 0.0;
  r.elapsed_s = elapsed();
  r.peak_mem_mib = static_cast<double>(peak_memory_bytes(trainer_.device())) / (1024.0 * 1024.0);
  log_->interval(r);
  interval_ = IntervalStats{};
  interval_grad_norm_ = 0.0;
  interval_updates_ = 0;
  interval_positions_ = interval_padding_ = 0;
  interval_start_ = Clock::now();
}

void TrainingLoop::validate() {
  ValidationResult result = validate_();
  result.update = trainer_.updates();
  last_validated_update_ = trainer_.updates();
  const double score = result.score(config_.best_metric);
  const bool best = std::isnan(best_value_) || score > best_value_;
  if (best) {
    best_value_ = score;
    best_update_ = trainer_.updates();
    stale_validations_ = 0;
  } else {
    ++stale_validations_;
  }
  log_->validation(result, elapsed(), best);
  if (best) {
    write_checkpoint(best_checkpoint_path(run_dir_), snapshot());
  } else if (config_.patience > 0 && stale_validations_ >= config_.patience) {
    spdlog::info("[train] early stopping: no better valid {} in {} validations (best at update {})",
                 to_string(config_.best_metric), stale_validations_, best_update_);
    stop_early_ = true;
  }
  interval_start_ = Clock::now();  // validation time is not training throughput
}

Checkpoint TrainingLoop::snapshot() const {
  Checkpoint c;
  c.header = header_;
  c.header.format_version = kCheckpointFormatVersion;
  c.model = model_state(*trainer_.model());
  c.training = state();
  return c;
}

// Writes checkpoint_<update>.pt, points checkpoint_last.pt at it, drops the oldest.
std::string TrainingLoop::save() {
  const std::string path = numbered_checkpoint_path(run_dir_, trainer_.updates());
  write_checkpoint(path, snapshot());
  link_checkpoint(path, last_checkpoint_path(run_dir_));
  const auto pruned = prune_checkpoints(run_dir_, config_.keep_last);
  log_->clear_progress();
  spdlog::info("[train] saved {}{}", path, pruned.empty() ? "" : fmt::format(" (removed {} older)", pruned.size()));
  last_save_ = Clock::now();
  last_saved_update_ = trainer_.updates();
  return path;
}

int TrainingLoop::finish(Stop stop, int signal_number) {
  if (!main_) return stop == Stop::signal ? 128 + signal_number : 0;
  log_->clear_progress();
  if (interval_updates_ > 0) log_interval();
  // A run cut short by a signal saves at once; it does not spend time on validation.
  if (validate_ && stop != Stop::signal && last_validated_update_ != trainer_.updates()) validate();
  if (last_saved_update_ != trainer_.updates() || !std::filesystem::exists(last_checkpoint_path(run_dir_))) save();
  switch (stop) {
    case Stop::signal:
      spdlog::info("[train] stopped by signal {} after update {}; run the same command to resume", signal_number,
                   trainer_.updates());
      return 128 + signal_number;
    case Stop::max_epochs:
      spdlog::info("[train] reached train.max_epochs {} at update {}", config_.max_epochs, trainer_.updates());
      break;
    case Stop::max_minutes:
      spdlog::info("[train] reached train.max_minutes {} at update {}", config_.max_minutes, trainer_.updates());
      break;
    default:
      break;
  }
  spdlog::info("[train] {} updates, {:.1f} s of training in all{}", trainer_.updates(), elapsed(),
               validate_ && !std::isnan(best_value_)
                   ? fmt::format("; best valid {} at update {} ({})", to_string(config_.best_metric), best_update_,
                                 best_checkpoint_path(run_dir_))
                   : "");
  return 0;
}

}  // namespace tmt
