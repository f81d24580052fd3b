#include "data/task.h"

#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "base/utf8.h"
#include "data/batcher.h"
#include "data/copy_stream.h"
#include "data/corpus.h"
#include "data/prepare.h"
#include "data/vocabulary.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;

// Seed offset of the held-out copy-task sequences, so they never coincide with training ones.
constexpr uint64_t kHeldOutSeedOffset = 1000003;

std::string with_line(int64_t line_no, const std::string& what) {
  return "input line " + std::to_string(line_no) + ": " + what;
}

// The Annotated Transformer's copy task: lines of space-separated ids in and out; the start
// symbol is part of the copy, so outputs begin with it.
class CopyTask : public Task {
 public:
  explicit CopyTask(const DataConfig& config) : config_(config) {}

  const char* name() const override { return "copy"; }
  VocabInfo vocab() const override { return {config_.vocab_size, config_.vocab_size, CopyStream::kPadId}; }
  std::string vocab_hash() const override { return ""; }
  std::string vocab_description() const override {
    return "the copy task's " + std::to_string(config_.vocab_size) + " symbols";
  }
  int64_t start_id() const override { return CopyStream::kStartId; }
  int64_t end_id() const override { return -1; }

  std::vector<int64_t> encode(const std::string& line, int64_t line_no) const override {
    std::vector<int64_t> ids;
    std::istringstream in(line);
    std::string word;
    while (in >> word) {
      size_t used = 0;
      int64_t id = -1;
      try {
        id = std::stoll(word, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != word.size()) {
        throw std::invalid_argument(
            with_line(line_no, "'" + word + "' is not a token id (the copy task reads space-separated integers)"));
      }
      if (id < 0 || id >= config_.vocab_size) {
        throw std::invalid_argument(with_line(line_no, "token id " + word + " is outside the vocabulary [0, " +
                                                           std::to_string(config_.vocab_size) + ")"));
      }
      ids.push_back(id);
    }
    return ids;
  }

  std::string format(const std::vector<int64_t>& ids) const override {
    std::ostringstream line;
    line << CopyStream::kStartId;
    for (const int64_t id : ids) line << ' ' << id;
    return line.str();
  }

  TrainingData open_training(uint64_t seed, bool /*pin_memory*/) override {
    TrainingData data;
    data.stream = std::make_unique<CopyStream>(config_, seed);
    const torch::Tensor seqs = CopyStream::sequences(config_, config_.valid_size, seed + kHeldOutSeedOffset);
    data.held_out = HeldOut{seqs, seqs.narrow(1, 1, seqs.size(1) - 1)};
    return data;
  }

 private:
  DataConfig config_;
};

// A parallel corpus through the joint SentencePiece model: text in, text out.
class TranslationTask : public Task {
 public:
  // data_dir empty: for decoding only.
  TranslationTask(const DataConfig& config, const std::string& spm_path, std::string data_dir)
      : config_(config), spm_(spm_path), data_dir_(std::move(data_dir)) {}

  const char* name() const override { return "translation"; }
  VocabInfo vocab() const override { return {spm_.size(), spm_.size(), kPadId}; }
  std::string vocab_hash() const override { return spm_.hash_hex(); }
  std::string vocab_description() const override {
    return "SentencePiece model '" + spm_.path() + "' (" + std::to_string(spm_.size()) + " pieces, hash " +
           spm_.hash_hex() + ")";
  }
  int64_t start_id() const override { return kBosId; }
  int64_t end_id() const override { return kEosId; }

  std::vector<int64_t> encode(const std::string& line, int64_t line_no) const override {
    // The policy of `tmt prepare`: text is UTF-8, and a line that is not is named, not guessed at.
    const size_t bad = first_invalid_utf8(line);
    if (bad != std::string::npos) {
      throw std::invalid_argument(with_line(line_no, "invalid UTF-8 at byte " + std::to_string(bad + 1) +
                                                         "; expected UTF-8 text"));
    }
    const std::vector<int32_t> pieces = spm_.encode(line);
    if (pieces.empty()) return {};  // an empty line translates to an empty line
    std::vector<int64_t> ids(pieces.begin(), pieces.end());
    ids.push_back(kEosId);
    return ids;
  }

  std::string format(const std::vector<int64_t>& ids) const override {
    return spm_.decode(std::vector<int32_t>(ids.begin(), ids.end()));
  }

  TrainingData open_training(uint64_t seed, bool pin_memory) override {
    if (data_dir_.empty()) throw std::logic_error("TranslationTask::open_training: opened for decoding only");
    train_ = std::make_unique<ParallelCorpus>(split_path(data_dir_, "train"), spm_.size(), spm_.hash(), spm_.path());
    valid_ = std::make_unique<ParallelCorpus>(split_path(data_dir_, "valid"), spm_.size(), spm_.hash(), spm_.path());
    TrainingData data;
    auto stream = std::make_unique<CorpusStream>(*train_, config_.max_tokens, seed, config_.prefetch,
                                                 torch::Tensor(), pin_memory, config_.batching,
                                                 config_.pool_batches);
    for (const BatchIndices& indices : make_batcher(*valid_, config_.max_tokens, seed).epoch_batches(0)) {
      data.valid.batches.push_back(make_batch(*valid_, indices));
      for (const int64_t i : indices) {
        std::vector<int64_t> target(static_cast<size_t>(valid_->tgt_length(i)));
        valid_->copy_tgt(i, target.data());
        data.valid.references.push_back(format(target));
      }
    }
    data.valid.examples = valid_->size();
    std::ostringstream summary;
    summary.setf(std::ios::fixed);
    summary.precision(1);
    summary << "train: " << train_->size() << " pairs in " << stream->batcher().num_batches() << " batches of <= "
            << config_.max_tokens << " tokens (batching " << to_string(config_.batching) << "), padding "
            << 100.0 * stream->batcher().padding_fraction()
            << "%; valid: " << valid_->size() << " pairs";
    data.summary = summary.str();
    data.stream = std::move(stream);
    return data;
  }

 private:
  DataConfig config_;
  Vocabulary spm_;
  std::string data_dir_;
  std::unique_ptr<ParallelCorpus> train_;
  std::unique_ptr<ParallelCorpus> valid_;
};

}  // namespace

std::unique_ptr<Task> task_for_training(const DataConfig& config, const std::string& data_dir,
                                        const std::string& config_path) {
  if (config.kind == DataKind::copy) return std::make_unique<CopyTask>(config);
  const std::string spm = vocab_path(data_dir);
  if (!fs::exists(spm)) {
    throw std::invalid_argument("no prepared data in '" + data_dir + "': run `tmt prepare -c " + config_path +
                                "` with the same --run-dir first");
  }
  return std::make_unique<TranslationTask>(config, spm, data_dir);
}

std::unique_ptr<Task> task_for_decoding(const DataConfig& config, const std::string& spm_path) {
  if (config.kind == DataKind::copy) return std::make_unique<CopyTask>(config);
  return std::make_unique<TranslationTask>(config, spm_path, "");
}

}  // namespace tmt
