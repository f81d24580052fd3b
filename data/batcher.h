#pragma once
// Token-based batching: sentence pairs of similar length grouped so that a batch holds at most
// `max_tokens` padded source plus target positions.

#include <cstdint>
#include <vector>

#include "data/batch.h"
#include "data/corpus.h"

namespace tmt {

/// Example indices of one batch.
using BatchIndices = std::vector<int64_t>;

/// Plans batches once from the pair lengths and serves them in a new order every epoch.
class TokenBatcher {
 public:
  /// `src_lengths` / `tgt_lengths` count the positions a pair occupies in a batch (ids plus the
  /// added end or start symbol). A pair longer than max_tokens alone gets a batch of its own.
  TokenBatcher(std::vector<int32_t> src_lengths, std::vector<int32_t> tgt_lengths, int64_t max_tokens,
               uint64_t seed);

  /// The batches of `epoch` (0-based) in an order shuffled from (seed, epoch); every example
  /// appears exactly once.
  std::vector<BatchIndices> epoch_batches(int64_t epoch) const;

  int64_t num_batches() const { return static_cast<int64_t>(batches_.size()); }
  /// Padded positions that hold no token, over all positions of all batches.
  double padding_fraction() const;

 private:
  std::vector<int32_t> src_lengths_;
  std::vector<int32_t> tgt_lengths_;
  uint64_t seed_;
  std::vector<BatchIndices> batches_;
};

/// Lengths of pair i as batched: source ids + end symbol, target ids + start (or end) symbol.
TokenBatcher make_batcher(const ParallelCorpus& corpus, int64_t max_tokens, uint64_t seed);

/// The padded tensors of a batch: src = ids + eos, tgt_in = bos + ids, tgt_out = ids + eos.
Batch make_batch(const ParallelCorpus& corpus, const BatchIndices& indices);

}  // namespace tmt
