#include "data/batcher.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>

#include "data/vocabulary.h"

namespace tmt {

TokenBatcher::TokenBatcher(std::vector<int32_t> src_lengths, std::vector<int32_t> tgt_lengths,
                           int64_t max_tokens, uint64_t seed, Batching batching, int64_t pool_batches)
    : src_lengths_(std::move(src_lengths)),
      tgt_lengths_(std::move(tgt_lengths)),
      max_tokens_(max_tokens),
      seed_(seed),
      batching_(batching),
      pool_batches_(pool_batches) {
  if (src_lengths_.size() != tgt_lengths_.size()) {
    throw std::invalid_argument("TokenBatcher: " + std::to_string(src_lengths_.size()) + " source and " +
                                std::to_string(tgt_lengths_.size()) + " target lengths");
  }
  if (max_tokens < 1) throw std::invalid_argument("data.max_tokens must be >= 1, got " + std::to_string(max_tokens));
  if (pool_batches < 1) {
    throw std::invalid_argument("data.pool_batches must be >= 1, got " + std::to_string(pool_batches));
  }
  if (batching_ != Batching::fixed) {
    batches_ = epoch_batches(0);
    return;
  }
  // Sorted by length; ties broken by a seeded shuffle so that equal-length pairs do not always
  // share batches in corpus order.
  std::vector<int64_t> order(src_lengths_.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed_);
  std::shuffle(order.begin(), order.end(), rng);
  sort_by_length(order.data(), order.data() + order.size());
  cut(order.data(), order.data() + order.size(), batches_);
}

void TokenBatcher::sort_by_length(int64_t* first, int64_t* last) const {
  std::stable_sort(first, last, [&](int64_t a, int64_t b) {
    return src_lengths_[a] != src_lengths_[b] ? src_lengths_[a] < src_lengths_[b] : tgt_lengths_[a] < tgt_lengths_[b];
  });
}

void TokenBatcher::cut(const int64_t* first, const int64_t* last, std::vector<BatchIndices>& out) const {
  BatchIndices current;
  int64_t max_src = 0, max_tgt = 0;
  for (const int64_t* it = first; it != last; ++it) {
    const int64_t i = *it;
    const int64_t s = std::max<int64_t>(max_src, src_lengths_[i]);
    const int64_t t = std::max<int64_t>(max_tgt, tgt_lengths_[i]);
    if (!current.empty() && static_cast<int64_t>(current.size() + 1) * (s + t) > max_tokens_) {
      out.push_back(std::move(current));
      current.clear();
      max_src = src_lengths_[i];
      max_tgt = tgt_lengths_[i];
    } else {
      max_src = s;
      max_tgt = t;
    }
    current.push_back(i);
  }
  if (!current.empty()) out.push_back(std::move(current));
}

std::vector<BatchIndices> TokenBatcher::epoch_batches(int64_t epoch) const {
  std::mt19937_64 rng(seed_ * 1000003u + static_cast<uint64_t>(epoch) + 1);
  if (batching_ == Batching::fixed) {
    std::vector<BatchIndices> batches = batches_;
    std::shuffle(batches.begin(), batches.end(), rng);
    return batches;
  }
  std::vector<int64_t> order(src_lengths_.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<BatchIndices> batches;
  if (batching_ == Batching::random) {
    cut(order.data(), order.data() + order.size(), batches);
    return batches;
  }
  // Pools of about pool_batches * max_tokens tokens, each sorted and cut on its own.
  const int64_t pool_tokens = pool_batches_ * max_tokens_;
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin;
    for (int64_t tokens = 0; end < order.size() && tokens < pool_tokens; ++end) {
      tokens += src_lengths_[order[end]] + tgt_lengths_[order[end]];
    }
    sort_by_length(order.data() + begin, order.data() + end);
    cut(order.data() + begin, order.data() + end, batches);
    begin = end;
  }
  std::shuffle(batches.begin(), batches.end(), rng);
  return batches;
}

double TokenBatcher::padding_fraction() const {
  int64_t real = 0, padded = 0;
  for (const auto& batch : batches_) {
    int64_t max_src = 0, max_tgt = 0;
    for (int64_t i : batch) {
      real += src_lengths_[i] + tgt_lengths_[i];
      max_src = std::max<int64_t>(max_src, src_lengths_[i]);
      max_tgt = std::max<int64_t>(max_tgt, tgt_lengths_[i]);
    }
    padded += static_cast<int64_t>(batch.size()) * (max_src + max_tgt);
  }
  return padded > 0 ? 1.0 - static_cast<double>(real) / static_cast<double>(padded) : 0.0;
}

TokenBatcher make_batcher(const ParallelCorpus& corpus, int64_t max_tokens, uint64_t seed, Batching batching,
                          int64_t pool_batches) {
  std::vector<int32_t> src(corpus.size()), tgt(corpus.size());
  for (int64_t i = 0; i < corpus.size(); ++i) {
    src[i] = static_cast<int32_t>(corpus.src_length(i) + 1);
    tgt[i] = static_cast<int32_t>(corpus.tgt_length(i) + 1);
  }
  return TokenBatcher(std::move(src), std::move(tgt), max_tokens, seed, batching, pool_batches);
}

Batch make_batch(const ParallelCorpus& corpus, const BatchIndices& indices) {
  const auto rows = static_cast<int64_t>(indices.size());
  int64_t src_len = 0, tgt_len = 0;
  for (int64_t i : indices) {
    src_len = std::max(src_len, corpus.src_length(i) + 1);
    tgt_len = std::max(tgt_len, corpus.tgt_length(i) + 1);
  }
  torch::Tensor src = torch::full({rows, src_len}, kPadId, torch::kLong);      // [rows, src_len]
  torch::Tensor tgt_in = torch::full({rows, tgt_len}, kPadId, torch::kLong);   // [rows, tgt_len]
  torch::Tensor tgt_out = torch::full({rows, tgt_len}, kPadId, torch::kLong);  // [rows, tgt_len]
  int64_t* s = src.data_ptr<int64_t>();
  int64_t* ti = tgt_in.data_ptr<int64_t>();
  int64_t* to = tgt_out.data_ptr<int64_t>();
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t i = indices[r];
    const int64_t ls = corpus.src_length(i), lt = corpus.tgt_length(i);
    corpus.copy_src(i, s + r * src_len);
    s[r * src_len + ls] = kEosId;
    ti[r * tgt_len] = kBosId;
    corpus.copy_tgt(i, ti + r * tgt_len + 1);
    corpus.copy_tgt(i, to + r * tgt_len);
    to[r * tgt_len + lt] = kEosId;
  }
  return Batch{src, tgt_in, tgt_out};
}

}  // namespace tmt
