#pragma once
// The binarised parallel corpus: token ids and offsets of both sides in one file, read through
// a read-only memory map so a corpus need not fit in memory.
//
// Layout (little-endian): a 64-byte header (magic "TMTCORP\0", format version, bytes per
// token, vocabulary size, FNV-1a hash of the SentencePiece model, pair and token counts), then
// source offsets [pairs + 1] and target offsets [pairs + 1] as uint64, then the source and the
// target token ids as uint16 (vocabularies up to 65,536) or uint32.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tmt {

/// Bumped whenever the layout changes; other versions are refused.
constexpr uint32_t kCorpusFormatVersion = 1;

/// What a corpus file says about itself.
struct CorpusHeader {
  uint32_t version = kCorpusFormatVersion;
  uint32_t token_bytes = 2;
  int64_t vocab_size = 0;
  uint64_t vocab_hash = 0;
  int64_t pairs = 0;
  int64_t src_tokens = 0;
  int64_t tgt_tokens = 0;
};

/// Writes sentence pairs (ids without bos/eos) atomically to `path`.
void write_corpus(const std::string& path, const std::vector<std::vector<int32_t>>& src,
                  const std::vector<std::vector<int32_t>>& tgt, int64_t vocab_size, uint64_t vocab_hash);

/// A binarised corpus, memory-mapped read-only.
class ParallelCorpus {
 public:
  /// Opens `path` and checks it against the vocabulary in use (size and hash of the
  /// SentencePiece model at `vocab_path`). Throws std::runtime_error naming the file for
  /// foreign, truncated or corrupt files and for data binarised with another model.
  ParallelCorpus(const std::string& path, int64_t vocab_size, uint64_t vocab_hash,
                 const std::string& vocab_path);
  ~ParallelCorpus();
  ParallelCorpus(ParallelCorpus&&) noexcept;
  ParallelCorpus& operator=(ParallelCorpus&&) noexcept;

  int64_t size() const { return header_.pairs; }
  const CorpusHeader& header() const { return header_; }
  const std::string& path() const { return path_; }

  int64_t src_length(int64_t i) const;
  int64_t tgt_length(int64_t i) const;
  /// Copies pair i's ids into `out` (src_length(i) / tgt_length(i) entries), widened to int64.
  void copy_src(int64_t i, int64_t* out) const;
  void copy_tgt(int64_t i, int64_t* out) const;

 private:
  void copy_tokens(uint64_t begin, uint64_t end, uint64_t base, int64_t* out) const;

  std::string path_;
  CorpusHeader header_;
  const unsigned char* data_ = nullptr;
  size_t bytes_ = 0;
  const uint64_t* src_offsets_ = nullptr;
  const uint64_t* tgt_offsets_ = nullptr;
  uint64_t src_base_ = 0;  // byte offset of the source tokens
  uint64_t tgt_base_ = 0;  // byte offset of the target tokens
};

}  // namespace tmt
