// Token-based batching, batch tensors, and the background prefetcher.

#include "data/batcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <stdexcept>

#include "data/prefetcher.h"
#include "data/vocabulary.h"

namespace tmt {
namespace {

std::vector<int32_t> random_lengths(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> len(2, 40);
  std::vector<int32_t> out(n);
  for (auto& l : out) l = len(rng);
  return out;
}

TEST(TokenBatcher, EveryExampleExactlyOncePerEpochWithinTheBudget) {
  const auto src = random_lengths(5000, 1), tgt = random_lengths(5000, 2);
  TokenBatcher batcher(src, tgt, 1024, 7);
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    std::vector<int> seen(src.size(), 0);
    for (const BatchIndices& b : batcher.epoch_batches(epoch)) {
      int32_t max_src = 0, max_tgt = 0;
      for (int64_t i : b) {
        ++seen[i];
        max_src = std::max(max_src, src[i]);
        max_tgt = std::max(max_tgt, tgt[i]);
      }
      EXPECT_LE(static_cast<int64_t>(b.size()) * (max_src + max_tgt), 1024);
    }
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; })) << "epoch " << epoch;
  }
}

TEST(TokenBatcher, DeterministicForASeedAndShuffledAcrossEpochs) {
  const auto src = random_lengths(2000, 3), tgt = random_lengths(2000, 4);
  TokenBatcher a(src, tgt, 800, 11), b(src, tgt, 800, 11), c(src, tgt, 800, 12);
  EXPECT_EQ(a.epoch_batches(0), b.epoch_batches(0));
  EXPECT_EQ(a.epoch_batches(5), b.epoch_batches(5));
  EXPECT_NE(a.epoch_batches(0), a.epoch_batches(1));  // a new order every epoch
  EXPECT_NE(a.epoch_batches(0), c.epoch_batches(0));  // and per seed
}

TEST(TokenBatcher, LengthBucketsKeepPaddingLow) {
  // Translations: target lengths follow source lengths, give or take a few tokens.
  const auto src = random_lengths(20000, 5);
  std::vector<int32_t> tgt(src.size());
  for (size_t i = 0; i < src.size(); ++i) tgt[i] = src[i] + static_cast<int32_t>(i % 5) - 2;
  TokenBatcher batcher(src, tgt, 4096, 1);
  EXPECT_LT(batcher.padding_fraction(), 0.10);
  EXPECT_GT(batcher.padding_fraction(), 0.0);
}

TEST(TokenBatcher, PaddingFractionIsExact) {
  // Lengths 3+3 and 5+3 in one batch: 2 * (5 + 3) = 16 positions, 14 real.
  TokenBatcher batcher({3, 5}, {3, 3}, 100, 1);
  ASSERT_EQ(batcher.num_batches(), 1);
  EXPECT_DOUBLE_EQ(batcher.padding_fraction(), 1.0 - 14.0 / 16.0);
}

TEST(TokenBatcher, OverLongExampleGetsItsOwnBatch) {
  TokenBatcher batcher({2, 50, 2}, {2, 50, 2}, 10, 1);
  std::vector<BatchIndices> batches = batcher.epoch_batches(0);
  ASSERT_EQ(batches.size(), 2u);
  const auto alone = std::find_if(batches.begin(), batches.end(), [](const BatchIndices& b) { return b.size() == 1; });
  ASSERT_NE(alone, batches.end());
  EXPECT_EQ(alone->front(), 1);
}

TEST(TokenBatcher, RejectsBadArguments) {
  EXPECT_THROW(TokenBatcher({1, 2}, {1}, 10, 1), std::invalid_argument);
  EXPECT_THROW(TokenBatcher({1}, {1}, 0, 1), std::invalid_argument);
  EXPECT_THROW(TokenBatcher({1}, {1}, 10, 1, Batching::pool, 0), std::invalid_argument);
}

// The sum of padded positions over `batches` (lengths as batched).
int64_t padded_positions(const std::vector<BatchIndices>& batches, const std::vector<int32_t>& src,
                         const std::vector<int32_t>& tgt) {
  int64_t padded = 0;
  for (const BatchIndices& b : batches) {
    int32_t max_src = 0, max_tgt = 0;
    for (int64_t i : b) {
      max_src = std::max(max_src, src[i]);
      max_tgt = std::max(max_tgt, tgt[i]);
    }
    padded += static_cast<int64_t>(b.size()) * (max_src + max_tgt);
  }
  return padded;
}

// Pairs that share a batch in epoch `a` and again in epoch `b`, over pairs that share one in `a`.
double same_company(const std::vector<BatchIndices>& a, const std::vector<BatchIndices>& b, size_t n) {
  std::vector<int64_t> batch_of(n);
  for (size_t k = 0; k < b.size(); ++k) {
    for (int64_t i : b[k]) batch_of[i] = static_cast<int64_t>(k);
  }
  int64_t together = 0, again = 0;
  for (const BatchIndices& batch : a) {
    for (size_t x = 0; x + 1 < batch.size(); ++x) {  // neighbours within the batch
      ++together;
      again += batch_of[batch[x]] == batch_of[batch[x + 1]];
    }
  }
  return static_cast<double>(again) / static_cast<double>(together);
}

TEST(TokenBatcher, EveryBatchingServesEveryPairOncePerEpochWithinTheBudget) {
  const auto src = random_lengths(5000, 1), tgt = random_lengths(5000, 2);
  for (const Batching batching : {Batching::fixed, Batching::pool, Batching::random}) {
    TokenBatcher batcher(src, tgt, 1024, 7, batching, 10);
    for (int64_t epoch = 0; epoch < 3; ++epoch) {
      const std::vector<BatchIndices> batches = batcher.epoch_batches(epoch);
      std::vector<int> seen(src.size(), 0);
      for (const BatchIndices& b : batches) {
        for (int64_t i : b) ++seen[i];
        EXPECT_LE(padded_positions({b}, src, tgt), 1024) << to_string(batching);
      }
      EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }))
          << to_string(batching) << " epoch " << epoch;
      EXPECT_EQ(batches, TokenBatcher(src, tgt, 1024, 7, batching, 10).epoch_batches(epoch))
          << "a resumed run gets the same batches";
    }
    EXPECT_EQ(batcher.epoch_batches(0).size(), static_cast<size_t>(batcher.num_batches()));
  }
}

TEST(TokenBatcher, FixedBatchingIsTheDefaultAndKeepsItsBatchesAcrossEpochs) {
  const auto src = random_lengths(3000, 3), tgt = random_lengths(3000, 4);
  TokenBatcher fixed(src, tgt, 800, 5), named(src, tgt, 800, 5, Batching::fixed);
  EXPECT_EQ(fixed.epoch_batches(2), named.epoch_batches(2));
  std::vector<BatchIndices> a = fixed.epoch_batches(0), b = fixed.epoch_batches(1);
  EXPECT_NE(a, b);  // a new order...
  EXPECT_DOUBLE_EQ(same_company(a, b, src.size()), 1.0);  // ...of the same batches
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a, b);
}

TEST(TokenBatcher, PoolBatchingChangesCompanyEachEpochAtLittlePadding) {
  // Translations: target lengths follow source lengths, give or take a few tokens.
  const auto src = random_lengths(20000, 5);
  std::vector<int32_t> tgt(src.size());
  for (size_t i = 0; i < src.size(); ++i) tgt[i] = src[i] + static_cast<int32_t>(i % 5) - 2;
  TokenBatcher fixed(src, tgt, 4096, 1), pool(src, tgt, 4096, 1, Batching::pool, 100),
      random(src, tgt, 4096, 1, Batching::random);
  EXPECT_LT(pool.padding_fraction(), 0.10);
  EXPECT_GT(pool.padding_fraction(), fixed.padding_fraction());
  EXPECT_GT(random.padding_fraction(), 0.30);
  // Pairs of equal lengths still tend to meet (0.39 here), but not always, as in fixed (1.0).
  EXPECT_LT(same_company(pool.epoch_batches(0), pool.epoch_batches(1), src.size()), 0.5);
  EXPECT_LT(same_company(random.epoch_batches(0), random.epoch_batches(1), src.size()), 0.05);
}

TEST(MakeBatch, AddsEndAndStartSymbolsAndPads) {
  const std::string path = ::testing::TempDir() + "/batch.bin";
  write_corpus(path, {{10, 11, 12}, {13}}, {{20}, {21, 22}}, 100, 5);
  ParallelCorpus corpus(path, 100, 5, "spm.model");
  Batch b = make_batch(corpus, {1, 0});
  const int P = static_cast<int>(kPadId), E = static_cast<int>(kEosId), B = static_cast<int>(kBosId);
  EXPECT_TRUE(torch::equal(b.src, torch::tensor({{13, E, P, P}, {10, 11, 12, E}}, torch::kLong)));
  EXPECT_TRUE(torch::equal(b.tgt_in, torch::tensor({{B, 21, 22}, {B, 20, P}}, torch::kLong)));
  EXPECT_TRUE(torch::equal(b.tgt_out, torch::tensor({{21, 22, E}, {20, E, P}}, torch::kLong)));
}

Batch numbered(int64_t n) {
  Batch b;
  b.src = torch::full({1, 1}, n, torch::kLong);
  return b;
}

TEST(BatchPrefetcher, DeliversEveryBatchInOrderThenEnds) {
  int64_t produced = 0;
  BatchPrefetcher prefetcher([&]() -> std::optional<Batch> {
    if (produced == 50) return std::nullopt;
    return numbered(produced++);
  }, 4);
  for (int64_t i = 0; i < 50; ++i) {
    std::optional<Batch> b = prefetcher.next();
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->src.item<int64_t>(), i);
  }
  EXPECT_FALSE(prefetcher.next().has_value());
}

TEST(BatchPrefetcher, RethrowsTheProducersErrorAfterTheGoodBatches) {
  int64_t produced = 0;
  BatchPrefetcher prefetcher([&]() -> std::optional<Batch> {
    if (produced == 2) throw std::runtime_error("corpus went away");
    return numbered(produced++);
  }, 8);
  EXPECT_EQ(prefetcher.next()->src.item<int64_t>(), 0);
  EXPECT_EQ(prefetcher.next()->src.item<int64_t>(), 1);
  try {
    prefetcher.next();
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "corpus went away");
  }
}

TEST(BatchPrefetcher, StaysAtMostDepthAheadAndStopsCleanly) {
  std::atomic<int64_t> produced{0};
  {
    BatchPrefetcher prefetcher([&]() -> std::optional<Batch> { return numbered(produced++); }, 3);
    prefetcher.next();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_LE(produced.load(), 5);  // 1 consumed + 3 queued + 1 in flight
  }  // the destructor stops an endless producer
}

}  // namespace
}  // namespace tmt
