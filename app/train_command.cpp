#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>

#include "app/config.h"
#include "app/logging.h"
#include "app/subcommands.h"
#include "app/train_log.h"
#include "app/validation.h"
#include "data/atomic_file.h"
#include "data/batch_stream.h"
#include "data/copy_task.h"
#include "data/prepare.h"
#include "data/vocabulary.h"
#include "decode/greedy.h"
#include "model/cpu_runtime.h"
#include "model/torch_compat.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/run_checkpoints.h"
#include "train/trainer.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Seed offset of the held-out copy-task sequences, so they never coincide with training ones.
constexpr uint64_t kHeldOutSeedOffset = 1000003;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// --- SIGINT / SIGTERM: finish the update, save, exit. -------------------------------------

std::atomic<int> g_stop_signal{0};

extern "C" void on_stop_signal(int signal_number) { g_stop_signal = signal_number; }

// Installs the handlers for the duration of training; a second signal gets the default action
// (SA_RESETHAND), so an impatient second Ctrl-C still ends the process at once.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal = 0;
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    action.sa_flags = SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_int_);
    sigaction(SIGTERM, &action, &previous_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &previous_int_, nullptr);
    sigaction(SIGTERM, &previous_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  int received() const { return g_stop_signal.load(); }

 private:
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
};

// --- Data. ------------------------------------------------------------------------------

// Decodes held-out copy-task sequences and counts those reproduced exactly.
int64_t copy_check(Transformer& model, const Config& config) {
  const torch::Tensor seqs = CopyTask::sequences(config.data, config.data.valid_size,
                                                 config.train.seed + kHeldOutSeedOffset);
  model->eval();
  const int64_t len = seqs.size(1);
  const torch::Device device = model->parameters().front().device();
  const torch::Tensor out = greedy_decode(model, seqs.to(device), CopyTask::kStartId, /*end_id=*/-1,
                                          max_output_length(config.decode, len)).to(torch::kCPU);
  if (out.size(1) != len - 1) return 0;
  return out.eq(seqs.narrow(1, 1, len - 1)).all(1).sum().item<int64_t>();
}

// The training and validation data of a run: the copy task, or a prepared parallel corpus.
struct RunData {
  VocabInfo vocab;
  std::string vocab_hash;  // of the SentencePiece model; empty for the copy task
  std::unique_ptr<Vocabulary> spm;
  std::unique_ptr<ParallelCorpus> train_corpus;
  std::unique_ptr<ParallelCorpus> valid_corpus;
  ValidSet valid;
  std::unique_ptr<BatchStream> stream;
};

// `position` is a BatchStream::state() to continue from (undefined: the beginning).
RunData open_data(const Config& config, const std::string& run_dir, const std::string& config_path,
                  const torch::Tensor& position, bool pin_memory) {
  RunData data;
  if (config.data.kind == DataKind::copy) {
    data.vocab = VocabInfo{config.data.vocab_size, config.data.vocab_size, CopyTask::kPadId};
    data.stream = std::make_unique<CopyTask>(config.data, config.train.seed, position);
    return data;
  }
  const std::string data_dir = (fs::path(run_dir) / "data").string();
  const std::string spm = vocab_path(data_dir);
  if (!fs::exists(spm)) {
    throw std::invalid_argument("no prepared data in '" + data_dir + "': run `tmt prepare -c " + config_path +
                                "` with the same --run-dir first");
  }
  data.spm = std::make_unique<Vocabulary>(spm);
  data.vocab = VocabInfo{data.spm->size(), data.spm->size(), kPadId};
  data.vocab_hash = data.spm->hash_hex();
  data.train_corpus = std::make_unique<ParallelCorpus>(split_path(data_dir, "train"), data.spm->size(),
                                                       data.spm->hash(), spm);
  data.valid_corpus = std::make_unique<ParallelCorpus>(split_path(data_dir, "valid"), data.spm->size(),
                                                       data.spm->hash(), spm);
  data.valid = ValidSet{data.valid_corpus.get(), data.spm.get(),
                        make_batcher(*data.valid_corpus, config.data.max_tokens, config.train.seed).epoch_batches(0)};
  auto stream = std::make_unique<CorpusStream>(*data.train_corpus, config.data.max_tokens, config.train.seed,
                                               config.data.prefetch, position, pin_memory);
  spdlog::info("[data] train: {} pairs in {} batches of <= {} tokens, padding {:.1f}%; valid: {} pairs",
               data.train_corpus->size(), stream->batcher().num_batches(), config.data.max_tokens,
               100.0 * stream->batcher().padding_fraction(), data.valid_corpus->size());
  data.stream = std::move(stream);
  return data;
}

// --- Resuming. ----------------------------------------------------------------------------

// Moves the checkpoints of an earlier run aside for --no-resume, so a later resume cannot pick
// them up and nothing is deleted.
void set_aside_checkpoints(const std::string& run_dir) {
  if (!fs::is_directory(run_dir)) return;
  std::vector<fs::path> old;
  for (const auto& entry : fs::directory_iterator(run_dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("checkpoint_", 0) == 0 && entry.path().extension() == ".pt") old.push_back(entry.path());
  }
  if (old.empty()) return;
  const fs::path aside = fs::path(run_dir) / ("previous_" + std::to_string(std::time(nullptr)));
  fs::create_directories(aside);
  for (const fs::path& p : old) fs::rename(p, aside / p.filename());
  spdlog::info("[train] --no-resume: moved {} checkpoint(s) of the earlier run into {}", old.size(), aside.string());
}

// The newest valid checkpoint, with a warning for every newer one that is not.
std::optional<ResumePoint> find_resume_point(const std::string& run_dir) {
  std::vector<std::string> skipped;
  std::optional<ResumePoint> point = newest_valid_checkpoint(run_dir, skipped);
  for (const std::string& why : skipped) spdlog::warn("[train] cannot resume from it: {}", why);
  if (!point && !skipped.empty()) {
    throw std::runtime_error("no valid checkpoint to resume from in '" + run_dir +
                             "' (see above); use --no-resume to start over");
  }
  return point;
}

// The architecture comes from the checkpoint; a config that says otherwise is overruled, loudly.
void take_architecture(Config& config, const ResumePoint& point) {
  const Config saved = parse_config(point.checkpoint.header.config_yaml, "checkpoint " + point.path);
  Config mine;
  Config theirs;
  mine.model = config.model;
  theirs.model = saved.model;
  if (to_yaml(mine) != to_yaml(theirs)) {
    spdlog::warn("[train] the config's model section differs from the one {} was trained with; resuming with the "
                 "checkpoint's architecture (use --no-resume to start over with the new one)",
                 point.path);
  }
  config.model = saved.model;
}

// --- The loop. ----------------------------------------------------------------------------

// Why training ended; ranks agree on the largest value.
enum class Stop : int64_t { none, max_updates, max_epochs, max_minutes, early_stopping, signal };

class TrainingRun {
 public:
  // With a communicator, this is one rank of a multi-process job: it trains on its share of
  // every update's batches, and only rank 0 logs, validates and writes files.
  TrainingRun(const Config& config, std::string run_dir, std::string config_yaml, RunData& data, Trainer& trainer,
              const std::optional<TrainingState>& resumed, Communicator* communicator)
      : config_(config),
        run_dir_(std::move(run_dir)),
        config_yaml_(std::move(config_yaml)),
        data_(data),
        trainer_(trainer),
        communicator_(communicator),
        main_(communicator == nullptr || communicator->rank() == 0),
        log_(run_dir_, resumed ? resumed->update : 0, config.train.max_updates, main_) {
    if (resumed) {
      bad_in_row_ = resumed->bad_updates;
      best_value_ = resumed->best_value;
      best_update_ = resumed->best_update;
      stale_validations_ = resumed->stale_validations;
      elapsed_before_ = resumed->elapsed_s;
    }
    data_position_ = data_.stream->state();
  }

  // Trains until a stopping rule fires; returns the process exit code.
  int run() {
    const TrainConfig& tc = config_.train;
    StopSignals signals;
    start_ = Clock::now();
    last_save_ = start_;
    interval_start_ = start_;
    last_saved_update_ = last_validated_update_ = trainer_.updates();
    const int64_t world = communicator_ != nullptr ? communicator_->world_size() : 1;
    const int64_t rank = communicator_ != nullptr ? communicator_->rank() : 0;
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
        // Only a run bounded in epochs may have to put a batch back (CopyTask's state is a copy
        // of its generator: not worth taking for every batch).
        torch::Tensor before = tc.max_epochs > 0 ? data_.stream->state() : torch::Tensor();
        Batch batch = data_.stream->next();
        if (tc.max_epochs > 0 && batch.epoch >= tc.max_epochs) {
          data_position_ = before;  // that batch stays unread for a run with more epochs
          epochs_done = true;
          break;
        }
        epoch_ = batch.epoch;
        ++window;
        if (i / tc.update_freq == rank) batches.push_back(std::move(batch));
      }
      if (!epochs_done) data_position_ = data_.stream->state();
      if (window > 0) after_update(trainer_.step(batches));
      stop = agree_on_stop(epochs_done, signals.received() != 0);
    }
    return finish(stop, signals.received() != 0 ? signals.received() : SIGTERM);
  }

 private:
  double elapsed() const { return elapsed_before_ + seconds_since(start_); }

  // Whether to stop after this update. Rank 0 decides on time and early stopping, any rank may
  // have been signalled; all ranks take the most pressing reason, so they stop together.
  Stop agree_on_stop(bool epochs_done, bool signalled) {
    const TrainConfig& tc = config_.train;
    Stop local = Stop::none;
    if (epochs_done) local = Stop::max_epochs;
    if (main_ && tc.max_minutes > 0 && elapsed() >= 60.0 * tc.max_minutes) local = Stop::max_minutes;
    if (stop_early_) local = Stop::early_stopping;
    if (signalled) local = Stop::signal;
    if (communicator_ == nullptr) return local;
    torch::Tensor code = torch::tensor({static_cast<int64_t>(local)}, torch::kLong);
    communicator_->max(code);
    return static_cast<Stop>(code.item<int64_t>());
  }

  void after_update(const UpdateStats& s) {
    const TrainConfig& tc = config_.train;
    interval_positions_ += s.positions;
    interval_padding_ += s.padding;
    if (s.skipped) {
      ++bad_in_row_;
      log_.clear_progress();
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
    log_.progress(s.update, interval_.loss(), interval_.tokens / std::max(interval_seconds, 1e-9), elapsed());
    if (!main_) return;
    if (s.update % tc.log_every == 0 || s.update == tc.max_updates) log_interval();
    if (data_.valid.corpus != nullptr && tc.valid_every > 0 && s.update % tc.valid_every == 0) validate();
    const bool minutes_due = tc.save_minutes > 0 && seconds_since(last_save_) >= 60.0 * tc.save_minutes;
    if ((tc.save_every > 0 && s.update % tc.save_every == 0) || minutes_due) save();
  }

  void log_interval() {
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
    log_.interval(r);
    interval_ = IntervalStats{};
    interval_grad_norm_ = 0.0;
    interval_updates_ = 0;
    interval_positions_ = interval_padding_ = 0;
    interval_start_ = Clock::now();
  }

  void validate() {
    const TrainConfig& tc = config_.train;
    const ValidationResult result = tmt::validate(trainer_, data_.valid, tc, config_.decode);
    last_validated_update_ = trainer_.updates();
    const double score = result.score(tc.best_metric);
    const bool best = std::isnan(best_value_) || score > best_value_;
    if (best) {
      best_value_ = score;
      best_update_ = trainer_.updates();
      stale_validations_ = 0;
    } else {
      ++stale_validations_;
    }
    log_.validation(result, elapsed(), best);
    if (best) {
      write_checkpoint(best_checkpoint_path(run_dir_), snapshot());
    } else if (tc.patience > 0 && stale_validations_ >= tc.patience) {
      spdlog::info("[train] early stopping: no better valid {} in {} validations (best at update {})",
                   to_string(tc.best_metric), stale_validations_, best_update_);
      stop_early_ = true;
    }
    interval_start_ = Clock::now();  // validation time is not training throughput
  }

  Checkpoint snapshot() const {
    Checkpoint c;
    c.header = CheckpointHeader{kCheckpointFormatVersion, config_yaml_, data_.vocab, data_.vocab_hash};
    c.model = model_state(*trainer_.model());
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
    c.training = std::move(t);
    return c;
  }

  // Writes checkpoint_<update>.pt, points checkpoint_last.pt at it, drops the oldest.
  std::string save() {
    const std::string path = numbered_checkpoint_path(run_dir_, trainer_.updates());
    write_checkpoint(path, snapshot());
    link_checkpoint(path, last_checkpoint_path(run_dir_));
    const auto pruned = prune_checkpoints(run_dir_, config_.train.keep_last);
    log_.clear_progress();
    spdlog::info("[train] saved {}{}", path, pruned.empty() ? "" : fmt::format(" (removed {} older)", pruned.size()));
    last_save_ = Clock::now();
    last_saved_update_ = trainer_.updates();
    return path;
  }

  int finish(Stop stop, int signal_number) {
    if (!main_) return stop == Stop::signal ? 128 + signal_number : 0;
    log_.clear_progress();
    if (interval_updates_ > 0) log_interval();
    const bool parallel = data_.valid.corpus != nullptr;
    // A run cut short by a signal saves at once; it does not spend time on validation.
    if (parallel && stop != Stop::signal && last_validated_update_ != trainer_.updates()) validate();
    if (last_saved_update_ != trainer_.updates() || !fs::exists(last_checkpoint_path(run_dir_))) save();
    switch (stop) {
      case Stop::signal:
        spdlog::info("[train] stopped by signal {} after update {}; run the same command to resume", signal_number,
                     trainer_.updates());
        return 128 + signal_number;
      case Stop::max_epochs:
        spdlog::info("[train] reached train.max_epochs {} at update {}", config_.train.max_epochs, trainer_.updates());
        break;
      case Stop::max_minutes:
        spdlog::info("[train] reached train.max_minutes {} at update {}", config_.train.max_minutes, trainer_.updates());
        break;
      default:
        break;
    }
    spdlog::info("[train] {} updates, {:.1f} s of training in all{}", trainer_.updates(), elapsed(),
                 parallel && !std::isnan(best_value_)
                     ? fmt::format("; best valid {} at update {} ({})", to_string(config_.train.best_metric),
                                   best_update_, best_checkpoint_path(run_dir_))
                     : "");
    if (!parallel) {
      const int64_t exact = copy_check(trainer_.model(), config_);
      spdlog::info("[train] copy check: {}/{} held-out sequences copied exactly (greedy)", exact,
                   config_.data.valid_size);
    }
    return 0;
  }

  const Config& config_;
  std::string run_dir_;
  std::string config_yaml_;
  RunData& data_;
  Trainer& trainer_;
  Communicator* communicator_;
  bool main_;
  TrainLog log_;

  Clock::time_point start_;
  Clock::time_point last_save_;
  Clock::time_point interval_start_;
  double elapsed_before_ = 0.0;
  torch::Tensor data_position_;  // where the stream stands after the batches trained on
  int64_t epoch_ = 0;
  int64_t bad_in_row_ = 0;
  double best_value_ = std::nan("");
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

}  // namespace

int train_command(const RunArgs& args) {
  Config config = load_config(args.config, args.overrides);
  const DistributedEnv env = distributed_env();
  const std::string run_dir = run_dir_of(args);
  fs::create_directories(run_dir);
  // Rank 0 logs for the job; the others only say what goes wrong.
  setup_logging(env.is_main() ? (fs::path(run_dir) / "train.log").string() : "");
  if (!env.is_main()) spdlog::set_level(spdlog::level::warn);
  spdlog::info("[train] run directory {}, config {}", run_dir, args.config);

  // One process per device: on a multi-process job, auto and cuda mean this rank's local GPU.
  torch::Device device = resolve_device(config.train.device);
  if (env.world_size > 1 && device.is_cuda() && config.train.device.find(':') == std::string::npos) {
    device = resolve_device("cuda:" + std::to_string(env.local_rank));
  }
  std::unique_ptr<Communicator> communicator;
  if (env.world_size > 1) {
    communicator = std::make_unique<Communicator>(env, device, std::chrono::seconds(config.train.dist_timeout_s));
    spdlog::info("[train] {} processes ({}), rendezvous {}:{}; each update reads {} batches", env.world_size,
                 communicator->backend(), env.master_addr, env.master_port,
                 env.world_size * config.train.update_freq);
  }

  std::optional<ResumePoint> resume;
  if (args.no_resume) {
    if (env.is_main()) set_aside_checkpoints(run_dir);
  } else {
    resume = find_resume_point(run_dir);
  }
  if (communicator) communicator->barrier();  // no rank looks at checkpoints rank 0 is moving
  if (resume) take_architecture(config, *resume);
  const TrainingState* resumed = resume ? &*resume->checkpoint.training : nullptr;
  if (resumed && resumed->update >= config.train.max_updates) {
    spdlog::info("[train] {} is at update {}, train.max_updates is {}: nothing to do", resume->path, resumed->update,
                 config.train.max_updates);
    return 0;
  }
  const std::string config_yaml = to_yaml(config);
  if (env.is_main()) write_text_atomically((fs::path(run_dir) / "config.yaml").string(), config_yaml);

  if (device.is_cuda()) configure_cuda_kernels();
  if (config.train.threads > 0) torch::set_num_threads(static_cast<int>(config.train.threads));
  torch::manual_seed(config.train.seed);  // the same initial weights on every rank
  RunData data = open_data(config, run_dir, args.config, resumed ? resumed->data_position : torch::Tensor(),
                           /*pin_memory=*/device.is_cuda());
  if (resume && resume->checkpoint.header.vocab_hash != data.vocab_hash) {
    throw std::invalid_argument("checkpoint " + resume->path + " was trained with SentencePiece model " +
                                resume->checkpoint.header.vocab_hash + ", the run's data now uses " + data.vocab_hash +
                                "; use --no-resume to start over");
  }
  Transformer model(config.model, data.vocab);
  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  spdlog::info("[train] model: {} layers, d_model {}, vocabulary {}, {} parameters; device {}{}",
               config.model.layers, config.model.d_model, data.vocab.tgt_size, params, device.str(),
               device.is_cuda() && config.train.precision == Precision::bf16 ? " (bf16 autocast)" : "");
  spdlog::info("[train] CPU: {}", cpu_engine_description());
  if (resume) load_weights(resume->checkpoint.model, *model, resume->path);
  Trainer trainer(model, config.train, device, communicator.get());
  if (resume) {
    trainer.restore(resumed->update, resumed->optimizer, resume->path);
    set_rng_state(torch::kCPU, resumed->rng_cpu);
    if (device.is_cuda() && resumed->rng_cuda.defined()) set_rng_state(device, resumed->rng_cuda);
    spdlog::info("[train] resuming from {} at update {}", resume->path, resumed->update);
  }
  if (!env.is_main()) {
    // Dropout differs between ranks. Checkpoints hold rank 0's generator, so only a
    // single-process run resumes bit for bit; other ranks reseed from the update count.
    const uint64_t update = resumed ? static_cast<uint64_t>(resumed->update) : 0;
    torch::manual_seed(config.train.seed + 1000003ULL * static_cast<uint64_t>(env.rank) + 7919ULL * update);
  }
  TrainingRun run(config, run_dir, config_yaml, data, trainer,
                  resumed ? std::optional<TrainingState>(*resumed) : std::nullopt, communicator.get());
  return run.run();
}

}  // namespace tmt
