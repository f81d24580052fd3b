#pragma once
// Calibration of a model's confidence: reliability bins, expected and maximum calibration error
// (ECE, MCE), and the labels of inference calibration (Wang et al. 2020, "On the Inference
// Calibration of Neural Machine Translation"): which output tokens an alignment to the
// reference finds correct. No LibTorch: the numbers come from the caller.

#include <cstdint>
#include <vector>

namespace tmt {

/// Confidence against accuracy in equal-width bins over [0, 1] (20 by default, the convention
/// of Wang et al.'s code): a confidence c falls in bin min(floor(c * bins), bins - 1).
class ReliabilityDiagram {
 public:
  struct Bin {
    int64_t count = 0;
    double confidence = 0.0;  // sum of the confidences in the bin
    double correct = 0.0;     // how many of them were right
  };

  explicit ReliabilityDiagram(int bins = 20);

  /// One prediction: its confidence in [0, 1] (clamped) and whether it was right.
  void add(double confidence, bool correct);
  /// The predictions of `other` (same number of bins) as well.
  void merge(const ReliabilityDiagram& other);

  int64_t count() const { return count_; }
  const std::vector<Bin>& bins() const { return bins_; }
  /// Share of right predictions; NaN without any.
  double accuracy() const;
  /// Mean confidence; NaN without any.
  double mean_confidence() const;
  /// ECE = sum over bins of (count / total) * |accuracy - mean confidence|; NaN without any.
  double ece() const;
  /// MCE = the largest |accuracy - mean confidence| of a non-empty bin; NaN without any.
  double mce() const;

 private:
  std::vector<Bin> bins_;
  int64_t count_ = 0;
  double confidence_ = 0.0;
  double correct_ = 0.0;
};

/// Which tokens of `hyp` a Levenshtein alignment to `ref` (insertions, deletions and
/// substitutions of cost 1, no shifts: TER without its block moves) matches with an equal
/// token. Among alignments of least cost, one that matches most tokens; remaining ties go to
/// the earlier of two equal hyp tokens.
std::vector<bool> aligned_matches(const std::vector<int64_t>& hyp, const std::vector<int64_t>& ref);

}  // namespace tmt
