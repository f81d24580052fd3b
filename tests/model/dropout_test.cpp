#include "model/dropout.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace tmt {
namespace {

TEST(Dropout, MaskKeepsOneMinusPAndScalesTheKept) {
  const double p = 0.3;
  const torch::Tensor mask = dropout_mask(/*seed=*/123, {1000, 1000}, p);
  const double kept = mask.ne(0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(kept, 0.7, 0.002);  // 4.4 standard deviations of a million draws
  const torch::Tensor values = mask.masked_select(mask.ne(0));
  EXPECT_TRUE(values.eq(static_cast<float>(1.0 / 0.7)).all().item<bool>());
  EXPECT_NEAR(mask.to(torch::kDouble).mean().item<double>(), 1.0, 0.003);  // expectation preserved
}

TEST(Dropout, SameSeedSameMaskOtherSeedOtherMask) {
  const torch::Tensor a = dropout_mask(7, {4096}, 0.5);
  EXPECT_TRUE(a.equal(dropout_mask(7, {4096}, 0.5)));
  const double agree = a.eq(dropout_mask(8, {4096}, 0.5)).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(agree, 0.5, 0.05);  // independent masks agree on about half the elements
  // Neighbouring seeds and indices are not correlated: no streaks along the index.
  const double next_agree = a.narrow(0, 0, 4095).eq(a.narrow(0, 1, 4095)).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(next_agree, 0.5, 0.05);
}

TEST(Dropout, ThresholdEdges) {
  EXPECT_EQ(dropout_threshold(0.0), 0u);
  EXPECT_EQ(dropout_threshold(0.5), 2147483648u);
  EXPECT_TRUE(dropout_keeps(1, 2, 0));  // p = 0 keeps everything
  EXPECT_THROW(dropout_threshold(1.0), std::invalid_argument);
  EXPECT_THROW(dropout_threshold(-0.1), std::invalid_argument);
  EXPECT_THROW(Dropout(1.5), std::invalid_argument);
}

// Forward and backward multiply by the mask of the seed drawn from LibTorch's CPU generator, so a
// restored generator repeats the masks (what checkpoint resume relies on).
TEST(Dropout, TrainingMultipliesByTheMaskOfTheDrawnSeed) {
  Dropout dropout(0.25);
  dropout->train();
  const torch::Tensor x = torch::randn({6, 50}).requires_grad_(true);
  torch::manual_seed(99);
  const torch::Tensor y = dropout(x);
  torch::manual_seed(99);
  const torch::Tensor mask = dropout_mask(draw_dropout_seed(), {6, 50}, 0.25);
  EXPECT_TRUE(y.detach().equal(x.detach() * mask));
  const torch::Tensor upstream = torch::randn({6, 50});
  (y * upstream).sum().backward();
  EXPECT_TRUE(x.grad().equal(upstream * mask));
  torch::manual_seed(99);
  EXPECT_TRUE(dropout(x).detach().equal(y.detach()));  // restored generator, same mask
}

TEST(Dropout, EvaluationAndZeroProbabilityAreTheIdentity) {
  const torch::Tensor x = torch::randn({3, 4});
  Dropout dropout(0.5);
  dropout->eval();
  EXPECT_TRUE(dropout(x).equal(x));
  Dropout none(0.0);
  none->train();
  EXPECT_TRUE(none(x).equal(x));
}

}  // namespace
}  // namespace tmt
