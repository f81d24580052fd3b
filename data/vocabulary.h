#pragma once
// One joint SentencePiece model serves both languages, so source and target share ids and the
// model can tie its embeddings. SentencePiece stays behind a pimpl: its headers and bundled
// protobuf must not reach code that includes LibTorch.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tmt {

/// Fixed special ids shared by SentencePiece and the model, so no lookup is needed to pad,
/// start or stop a sequence.
constexpr int64_t kPadId = 0, kUnkId = 1, kBosId = 2, kEosId = 3;

/// How the joint SentencePiece model is trained.
struct VocabularyOptions {
  std::string model_type = "bpe";   // "bpe" or "unigram"
  int64_t vocab_size = 8000;        // pieces incl. the 4 specials; ~8k suits corpora of ~100k pairs
  double character_coverage = 1.0;  // SentencePiece accepts [0.98, 1]; 1 keeps all characters
  int64_t input_sentence_size = 0;  // sentences sampled (seeded) for training; 0 = all
  uint64_t seed = 1;                // picks the sample when input_sentence_size is set
  int64_t threads = 2;              // SentencePiece's num_threads (1..128)
};

/// SentencePiece leaves sentences longer than this many bytes out of training.
constexpr size_t kMaxVocabSentenceBytes = 4192;

/// Trains a joint model on `sentences` (both languages) and writes it atomically to model_path.
/// Returns how many (sampled) sentences were left out for being over kMaxVocabSentenceBytes:
/// SentencePiece's own warnings are silenced, so the caller reports them. Throws
/// std::invalid_argument for bad options or no sentences, and std::runtime_error with
/// SentencePiece's message and the path when training fails (e.g. vocab too large for the data).
int64_t train_vocabulary(const std::vector<std::string>& sentences, const VocabularyOptions& options,
                         const std::string& model_path);

/// A loaded SentencePiece model whose special ids are kPadId..kEosId.
class Vocabulary {
 public:
  /// Loads model_path; throws std::invalid_argument "cannot read SentencePiece model 'PATH': ..."
  /// for a file that cannot be read (require_readable_file), std::runtime_error "cannot load
  /// SentencePiece model 'PATH': ..." for one that is no model.
  explicit Vocabulary(const std::string& model_path);
  ~Vocabulary();
  Vocabulary(Vocabulary&&) noexcept;
  Vocabulary& operator=(Vocabulary&&) noexcept;

  /// Piece ids of `text`, without bos/eos.
  std::vector<int32_t> encode(std::string_view text) const;
  /// Text of `ids`, skipping pad/bos/eos; throws std::invalid_argument for an id out of range.
  std::string decode(const std::vector<int32_t>& ids) const;
  /// Number of pieces, specials included.
  int64_t size() const;
  /// FNV-1a 64 of the model file's bytes, computed at load; ties binarised data to its model.
  uint64_t hash() const;
  /// hash() as 16 lowercase hex digits.
  std::string hash_hex() const;
  /// The path the model was loaded from.
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// FNV-1a 64 of a byte string (exposed for the binarised-data header and tests).
uint64_t fnv1a64(std::string_view bytes);

}  // namespace tmt
