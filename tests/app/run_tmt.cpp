#include "tests/app/run_tmt.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tmt::tests {

namespace fs = std::filesystem;

namespace {

std::string from_environment(const char* name, const char* built_in) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : built_in;
}

}  // namespace

const std::string& tmt_binary() {
  static const std::string path = from_environment("TMT_TEST_BINARY", TMT_BINARY);
  return path;
}

const std::string& source_dir() {
  static const std::string path = from_environment("TMT_TEST_SOURCE_DIR", TMT_SOURCE_DIR);
  return path;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path scratch(const std::string& name) {
  fs::path dir = fs::path(::testing::TempDir()) / ("tmt_cli_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

Result run_command(const fs::path& dir, const std::string& command, const std::string& input) {
  std::ofstream(dir / "stdin.txt") << input;
  const std::string cmd = "cd '" + dir.string() + "' && " + command + " < stdin.txt > stdout.txt 2> stderr.txt";
  const int status = std::system(cmd.c_str());
  Result r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(dir / "stdout.txt");
  r.err = slurp(dir / "stderr.txt");
  return r;
}

Result run_tmt(const fs::path& dir, const std::string& args, const std::string& input, const std::string& env) {
  return run_command(dir, (env.empty() ? "" : "env " + env + " ") + "'" + tmt_binary() + "' " + args, input);
}

fs::path tiny_corpus_dir(const std::string& name) {
  const fs::path dir = scratch(name);
  fs::create_directories(dir / "corpus");
  const char* de[] = {"ein Hund läuft", "zwei Katzen schlafen", "der Mann liest", "eine Frau singt"};
  const char* en[] = {"a dog runs", "two cats sleep", "the man reads", "a woman sings"};
  for (const char* split : {"train", "valid"}) {
    std::ofstream d(dir / "corpus" / (std::string(split) + ".de")), e(dir / "corpus" / (std::string(split) + ".en"));
    for (int i = 0; i < (std::string(split) == "train" ? 80 : 8); ++i) {
      d << de[i % 4] << ' ' << i % 5 << '\n';
      e << en[i % 4] << ' ' << i % 5 << '\n';
    }
  }
  std::ofstream(dir / "tiny.yaml") << "model: {layers: 1, d_model: 32, d_ff: 64, heads: 2, max_positions: 64}\n"
                                      "data: {kind: parallel, dir: corpus, vocab_size: 40, max_len: 32, max_tokens: 256}\n"
                                      "train: {max_updates: 6, warmup_updates: 4, log_every: 2, valid_every: 3}\n";
  return dir;
}

}  // namespace tmt::tests
