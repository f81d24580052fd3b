#pragma once
// Optimisation and criterion settings. Defaults follow the paper (section 5.3 and 5.4).

#include <cstdint>
#include <string>
#include <vector>

#include "model/device.h"

namespace tmt {

/// Which target distribution label smoothing builds (see ../shared/LABEL_SMOOTHING.md).
enum class SmoothingVariant {
  annotated,  // 1-eps on gold, eps/(K-2) elsewhere, 0 on padding (the Annotated Transformer)
  others,     // 1-eps on gold, eps/(K-1) on every other class (fairseq, tensor2tensor)
  uniform,    // 1-eps+eps/K on gold, eps/K everywhere (PyTorch, Marian, OpenNMT-py)
};

/// `kl` is KL(q || p); `ce` is the soft-target cross-entropy. Same gradient, offset by H(q).
enum class LossForm { kl, ce };

/// The validation figure that picks the best checkpoint and drives early stopping.
enum class BestMetric { loss, nll, bleu };

/// Arithmetic of the forward pass: fp32, or bf16 autocast on CUDA (weights and Adam stay fp32).
enum class Precision { fp32, bf16 };

/// How per-row losses are combined; `mean` is over non-padding rows.
enum class LossReduction { sum, mean, none };

/// `per_class` weights every term q_j*l_j by w_j; `gold_nll` weights PyTorch-style, the gold
/// NLL only, with the smoothing term unweighted.
enum class ClassWeightMode { per_class, gold_nll };

/// The label-smoothing criterion's settings, one config key each.
struct CriterionConfig {
  double label_smoothing = 0.1;                         // eps (paper: 0.1)
  SmoothingVariant variant = SmoothingVariant::annotated;  // the Annotated Transformer's
  LossForm form = LossForm::kl;                         // KLDivLoss(sum) as in the Annotated Transformer
  LossReduction reduction = LossReduction::mean;        // divided by non-padding target tokens
  std::vector<double> class_weights;                    // empty: unweighted
  ClassWeightMode class_weight_mode = ClassWeightMode::per_class;

  void validate() const;
};

/// Optimiser, schedule, and loop settings for `tmt train`.
struct TrainConfig {
  uint64_t seed = 1;               // seeds parameters, dropout and data order
  int64_t max_updates = 100000;    // stop after this many optimizer updates (paper base: 100k)
  int64_t max_epochs = 0;          // also stop after this many passes over the data; 0: no limit
  double max_minutes = 0.0;        // also stop (with a checkpoint) after this much wall time; 0: no limit
  int64_t update_freq = 1;         // batches accumulated into one update (paper: ~25k+25k tokens per update)
  double lr_factor = 1.0;          // lr = factor * d_model^-0.5 * min(step^-0.5, step*warmup^-1.5)
  int64_t warmup_updates = 4000;   // paper: 4000
  double cooldown = 0.0;           // last fraction of the budget (max_updates or max_minutes) taking the lr to 0; 0: none (paper)
  double adam_beta1 = 0.9;         // paper: 0.9
  double adam_beta2 = 0.98;        // paper: 0.98
  double adam_eps = 1e-9;          // paper: 1e-9
  double clip_norm = 0.0;          // rescale gradients whose global L2 norm exceeds this; 0: off (paper: off)
  int64_t max_bad_updates = 10;    // consecutive NaN/Inf updates (each skipped) before training aborts
  int64_t log_every = 100;         // updates between training log lines
  int64_t save_every = 0;          // updates between checkpoints checkpoint_<update>.pt; 0: only at the end
  double save_minutes = 0.0;       // also save when this much wall time passed since the last save; 0: off
  int64_t keep_last = 5;           // numbered checkpoints kept (older ones deleted); 0: keep all
  int64_t valid_every = 1000;      // updates between validation passes (parallel data); 0: only at the end
  bool valid_bleu = true;          // also translate the valid set and score BLEU at each validation
  int64_t valid_beam_size = 1;     // beam width for validation BLEU; 1: greedy (fast)
  BestMetric best_metric = BestMetric::bleu;  // picks checkpoint_best.pt; bleu needs valid_bleu
  int64_t patience = 0;            // stop after this many validations without a new best; 0: never
  DeviceSpec device;               // auto (cuda:0 when present), cpu, cuda, cuda:N
  Precision precision = Precision::fp32;  // bf16: autocast on CUDA (ignored on CPU)
  int64_t threads = 0;             // intra-op CPU threads; 0 keeps LibTorch's default
  int64_t dist_timeout_s = 1800;   // multi-process jobs: seconds a rank waits for the others before failing
  CriterionConfig criterion;

  void validate() const;
};

const char* to_string(SmoothingVariant v);
const char* to_string(LossForm f);
const char* to_string(LossReduction r);
const char* to_string(ClassWeightMode m);
const char* to_string(BestMetric m);
const char* to_string(Precision p);

}  // namespace tmt
