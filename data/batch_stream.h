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
};

/// Batches of a binarised corpus in token-based batches, shuffled anew each epoch, assembled
/// on a background thread.
class CorpusStream : public BatchStream {
 public:
  /// `corpus` must outlive the stream.
  CorpusStream(const ParallelCorpus& corpus, int64_t max_tokens, uint64_t seed, int64_t prefetch);
  Batch next() override;
  const TokenBatcher& batcher() const { return batcher_; }

 private:
  const ParallelCorpus& corpus_;
  TokenBatcher batcher_;
  // Producer-side position, touched only by the prefetcher's thread.
  int64_t epoch_ = 0;
  size_t position_ = 0;
  std::vector<BatchIndices> order_;
  std::unique_ptr<BatchPrefetcher> prefetcher_;
};

}  // namespace tmt
