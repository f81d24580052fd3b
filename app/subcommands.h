#pragma once
// One function per tmt subcommand, each taking its parsed command-line arguments.

#include <string>
#include <vector>

namespace tmt {

/// `tmt prepare` and `tmt train`: a config, overrides, and the run directory.
struct RunArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string run_dir;  // empty: runs/<config name>
};

/// `tmt translate`.
struct TranslateArgs {
  std::string checkpoint;
  std::string config;
  std::vector<std::string> overrides;
  std::string input;
  std::string output;
};

/// The run directory of `args`: --run-dir, or runs/<config file stem>.
std::string run_dir_of(const RunArgs& args);

int prepare_command(const RunArgs& args);
int train_command(const RunArgs& args);
int translate_command(const TranslateArgs& args);

}  // namespace tmt
