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

/// What every command that runs a trained model takes (app/decoding_model.h loads it).
struct ModelArgs {
  std::string checkpoint;
  std::string config;       // a config whose decode section to use
  std::string vocab;        // SentencePiece model; empty: DIR/data/spm.model beside the checkpoint
  int64_t beam = 0;         // 0: decode.beam_size
  double alpha = -1.0;      // < 0: decode.alpha
  int64_t nbest = 0;        // 0: decode.nbest
  int64_t max_tokens = 0;   // 0: decode.max_tokens
  int64_t threads = 0;      // intra-op CPU threads; 0: available_cpus()
  std::string device = "auto";  // auto, cpu, cuda or cuda:N (DeviceSpec::parse)
  std::vector<std::string> overrides;
};

/// `tmt translate`.
struct TranslateArgs : ModelArgs {
  std::string input;
  std::string output;
};

/// `tmt score`: forced decoding of sentence pairs.
struct ScoreArgs : ModelArgs {
  std::string source;
  std::string target;
  std::string format = "text";  // "text" or "jsonl"
  std::string output;           // "" or "-": stdout
};

/// `tmt calibrate`: how well the model's confidence matches its accuracy.
struct CalibrateArgs : ModelArgs {
  std::string source;
  std::string target;
  std::string valid_source;  // with valid_target: fit a softmax temperature there
  std::string valid_target;
  std::string json;          // also write the report as JSON here
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
int score_command(const ScoreArgs& args);
int calibrate_command(const CalibrateArgs& args);
int average_command(const AverageArgs& args);

}  // namespace tmt
