#pragma once
// Checkpoints: weights plus the architecture and the resolved configuration, so that a
// checkpoint alone is enough to rebuild and use the model; training checkpoints also hold
// everything needed to continue bit-identically. A checksum over the contents catches
// truncated or corrupted files.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "model/named_tensors.h"
#include "model/transformer.h"

namespace tmt {

/// Bumped whenever the layout of a checkpoint changes; older files are refused.
/// 2: optional training state and a checksum.
constexpr int64_t kCheckpointFormatVersion = 2;

/// What a checkpoint says about the model besides its weights.
struct CheckpointHeader {
  int64_t format_version = 0;
  std::string config_yaml;  // the resolved run configuration, as written to the run directory
  VocabInfo vocab;
  std::string vocab_hash;   // hash of the SentencePiece model trained on; empty for the copy task
};

/// Where a training run stood after an update: with the weights, enough to go on exactly.
struct TrainingState {
  int64_t update = 0;              // optimizer updates done (also Adam's bias-correction step)
  NamedTensors optimizer;          // Adam's moments, Adam::state()
  torch::Tensor data_position;     // BatchStream::state(): the next batch to read
  torch::Tensor rng_cpu;           // the default CPU generator (dropout)
  torch::Tensor rng_cuda;          // the training device's CUDA generator; undefined on CPU
  int64_t bad_updates = 0;         // consecutive skipped (NaN/Inf) updates
  double best_value = std::numeric_limits<double>::quiet_NaN();  // best validation figure; NaN: none yet
  int64_t best_update = 0;         // the update that reached it
  int64_t stale_validations = 0;   // validations since then (early stopping's patience)
  double elapsed_s = 0.0;          // training wall time so far, over every resumed run
};

/// A checkpoint's whole contents.
struct Checkpoint {
  CheckpointHeader header;
  NamedTensors model;                     // parameters and buffers by dotted name
  std::optional<TrainingState> training;  // absent in averaged or weights-only files
};

/// The model's parameters and buffers by dotted name, the way checkpoints store them.
NamedTensors model_state(TransformerImpl& model);

/// Writes `checkpoint` with the current format version and a checksum, atomically (a temporary
/// file renamed into place).
void write_checkpoint(const std::string& path, const Checkpoint& checkpoint);

/// Reads a whole checkpoint and verifies its checksum; throws std::runtime_error naming `path`
/// for unreadable, foreign, outdated, truncated or corrupted files.
Checkpoint read_checkpoint(const std::string& path);

/// Weights-only checkpoint of `model`.
void save_checkpoint(const std::string& path, TransformerImpl& model, const std::string& config_yaml,
                     const std::string& vocab_hash);

/// Writes named tensors as a weights-only checkpoint with the given header.
void write_checkpoint(const std::string& path, const NamedTensors& tensors, const CheckpointHeader& header);

/// Copies `stored` weights into `model`, whose names and shapes must all match; `origin` names
/// the checkpoint in errors.
void load_weights(const NamedTensors& stored, TransformerImpl& model, const std::string& origin);

/// Loads the weights of `path` into `model`, whose architecture must match.
void load_checkpoint_weights(const std::string& path, TransformerImpl& model);

}  // namespace tmt
