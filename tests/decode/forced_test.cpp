// Forced decoding: the statistics of hand-written logits, temperature scaling, padding, and
// teacher-forced logits equal to the model's forward pass.

#include "decode/forced.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "tests/tiny_model.h"

namespace tmt {
namespace {

// One row of two positions over 3 classes; the second position is padding (id 0).
torch::Tensor two_positions() {
  return torch::tensor({1.0, 2.0, 3.0, 5.0, 0.0, 0.0}, torch::kFloat).view({1, 2, 3});
}

TEST(ForcedStats, MatchHandComputedSoftmaxFiguresAndMaskPadding) {
  const torch::Tensor logits = two_positions();
  const torch::Tensor tgt_out = torch::tensor({{1, 0}}, torch::kLong);
  const ForcedStats s = forced_stats(logits, tgt_out, /*pad_id=*/0);
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  const double p[] = {std::exp(1.0) / z, std::exp(2.0) / z, std::exp(3.0) / z};
  EXPECT_NEAR(s.gold_log_prob[0][0].item<double>(), std::log(p[1]), 1e-6);
  EXPECT_NEAR(s.top_prob[0][0].item<double>(), p[2], 1e-6);
  EXPECT_FALSE(s.top_is_gold[0][0].item<bool>());
  EXPECT_NEAR(s.entropy[0][0].item<double>(), -(p[0] * std::log(p[0]) + p[1] * std::log(p[1]) + p[2] * std::log(p[2])),
              1e-6);
  EXPECT_TRUE(s.mask[0][0].item<bool>());
  EXPECT_FALSE(s.mask[0][1].item<bool>());
  EXPECT_EQ(s.gold_log_prob[0][1].item<double>(), 0.0);
  EXPECT_FALSE(s.top_is_gold[0][1].item<bool>());
  EXPECT_EQ(s.gold_log_prob.scalar_type(), torch::kDouble);
}

TEST(ForcedStats, TemperatureDividesTheLogits) {
  const torch::Tensor logits = two_positions();
  const torch::Tensor tgt_out = torch::tensor({{2, 0}}, torch::kLong);
  const ForcedStats hot = forced_stats(logits, tgt_out, 0, 2.0);
  const ForcedStats plain = forced_stats(logits / 2.0, tgt_out, 0);
  EXPECT_NEAR(hot.gold_log_prob[0][0].item<double>(), plain.gold_log_prob[0][0].item<double>(), 1e-7);
  EXPECT_TRUE(hot.top_is_gold[0][0].item<bool>());
  EXPECT_THROW(forced_stats(logits, tgt_out, 0, 0.0), std::invalid_argument);
}

TEST(GoldLogProbs, EqualForcedStatsWithoutItsFullSoftmax) {
  const torch::Tensor logits = torch::randn({2, 3, 7});
  const torch::Tensor tgt_out = torch::tensor({{3, 1, 0}, {6, 0, 0}}, torch::kLong);
  const torch::Tensor a = gold_log_probs(logits, tgt_out, 0);
  EXPECT_TRUE(torch::allclose(a, forced_stats(logits, tgt_out, 0).gold_log_prob, 1e-6, 1e-6));
  EXPECT_EQ(a[1][1].item<double>(), 0.0);
}

TEST(NllAtTemperatures, EqualsTheNegatedGoldLogProbabilities) {
  const torch::Tensor logits = torch::randn({2, 3, 7});
  const torch::Tensor tgt_out = torch::tensor({{3, 1, 0}, {6, 0, 0}}, torch::kLong);
  const std::vector<double> nll = nll_at_temperatures(logits, tgt_out, 0, {1.0, 0.5, 3.0});
  ASSERT_EQ(nll.size(), 3u);
  EXPECT_NEAR(nll[0], -forced_stats(logits, tgt_out, 0, 1.0).gold_log_prob.sum().item<double>(), 1e-5);
  EXPECT_NEAR(nll[1], -forced_stats(logits, tgt_out, 0, 0.5).gold_log_prob.sum().item<double>(), 1e-5);
  EXPECT_NEAR(nll[2], -forced_stats(logits, tgt_out, 0, 3.0).gold_log_prob.sum().item<double>(), 1e-5);
}

TEST(ForcedLogits, AreTheModelsTeacherForcedOutputInEvalMode) {
  torch::manual_seed(5);
  Transformer model(tests::tiny_model(), VocabInfo{20, 20, 0});
  const torch::Tensor src = torch::tensor({{4, 5, 6, 3}, {7, 3, 0, 0}}, torch::kLong);
  const torch::Tensor tgt_in = torch::tensor({{2, 8, 9}, {2, 10, 0}}, torch::kLong);
  const torch::Tensor a = forced_logits(model, src, tgt_in);
  model->eval();
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(a, model->forward(src, tgt_in)));
  EXPECT_FALSE(a.requires_grad());
}

}  // namespace
}  // namespace tmt
