#pragma once
// Running the tmt binary from tests: scratch folders, exit codes, captured output, and a tiny
// parallel corpus to train on.

#include <filesystem>
#include <string>

namespace tmt::tests {

/// The tmt binary and the source tree the tests use: $TMT_TEST_BINARY and $TMT_TEST_SOURCE_DIR
/// where set (a test binary carried to another machine: scripts/gpu_suite.sh sets both), else
/// those of the build that compiled the tests.
const std::string& tmt_binary();
const std::string& source_dir();

/// What a tmt invocation did.
struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// The whole file as text ("" if it cannot be read).
std::string slurp(const std::filesystem::path& path);

/// An empty folder of the test's own under the test temp dir.
std::filesystem::path scratch(const std::string& name);

/// Runs the shell command `command` in `dir` with `input` on stdin; stdout and stderr are
/// captured through stdin.txt, stdout.txt and stderr.txt there.
Result run_command(const std::filesystem::path& dir, const std::string& command, const std::string& input = "");

/// Runs `tmt ARGS` in `dir` with `input` on stdin and `env` ("NAME=value ...") added to its
/// environment.
Result run_tmt(const std::filesystem::path& dir, const std::string& args, const std::string& input = "",
               const std::string& env = "");

/// A scratch folder with corpus/{train,valid}.{de,en} (80 and 8 pairs) and tiny.yaml, a config
/// for a 1-layer d_model 32 model on it (6 updates, validation every 3).
std::filesystem::path tiny_corpus_dir(const std::string& name);

/// configs/copy_task.yaml in the source tree.
inline const std::string kCopyConfig = source_dir() + "/configs/copy_task.yaml";

}  // namespace tmt::tests
