#pragma once
// Model checkpoints: weights plus the architecture and the resolved configuration, so that a
// checkpoint alone is enough to rebuild and use the model.

#include <cstdint>
#include <string>

#include "model/transformer.h"

namespace tmt {

/// Bumped whenever the layout of a checkpoint changes; older files are refused.
constexpr int64_t kCheckpointFormatVersion = 1;

/// What a checkpoint says about the model besides its weights.
struct CheckpointHeader {
  int64_t format_version = 0;
  std::string config_yaml;  // the resolved run configuration, as written to the run directory
  VocabInfo vocab;
};

/// Writes model weights, vocabulary and configuration atomically to `path`.
void save_checkpoint(const std::string& path, TransformerImpl& model, const std::string& config_yaml);

/// Reads the header; throws std::runtime_error naming `path` for unreadable or foreign files.
CheckpointHeader read_checkpoint_header(const std::string& path);

/// Loads the weights of `path` into `model`, whose architecture must match.
void load_checkpoint_weights(const std::string& path, TransformerImpl& model);

}  // namespace tmt
