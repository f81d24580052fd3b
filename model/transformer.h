#pragma once
// The encoder-decoder Transformer of "Attention Is All You Need" (Vaswani et al., 2017).

#include <torch/torch.h>

#include <vector>

#include "base/vocab_info.h"
#include "model/dropout.h"
#include "model/embeddings.h"
#include "model/model_config.h"

namespace tmt {

/// [batch, 1, 1, src_len] bool, true where a key position is a real token (attention allowed).
torch::Tensor padding_mask(const torch::Tensor& tokens, int64_t pad_id);

/// [1, 1, len, len] bool, true on and below the diagonal: position i may attend to j <= i.
torch::Tensor causal_mask(int64_t len, const torch::Device& device);

/// State of incremental decoding for a batch of rows (sentences, or sentences x beams): what
/// the decoder layers computed for earlier positions, so each step only processes the newest.
struct DecoderCache {
  std::vector<torch::Tensor> self_k;   // per layer [batch, heads, steps, head_dim]
  std::vector<torch::Tensor> self_v;   // per layer [batch, heads, steps, head_dim]
  std::vector<torch::Tensor> cross_k;  // per layer [batch, heads, src_len, head_dim], fixed
  std::vector<torch::Tensor> cross_v;  // per layer [batch, heads, src_len, head_dim], fixed
  torch::Tensor src_mask;              // [batch, 1, 1, src_len] bool
  int64_t steps = 0;                   // positions decoded so far = position of the next token

  /// Rows in the cache.
  int64_t batch() const { return src_mask.defined() ? src_mask.size(0) : 0; }
};

/// Keeps row order[i] as the new row i of every cached tensor (order [new_batch] int64 on the
/// cache's device); beam search uses it to follow surviving beams and drop finished sentences.
void reorder_cache(DecoderCache& cache, const torch::Tensor& order);

/// Encoder-decoder Transformer with sinusoidal positions, scaled embeddings, optional
/// three-way weight tying, and post-norm (paper) or pre-norm residual blocks.
class TransformerImpl : public torch::nn::Module {
 public:
  TransformerImpl(const ModelConfig& config, const VocabInfo& vocab);

  /// Teacher-forced logits: src [batch, src_len], tgt_in [batch, tgt_len] (int64 ids)
  /// -> [batch, tgt_len, tgt_vocab].
  torch::Tensor forward(const torch::Tensor& src, const torch::Tensor& tgt_in);

  /// Encoder output [batch, src_len, d_model] for src [batch, src_len].
  torch::Tensor encode(const torch::Tensor& src);

  /// Decoder hidden states [batch, tgt_len, d_model] over the whole prefix tgt_in, attending to
  /// memory (from encode) where src_mask [batch, 1, 1, src_len] is true.
  torch::Tensor decode(const torch::Tensor& tgt_in, const torch::Tensor& memory,
                       const torch::Tensor& src_mask);

  /// Starts incremental decoding of memory (from encode) under src_mask [batch, 1, 1, src_len]:
  /// computes every decoder layer's cross-attention keys/values once.
  DecoderCache start_decoding(const torch::Tensor& memory, const torch::Tensor& src_mask);

  /// One incremental step: tokens [batch] int64 (each row's newest token, at position
  /// cache.steps) -> decoder hidden state [batch, d_model] of that position; appends the step's
  /// self-attention keys/values to the cache. Equals decode(prefix, ...)[:, -1] for the prefix
  /// of all tokens fed so far.
  torch::Tensor decode_step(const torch::Tensor& tokens, DecoderCache& cache);

  /// Output projection: hidden [..., d_model] -> logits [..., tgt_vocab].
  torch::Tensor project(const torch::Tensor& hidden);

  const ModelConfig& config() const { return config_; }
  const VocabInfo& vocab() const { return vocab_; }

 private:
  // Dropout(scaled source or target embedding + positions) for tokens [batch, len];
  // `start` is the position of the first token (incremental decoding feeds one at a time).
  torch::Tensor embed_tokens(const torch::Tensor& tokens, bool is_source, int64_t start = 0);
  // Draws the parameters as config_.init says.
  void initialize();

  ModelConfig config_;
  VocabInfo vocab_;
  // Tied (share_embeddings): only `embed` exists and also serves as the output projection.
  // Untied: src_embed, tgt_embed and output_proj (bias-free Linear). Unused holders stay null.
  ScaledEmbedding embed{nullptr};
  ScaledEmbedding src_embed{nullptr};
  ScaledEmbedding tgt_embed{nullptr};
  torch::nn::Linear output_proj{nullptr};
  PositionalEncoding positions{nullptr};
  Dropout embed_dropout{nullptr};
  torch::nn::ModuleList encoder_layers{nullptr};  // EncoderLayerImpl (transformer.cpp)
  torch::nn::ModuleList decoder_layers{nullptr};  // DecoderLayerImpl (transformer.cpp)
  // Pre-norm only: the residual stream is never normalised inside the stacks, so each stack
  // ends with its own LayerNorm.
  torch::nn::LayerNorm encoder_norm{nullptr};
  torch::nn::LayerNorm decoder_norm{nullptr};
};
TORCH_MODULE(Transformer);

}  // namespace tmt
