// The checkpoint reader: any file is read whole or refused with an exception that names it
// (std::invalid_argument or std::runtime_error); LibTorch's own errors (c10::Error) must not
// escape.

#include <torch/torch.h>

#include <stdexcept>
#include <string>

#include "fuzz/fuzz_targets.h"
#include "model/checkpoint.h"
#include "model/transformer.h"

namespace tmt::fuzz {

void checkpoint(const uint8_t* data, size_t size) {
  const std::string path = scratch_file("checkpoint.pt", data, size);
  Checkpoint c;
  try {
    c = read_checkpoint(path);
  } catch (const c10::Error& e) {
    throw std::logic_error("fuzz invariant: LibTorch's error escaped read_checkpoint: " +
                           std::string(e.what_without_backtrace()));
  } catch (const std::runtime_error& e) {
    require(std::string(e.what()).find(path) != std::string::npos, "the error names the file");
    return;
  } catch (const std::invalid_argument& e) {
    require(std::string(e.what()).find(path) != std::string::npos, "the error names the file");
    return;
  }
  require(c.header.format_version == kCheckpointFormatVersion, "only the current format is read");
}

std::vector<std::string> checkpoint_seeds() {
  ModelConfig config;
  config.layers = 1;
  config.d_model = 8;
  config.heads = 2;
  config.d_ff = 16;
  config.max_positions = 8;
  torch::manual_seed(1);
  Transformer model(config, VocabInfo{6, 6, 0});
  const std::string weights = scratch_file("seed.pt", nullptr, 0);
  save_checkpoint(weights, *model, "model:\n  layers: 1\n", "");
  // A training checkpoint too: its training entries are read by other code.
  Checkpoint c = read_checkpoint(weights);
  TrainingState t;
  t.update = 3;
  t.optimizer = {{"exp_avg.x", torch::zeros({2})}};
  t.data_position = torch::tensor({int64_t{0}, int64_t{1}});
  t.rng_cpu = torch::ones({4}, torch::kByte);
  t.best_value = 1.5;
  c.training = t;
  const std::string training = scratch_file("seed_training.pt", nullptr, 0);
  write_checkpoint(training, c);
  return {read_file(weights), read_file(training)};
}

}  // namespace tmt::fuzz
