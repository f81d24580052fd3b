#pragma once
// Sentence pairs for forced decoding (`tmt score`, `tmt calibrate`): two aligned text files,
// encoded by the model's task and cut into teacher-forced batches.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/task.h"

namespace tmt {

struct SentencePairs {
  std::vector<std::vector<int64_t>> src;  // ids + end symbol; empty for an empty line
  std::vector<std::vector<int64_t>> tgt;  // ids without start or end symbol; empty for an empty line
  int64_t empty = 0;                      // pairs with an empty side: not scored

  size_t size() const { return src.size(); }
  bool scored(size_t i) const { return !src[i].empty() && !tgt[i].empty(); }
};

/// Reads `source` and `target` (plain or gzip, UTF-8) and encodes them with the task, which must
/// have an end symbol (a translation model). Throws std::invalid_argument naming the file for
/// one that cannot be read, a line that is not UTF-8, files of different lengths, or a pair
/// longer than the model's max_positions.
SentencePairs read_sentence_pairs(const Task& task, const std::string& source, const std::string& target,
                                  int64_t max_positions);

/// A teacher-forced batch: the pairs `rows`, src [rows, src_len] (ids + end), tgt_in
/// [rows, tgt_len] (start + ids) and tgt_out [rows, tgt_len] (ids + end), padded with pad_id.
struct ForcedBatch {
  std::vector<size_t> rows;
  torch::Tensor src;
  torch::Tensor tgt_in;
  torch::Tensor tgt_out;
};

/// The scored pairs in batches of similar length, each within max_tokens source plus target
/// positions per row times rows.
std::vector<ForcedBatch> forced_batches(const SentencePairs& pairs, const Task& task, int64_t max_tokens);

/// A batch of given targets for the sources of `rows`: hypotheses, say.
ForcedBatch forced_batch(const std::vector<std::vector<int64_t>>& src, const std::vector<std::vector<int64_t>>& tgt,
                         const std::vector<size_t>& rows, const Task& task);

}  // namespace tmt
