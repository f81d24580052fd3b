#pragma once
// What a validation pass measured: the figures the training loop logs and selects checkpoints
// by. How they are measured (translation, BLEU) is the caller's business.

#include <cstdint>
#include <optional>

#include "train/train_config.h"

namespace tmt {

struct ValidationResult {
  int64_t update = 0;
  double loss = 0.0;           // label-smoothed loss per target token
  double nll = 0.0;            // NLL per target token
  double perplexity = 0.0;     // exp(nll)
  double accuracy = 0.0;       // fraction of target tokens predicted right (teacher forcing)
  std::optional<double> bleu;  // corpus BLEU (sacreBLEU defaults) when train.valid_bleu
  double seconds = 0.0;

  /// The figure train.best_metric names, oriented so that larger is better.
  double score(BestMetric metric) const {
    switch (metric) {
      case BestMetric::loss: return -loss;
      case BestMetric::nll: return -nll;
      case BestMetric::bleu: return bleu.value_or(0.0);
    }
    return 0.0;
  }
};

}  // namespace tmt
