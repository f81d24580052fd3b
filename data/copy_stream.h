#pragma once
// The Annotated Transformer's synthetic copy task: learn to reproduce the source sequence.

#include <torch/torch.h>

#include <cstdint>

#include "data/batch.h"
#include "data/batch_stream.h"
#include "data/data_config.h"

namespace tmt {

/// Random sequences of ids in [1, vocab_size) whose first token is fixed to 1, which doubles as
/// the decoder's start symbol; 0 is padding. The target is the source.
class CopyStream : public BatchStream {
 public:
  static constexpr int64_t kPadId = 0;
  static constexpr int64_t kStartId = 1;

  /// `start` is a state() to continue from; undefined: a fresh generator seeded with `seed`.
  CopyStream(const DataConfig& config, uint64_t seed, const torch::Tensor& start = {});

  /// The next training batch of config.batch_size sequences.
  Batch next() override;
  /// The generator's state.
  torch::Tensor state() const override;
  void seek(const torch::Tensor& state) override;

  /// `count` sequences [count, seq_len] from an independent generator seeded with `seed`,
  /// for held-out checks.
  static torch::Tensor sequences(const DataConfig& config, int64_t count, uint64_t seed);

  /// Splits full sequences [batch, len] into a teacher-forcing batch.
  static Batch to_batch(const torch::Tensor& sequences);

 private:
  DataConfig config_;
  torch::Generator generator_;
};

}  // namespace tmt
