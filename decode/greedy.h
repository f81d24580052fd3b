#pragma once
// Greedy decoding: the most probable token at every step.

#include <torch/torch.h>

#include <cstdint>

#include "model/transformer.h"

namespace tmt {

/// Decodes src [batch, src_len] greedily from `start_id` for at most `max_len` steps, or until
/// every row has produced `end_id` (< 0: no end symbol). Returns the generated ids
/// [batch, steps] without the start symbol; positions after a row's end symbol hold padding.
/// Runs without gradients; the caller puts the model in eval mode.
torch::Tensor greedy_decode(Transformer& model, const torch::Tensor& src, int64_t start_id,
                            int64_t end_id, int64_t max_len);

}  // namespace tmt
