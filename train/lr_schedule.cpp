#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace tmt {

double noam_rate(int64_t step, int64_t d_model, int64_t warmup, double factor) {
  if (step < 1) throw std::invalid_argument("learning-rate step must be >= 1, got " + std::to_string(step));
  const auto s = static_cast<double>(step);
  return factor * std::pow(static_cast<double>(d_model), -0.5) *
         std::min(std::pow(s, -0.5), s * std::pow(static_cast<double>(warmup), -1.5));
}

double cooldown_scale(double progress, double cooldown) {
  if (cooldown <= 0.0) return 1.0;
  return std::clamp((1.0 - progress) / cooldown, 0.0, 1.0);
}

}  // namespace tmt
