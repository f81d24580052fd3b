#include "data/batch_stream.h"

#include <stdexcept>

namespace tmt {

CorpusStream::CorpusStream(const ParallelCorpus& corpus, int64_t max_tokens, uint64_t seed, int64_t prefetch,
                           const torch::Tensor& start, bool pin_memory, Batching batching, int64_t pool_batches)
    : corpus_(corpus),
      batcher_(make_batcher(corpus, max_tokens, seed, batching, pool_batches)),
      prefetch_(prefetch),
      pin_memory_(pin_memory) {
  if (corpus_.size() == 0) throw std::invalid_argument("corpus '" + corpus_.path() + "' has no sentence pairs");
  if (start.defined()) seek(start);
}

void CorpusStream::seek(const torch::Tensor& state) {
  if (!state.defined() || state.dim() != 1 || state.numel() != 2 || state.scalar_type() != torch::kLong) {
    throw std::invalid_argument("data position must be [epoch, index] int64, got a tensor of " +
                                std::to_string(state.defined() ? state.numel() : 0) + " elements");
  }
  const int64_t epoch = state[0].item<int64_t>();
  const int64_t index = state[1].item<int64_t>();
  const int64_t batches = epoch < 0 ? 0 : static_cast<int64_t>(batcher_.epoch_batches(epoch).size());
  if (epoch < 0 || index < 0 || index > batches) {
    throw std::invalid_argument("data position [" + std::to_string(epoch) + ", " + std::to_string(index) +
                                "] does not fit this corpus's " + std::to_string(batches) +
                                " batches in that epoch");
  }
  prefetcher_.reset();  // stops the thread; the next next() starts one from here
  next_epoch_ = epoch;
  next_index_ = index;
}

void CorpusStream::start_prefetcher() {
  epoch_ = next_epoch_;
  position_ = static_cast<size_t>(next_index_);
  order_ = batcher_.epoch_batches(epoch_);
  prefetcher_ = std::make_unique<BatchPrefetcher>(
      [this]() -> std::optional<Batch> {
        if (position_ == order_.size()) {
          order_ = batcher_.epoch_batches(++epoch_);
          position_ = 0;
        }
        Batch batch = make_batch(corpus_, order_[position_]);
        batch.epoch = epoch_;
        batch.index = static_cast<int64_t>(position_++);
        if (pin_memory_) {
          batch.src = batch.src.pin_memory();
          batch.tgt_in = batch.tgt_in.pin_memory();
          batch.tgt_out = batch.tgt_out.pin_memory();
        }
        return batch;
      },
      static_cast<size_t>(prefetch_));
}

Batch CorpusStream::next() {
  if (!prefetcher_) start_prefetcher();
  Batch batch = *prefetcher_->next();
  next_epoch_ = batch.epoch;
  next_index_ = batch.index + 1;
  return batch;
}

torch::Tensor CorpusStream::state() const { return torch::tensor({next_epoch_, next_index_}, torch::kLong); }

}  // namespace tmt
