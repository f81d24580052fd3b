#pragma once
// Token embeddings and sinusoidal positions (Vaswani et al. 2017, sections 3.4 and 3.5).

#include <torch/torch.h>

namespace tmt {

/// [max_positions, d_model] float table: PE(pos, 2i) = sin(pos / 10000^(2i/d_model)),
/// PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)); d_model must be even.
torch::Tensor sinusoidal_table(int64_t max_positions, int64_t d_model);

/// Adds fixed sinusoidal positions; the table is a buffer, so it follows .to(device/dtype) but
/// is never a parameter the optimiser sees.
class PositionalEncodingImpl : public torch::nn::Module {
 public:
  /// Precomputes positions 0 .. max_positions - 1.
  PositionalEncodingImpl(int64_t max_positions, int64_t d_model);

  /// x [batch, len, d_model] -> x + PE[start, start + len); start lets an incremental decoder
  /// add the position of its newest token.
  torch::Tensor forward(const torch::Tensor& x, int64_t start = 0);

  torch::Tensor table;  // buffer "table", [max_positions, d_model]
};
TORCH_MODULE(PositionalEncoding);

/// Token embedding multiplied by sqrt(d_model); its weight can double as the output projection.
class ScaledEmbeddingImpl : public torch::nn::Module {
 public:
  /// A [vocab_size, d_model] weight drawn from N(0, 1) like nn::Embedding; owners may re-init.
  ScaledEmbeddingImpl(int64_t vocab_size, int64_t d_model);

  /// ids [batch, len] int64 -> [batch, len, d_model].
  torch::Tensor forward(const torch::Tensor& ids);

  torch::Tensor weight;  // parameter "weight", [vocab_size, d_model]

 private:
  double scale_;
};
TORCH_MODULE(ScaledEmbedding);

}  // namespace tmt
