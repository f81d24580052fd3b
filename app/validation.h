#pragma once
// Validation during training: loss figures over the valid set and, optionally, the BLEU of its
// translations.

#include <cstdint>
#include <vector>

#include "data/batcher.h"
#include "data/corpus.h"
#include "data/vocabulary.h"
#include "decode/decode_config.h"
#include "train/train_config.h"
#include "train/trainer.h"
#include "train/validation_result.h"

namespace tmt {

/// The valid split of a prepared corpus, batched once.
struct ValidSet {
  const ParallelCorpus* corpus = nullptr;
  const Vocabulary* vocab = nullptr;  // turns ids back into text for BLEU
  std::vector<BatchIndices> batches;
};

/// Loss figures and, when config.valid_bleu, BLEU of greedy (valid_beam_size 1) or beam-search
/// translations; references are the valid targets decoded from their pieces, so the score is
/// for model selection, not a publishable test score. Leaves the model in eval mode.
ValidationResult validate(Trainer& trainer, const ValidSet& valid, const TrainConfig& config,
                          const DecodeConfig& decode);

}  // namespace tmt
