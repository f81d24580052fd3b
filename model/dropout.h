#pragma once
// Dropout whose CPU masks come from a counter-based hash of (seed, element index) instead of
// LibTorch's per-element Mersenne Twister draws (a scalar loop on Debian's LibTorch: a tenth of a
// training update). One 64-bit seed per call is drawn from LibTorch's CPU generator, so
// checkpointing that generator still makes a resumed run repeat the same masks; the backward
// pass recomputes the mask from the seed instead of storing it. On CUDA, LibTorch's dropout.

#include <torch/torch.h>

#include <cstdint>

namespace tmt {

/// "lowbias32" (C. Wellons): a well-mixed permutation of 32-bit integers.
inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

/// Whether dropout keeps element `index` of a call with this seed: a 32-bit hash of (seed,
/// index) at or above `drop_threshold` (2^32 p, for drop probability p). The same function
/// serves the dropout module and the CPU attention kernel, and tests rebuild masks with it.
inline bool dropout_keeps(uint64_t seed, uint64_t index, uint32_t drop_threshold) {
  return mix32(mix32(static_cast<uint32_t>(index) ^ static_cast<uint32_t>(seed)) ^ static_cast<uint32_t>(index >> 32) ^
               static_cast<uint32_t>(seed >> 32)) >= drop_threshold;
}

/// 2^32 * p rounded, the threshold dropout_keeps compares with for drop probability p in [0, 1).
uint32_t dropout_threshold(double p);

/// A fresh seed for one dropout call, from LibTorch's default CPU generator (under its lock).
uint64_t draw_dropout_seed();

/// The mask [shape] float of what dropout_keeps keeps for this seed, each kept element
/// 1 / (1 - p): dropout(x) = x * mask. For tests and for the backward pass.
torch::Tensor dropout_mask(uint64_t seed, torch::IntArrayRef shape, double p);

/// x * dropout_mask(seed, ...) for a fresh seed in training on CPU float tensors; LibTorch's
/// dropout elsewhere; x itself in evaluation or for p = 0.
class DropoutImpl : public torch::nn::Module {
 public:
  /// p in [0, 1); throws std::invalid_argument otherwise.
  explicit DropoutImpl(double p);
  torch::Tensor forward(const torch::Tensor& x);
  double p() const { return p_; }

 private:
  double p_;
};
TORCH_MODULE(Dropout);

}  // namespace tmt
