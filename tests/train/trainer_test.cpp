// Training determinism, interval statistics and checkpoints.

#include "train/trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "data/copy_task.h"
#include "train/checkpoint.h"

namespace tmt {
namespace {

ModelConfig tiny_model() {
  ModelConfig m;
  m.layers = 1;
  m.d_model = 32;
  m.d_ff = 64;
  m.heads = 4;
  m.max_positions = 16;
  return m;
}

DataConfig tiny_data() {
  DataConfig d;
  d.batch_size = 8;
  return d;
}

std::vector<double> losses_of_a_run(uint64_t seed, int updates) {
  torch::manual_seed(seed);
  const DataConfig data = tiny_data();
  Transformer model(tiny_model(), VocabInfo{data.vocab_size, data.vocab_size, CopyTask::kPadId});
  TrainConfig train;
  train.warmup_updates = 10;
  Trainer trainer(model, train);
  CopyTask task(data, seed);
  std::vector<double> losses;
  for (int i = 0; i < updates; ++i) losses.push_back(trainer.step(task.next()).loss_sum);
  return losses;
}

TEST(Trainer, SameSeedGivesIdenticalLosses) {
  const std::vector<double> first = losses_of_a_run(42, 6);
  EXPECT_EQ(first, losses_of_a_run(42, 6));  // bit-identical on CPU
  EXPECT_NE(first, losses_of_a_run(43, 6));
}

TEST(Trainer, StepReportsTokensAndLearningRate) {
  torch::manual_seed(1);
  const DataConfig data = tiny_data();
  Transformer model(tiny_model(), VocabInfo{data.vocab_size, data.vocab_size, CopyTask::kPadId});
  TrainConfig train;
  train.warmup_updates = 10;
  Trainer trainer(model, train);
  CopyTask task(data, 1);
  const UpdateStats s = trainer.step(task.next());
  EXPECT_EQ(s.update, 1);
  EXPECT_EQ(s.tokens, data.batch_size * (data.seq_len - 1));  // copy targets have no padding
  EXPECT_DOUBLE_EQ(s.lr, std::pow(32.0, -0.5) * std::pow(10.0, -1.5));
  EXPECT_GE(s.loss_sum, 0.0);
  EXPECT_GE(s.nll_sum, s.loss_sum);  // eps 0.1 KL: smoothing lowers loss below NLL here
  EXPECT_EQ(trainer.updates(), 1);
}

TEST(IntervalStats, AggregatesPerToken) {
  IntervalStats i;
  UpdateStats a;
  a.loss_sum = 3.0;
  a.nll_sum = 4.0;
  a.correct = 5;
  a.tokens = 10;
  UpdateStats b = a;
  b.nll_sum = 2.0;
  b.correct = 15;
  i.add(a);
  i.add(b);
  EXPECT_DOUBLE_EQ(i.loss(), 0.3);
  EXPECT_DOUBLE_EQ(i.nll(), 0.3);
  EXPECT_DOUBLE_EQ(i.perplexity(), std::exp(0.3));
  EXPECT_DOUBLE_EQ(i.accuracy(), 1.0);
  EXPECT_EQ(IntervalStats{}.loss(), 0.0);
}

TEST(Checkpoint, RoundTripsWeightsAndHeader) {
  torch::manual_seed(3);
  const VocabInfo vocab{11, 11, 0};
  Transformer model(tiny_model(), vocab);
  const std::string path = ::testing::TempDir() + "/tmt_ckpt_roundtrip.pt";
  save_checkpoint(path, *model, "model:\n  layers: 1\n", "0123456789abcdef");

  const CheckpointHeader header = read_checkpoint_header(path);
  EXPECT_EQ(header.format_version, kCheckpointFormatVersion);
  EXPECT_EQ(header.config_yaml, "model:\n  layers: 1\n");
  EXPECT_EQ(header.vocab.src_size, 11);
  EXPECT_EQ(header.vocab.pad_id, 0);
  EXPECT_EQ(header.vocab_hash, "0123456789abcdef");

  torch::manual_seed(4);  // different initial weights
  Transformer restored(tiny_model(), vocab);
  load_checkpoint_weights(path, *restored);
  model->eval();
  restored->eval();
  torch::Tensor src = torch::tensor({{1, 4, 5, 6}}, torch::kLong);
  torch::Tensor tgt = torch::tensor({{1, 4, 5}}, torch::kLong);
  EXPECT_TRUE(torch::equal(model->forward(src, tgt), restored->forward(src, tgt)));
  for (const auto& entry : std::filesystem::directory_iterator(::testing::TempDir())) {
    EXPECT_EQ(entry.path().string().find(path + ".tmp"), std::string::npos) << "left behind: " << entry.path();
  }
}

TEST(Checkpoint, TruncatedFileIsReportedWithItsPath) {
  torch::manual_seed(3);
  Transformer model(tiny_model(), VocabInfo{11, 11, 0});
  const std::string path = ::testing::TempDir() + "/tmt_ckpt_truncated.pt";
  save_checkpoint(path, *model, "", "");
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  try {
    read_checkpoint_header(path);
    FAIL() << "a truncated checkpoint was read";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("cannot read checkpoint '" + path + "'", 0), 0u) << e.what();
  }
}

TEST(Checkpoint, ArchitectureMismatchIsRefused) {
  torch::manual_seed(3);
  Transformer model(tiny_model(), VocabInfo{11, 11, 0});
  const std::string path = ::testing::TempDir() + "/tmt_ckpt_mismatch.pt";
  save_checkpoint(path, *model, "", "");
  ModelConfig bigger = tiny_model();
  bigger.d_model = 64;
  Transformer other(bigger, VocabInfo{11, 11, 0});
  try {
    load_checkpoint_weights(path, *other);
    FAIL() << "weights of another architecture were loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("checkpoint '" + path + "' does not match the model", 0), 0u)
        << e.what();
  }
}

}  // namespace
}  // namespace tmt
