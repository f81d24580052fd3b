#pragma once
// Forced decoding: the model's predictions along a given target (teacher forcing), for scoring
// sentence pairs and measuring calibration.

#include <torch/torch.h>

#include <vector>

#include "model/transformer.h"

namespace tmt {

/// What the model predicted at each target position, at a softmax temperature. All
/// [batch, tgt_len]; padding positions hold zeros and are false in `mask`.
struct ForcedStats {
  torch::Tensor gold_log_prob;  // float64 (computed in float32): log p(gold token)
  torch::Tensor top_prob;       // float64: probability of the most likely token
  torch::Tensor top_is_gold;    // bool: the most likely token is the gold one
  torch::Tensor entropy;        // float64: entropy of the predicted distribution, nats
  torch::Tensor mask;           // bool: a real target position
};

/// Logits [batch, tgt_len, vocab] (float32, on the model's device) of the teacher-forced
/// targets, in eval mode without gradients: src [batch, src_len] (ids + end symbol),
/// tgt_in [batch, tgt_len] (start symbol + ids), padded with the model's pad id.
torch::Tensor forced_logits(Transformer& model, const torch::Tensor& src, const torch::Tensor& tgt_in);

/// The statistics of `logits` against tgt_out [batch, tgt_len] (ids + end symbol, padded with
/// pad_id) after dividing the logits by `temperature` (> 0). Returned on the CPU.
ForcedStats forced_stats(const torch::Tensor& logits, const torch::Tensor& tgt_out, int64_t pad_id,
                         double temperature = 1.0);

/// log p(gold token) [batch, tgt_len] (float64 on the CPU, 0 at padding): what scoring needs, from
/// one logsumexp and a gather, without the full log-softmax forced_stats() builds.
torch::Tensor gold_log_probs(const torch::Tensor& logits, const torch::Tensor& tgt_out, int64_t pad_id);

/// The summed negative log-likelihood of the real positions of tgt_out at each temperature.
std::vector<double> nll_at_temperatures(const torch::Tensor& logits, const torch::Tensor& tgt_out, int64_t pad_id,
                                        const std::vector<double>& temperatures);

}  // namespace tmt
