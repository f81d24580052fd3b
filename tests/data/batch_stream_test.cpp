// CorpusStream and CopyStream: a position after some batches continues the same batches (across
// epochs for a corpus), and a position that does not fit is refused.

#include "data/batch_stream.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/copy_stream.h"
#include "data/corpus.h"
#include "tests/test_support.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kVocab = 50;

// 24 pairs of 1 to 8 tokens a side: a handful of batches per epoch at 24 positions a batch.
std::string write_small_corpus(const std::string& name) {
  std::vector<std::vector<int32_t>> src, tgt;
  for (int32_t i = 0; i < 24; ++i) {
    src.emplace_back(1 + i % 8, 3 + i % 40);
    tgt.emplace_back(1 + (i * 5) % 8, 4 + i % 40);
  }
  const std::string path = (fs::path(::testing::TempDir()) / name).string();
  write_corpus(path, src, tgt, kVocab, 0x1234);
  return path;
}

void expect_same_batch(const Batch& a, const Batch& b, const std::string& where) {
  EXPECT_EQ(a.epoch, b.epoch) << where;
  EXPECT_EQ(a.index, b.index) << where;
  EXPECT_TRUE(torch::equal(a.src, b.src)) << where;
  EXPECT_TRUE(torch::equal(a.tgt_in, b.tgt_in)) << where;
  EXPECT_TRUE(torch::equal(a.tgt_out, b.tgt_out)) << where;
}

TEST(CorpusStream, StateContinuesWithTheSameBatchesAcrossAnEpoch) {
  const ParallelCorpus corpus(write_small_corpus("stream_state.bin"), kVocab, 0x1234, "spm.model");
  CorpusStream stream(corpus, /*max_tokens=*/24, /*seed=*/3, /*prefetch=*/3);
  const int64_t per_epoch = stream.batcher().num_batches();
  ASSERT_GE(per_epoch, 3);

  const int64_t consumed = per_epoch - 2;  // two batches before the epoch ends
  for (int64_t i = 0; i < consumed; ++i) stream.next();
  const torch::Tensor state = stream.state();  // the prefetcher has read further ahead
  EXPECT_TRUE(torch::equal(state, torch::tensor({int64_t{0}, consumed}, torch::kLong))) << state;

  CorpusStream resumed(corpus, 24, 3, /*prefetch=*/1, state);
  for (int i = 0; i < 5; ++i) {
    const Batch expected = stream.next();
    expect_same_batch(resumed.next(), expected, "batch " + std::to_string(i) + " after resuming");
    if (i == 1) EXPECT_EQ(expected.index, per_epoch - 1);
    if (i == 2) EXPECT_EQ(expected.epoch, 1);  // the next epoch, in its own order
  }
  EXPECT_TRUE(torch::equal(resumed.state(), stream.state()));
  EXPECT_TRUE(torch::equal(stream.state(), torch::tensor({int64_t{1}, int64_t{3}}, torch::kLong)));
}

TEST(CorpusStream, StateAtTheEndOfAnEpochContinuesWithTheNext) {
  const ParallelCorpus corpus(write_small_corpus("stream_end.bin"), kVocab, 0x1234, "spm.model");
  CorpusStream stream(corpus, 24, 5, 2);
  const int64_t per_epoch = stream.batcher().num_batches();
  for (int64_t i = 0; i < per_epoch; ++i) stream.next();
  CorpusStream resumed(corpus, 24, 5, 2, stream.state());
  const Batch expected = stream.next();
  EXPECT_EQ(expected.epoch, 1);
  EXPECT_EQ(expected.index, 0);
  expect_same_batch(resumed.next(), expected, "first batch of epoch 1");
}

TEST(CorpusStream, PoolAndRandomBatchingResumeIntoTheSameBatches) {
  const ParallelCorpus corpus(write_small_corpus("stream_pool.bin"), kVocab, 0x1234, "spm.model");
  for (const Batching batching : {Batching::pool, Batching::random}) {
    CorpusStream stream(corpus, 24, 3, 2, {}, false, batching, /*pool_batches=*/2);
    const int64_t per_epoch = stream.batcher().num_batches();
    for (int64_t i = 0; i < per_epoch + 1; ++i) stream.next();  // into epoch 1, re-planned
    CorpusStream resumed(corpus, 24, 3, 1, stream.state(), false, batching, 2);
    for (int64_t i = 0; i < 2 * per_epoch; ++i) {
      expect_same_batch(resumed.next(), stream.next(), std::string(to_string(batching)) + " batch " +
                                                           std::to_string(i) + " after resuming");
    }
  }
}

TEST(CorpusStream, RefusesAPositionThatDoesNotFit) {
  const ParallelCorpus corpus(write_small_corpus("stream_bad.bin"), kVocab, 0x1234, "spm.model");
  const int64_t per_epoch = CorpusStream(corpus, 24, 5, 1).batcher().num_batches();
  EXPECT_THROW(CorpusStream(corpus, 24, 5, 1, torch::tensor({int64_t{0}, per_epoch + 1}, torch::kLong)),
               std::invalid_argument);
  EXPECT_THROW(CorpusStream(corpus, 24, 5, 1, torch::tensor({int64_t{-1}, int64_t{0}}, torch::kLong)),
               std::invalid_argument);
  EXPECT_THROW(CorpusStream(corpus, 24, 5, 1, torch::tensor({1.0, 2.0})), std::invalid_argument);
}

TEST(CopyStream, StateContinuesAndAForeignPositionIsRefused) {
  DataConfig config;
  config.batch_size = 3;
  CopyStream stream(config, /*seed=*/4);
  stream.next();
  CopyStream resumed(config, /*seed=*/99, stream.state());
  expect_same_batch(stream.next(), resumed.next(), "after seek");
  // A corpus run's [epoch, index] is no generator state; LibTorch's own check would say only
  // "RNG state must be a torch.ByteTensor".
  const std::string error =
      tests::error_of([&] { resumed.seek(torch::tensor({int64_t{0}, int64_t{5}}, torch::kLong)); });
  EXPECT_EQ(error.rfind("copy task position: expected a generator state of ", 0), 0u) << error;
  EXPECT_NE(error.find(" bytes, got a Long tensor of 2 elements (not a copy-task checkpoint?)"), std::string::npos)
      << error;
}

}  // namespace
}  // namespace tmt
