#pragma once
// `tmt prepare`: validate a parallel corpus, train the joint SentencePiece model, and binarise
// every split into a run's data folder.

#include <cstdint>
#include <string>
#include <vector>

#include "data/data_config.h"

namespace tmt {

/// What happened to one split.
struct SplitReport {
  std::string name;               // "train", "valid", or a test prefix
  std::string src_path;
  std::string tgt_path;
  std::string output;             // the .bin written
  int64_t read = 0;               // pairs in the files
  int64_t kept = 0;               // pairs written
  int64_t invalid_utf8 = 0;       // dropped with data.skip_invalid
  int64_t empty = 0;              // dropped (training split only): a side with no tokens
  int64_t too_long = 0;           // dropped (training split only): a side over data.max_len
  int64_t bad_ratio = 0;          // dropped (training split only): length ratio over data.max_ratio
  int64_t src_tokens = 0;
  int64_t tgt_tokens = 0;
};

/// The outcome of a prepare run.
struct PrepareReport {
  std::string vocab_path;
  int64_t vocab_size = 0;
  std::string vocab_hash;
  double vocab_seconds = 0.0;
  int64_t vocab_long_sentences = 0;  // left out of SentencePiece training: over kMaxVocabSentenceBytes
  std::vector<SplitReport> splits;
};

/// The SentencePiece model and the binarised split files of a run's data folder.
std::string vocab_path(const std::string& data_dir);
std::string split_path(const std::string& data_dir, const std::string& split);

/// The corpus file DIR/PREFIX.LANG or DIR/PREFIX.LANG.gz; throws std::invalid_argument naming
/// both candidates when neither exists, or when both do (which one was meant is not known).
std::string find_corpus_file(const std::string& dir, const std::string& prefix, const std::string& lang);

/// Reads and checks every split before writing anything (line counts, UTF-8, empty files),
/// then trains SentencePiece on the training sides and writes out_dir/spm.model and one
/// out_dir/SPLIT.bin per split, each atomically. Throws std::invalid_argument for bad input.
PrepareReport prepare_data(const DataConfig& config, uint64_t seed, int64_t threads, const std::string& out_dir);

}  // namespace tmt
