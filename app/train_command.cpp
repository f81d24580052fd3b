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
#include "data/batch_stream.h"
#include "data/copy_task.h"
#include "data/prepare.h"
#include "data/vocabulary.h"
#include "decode/greedy.h"
#include "model/checkpoint.h"
#include "model/cpu_runtime.h"
#include "model/device.h"
#include "model/torch_compat.h"
#include "train/distributed.h"
#include "train/run_checkpoints.h"
#include "train/trainer.h"
#include "train/training_loop.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;

// Seed offset of the held-out copy-task sequences, so they never coincide with training ones.
constexpr uint64_t kHeldOutSeedOffset = 1000003;

// --- Data. ------------------------------------------------------------------------------

// Decodes held-out copy-task sequences and counts those reproduced exactly.
int64_t copy_check(Transformer& model, const Config& config) {
  const torch::Tensor seqs = CopyTask::sequences(config.data, config.data.valid_size,
                                                 config.train.seed + kHeldOutSeedOffset);
  model->eval();
  const int64_t len = seqs.size(1);
  const torch::Device device = model->parameters().front().device();
  const int64_t max_len = config.decode.output_limit(len, config.model.max_positions);
  const torch::Tensor out =
      greedy_decode(model, seqs.to(device), CopyTask::kStartId, /*end_id=*/-1, max_len).to(torch::kCPU);
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

RunData open_data(const Config& config, const std::string& run_dir, const std::string& config_path,
                  bool pin_memory) {
  RunData data;
  if (config.data.kind == DataKind::copy) {
    data.vocab = VocabInfo{config.data.vocab_size, config.data.vocab_size, CopyTask::kPadId};
    data.stream = std::make_unique<CopyTask>(config.data, config.train.seed);
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
                                               config.data.prefetch, torch::Tensor(), pin_memory);
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
  if (env.is_main()) write_text_atomically((fs::path(run_dir) / "config.yaml").string(), config_yaml);

  if (device.is_cuda()) configure_cuda_kernels();
  if (config.train.threads > 0) torch::set_num_threads(static_cast<int>(config.train.threads));
  torch::manual_seed(config.train.seed);  // the same initial weights on every rank
  RunData data = open_data(config, run_dir, args.config, /*pin_memory=*/device.is_cuda());
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
  TrainingLoop::Validate validate;
  if (data.valid.corpus != nullptr) {
    validate = [&] { return tmt::validate(trainer, data.valid, config.train, config.decode); };
  }
  const CheckpointHeader header{kCheckpointFormatVersion, config_yaml, data.vocab, data.vocab_hash};
  TrainingLoop loop(config.train, run_dir, header, *data.stream, trainer, validate, communicator.get());
  if (resume) {
    loop.restore(*resumed, resume->path);
    spdlog::info("[train] resuming from {} at update {}", resume->path, resumed->update);
  }
  const int code = loop.run();
  if (code == 0 && env.is_main() && config.data.kind == DataKind::copy) {
    const int64_t exact = copy_check(trainer.model(), config);
    spdlog::info("[train] copy check: {}/{} held-out sequences copied exactly (greedy)", exact, config.data.valid_size);
  }
  return code;
}

}  // namespace tmt
