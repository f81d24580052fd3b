#pragma once
// Where training examples come from: the synthetic copy task, or a parallel corpus that
// `tmt prepare` encodes with a joint SentencePiece vocabulary.

#include <cstdint>
#include <string>
#include <vector>

namespace tmt {

/// The source of training batches.
enum class DataKind { copy, parallel };

/// SentencePiece's segmentation algorithm.
enum class SubwordModel { bpe, unigram };

/// How training pairs are grouped into batches (see TokenBatcher).
enum class Batching { fixed, pool, random };

/// Data settings. The copy task uses vocab_size, seq_len, batch_size and valid_size; parallel
/// corpora use vocab_size and the keys below them.
struct DataConfig {
  DataKind kind = DataKind::copy;
  int64_t vocab_size = 11;       // copy: symbols, padding included; parallel: SentencePiece pieces

  // The Annotated Transformer's copy task: random sequences whose first token is fixed to 1,
  // padding id 0, the target equal to the source.
  int64_t seq_len = 10;          // tokens per sequence, the fixed first one included
  int64_t batch_size = 80;       // sequences per update (the Annotated Transformer's 80)
  int64_t valid_size = 100;      // sequences decoded after training to check the copy

  // Parallel corpora: files DIR/PREFIX.LANG or DIR/PREFIX.LANG.gz, line i translating line i.
  std::string dir;                           // the corpus folder; --set data.dir=DIR moves it
  std::string src_lang = "de";
  std::string tgt_lang = "en";
  std::string train_prefix = "train";
  std::string valid_prefix = "valid";
  std::vector<std::string> test_prefixes;    // test sets to encode too (may be empty)
  SubwordModel subword_model = SubwordModel::bpe;
  double character_coverage = 1.0;           // 1.0 suits Latin scripts (SentencePiece: 0.9995 for CJK)
  int64_t spm_sentences = 0;                 // sentences sampled to train SentencePiece; 0 = all
  int64_t max_len = 128;                     // training pairs with more tokens a side are dropped
  double max_ratio = 3.0;                    // ... or whose length ratio exceeds this
  bool skip_invalid = false;                 // skip (and count) lines that are not UTF-8 instead of failing
  int64_t max_tokens = 4096;                 // padded source + target positions per batch
  Batching batching = Batching::fixed;       // fixed: planned once over the length-sorted corpus (fairseq);
                                             // pool: re-planned each epoch in length-sorted pools (Marian,
                                             // OpenNMT); random: each epoch, unsorted (JoeyNMT)
  int64_t pool_batches = 100;                // batching pool: a pool holds about this many batches' tokens
  int64_t prefetch = 4;                      // batches prepared ahead on a background thread

  void validate() const;
};

const char* to_string(DataKind k);
const char* to_string(SubwordModel m);
const char* to_string(Batching b);

}  // namespace tmt
