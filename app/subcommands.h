#pragma once
// One function per tmt subcommand, each taking its parsed command-line arguments.

#include <cstdint>
#include <string>
#include <vector>

namespace tmt {

/// `tmt prepare` and `tmt train`: a config, overrides, and the run directory.
struct RunArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string run_dir;  // empty: runs/<config name>
  bool no_resume = false;  // train: start over even if the run directory holds checkpoints
};

/// `tmt translate`.
struct TranslateArgs {
  std::string checkpoint;
  std::string config;
  std::string vocab;        // SentencePiece model; empty: DIR/data/spm.model beside the checkpoint
  int64_t beam = 0;         // 0: decode.beam_size
  double alpha = -1.0;      // < 0: decode.alpha
  int64_t nbest = 0;        // 0: decode.nbest
  int64_t max_tokens = 0;   // 0: decode.max_tokens
  std::string device = "auto";  // auto, cpu, cuda or cuda:N (DeviceSpec::parse)
  std::vector<std::string> overrides;
  std::string input;
  std::string output;
};

/// `tmt average`: explicit checkpoints, or the last N numbered ones of a run directory.
struct AverageArgs {
  std::vector<std::string> checkpoints;
  int64_t last = 0;
  std::string run_dir;
  std::string output;
};

/// The run directory of `args`: --run-dir, or runs/<config file stem>.
std::string run_dir_of(const RunArgs& args);

int prepare_command(const RunArgs& args);
int train_command(const RunArgs& args);
int translate_command(const TranslateArgs& args);
int average_command(const AverageArgs& args);

}  // namespace tmt
