#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>

#include "app/config.h"
#include "app/logging.h"
#include "app/subcommands.h"
#include "app/validation.h"
#include "base/atomic_file.h"
#include "data/task.h"
#include "decode/greedy.h"
#include "model/checkpoint.h"
#include "model/cpu_runtime.h"
#include "model/device.h"
#include "model/torch_compat.h"
#include "train/distributed.h"
#include "train/run_checkpoints.h"
#include "train/stop_signals.h"
#include "train/trainer.h"
#include "train/training_loop.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;

// Decodes the task's held-out sources greedily and counts the outputs that are exactly right.
int64_t held_out_check(Transformer& model, const Task& task, const HeldOut& held_out, const Config& config) {
  model->eval();
  const torch::Device device = model->parameters().front().device();
  const int64_t max_len = config.decode.output_limit(held_out.src.size(1), config.model.max_positions);
  const torch::Tensor out =
      greedy_decode(model, held_out.src.to(device), task.start_id(), task.end_id(), max_len).to(torch::kCPU);
  if (out.size(1) != held_out.expected.size(1)) return 0;
  return out.eq(held_out.expected).all(1).sum().item<int64_t>();
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

// The YAML of a model section alone.
std::string model_yaml(const ModelConfig& model) {
  Config config;
  config.model = model;
  return to_yaml(config);
}

// The model section comes from the checkpoint; a config that says otherwise is overruled, loudly.
void take_model_section(Config& config, const ResumePoint& point) {
  const Config saved = parse_config(point.checkpoint.header.config_yaml, "checkpoint " + point.path);
  if (!same_architecture(config.model, saved.model)) {
    spdlog::warn("[train] the config's architecture ({}) differs from the one {} was trained with ({}); resuming "
                 "with the checkpoint's (use --no-resume to start over with the new one)",
                 describe_architecture(config.model), point.path, describe_architecture(saved.model));
  } else if (model_yaml(config.model) != model_yaml(saved.model)) {
    spdlog::warn("[train] the config's model section (dropout, init) differs from the one {} was trained with; "
                 "resuming with the checkpoint's (use --no-resume to start over with the new one)",
                 point.path);
  }
  config.model = saved.model;
}

// Refuses a checkpoint trained on another vocabulary than the task's, before anything is written.
void require_same_vocabulary(const ResumePoint& point, const Task& task) {
  const CheckpointHeader& h = point.checkpoint.header;
  const VocabInfo v = task.vocab();
  if (h.vocab_hash == task.vocab_hash() && h.vocab.src_size == v.src_size && h.vocab.tgt_size == v.tgt_size &&
      h.vocab.pad_id == v.pad_id) {
    return;
  }
  throw std::invalid_argument("checkpoint " + point.path + " was trained with another vocabulary (" +
                              std::to_string(h.vocab.tgt_size) + " symbols" +
                              (h.vocab_hash.empty() ? "" : ", SentencePiece hash " + h.vocab_hash) +
                              ") than the run's data has: " + task.vocab_description() +
                              "; use --no-resume to start over");
}

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
  // From here SIGINT and SIGTERM are recorded, not fatal: one during loading ends the run
  // before its first update, with a log line, instead of killing it silently.
  const StopSignals signals;
  if (env.launcher_pid > 0) term_when_parent_dies(env.launcher_pid);

  // One process per device: on a multi-process job, auto and cuda mean this rank's local GPU.
  const torch::Device device = resolve_device(config.train.device, env.world_size > 1 ? env.local_rank : 0);
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
  if (resume) take_model_section(config, *resume);
  const TrainingState* resumed = resume ? &*resume->checkpoint.training : nullptr;
  if (resumed && resumed->update >= config.train.max_updates) {
    spdlog::info("[train] {} is at update {}, train.max_updates is {}: nothing to do", resume->path, resumed->update,
                 config.train.max_updates);
    return 0;
  }
  const std::string config_yaml = to_yaml(config);

  if (device.is_cuda()) configure_cuda_kernels();
  if (config.train.threads > 0) torch::set_num_threads(static_cast<int>(config.train.threads));
  torch::manual_seed(config.train.seed);  // the same initial weights on every rank
  const std::unique_ptr<Task> task =
      task_for_training(config.data, (fs::path(run_dir) / "data").string(), args.config);
  TrainingData data = task->open_training(config.train.seed, /*pin_memory=*/device.is_cuda());
  if (!data.summary.empty()) spdlog::info("[data] {}", data.summary);
  if (resume) require_same_vocabulary(*resume, *task);
  Transformer model(config.model, task->vocab());
  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  spdlog::info("[train] model: {} layers, d_model {}, vocabulary {}, {} parameters; device {}{}",
               config.model.layers, config.model.d_model, task->vocab().tgt_size, params, device.str(),
               device.is_cuda() && config.train.precision == Precision::bf16 ? " (bf16 autocast)" : "");
  spdlog::info("[train] CPU: {}", cpu_engine_description());
  if (resume) load_weights(resume->checkpoint.model, *model, resume->path);
  Trainer trainer(model, config.train, device, communicator.get());
  TrainingLoop::Validate validate;
  if (!data.valid.batches.empty()) {
    validate = [&] { return tmt::validate(trainer, *task, data.valid, config.train, config.decode); };
  }
  const CheckpointHeader header{kCheckpointFormatVersion, config_yaml, task->vocab(), task->vocab_hash()};
  TrainingLoop loop(config.train, run_dir, header, *data.stream, trainer, validate, communicator.get());
  if (resume) {
    const auto cannot_resume = [&](const std::string& why) {
      return std::invalid_argument("cannot resume from " + resume->path + ": " + why + "; use --no-resume to start over");
    };
    try {
      loop.restore(*resumed, resume->path);
    } catch (const c10::Error& e) {
      throw cannot_resume(e.what_without_backtrace());
    } catch (const std::exception& e) {
      throw cannot_resume(e.what());
    }
    spdlog::info("[train] resuming from {} at update {}", resume->path, resumed->update);
  }
  // Only now that the resume point has been taken whole does the run directory change.
  if (env.is_main()) {
    const auto removed = remove_unfinished_writes(run_dir);
    if (!removed.empty()) spdlog::info("[train] removed {} unfinished write(s) of a killed run", removed.size());
    write_text_atomically((fs::path(run_dir) / "config.yaml").string(), config_yaml);
  }
  const int code = loop.run();
  if (code == 0 && env.is_main() && data.held_out.src.defined()) {
    const int64_t exact = held_out_check(trainer.model(), *task, data.held_out, config);
    spdlog::info("[train] {} check: {}/{} held-out sequences decoded exactly (greedy)", task->name(), exact,
                 data.held_out.src.size(0));
  }
  return code;
}

}  // namespace tmt
