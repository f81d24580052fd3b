#include "data/vocabulary.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "base/atomic_file.h"
#include "base/input_file.h"

namespace tmt {
namespace {

// Feeds in-memory sentences to the trainer, so nothing is staged on disk.
class SentenceList : public sentencepiece::SentenceIterator {
 public:
  explicit SentenceList(std::vector<const std::string*> sentences) : sentences_(std::move(sentences)) {}
  bool done() const override { return next_ >= sentences_.size(); }
  void Next() override { ++next_; }
  const std::string& value() const override { return *sentences_[next_]; }
  sentencepiece::util::Status status() const override { return sentencepiece::util::Status(); }

 private:
  std::vector<const std::string*> sentences_;
  size_t next_ = 0;
};

void validate(const VocabularyOptions& options, size_t sentence_count) {
  auto fail = [](const std::string& message) { throw std::invalid_argument("vocabulary: " + message); };
  if (options.model_type != "bpe" && options.model_type != "unigram") {
    fail("model_type must be \"bpe\" or \"unigram\", got \"" + options.model_type + "\"");
  }
  if (options.vocab_size <= 4) {
    fail("vocab_size must be > 4 (the special pieces take ids 0..3), got " + std::to_string(options.vocab_size));
  }
  if (!(options.character_coverage >= 0.98 && options.character_coverage <= 1.0)) {
    std::ostringstream value;
    value << options.character_coverage;
    fail("character_coverage must be in [0.98, 1] (SentencePiece's range), got " + value.str());
  }
  if (options.input_sentence_size < 0) {
    fail("input_sentence_size must be >= 0 (0 = all sentences), got " + std::to_string(options.input_sentence_size));
  }
  if (options.threads < 1 || options.threads > 128) {
    fail("threads must be in [1, 128], got " + std::to_string(options.threads));
  }
  if (sentence_count == 0) fail("no sentences to train on");
}

// SentencePiece 0.1.97 samples input_sentence_size sentences with a fixed internal seed, so the
// sample is drawn here instead: the configured seed then decides it, reproducibly.
std::vector<const std::string*> select_sentences(const std::vector<std::string>& sentences,
                                                 const VocabularyOptions& options) {
  const size_t n = sentences.size();
  const size_t k = options.input_sentence_size == 0
                       ? n
                       : std::min(n, static_cast<size_t>(options.input_sentence_size));
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  if (k < n) {
    // A partial Fisher-Yates with our own index draw: std::shuffle's draws differ between
    // standard libraries, this does not.
    std::mt19937_64 rng(options.seed);
    for (size_t i = 0; i < k; ++i) std::swap(order[i], order[i + rng() % (n - i)]);
    order.resize(k);
    std::sort(order.begin(), order.end());  // keep corpus order, so only membership depends on the seed
  }
  std::vector<const std::string*> selected;
  selected.reserve(k);
  for (size_t i : order) selected.push_back(&sentences[i]);
  return selected;
}

std::string format_double(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

// SentencePiece's messages start with "file.cc(line) [checked expression] "; users need the
// explanation after it, or the expression when there is none.
std::string describe(const sentencepiece::util::Status& status) {
  std::string message = status.message();
  const size_t open = message.find(") [");
  const size_t close = open == std::string::npos ? std::string::npos : message.find("] ", open);
  if (close != std::string::npos) {
    std::string rest = message.substr(close + 2);
    while (!rest.empty() && rest.back() == ' ') rest.pop_back();
    message = rest.empty() ? "check failed: " + message.substr(open + 3, close - open - 3) : rest;
  }
  return message;
}

std::string read_bytes(const std::string& path) {
  auto fail = [&](const std::string& reason) {
    throw std::runtime_error("cannot load SentencePiece model '" + path + "': " + reason);
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(std::strerror(EISDIR));
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(std::strerror(errno != 0 ? errno : ENOENT));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail("read error");
  return bytes;
}

}  // namespace

int64_t train_vocabulary(const std::vector<std::string>& sentences, const VocabularyOptions& options,
                         const std::string& model_path) {
  validate(options, sentences.size());
  if (model_path.empty()) throw std::invalid_argument("vocabulary: model_path must not be empty");

  // A map, not SentencePiece's space-separated argument string, so no value can be split.
  const std::unordered_map<std::string, std::string> args = {
      {"model_type", options.model_type},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"character_coverage", format_double(options.character_coverage)},
      {"input_sentence_size", "0"},  // sampled in select_sentences
      {"shuffle_input_sentence", "true"},
      {"num_threads", std::to_string(options.threads)},
      {"pad_id", std::to_string(kPadId)},
      {"unk_id", std::to_string(kUnkId)},
      {"bos_id", std::to_string(kBosId)},
      {"eos_id", std::to_string(kEosId)},
      {"pad_piece", "<pad>"},
      {"unk_piece", "<unk>"},
      {"bos_piece", "<s>"},
      {"eos_piece", "</s>"},
      {"minloglevel", "2"},  // errors only: its INFO lines flood the log, its warnings are raw stderr lines
      {"max_sentence_length", std::to_string(kMaxVocabSentenceBytes)},
  };
  // Seeds SentencePiece's own generator too, for any randomised step inside the trainer.
  sentencepiece::SetRandomGeneratorSeed(static_cast<unsigned int>(options.seed));

  // Sentences SentencePiece would skip with a warning are left out here and counted instead.
  std::vector<const std::string*> selected = select_sentences(sentences, options);
  const auto long_ones = std::remove_if(selected.begin(), selected.end(),
                                        [](const std::string* s) { return s->size() > kMaxVocabSentenceBytes; });
  const auto left_out = static_cast<int64_t>(selected.end() - long_ones);
  selected.erase(long_ones, selected.end());
  SentenceList iterator(std::move(selected));
  std::string model;
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &iterator, &model);
  if (!status.ok()) {
    throw std::runtime_error("cannot train SentencePiece model '" + model_path + "' (" + options.model_type +
                             ", vocab_size " + std::to_string(options.vocab_size) + "): " + describe(status));
  }
  write_atomically(model_path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(model.data(), static_cast<std::streamsize>(model.size()));
    out.close();
    if (!out) throw std::runtime_error("cannot write '" + tmp + "': " + std::strerror(errno));
  });
  return left_out;
}

struct Vocabulary::Impl {
  sentencepiece::SentencePieceProcessor processor;
  std::string path;
  uint64_t hash = 0;
};

Vocabulary::Vocabulary(const std::string& model_path) : impl_(std::make_unique<Impl>()) {
  require_readable_file(model_path, "SentencePiece model");
  impl_->path = model_path;
  // Read the bytes once: the hash must describe exactly what was loaded.
  const std::string bytes = read_bytes(model_path);
  auto fail = [&](const std::string& reason) {
    throw std::runtime_error("cannot load SentencePiece model '" + model_path + "': " + reason);
  };
  if (bytes.empty()) fail("the file is empty");
  const auto status = impl_->processor.LoadFromSerializedProto(bytes);
  if (!status.ok()) fail("not a valid SentencePiece model (" + describe(status) + ")");
  const auto& sp = impl_->processor;
  if (sp.pad_id() != kPadId || sp.unk_id() != kUnkId || sp.bos_id() != kBosId || sp.eos_id() != kEosId) {
    fail("special ids pad/unk/bos/eos are " + std::to_string(sp.pad_id()) + "/" + std::to_string(sp.unk_id()) + "/" +
         std::to_string(sp.bos_id()) + "/" + std::to_string(sp.eos_id()) +
         ", expected 0/1/2/3 (train the model with tmt)");
  }
  impl_->hash = fnv1a64(bytes);
}

Vocabulary::~Vocabulary() = default;
Vocabulary::Vocabulary(Vocabulary&&) noexcept = default;
Vocabulary& Vocabulary::operator=(Vocabulary&&) noexcept = default;

std::vector<int32_t> Vocabulary::encode(std::string_view text) const {
  std::vector<int> ids;
  const auto status = impl_->processor.Encode(absl::string_view(text.data(), text.size()), &ids);
  if (!status.ok()) {
    throw std::runtime_error("SentencePiece model '" + impl_->path + "' cannot encode text: " + describe(status));
  }
  return ids;
}

std::string Vocabulary::decode(const std::vector<int32_t>& ids) const {
  const int32_t count = impl_->processor.GetPieceSize();
  std::vector<int> kept;
  kept.reserve(ids.size());
  for (int32_t id : ids) {
    if (id < 0 || id >= count) {
      throw std::invalid_argument("cannot decode id " + std::to_string(id) + ": expected an id in [0, " +
                                  std::to_string(count) + ") of SentencePiece model '" + impl_->path + "'");
    }
    if (id != kPadId && id != kBosId && id != kEosId) kept.push_back(id);
  }
  std::string text;
  const auto status = impl_->processor.Decode(kept, &text);
  if (!status.ok()) {
    throw std::runtime_error("SentencePiece model '" + impl_->path + "' cannot decode ids: " + describe(status));
  }
  return text;
}

int64_t Vocabulary::size() const { return impl_->processor.GetPieceSize(); }

uint64_t Vocabulary::hash() const { return impl_->hash; }

std::string Vocabulary::hash_hex() const {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016" PRIx64, impl_->hash);
  return buffer;
}

const std::string& Vocabulary::path() const { return impl_->path; }

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;  // FNV-1a 64 prime
  }
  return hash;
}

}  // namespace tmt
