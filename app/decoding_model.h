#pragma once
// A trained model loaded for decoding, as translate, score and calibrate share it.

#include <torch/torch.h>

#include <memory>

#include "app/config.h"
#include "app/subcommands.h"
#include "data/task.h"
#include "model/transformer.h"

namespace tmt {

struct DecodingModel {
  Config config;                // the checkpoint's, with -c's decode section, --set and the options
  std::unique_ptr<Task> task;   // its vocabulary checked against the checkpoint's
  Transformer model{nullptr};   // on `device`, in eval mode
  torch::Device device = torch::kCPU;
};

/// Reads args.checkpoint and builds everything decoding needs; the decode settings come from
/// the checkpoint, then -c CONFIG's decode section, then --set, then --beam/--alpha/--nbest/
/// --max-tokens, and are validated once. Throws std::invalid_argument for a vocabulary that is
/// not the checkpoint's, naming both.
DecodingModel load_for_decoding(const ModelArgs& args);

}  // namespace tmt
