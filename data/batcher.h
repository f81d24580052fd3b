#pragma once
// Token-based batching: sentence pairs grouped so that a batch holds at most `max_tokens` padded
// source plus target positions, of similar length unless batching is random.

#include <cstdint>
#include <vector>

#include "data/batch.h"
#include "data/corpus.h"
#include "data/data_config.h"

namespace tmt {

/// Example indices of one batch.
using BatchIndices = std::vector<int64_t>;

/// Serves each epoch's batches from the pair lengths, every pair exactly once per epoch:
/// - fixed: batches planned once over the corpus sorted by length, served in a new order every
///   epoch (fairseq): the least padding, but the same pairs always share a batch;
/// - pool: every epoch, the pairs shuffled, cut into pools of about `pool_batches` batches'
///   tokens, each pool sorted by length and cut into batches, all batches shuffled (Marian's
///   maxi-batch, OpenNMT's pool): new company every epoch, a little more padding;
/// - random: every epoch, the pairs shuffled and cut into batches unsorted (JoeyNMT): the most
///   padding.
/// Everything follows from (seed, epoch), so a run resumes into the same batches.
class TokenBatcher {
 public:
  /// `src_lengths` / `tgt_lengths` count the positions a pair occupies in a batch (ids plus the
  /// added end or start symbol). A pair longer than max_tokens alone gets a batch of its own.
  TokenBatcher(std::vector<int32_t> src_lengths, std::vector<int32_t> tgt_lengths, int64_t max_tokens,
               uint64_t seed, Batching batching = Batching::fixed, int64_t pool_batches = 100);

  /// The batches of `epoch` (0-based) in an order shuffled from (seed, epoch).
  std::vector<BatchIndices> epoch_batches(int64_t epoch) const;

  /// Batches of epoch 0 (fixed: of every epoch; pool and random: later epochs differ slightly).
  int64_t num_batches() const { return static_cast<int64_t>(batches_.size()); }
  /// Padded positions that hold no token, over all positions of epoch 0's batches.
  double padding_fraction() const;

 private:
  // Appends the pairs order[first, last) to `out`, in that order, as consecutive batches.
  void cut(const int64_t* first, const int64_t* last, std::vector<BatchIndices>& out) const;
  // Sorts pairs by (source, target) length, keeping the order of equal ones.
  void sort_by_length(int64_t* first, int64_t* last) const;

  std::vector<int32_t> src_lengths_;
  std::vector<int32_t> tgt_lengths_;
  int64_t max_tokens_;
  uint64_t seed_;
  Batching batching_;
  int64_t pool_batches_;
  std::vector<BatchIndices> batches_;  // fixed: the plan; pool and random: epoch 0's
};

/// Lengths of pair i as batched: source ids + end symbol, target ids + start (or end) symbol.
TokenBatcher make_batcher(const ParallelCorpus& corpus, int64_t max_tokens, uint64_t seed,
                          Batching batching = Batching::fixed, int64_t pool_batches = 100);

/// The padded tensors of a batch: src = ids + eos, tgt_in = bos + ids, tgt_out = ids + eos.
Batch make_batch(const ParallelCorpus& corpus, const BatchIndices& indices);

}  // namespace tmt
