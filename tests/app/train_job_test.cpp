// scripts/train_job.sh and scripts/train_multi30k.sh refuse what they cannot run before they
// touch data or runs: unknown corpora, directions and options, each with exit status 2.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>

#include "tests/app/run_tmt.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;
using namespace tmt::tests;  // NOLINT: the helpers of run_tmt.h

// Runs `scripts/SCRIPT ARGS` in a scratch folder, which must hold nothing else afterwards.
Result run_script(const std::string& script, const std::string& args) {
  const fs::path dir = scratch("train_job");
  const Result r = run_command(dir, "'" TMT_SOURCE_DIR "/scripts/" + script + "' " + args);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 3) << "it wrote files";
  return r;
}

TEST(TrainJob, RefusesUnknownCorporaDirectionsAndOptions) {
  const std::pair<const char*, const char*> cases[] = {
      {"train_job.sh --corpus wmt14", "train_job.sh: --corpus must be multi30k or tatoeba, got 'wmt14'\n"},
      {"train_job.sh", "train_job.sh: --corpus must be multi30k or tatoeba, got ''\n"},
      {"train_job.sh --corpus tatoeba --direction en_de",
       "train_job.sh: tatoeba has only --direction de_en, got 'en_de'\n"},
      {"train_job.sh --corpus multi30k --direction en_fr",
       "train_job.sh: --direction must be en_de or de_en for multi30k, got 'en_fr'\n"},
      {"train_multi30k.sh --minuets 5", "train_job.sh: unknown option '--minuets' (see --help)\n"},
      {"train_job.sh --corpus tatoeba --tok", "train_job.sh: --tok is for --corpus multi30k --direction en_de\n"},
      {"train_multi30k.sh --direction de_en --tok",
       "train_job.sh: --tok is for --corpus multi30k --direction en_de (no " TMT_SOURCE_DIR
       "/configs/multi30k_de_en_tok.yaml)\n"},
  };
  for (const auto& [command, message] : cases) {
    const std::string line = command;
    const size_t space = line.find(' ');
    const Result r = run_script(line.substr(0, space), space == std::string::npos ? "" : line.substr(space + 1));
    EXPECT_EQ(r.exit_code, 2) << command;
    EXPECT_EQ(r.err, message) << command;
  }
}

TEST(TrainJob, HelpDescribesTheOptions) {
  const Result job = run_script("train_job.sh", "--help");
  EXPECT_EQ(job.exit_code, 0);
  EXPECT_NE(job.out.find("--corpus       multi30k"), std::string::npos) << job.out;
  const Result main_job = run_script("train_multi30k.sh", "--help");
  EXPECT_EQ(main_job.exit_code, 0);
  EXPECT_NE(main_job.out.find("scripts/train_job.sh --corpus multi30k"), std::string::npos) << main_job.out;
}

}  // namespace
}  // namespace tmt
