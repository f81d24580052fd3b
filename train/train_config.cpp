#include "train/train_config.h"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tmt {
namespace {

[[noreturn]] void fail(const std::string& message) { throw std::invalid_argument(message); }

std::string str(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

void CriterionConfig::validate() const {
  if (!(label_smoothing >= 0.0 && label_smoothing < 1.0)) {
    fail("train.label_smoothing must be in [0, 1), got " + str(label_smoothing));
  }
  for (size_t i = 0; i < class_weights.size(); ++i) {
    if (!std::isfinite(class_weights[i]) || class_weights[i] < 0.0) {
      fail("train.class_weights[" + std::to_string(i) + "] must be a finite number >= 0, got " +
           str(class_weights[i]));
    }
  }
  if (class_weight_mode == ClassWeightMode::gold_nll && form != LossForm::ce) {
    fail("train.class_weight_mode 'gold_nll' (PyTorch's weighted cross-entropy) needs "
         "train.loss_form 'ce', got '" + std::string(to_string(form)) + "'");
  }
}

void TrainConfig::validate() const {
  if (max_updates < 1) fail("train.max_updates must be >= 1, got " + std::to_string(max_updates));
  if (!(lr_factor > 0.0)) fail("train.lr_factor must be > 0, got " + str(lr_factor));
  if (warmup_updates < 1) {
    fail("train.warmup_updates must be >= 1, got " + std::to_string(warmup_updates));
  }
  if (!(cooldown >= 0.0 && cooldown <= 1.0)) fail("train.cooldown must be in [0, 1] (0: off), got " + str(cooldown));
  if (!(adam_beta1 >= 0.0 && adam_beta1 < 1.0)) {
    fail("train.adam_beta1 must be in [0, 1), got " + str(adam_beta1));
  }
  if (!(adam_beta2 >= 0.0 && adam_beta2 < 1.0)) {
    fail("train.adam_beta2 must be in [0, 1), got " + str(adam_beta2));
  }
  if (!(adam_eps > 0.0)) fail("train.adam_eps must be > 0, got " + str(adam_eps));
  if (max_epochs < 0) fail("train.max_epochs must be >= 0 (0: no limit), got " + std::to_string(max_epochs));
  if (save_every < 0) fail("train.save_every must be >= 0 (0: no numbered checkpoints), got " + std::to_string(save_every));
  if (valid_every < 0) fail("train.valid_every must be >= 0 (0: only at the end), got " + std::to_string(valid_every));
  if (log_every < 1) fail("train.log_every must be >= 1, got " + std::to_string(log_every));
  if (!(max_minutes >= 0.0)) fail("train.max_minutes must be >= 0 (0: no limit), got " + str(max_minutes));
  if (update_freq < 1) fail("train.update_freq must be >= 1, got " + std::to_string(update_freq));
  if (!(clip_norm >= 0.0)) fail("train.clip_norm must be >= 0 (0: off), got " + str(clip_norm));
  if (max_bad_updates < 1) fail("train.max_bad_updates must be >= 1, got " + std::to_string(max_bad_updates));
  if (!(save_minutes >= 0.0)) fail("train.save_minutes must be >= 0 (0: off), got " + str(save_minutes));
  if (keep_last < 0) fail("train.keep_last must be >= 0 (0: keep all), got " + std::to_string(keep_last));
  if (valid_beam_size < 1) fail("train.valid_beam_size must be >= 1, got " + std::to_string(valid_beam_size));
  if (patience < 0) fail("train.patience must be >= 0 (0: never stop early), got " + std::to_string(patience));
  if (best_metric == BestMetric::bleu && !valid_bleu) {
    fail("train.best_metric 'bleu' needs train.valid_bleu: true (or choose best_metric loss or nll)");
  }
  if (dist_timeout_s < 1) fail("train.dist_timeout_s must be >= 1, got " + std::to_string(dist_timeout_s));
  if (threads < 0) fail("train.threads must be >= 0 (0: LibTorch's default), got " + std::to_string(threads));
  criterion.validate();
}

const char* to_string(SmoothingVariant v) {
  switch (v) {
    case SmoothingVariant::annotated: return "annotated";
    case SmoothingVariant::others: return "others";
    case SmoothingVariant::uniform: return "uniform";
  }
  return "?";
}

const char* to_string(LossForm f) { return f == LossForm::kl ? "kl" : "ce"; }

const char* to_string(LossReduction r) {
  switch (r) {
    case LossReduction::sum: return "sum";
    case LossReduction::mean: return "mean";
    case LossReduction::none: return "none";
  }
  return "?";
}

const char* to_string(ClassWeightMode m) {
  return m == ClassWeightMode::per_class ? "per_class" : "gold_nll";
}

const char* to_string(BestMetric m) {
  switch (m) {
    case BestMetric::loss: return "loss";
    case BestMetric::nll: return "nll";
    case BestMetric::bleu: return "bleu";
  }
  return "?";
}

const char* to_string(Precision p) { return p == Precision::fp32 ? "fp32" : "bf16"; }

}  // namespace tmt
