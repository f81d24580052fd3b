#pragma once
// The learning-rate schedule of the paper (section 5.3).

#include <cstdint>

namespace tmt {

/// factor * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5) for update `step` >= 1: linear
/// warm-up for `warmup` updates, then inverse square-root decay.
double noam_rate(int64_t step, int64_t d_model, int64_t warmup, double factor);

}  // namespace tmt
