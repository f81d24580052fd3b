#include "data/copy_stream.h"

#include <ATen/CPUGeneratorImpl.h>

#include <stdexcept>

namespace tmt {
namespace {

torch::Tensor draw(const DataConfig& config, int64_t count, torch::Generator& generator) {
  torch::Tensor data = torch::randint(CopyStream::kStartId, config.vocab_size, {count, config.seq_len},
                                      generator, torch::kLong);  // [count, seq_len]
  data.select(1, 0).fill_(CopyStream::kStartId);
  return data;
}

}  // namespace

CopyStream::CopyStream(const DataConfig& config, uint64_t seed, const torch::Tensor& start)
    : config_(config), generator_(at::make_generator<at::CPUGeneratorImpl>(seed)) {
  config_.validate();
  if (start.defined()) seek(start);
}

Batch CopyStream::next() { return to_batch(draw(config_, config_.batch_size, generator_)); }

torch::Tensor CopyStream::state() const { return generator_.get_state(); }

void CopyStream::seek(const torch::Tensor& state) {
  if (!state.defined()) throw std::invalid_argument("copy task position: no generator state");
  // LibTorch's own checks would end in "RNG state must be a torch.ByteTensor" for the position
  // of a corpus run, say.
  const int64_t expected = generator_.get_state().numel();
  if (state.scalar_type() != torch::kByte || state.dim() != 1 || state.numel() != expected) {
    throw std::invalid_argument("copy task position: expected a generator state of " + std::to_string(expected) +
                                " bytes, got a " + std::string(c10::toString(state.scalar_type())) + " tensor of " +
                                std::to_string(state.numel()) + " elements (not a copy-task checkpoint?)");
  }
  generator_.set_state(state);
}

torch::Tensor CopyStream::sequences(const DataConfig& config, int64_t count, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  return draw(config, count, generator);
}

Batch CopyStream::to_batch(const torch::Tensor& sequences) {
  const int64_t len = sequences.size(1);
  return Batch{sequences,
               sequences.narrow(1, 0, len - 1),   // [batch, len - 1]
               sequences.narrow(1, 1, len - 1)};  // [batch, len - 1]
}

}  // namespace tmt
