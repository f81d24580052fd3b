#pragma once
// What a run learns and translates: its vocabulary, its training and validation data, how an
// input line becomes source ids and how output ids become a line. The synthetic copy task and
// a corpus prepared by `tmt prepare` are the two tasks; a third source of data is one more Task.

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/vocab_info.h"
#include "data/batch.h"
#include "data/batch_stream.h"
#include "data/data_config.h"

namespace tmt {

/// Batches to score during training and, row by row in batch order, the reference line of each
/// (the target formatted as an output would be), for BLEU.
struct ValidationSet {
  std::vector<Batch> batches;
  std::vector<std::string> references;
  int64_t examples = 0;
};

/// Held-out sources and the exact outputs (start and end symbols excluded) a perfect model
/// decodes greedily from them: the copy task's check after training.
struct HeldOut {
  torch::Tensor src;       // [count, src_len] int64
  torch::Tensor expected;  // [count, out_len] int64
};

/// The data a training run reads.
struct TrainingData {
  std::unique_ptr<BatchStream> stream;
  ValidationSet valid;     // no batches: the task validates nothing during training
  HeldOut held_out;        // undefined tensors: no check after training
  std::string summary;     // sizes and batching, for the log; empty: nothing worth saying
};

class Task {
 public:
  virtual ~Task() = default;

  /// "copy" or "translation", for log lines.
  virtual const char* name() const = 0;
  virtual VocabInfo vocab() const = 0;
  /// The hash a checkpoint stores to tie itself to the vocabulary; empty for the copy task.
  virtual std::string vocab_hash() const = 0;
  /// The vocabulary in words, for errors: "SentencePiece model 'PATH' (N pieces, hash H)".
  virtual std::string vocab_description() const = 0;
  /// The decoder's start symbol.
  virtual int64_t start_id() const = 0;
  /// The end symbol, or -1 for a task without one: its outputs run to the length limit, so it
  /// decodes greedily (beam search finishes hypotheses on the end symbol).
  virtual int64_t end_id() const = 0;

  /// Source ids of one input line, the end symbol appended where the task has one; empty for
  /// an empty line. Throws std::invalid_argument naming `line_no` for a line it cannot read.
  virtual std::vector<int64_t> encode(const std::string& line, int64_t line_no) const = 0;
  /// The output line for decoded ids (start and end symbols excluded).
  virtual std::string format(const std::vector<int64_t>& ids) const = 0;

  /// Opens the training data: batches of config.max_tokens shuffled (or drawn) from `seed`,
  /// pinned for fast copies to a GPU when `pin_memory`. The stream may refer to data the task
  /// owns: the task must outlive it.
  virtual TrainingData open_training(uint64_t seed, bool pin_memory) = 0;
};

/// The task of a run about to train: for a corpus, the SentencePiece model and binarised splits
/// `tmt prepare -c config_path` wrote into data_dir; throws std::invalid_argument saying so when
/// they are missing.
std::unique_ptr<Task> task_for_training(const DataConfig& config, const std::string& data_dir,
                                        const std::string& config_path);

/// The task of a trained model, for decoding only: for a corpus, the SentencePiece model at
/// spm_path (std::runtime_error naming it when it cannot be loaded). open_training() throws.
std::unique_ptr<Task> task_for_decoding(const DataConfig& config, const std::string& spm_path);

}  // namespace tmt
