#include "data/copy_task.h"

#include <ATen/CPUGeneratorImpl.h>

#include <stdexcept>

namespace tmt {
namespace {

torch::Tensor draw(const DataConfig& config, int64_t count, torch::Generator& generator) {
  torch::Tensor data = torch::randint(CopyTask::kStartId, config.vocab_size, {count, config.seq_len},
                                      generator, torch::kLong);  // [count, seq_len]
  data.select(1, 0).fill_(CopyTask::kStartId);
  return data;
}

}  // namespace

CopyTask::CopyTask(const DataConfig& config, uint64_t seed, const torch::Tensor& start)
    : config_(config), generator_(at::make_generator<at::CPUGeneratorImpl>(seed)) {
  config_.validate();
  if (start.defined()) seek(start);
}

Batch CopyTask::next() { return to_batch(draw(config_, config_.batch_size, generator_)); }

torch::Tensor CopyTask::state() const { return generator_.get_state(); }

void CopyTask::seek(const torch::Tensor& state) {
  if (!state.defined()) throw std::invalid_argument("copy task position: no generator state");
  generator_.set_state(state);
}

torch::Tensor CopyTask::sequences(const DataConfig& config, int64_t count, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  return draw(config, count, generator);
}

Batch CopyTask::to_batch(const torch::Tensor& sequences) {
  const int64_t len = sequences.size(1);
  return Batch{sequences,
               sequences.narrow(1, 0, len - 1),   // [batch, len - 1]
               sequences.narrow(1, 1, len - 1)};  // [batch, len - 1]
}

}  // namespace tmt
