// Reliability bins, ECE and MCE on hand-made predictions, and the alignment labels of inference
// calibration on hand-written pairs.

#include "metrics/calibration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace tmt {
namespace {

TEST(ReliabilityDiagram, KnownConfidencesGiveKnownEceAndMce) {
  ReliabilityDiagram d;
  for (const auto& [confidence, correct] : std::vector<std::pair<double, bool>>{
           {0.9, true}, {0.9, false}, {0.3, false}, {0.3, false}, {0.3, true}}) {
    d.add(confidence, correct);
  }
  EXPECT_EQ(d.count(), 5);
  EXPECT_EQ(d.bins()[18].count, 2);  // 0.9 * 20 = 18
  EXPECT_EQ(d.bins()[6].count, 3);   // 0.3 * 20 = 6
  // Bin 18: accuracy 0.5, confidence 0.9; bin 6: accuracy 1/3, confidence 0.3.
  EXPECT_NEAR(d.ece(), (2 * 0.4 + 3 * (1.0 / 3.0 - 0.3)) / 5, 1e-12);  // 0.18
  EXPECT_NEAR(d.mce(), 0.4, 1e-12);
  EXPECT_NEAR(d.accuracy(), 0.4, 1e-12);
  EXPECT_NEAR(d.mean_confidence(), 0.54, 1e-12);
}

// In each of the 20 bins, 40 predictions at the bin's centre of which exactly that share is right.
TEST(ReliabilityDiagram, PerfectlyCalibratedPredictionsHaveZeroEce) {
  ReliabilityDiagram d;
  for (int b = 0; b < 20; ++b) {
    const double centre = (2 * b + 1) / 40.0;
    for (int i = 0; i < 40; ++i) d.add(centre, i < 2 * b + 1);
  }
  EXPECT_EQ(d.count(), 800);
  for (const auto& bin : d.bins()) EXPECT_EQ(bin.count, 40);
  EXPECT_NEAR(d.ece(), 0.0, 1e-12);
  EXPECT_NEAR(d.mce(), 0.0, 1e-12);
}

TEST(ReliabilityDiagram, BinEdgesEmptinessAndMerging) {
  ReliabilityDiagram d;
  EXPECT_TRUE(std::isnan(d.ece()));
  EXPECT_TRUE(std::isnan(d.accuracy()));
  d.add(0.0, false);
  d.add(1.0, true);   // the top edge belongs to the last bin
  d.add(0.5, true);   // 0.5 * 20 = 10: the lower edge of bin 10
  d.add(1.5, true);   // clamped to 1
  EXPECT_EQ(d.bins()[0].count, 1);
  EXPECT_EQ(d.bins()[10].count, 1);
  EXPECT_EQ(d.bins()[19].count, 2);
  EXPECT_THROW(d.add(std::nan(""), true), std::invalid_argument);
  ReliabilityDiagram e;
  e.add(0.0, true);
  d.merge(e);
  EXPECT_EQ(d.count(), 5);
  EXPECT_EQ(d.bins()[0].count, 2);
  EXPECT_NEAR(d.bins()[0].correct, 1.0, 0.0);
  EXPECT_THROW(d.merge(ReliabilityDiagram(10)), std::invalid_argument);
}

TEST(AlignedMatches, LabelsTheTokensAnEditAlignmentMatches) {
  using V = std::vector<int64_t>;
  using B = std::vector<bool>;
  EXPECT_EQ(aligned_matches(V{1, 2, 3}, V{1, 2, 3}), (B{true, true, true}));
  EXPECT_EQ(aligned_matches(V{1, 2, 3, 4}, V{1, 9, 3, 4}), (B{true, false, true, true}));  // substitution
  EXPECT_EQ(aligned_matches(V{1, 7, 2, 3}, V{1, 2, 3}), (B{true, false, true, true}));     // an extra token
  EXPECT_EQ(aligned_matches(V{1, 3}, V{1, 2, 3}), (B{true, true}));                        // a missing one
  EXPECT_EQ(aligned_matches(V{5, 5}, V{5}), (B{true, false}));                              // the earlier of two
  EXPECT_EQ(aligned_matches(V{4, 5, 6}, V{}), (B{false, false, false}));
  EXPECT_TRUE(aligned_matches(V{}, V{1, 2}).empty());
  // No shifts: a moved block is not matched where it went (TER would shift it back).
  EXPECT_EQ(aligned_matches(V{3, 4, 1, 2}, V{1, 2, 3, 4}), (B{true, true, false, false}));
}

}  // namespace
}  // namespace tmt
