#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "app/config.h"
#include "app/logging.h"
#include "app/subcommands.h"
#include "data/atomic_file.h"
#include "data/batch_stream.h"
#include "data/copy_task.h"
#include "data/prepare.h"
#include "data/vocabulary.h"
#include "decode/greedy.h"
#include "train/checkpoint.h"
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

// Decodes held-out copy-task sequences and counts those reproduced exactly.
int64_t copy_check(Transformer& model, const Config& config) {
  const torch::Tensor seqs = CopyTask::sequences(config.data, config.data.valid_size,
                                                 config.train.seed + kHeldOutSeedOffset);
  model->eval();
  const int64_t len = seqs.size(1);
  const torch::Tensor out = greedy_decode(model, seqs, CopyTask::kStartId, /*end_id=*/-1,
                                          max_output_length(config.decode, len));
  if (out.size(1) != len - 1) return 0;
  return out.eq(seqs.narrow(1, 1, len - 1)).all(1).sum().item<int64_t>();
}

// The training and validation data of a run: the copy task, or a prepared parallel corpus.
struct RunData {
  VocabInfo vocab;
  std::string vocab_hash;  // of the SentencePiece model; empty for the copy task
  std::unique_ptr<ParallelCorpus> train_corpus;
  std::unique_ptr<ParallelCorpus> valid_corpus;
  std::vector<BatchIndices> valid_batches;
  std::unique_ptr<BatchStream> stream;
};

RunData open_data(const Config& config, const std::string& run_dir, const std::string& config_path) {
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
  const Vocabulary vocab(spm);
  data.vocab = VocabInfo{vocab.size(), vocab.size(), kPadId};
  data.vocab_hash = vocab.hash_hex();
  data.train_corpus = std::make_unique<ParallelCorpus>(split_path(data_dir, "train"), vocab.size(), vocab.hash(), spm);
  data.valid_corpus = std::make_unique<ParallelCorpus>(split_path(data_dir, "valid"), vocab.size(), vocab.hash(), spm);
  data.valid_batches = make_batcher(*data.valid_corpus, config.data.max_tokens, config.train.seed).epoch_batches(0);
  auto stream = std::make_unique<CorpusStream>(*data.train_corpus, config.data.max_tokens, config.train.seed,
                                               config.data.prefetch);
  spdlog::info("[data] train: {} pairs in {} batches of <= {} tokens, padding {:.1f}%; valid: {} pairs",
               data.train_corpus->size(), stream->batcher().num_batches(), config.data.max_tokens,
               100.0 * stream->batcher().padding_fraction(), data.valid_corpus->size());
  data.stream = std::move(stream);
  return data;
}

void validate(Trainer& trainer, const RunData& data) {
  const auto start = Clock::now();
  IntervalStats valid;
  for (const BatchIndices& indices : data.valid_batches) valid.add(trainer.evaluate(make_batch(*data.valid_corpus, indices)));
  spdlog::info("[train] valid | update {} | loss {:.4f} | nll {:.4f} | ppl {:.3f} | acc {:.2f}% | {:.1f} s",
               trainer.updates(), valid.loss(), valid.nll(), valid.perplexity(), 100.0 * valid.accuracy(),
               seconds_since(start));
}

}  // namespace

int train_command(const RunArgs& args) {
  const Config config = load_config(args.config, args.overrides);
  const std::string run_dir = run_dir_of(args);
  fs::create_directories(run_dir);
  setup_logging((fs::path(run_dir) / "train.log").string());
  const std::string config_yaml = to_yaml(config);
  write_text_atomically((fs::path(run_dir) / "config.yaml").string(), config_yaml);
  spdlog::info("[train] run directory {}, config {}", run_dir, args.config);

  if (config.train.threads > 0) torch::set_num_threads(static_cast<int>(config.train.threads));
  torch::manual_seed(config.train.seed);
  RunData data = open_data(config, run_dir, args.config);
  Transformer model(config.model, data.vocab);
  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  spdlog::info("[train] model: {} layers, d_model {}, vocabulary {}, {} parameters; {} threads", config.model.layers,
               config.model.d_model, data.vocab.tgt_size, params, torch::get_num_threads());

  const bool parallel = config.data.kind == DataKind::parallel;
  Trainer trainer(model, config.train);
  const auto start = Clock::now();
  auto interval_start = start;
  IntervalStats interval;
  while (trainer.updates() < config.train.max_updates) {
    Batch batch = data.stream->next();
    if (config.train.max_epochs > 0 && batch.epoch >= config.train.max_epochs) break;
    const UpdateStats last = trainer.step(batch);
    interval.add(last);
    if (last.update % config.train.log_every == 0 || last.update == config.train.max_updates) {
      spdlog::info("[train] epoch {} | update {} | lr {:.3e} | loss {:.4f} | nll {:.4f} | ppl {:.3f} | acc {:.2f}% | {:.0f} tok/s",
                   batch.epoch + 1, last.update, last.lr, interval.loss(), interval.nll(), interval.perplexity(),
                   100.0 * interval.accuracy(), interval.tokens / seconds_since(interval_start));
      interval = IntervalStats{};
      interval_start = Clock::now();
    }
    if (config.train.save_every > 0 && last.update % config.train.save_every == 0) {
      const std::string numbered = (fs::path(run_dir) / ("checkpoint_" + std::to_string(last.update) + ".pt")).string();
      save_checkpoint(numbered, *model, config_yaml, data.vocab_hash);
      spdlog::info("[train] saved {}", numbered);
    }
    if (parallel && config.train.valid_every > 0 && last.update % config.train.valid_every == 0 &&
        last.update < config.train.max_updates) {
      validate(trainer, data);
    }
  }
  if (parallel) validate(trainer, data);
  const std::string checkpoint = (fs::path(run_dir) / "checkpoint_last.pt").string();
  save_checkpoint(checkpoint, *model, config_yaml, data.vocab_hash);
  spdlog::info("[train] {} updates in {:.1f} s; saved {}", trainer.updates(), seconds_since(start), checkpoint);
  if (!parallel) {
    const int64_t exact = copy_check(model, config);
    spdlog::info("[train] copy check: {}/{} held-out sequences copied exactly (greedy)", exact,
                 config.data.valid_size);
  }
  return 0;
}

}  // namespace tmt
