// A short, deterministic fuzzing run of every target on each test run: its seeds, the inputs
// that once failed (fuzz/regressions/TARGET/), and mutations of the seeds from a fixed
// generator. scripts/fuzz.sh runs the same targets under libFuzzer for as long as asked.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "fuzz/fuzz_targets.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;
using fuzz::TargetInfo;

constexpr int kMutations = 1500;

const TargetInfo kTargets[] = {
    {"config", fuzz::config, fuzz::config_seeds},
    {"text_file", fuzz::text_file, fuzz::text_file_seeds},
    {"corpus", fuzz::corpus, fuzz::corpus_seeds},
    {"checkpoint", fuzz::checkpoint, fuzz::checkpoint_seeds},
    {"bleu", fuzz::bleu, fuzz::bleu_seeds},
};

// A few of libFuzzer's mutations: flip, set, insert, erase, duplicate, truncate.
std::string mutate(std::string input, std::mt19937_64& rng) {
  const int steps = 1 + static_cast<int>(rng() % 8);
  for (int s = 0; s < steps; ++s) {
    const size_t n = input.size();
    const size_t at = n == 0 ? 0 : rng() % n;
    switch (rng() % 6) {
      case 0:
        if (n > 0) input[at] = static_cast<char>(input[at] ^ (1 << (rng() % 8)));
        break;
      case 1:
        if (n > 0) input[at] = static_cast<char>(rng() % 256);
        break;
      case 2:
        input.insert(input.begin() + static_cast<std::ptrdiff_t>(at), static_cast<char>(rng() % 256));
        break;
      case 3:
        if (n > 0) input.erase(at, 1 + rng() % std::min<size_t>(n - at, 16));
        break;
      case 4:
        if (n > 0) input.insert(at, input.substr(rng() % n, 1 + rng() % 16));
        break;
      default:
        input.resize(at);
        break;
    }
  }
  return input;
}

// Runs one input; on a finding, keeps it beside the test's output for replaying and fails.
void run(const TargetInfo& target, const std::string& input, const std::string& what) {
  try {
    target.run(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  } catch (const std::exception& e) {
    const fs::path kept = fs::path(::testing::TempDir()) / ("fuzz_finding_" + std::string(target.name));
    std::ofstream(kept, std::ios::binary) << input;
    ADD_FAILURE() << target.name << ", " << what << ": " << e.what() << " (input kept in " << kept.string()
                  << "; add it to fuzz/regressions/" << target.name << "/)";
  }
}

class FuzzSmoke : public ::testing::TestWithParam<TargetInfo> {};

TEST_P(FuzzSmoke, SeedsRegressionsAndMutationsPass) {
  const TargetInfo& target = GetParam();
  const std::vector<std::string> seeds = target.seeds();
  ASSERT_FALSE(seeds.empty());
  for (size_t i = 0; i < seeds.size(); ++i) run(target, seeds[i], "seed " + std::to_string(i));
  const fs::path regressions = fs::path(TMT_SOURCE_DIR) / "fuzz/regressions" / target.name;
  if (fs::is_directory(regressions)) {
    for (const auto& entry : fs::directory_iterator(regressions)) {
      std::ifstream in(entry.path(), std::ios::binary);
      run(target, std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()),
          entry.path().string());
    }
  }
  std::mt19937_64 rng(20261201);
  for (int i = 0; i < kMutations && !::testing::Test::HasFailure(); ++i) {
    run(target, mutate(seeds[rng() % seeds.size()], rng), "mutation " + std::to_string(i));
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzSmoke, ::testing::ValuesIn(kTargets),
                         [](const ::testing::TestParamInfo<TargetInfo>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace tmt
