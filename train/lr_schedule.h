#pragma once
// The learning-rate schedule of the paper (section 5.3).

#include <cstdint>

namespace tmt {

/// factor * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5) for update `step` >= 1: linear
/// warm-up for `warmup` updates, then inverse square-root decay.
double noam_rate(int64_t step, int64_t d_model, int64_t warmup, double factor);

/// The share of the rate kept once a fraction `progress` of the training budget is spent, when
/// the last `cooldown` fraction of the budget brings the rate down linearly to zero: 1 before
/// the cool-down, (1 - progress) / cooldown in it, 0 at the end; always 1 for cooldown 0.
double cooldown_scale(double progress, double cooldown);

}  // namespace tmt
