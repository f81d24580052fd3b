#pragma once
// An endless supply of training batches, whatever their source.

#include <cstdint>
#include <memory>

#include "data/batch.h"
#include "data/batcher.h"
#include "data/corpus.h"
#include "data/prefetcher.h"

namespace tmt {

/// Training batches, one after another, epoch after epoch.
class BatchStream {
 public:
  virtual ~BatchStream() = default;
  /// The next batch; its `epoch` field says which pass over the data it belongs to.
  virtual Batch next() = 0;
  /// Where the stream stands after the batches next() has returned, as a small CPU tensor that
  /// checkpoints store; a stream seek()ing to it continues with the same batches.
  virtual torch::Tensor state() const = 0;
  /// Continues from a state() of a stream over the same data; throws std::invalid_argument for
  /// one that does not fit.
  virtual void seek(const torch::Tensor& state) = 0;
};

/// Batches of a binarised corpus in token-based batches, shuffled anew each epoch, assembled
/// on a background thread.
class CorpusStream : public BatchStream {
 public:
  /// `corpus` must outlive the stream. `start` is a state() to continue from (undefined: the
  /// first batch of epoch 0). `pin_memory` pins batches for fast copies to a GPU. `batching` and
  /// `pool_batches` as in TokenBatcher. The background thread starts with the first next().
  CorpusStream(const ParallelCorpus& corpus, int64_t max_tokens, uint64_t seed, int64_t prefetch,
               const torch::Tensor& start = {}, bool pin_memory = false, Batching batching = Batching::fixed,
               int64_t pool_batches = 100);
  Batch next() override;
  /// [epoch, index] int64 of the next batch to train on.
  torch::Tensor state() const override;
  void seek(const torch::Tensor& state) override;
  const TokenBatcher& batcher() const { return batcher_; }

 private:
  void start_prefetcher();

  const ParallelCorpus& corpus_;
  TokenBatcher batcher_;
  int64_t prefetch_;
  bool pin_memory_;
  // Consumer-side position: the batch after the last one next() returned.
  int64_t next_epoch_ = 0;
  int64_t next_index_ = 0;
  // Producer-side position, touched only by the prefetcher's thread while there is one.
  int64_t epoch_ = 0;
  size_t position_ = 0;
  std::vector<BatchIndices> order_;
  std::unique_ptr<BatchPrefetcher> prefetcher_;
};

}  // namespace tmt
