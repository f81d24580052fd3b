#include "model/embeddings.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace tmt {

torch::Tensor sinusoidal_table(int64_t max_positions, int64_t d_model) {
  if (max_positions < 1 || d_model < 2 || d_model % 2 != 0) {
    throw std::invalid_argument("sinusoidal table needs max_positions >= 1 and an even d_model, "
                                "got max_positions " + std::to_string(max_positions) +
                                ", d_model " + std::to_string(d_model));
  }
  // Computed in double and rounded once: angles reach max_positions radians, where float
  // arithmetic would lose several digits.
  const auto options = torch::TensorOptions().dtype(torch::kDouble);
  const auto position = torch::arange(max_positions, options).unsqueeze(1);  // [max_positions, 1]
  const auto inverse_frequency =
      torch::exp(torch::arange(0, d_model, 2, options) *
                 (-std::log(10000.0) / static_cast<double>(d_model)));  // [d_model / 2]
  const auto angle = position * inverse_frequency;  // [max_positions, d_model / 2]
  // [max_positions, d_model / 2, 2]
  const auto pairs = torch::stack({torch::sin(angle), torch::cos(angle)}, /*dim=*/2);
  return pairs.view({max_positions, d_model})  // [max_positions, d_model], sin/cos interleaved
      .to(torch::kFloat);
}

PositionalEncodingImpl::PositionalEncodingImpl(int64_t max_positions, int64_t d_model) {
  table = register_buffer("table", sinusoidal_table(max_positions, d_model));
}

torch::Tensor PositionalEncodingImpl::forward(const torch::Tensor& x, int64_t start) {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == table.size(1),
              "positional encoding expects [batch, len, ", table.size(1), "], got ", x.sizes());
  TORCH_CHECK(start >= 0 && start + x.size(1) <= table.size(0), "positions [", start, ", ",
              start + x.size(1), ") exceed max_positions ", table.size(0));
  return x + table.narrow(/*dim=*/0, start, x.size(1));  // [batch, len, d_model]
}

ScaledEmbeddingImpl::ScaledEmbeddingImpl(int64_t vocab_size, int64_t d_model)
    : scale_(std::sqrt(static_cast<double>(d_model))) {
  if (vocab_size < 1 || d_model < 1) {
    throw std::invalid_argument("embedding needs vocab_size >= 1 and d_model >= 1, got " +
                                std::to_string(vocab_size) + " and " + std::to_string(d_model));
  }
  weight = register_parameter("weight", torch::randn({vocab_size, d_model}));
}

torch::Tensor ScaledEmbeddingImpl::forward(const torch::Tensor& ids) {
  TORCH_CHECK(ids.scalar_type() == torch::kLong, "embedding ids must be int64, got ",
              ids.scalar_type());
  return torch::embedding(weight, ids) * scale_;  // [batch, len, d_model]
}

}  // namespace tmt
