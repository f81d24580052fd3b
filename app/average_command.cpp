#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/logging.h"
#include "app/subcommands.h"
#include "model/checkpoint.h"
#include "train/run_checkpoints.h"

namespace tmt {
namespace {

// What must agree for parameters to be averaged elementwise; dropout and the rest may differ.
std::string architecture_of(const Config& c, const VocabInfo& v) {
  return describe_architecture(c.model) + ", vocabulary " + std::to_string(v.src_size) + "/" +
         std::to_string(v.tgt_size) + ", pad " + std::to_string(v.pad_id);
}

// The newest `count` numbered checkpoints (checkpoint_<update>.pt) of a run directory.
std::vector<std::string> last_checkpoints(const std::string& run_dir, int64_t count) {
  const auto found = numbered_checkpoints(run_dir);
  if (static_cast<int64_t>(found.size()) < count) {
    throw std::invalid_argument("--last " + std::to_string(count) + " needs " + std::to_string(count) +
                                " checkpoint_<update>.pt files in '" + run_dir + "', found " +
                                std::to_string(found.size()));
  }
  std::vector<std::string> paths;
  for (auto it = found.end() - count; it != found.end(); ++it) paths.push_back(it->second);
  return paths;
}

}  // namespace

int average_command(const AverageArgs& args) {
  setup_logging();
  std::vector<std::string> paths = args.checkpoints;
  if (args.last > 0) {
    // `--last N RUN_DIR`: the run directory may come as the one positional argument.
    std::string run_dir = args.run_dir;
    if (run_dir.empty() && paths.size() == 1) run_dir = paths[0];
    if (run_dir.empty() || (!args.run_dir.empty() && !paths.empty()) || paths.size() > 1) {
      throw std::invalid_argument("use either CHECKPOINT... or --last N RUN_DIR, not both");
    }
    paths = last_checkpoints(run_dir, args.last);
  }
  if (paths.empty()) throw std::invalid_argument("no checkpoints to average: give CHECKPOINT... or --last N RUN_DIR");

  const Checkpoint first = read_checkpoint(paths[0]);
  const std::string architecture =
      architecture_of(parse_config(first.header.config_yaml, "checkpoint " + paths[0]), first.header.vocab);
  std::map<std::string, torch::Tensor> sums;
  for (const auto& [name, tensor] : first.model) sums[name] = tensor.to(torch::kDouble);
  for (size_t i = 1; i < paths.size(); ++i) {
    const Checkpoint checkpoint = read_checkpoint(paths[i]);
    const CheckpointHeader& header = checkpoint.header;
    const std::string other = architecture_of(parse_config(header.config_yaml, "checkpoint " + paths[i]), header.vocab);
    if (other != architecture) {
      throw std::invalid_argument("cannot average '" + paths[i] + "' (" + other + ") with '" + paths[0] + "' (" +
                                  architecture + "): the architectures differ");
    }
    const NamedTensors& tensors = checkpoint.model;
    if (tensors.size() != sums.size()) {
      throw std::invalid_argument("cannot average '" + paths[i] + "' with '" + paths[0] + "': they hold " +
                                  std::to_string(tensors.size()) + " and " + std::to_string(sums.size()) + " tensors");
    }
    for (const auto& [name, tensor] : tensors) {
      auto it = sums.find(name);
      if (it == sums.end() || !it->second.sizes().equals(tensor.sizes())) {
        throw std::invalid_argument("cannot average '" + paths[i] + "' with '" + paths[0] + "': tensor '" + name +
                                    "' is missing or shaped differently");
      }
      it->second.add_(tensor.to(torch::kDouble));
    }
  }
  NamedTensors averaged;
  for (const auto& [name, tensor] : first.model) {
    averaged.emplace_back(name, (sums[name] / static_cast<double>(paths.size())).to(tensor.scalar_type()));
  }
  write_checkpoint(args.output, averaged, first.header);
  spdlog::info("[train] averaged {} checkpoints ({}) into {}", paths.size(), architecture, args.output);
  return 0;
}

}  // namespace tmt
