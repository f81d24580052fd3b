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
  std::string vocab_hash;   // hash of the SentencePiece model trained on; empty for the copy task
};

/// Parameters and buffers by dotted name, in the order a checkpoint stores them.
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

/// Writes model weights, vocabulary and configuration atomically to `path`.
void save_checkpoint(const std::string& path, TransformerImpl& model, const std::string& config_yaml,
                     const std::string& vocab_hash);

/// Writes named tensors as a checkpoint with the given header, atomically.
void write_checkpoint(const std::string& path, const NamedTensors& tensors, const CheckpointHeader& header);

/// Every tensor a checkpoint stores, by name.
NamedTensors read_checkpoint_tensors(const std::string& path);

/// Reads the header; throws std::runtime_error naming `path` for unreadable or foreign files.
CheckpointHeader read_checkpoint_header(const std::string& path);

/// Loads the weights of `path` into `model`, whose architecture must match.
void load_checkpoint_weights(const std::string& path, TransformerImpl& model);

}  // namespace tmt
