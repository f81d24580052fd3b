#include "metrics/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace tmt {

ReliabilityDiagram::ReliabilityDiagram(int bins) {
  if (bins < 1) throw std::invalid_argument("ReliabilityDiagram: bins must be >= 1, got " + std::to_string(bins));
  bins_.resize(static_cast<size_t>(bins));
}

void ReliabilityDiagram::add(double confidence, bool correct) {
  if (std::isnan(confidence)) throw std::invalid_argument("ReliabilityDiagram: confidence is NaN");
  confidence = std::clamp(confidence, 0.0, 1.0);
  const auto n = static_cast<int64_t>(bins_.size());
  const int64_t b = std::min(static_cast<int64_t>(confidence * static_cast<double>(n)), n - 1);
  Bin& bin = bins_[static_cast<size_t>(b)];
  ++bin.count;
  bin.confidence += confidence;
  bin.correct += correct ? 1.0 : 0.0;
  ++count_;
  confidence_ += confidence;
  correct_ += correct ? 1.0 : 0.0;
}

void ReliabilityDiagram::merge(const ReliabilityDiagram& other) {
  if (other.bins_.size() != bins_.size()) {
    throw std::invalid_argument("ReliabilityDiagram::merge: " + std::to_string(other.bins_.size()) + " bins into " +
                                std::to_string(bins_.size()));
  }
  for (size_t b = 0; b < bins_.size(); ++b) {
    bins_[b].count += other.bins_[b].count;
    bins_[b].confidence += other.bins_[b].confidence;
    bins_[b].correct += other.bins_[b].correct;
  }
  count_ += other.count_;
  confidence_ += other.confidence_;
  correct_ += other.correct_;
}

double ReliabilityDiagram::accuracy() const {
  return count_ > 0 ? correct_ / static_cast<double>(count_) : std::numeric_limits<double>::quiet_NaN();
}

double ReliabilityDiagram::mean_confidence() const {
  return count_ > 0 ? confidence_ / static_cast<double>(count_) : std::numeric_limits<double>::quiet_NaN();
}

double ReliabilityDiagram::ece() const {
  if (count_ == 0) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0.0;
  for (const Bin& bin : bins_) sum += std::abs(bin.correct - bin.confidence);  // count * |acc - conf|
  return sum / static_cast<double>(count_);
}

double ReliabilityDiagram::mce() const {
  if (count_ == 0) return std::numeric_limits<double>::quiet_NaN();
  double worst = 0.0;
  for (const Bin& bin : bins_) {
    if (bin.count == 0) continue;
    const auto n = static_cast<double>(bin.count);
    worst = std::max(worst, std::abs(bin.correct / n - bin.confidence / n));
  }
  return worst;
}

std::vector<bool> aligned_matches(const std::vector<int64_t>& hyp, const std::vector<int64_t>& ref) {
  const size_t n = hyp.size();
  const size_t m = ref.size();
  // cost[i][j]: edits to turn hyp[0, i) into ref[0, j); matches[i][j]: most matches at that cost.
  std::vector<std::vector<int64_t>> cost(n + 1, std::vector<int64_t>(m + 1, 0));
  std::vector<std::vector<int64_t>> matches(n + 1, std::vector<int64_t>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) cost[i][0] = static_cast<int64_t>(i);
  for (size_t j = 0; j <= m; ++j) cost[0][j] = static_cast<int64_t>(j);
  // Better: lower cost, then more matches.
  const auto better = [](int64_t c1, int64_t m1, int64_t c2, int64_t m2) { return c1 < c2 || (c1 == c2 && m1 > m2); };
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const bool same = hyp[i - 1] == ref[j - 1];
      int64_t c = cost[i - 1][j - 1] + (same ? 0 : 1);
      int64_t k = matches[i - 1][j - 1] + (same ? 1 : 0);
      if (better(cost[i - 1][j] + 1, matches[i - 1][j], c, k)) {  // hyp[i-1] inserted
        c = cost[i - 1][j] + 1;
        k = matches[i - 1][j];
      }
      if (better(cost[i][j - 1] + 1, matches[i][j - 1], c, k)) {  // ref[j-1] deleted
        c = cost[i][j - 1] + 1;
        k = matches[i][j - 1];
      }
      cost[i][j] = c;
      matches[i][j] = k;
    }
  }
  // Walk back from the end along an optimal path; skipping a hyp token first when that is as
  // good leaves the match to an earlier one.
  std::vector<bool> matched(n, false);
  size_t i = n;
  size_t j = m;
  while (i > 0 && j > 0) {
    const bool same = hyp[i - 1] == ref[j - 1];
    if (cost[i][j] == cost[i - 1][j] + 1 && matches[i][j] == matches[i - 1][j]) {
      --i;
    } else if (cost[i][j] == cost[i - 1][j - 1] + (same ? 0 : 1) &&
               matches[i][j] == matches[i - 1][j - 1] + (same ? 1 : 0)) {
      matched[i - 1] = same;
      --i;
      --j;
    } else {
      --j;
    }
  }
  return matched;
}

}  // namespace tmt
