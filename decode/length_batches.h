#pragma once
// Batches for decoding and scoring: sequences of similar length together, padded to the
// longest, within a token budget.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace tmt {

/// Indices of the sequences with a length > 0, sorted by length (stably) and cut into batches
/// whose size times their longest length stays within max_tokens (a longer one alone).
std::vector<std::vector<size_t>> length_batches(const std::vector<int64_t>& lengths, int64_t max_tokens);

/// [rows.size(), width] int64: sequences[rows[r]] in row r, after `prefix` when it is >= 0 and
/// before `suffix` when it is >= 0, padded with pad_id to the longest.
torch::Tensor pad_rows(const std::vector<std::vector<int64_t>>& sequences, const std::vector<size_t>& rows,
                       int64_t pad_id, int64_t prefix = -1, int64_t suffix = -1);

}  // namespace tmt
