#pragma once
// Batched beam search with length normalisation (Wu et al. 2016), as used by the paper: beam 4,
// alpha 0.6, output length up to source length + 50.

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "decode/decode_config.h"
#include "model/transformer.h"

namespace tmt {

/// One finished translation.
struct Hypothesis {
  std::vector<int64_t> tokens;  // without the start and the end symbol
  double score = 0.0;           // log_prob / length_penalty(tokens.size() + 1, alpha)
  double log_prob = 0.0;        // sum of the token log-probabilities, end symbol included
};

/// lp(Y) = ((5 + |Y|) / 6)^alpha (Wu et al. 2016), |Y| counting the end symbol.
double length_penalty(int64_t length, double alpha);

/// What the search core needs from a decoder; rows are sentences x beams.
struct StepModel {
  /// prefix [rows, t + 1] int64 (start symbol first, on the search's device) -> log-probs of the
  /// next token [rows, vocab], float32.
  std::function<torch::Tensor(const torch::Tensor& prefix)> log_probs;
  /// Keeps the decoder's state in step with the search: the next call's row i continues this
  /// call's row order[i] (order [new_rows] int64 on the search's device). The state starts
  /// with one row per sentence (the first log_probs call sees one row each); a model that
  /// keeps no state may leave this empty.
  std::function<void(const torch::Tensor& order)> reorder;
};

/// The sentences and symbols of one search, independent of the model.
struct SearchProblem {
  std::vector<int64_t> max_len;  // per sentence: tokens before the forced end symbol
  int64_t vocab_size = 0;
  int64_t bos_id = 0;            // start symbol; never generated
  int64_t eos_id = 0;            // end symbol
  int64_t pad_id = 0;            // never generated
  torch::Device device = torch::kCPU;
};

/// The search core over any step function: per sentence up to options.nbest hypotheses,
/// best score first, with options.beam_size and options.alpha (the length limits are the
/// problem's). Calls step.log_probs once per step for all unfinished sentences together.
std::vector<std::vector<Hypothesis>> beam_search(const StepModel& step,
                                                 const SearchProblem& problem,
                                                 const DecodeConfig& options);

/// How the decoder runs each step: cached keys and values (fast), or the whole prefix again
/// (the reference the cached path is tested and measured against).
enum class DecoderState { cached, recomputed };

/// Batched beam search over src [batch, src_len] (padded with model->vocab().pad_id): returns
/// per sentence up to nbest hypotheses sorted by score, best first. A sentence's output limit is
/// options.output_limit(its unpadded length, max_positions), after which eos is forced. Beam 1
/// with alpha 0 is greedy decoding (greedy_decode's tokens up to its first eos). Runs without gradients on the model's device;
/// the caller puts the model in eval mode.
std::vector<std::vector<Hypothesis>> beam_search(Transformer& model, const torch::Tensor& src,
                                                 int64_t bos_id, int64_t eos_id,
                                                 const DecodeConfig& options,
                                                 DecoderState state = DecoderState::cached);

}  // namespace tmt
