#include "train/lr_schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace tmt {
namespace {

TEST(NoamRate, MatchesThePaperFormula) {
  // d_model 512, warmup 4000: step 1 -> 512^-0.5 * 4000^-1.5; the peak at step 4000.
  EXPECT_DOUBLE_EQ(noam_rate(1, 512, 4000, 1.0), std::pow(512.0, -0.5) * std::pow(4000.0, -1.5));
  EXPECT_NEAR(noam_rate(4000, 512, 4000, 1.0), 6.987712429686844e-4, 1e-18);
  EXPECT_NEAR(noam_rate(16000, 512, 4000, 1.0), 3.493856214843422e-4, 1e-18);
  EXPECT_DOUBLE_EQ(noam_rate(100, 128, 400, 2.0), 2.0 * std::pow(128.0, -0.5) * 100 * std::pow(400.0, -1.5));
}

TEST(NoamRate, RisesLinearlyThenDecays) {
  EXPECT_DOUBLE_EQ(noam_rate(200, 512, 400, 1.0), 2 * noam_rate(100, 512, 400, 1.0));
  EXPECT_LT(noam_rate(399, 512, 400, 1.0), noam_rate(400, 512, 400, 1.0));
  EXPECT_LT(noam_rate(401, 512, 400, 1.0), noam_rate(400, 512, 400, 1.0));
  EXPECT_DOUBLE_EQ(noam_rate(1600, 512, 400, 1.0), noam_rate(400, 512, 400, 1.0) / 2);
}

TEST(NoamRate, RejectsStepZero) { EXPECT_THROW(noam_rate(0, 512, 4000, 1.0), std::invalid_argument); }

TEST(CooldownScale, FallsLinearlyToZeroOverTheLastShareOfTheBudget) {
  EXPECT_EQ(cooldown_scale(0.0, 0.25), 1.0);
  EXPECT_EQ(cooldown_scale(0.75, 0.25), 1.0);
  EXPECT_DOUBLE_EQ(cooldown_scale(0.8, 0.25), 0.8);
  EXPECT_DOUBLE_EQ(cooldown_scale(0.875, 0.25), 0.5);
  EXPECT_EQ(cooldown_scale(1.0, 0.25), 0.0);
  EXPECT_EQ(cooldown_scale(1.5, 0.25), 0.0) << "past the budget (a run that overshot its minutes)";
  EXPECT_DOUBLE_EQ(cooldown_scale(0.25, 1.0), 0.75) << "cooldown 1: a linear decay over the whole budget";
}

TEST(CooldownScale, ZeroIsOff) {
  EXPECT_EQ(cooldown_scale(0.0, 0.0), 1.0);
  EXPECT_EQ(cooldown_scale(0.99, 0.0), 1.0);
  EXPECT_EQ(cooldown_scale(1.0, 0.0), 1.0);
}

}  // namespace
}  // namespace tmt
