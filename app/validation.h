#pragma once
// Validation during training: loss figures over the task's validation set and, optionally, the
// BLEU of its translations.

#include "data/task.h"
#include "decode/decode_config.h"
#include "train/train_config.h"
#include "train/trainer.h"
#include "train/validation_result.h"

namespace tmt {

/// Loss figures and, when config.valid_bleu, BLEU of greedy (valid_beam_size 1) or beam-search
/// translations; references are the valid targets decoded from their pieces, so the score is
/// for model selection, not a publishable test score. Leaves the model in eval mode.
ValidationResult validate(Trainer& trainer, const Task& task, const ValidationSet& valid, const TrainConfig& config,
                          const DecodeConfig& decode);

}  // namespace tmt
