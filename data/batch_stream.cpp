#include "data/batch_stream.h"

#include <stdexcept>

namespace tmt {

CorpusStream::CorpusStream(const ParallelCorpus& corpus, int64_t max_tokens, uint64_t seed, int64_t prefetch)
    : corpus_(corpus), batcher_(make_batcher(corpus, max_tokens, seed)) {
  if (corpus_.size() == 0) throw std::invalid_argument("corpus '" + corpus_.path() + "' has no sentence pairs");
  order_ = batcher_.epoch_batches(0);
  prefetcher_ = std::make_unique<BatchPrefetcher>(
      [this]() -> std::optional<Batch> {
        if (position_ == order_.size()) {
          order_ = batcher_.epoch_batches(++epoch_);
          position_ = 0;
        }
        Batch batch = make_batch(corpus_, order_[position_++]);
        batch.epoch = epoch_;
        return batch;
      },
      static_cast<size_t>(prefetch));
}

Batch CorpusStream::next() { return *prefetcher_->next(); }

}  // namespace tmt
