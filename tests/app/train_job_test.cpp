// scripts/train_job.sh and scripts/train_multi30k.sh refuse what they cannot run before they
// touch data or runs: unknown corpora, directions and options, each with exit status 2; they
// hand --set KEY=VALUE to tmt prepare and tmt train.
// scripts/average_recent.sh picks the checkpoints the job averages.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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
      {"train_multi30k.sh --set train.cooldown", "train_job.sh: --set needs KEY=VALUE, got 'train.cooldown'\n"},
      {"train_multi30k.sh --minutes 5 --set", "train_job.sh: --set needs a value (see --help)\n"},
      {"train_multi30k.sh --minutes", "train_job.sh: --minutes needs a value (see --help)\n"},
      {"train_multi30k.sh --processes 3",
       "train_job.sh: --processes 3 does not divide train.update_freq 2 (each process reads update_freq / N of an "
       "update's batches)\n"},
      {"train_multi30k.sh --processes two", "train_job.sh: --processes must be a positive integer or auto, got 'two'\n"},
      {"train_multi30k.sh --processes 0", "train_job.sh: --processes must be a positive integer or auto, got '0'\n"},
      {"train_multi30k.sh --set train.update_freq=0",
       "train_job.sh: train.update_freq must be a positive integer, got '0'\n"},
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

// What scripts/train_job.sh ARGS asks of a stand-in tmt that prints its arguments (and, in a
// process of scripts/launch.sh, its rank and thread counts), with the corpus in the scratch
// folder's data/ (its training file present: nothing is fetched) and the run in run/ (no
// checkpoints: scripts/average_recent.sh stops the job after tmt train). PREFIX goes before the
// script (taskset -c 0: one CPU). The stand-in's --version says CUDA is available when CUDA is
// set (and not otherwise: tmt's words for a CPU-only machine are "CUDA not available").
Result train_job_commands(const std::string& train_file, const std::string& args, const std::string& prefix = "",
                          bool cuda = false) {
  const fs::path dir = scratch("train_job_commands");
  fs::create_directories(dir / "data");
  fs::create_directories(dir / "run");
  std::ofstream(dir / "data" / train_file);
  std::ofstream(dir / "tmt") << "#!/bin/sh\n"
                             << "[ \"$1\" = --version ] && { echo 'tmt 0 (LibTorch 0, CUDA "
                             << (cuda ? "available" : "not available") << ")'; exit 0; }\n"
                             << "echo \"${RANK:+rank $RANK of $WORLD_SIZE, $OMP_NUM_THREADS/$OPENBLAS_NUM_THREADS "
                                "threads: }$*\"\n";
  fs::permissions(dir / "tmt", fs::perms::owner_exec, fs::perm_options::add);
  return run_command(dir, prefix + (prefix.empty() ? "" : " ") + "'" TMT_SOURCE_DIR
                              "/scripts/train_job.sh' --tmt ./tmt --data data --run-dir run " + args);
}

TEST(TrainJob, PassesSetOptionsToPrepareAndTrain) {
  Result r = train_job_commands("train.en.gz", "--corpus multi30k --minutes 5 --processes 1 "
                                               "--set train.update_freq=2 --set train.cooldown=0.3");
  EXPECT_EQ(r.exit_code, 2);
  const std::string config = TMT_SOURCE_DIR "/configs/multi30k_en_de.yaml";
  EXPECT_EQ(r.out, "prepare -c " + config +
                       " --run-dir run --set data.dir=data --set train.update_freq=2 --set train.cooldown=0.3\n"
                       "train -c " + config +
                       " --run-dir run --set data.dir=data --set train.max_minutes=5 --set train.update_freq=2 "
                       "--set train.cooldown=0.3\n");
  EXPECT_EQ(r.err, "average_recent.sh: no checkpoint_<update>.pt in 'run'\n");

  r = train_job_commands("train.de", "--corpus tatoeba --processes 1");  // no --set: nothing added
  EXPECT_EQ(r.out, "prepare -c " TMT_SOURCE_DIR "/configs/tatoeba_de_en.yaml --run-dir run --set data.dir=data\n"
                   "train -c " TMT_SOURCE_DIR "/configs/tatoeba_de_en.yaml --run-dir run --set data.dir=data "
                   "--set train.max_minutes=60\n");
  r = train_job_commands("train.en", "--corpus multi30k --tok --processes 1 --set data.max_len=100");
  EXPECT_EQ(r.out, "prepare -c " TMT_SOURCE_DIR "/configs/multi30k_en_de_tok.yaml --run-dir run --set data.dir=data/tok "
                   "--set data.max_len=100\n"
                   "train -c " TMT_SOURCE_DIR "/configs/multi30k_en_de_tok.yaml --run-dir run --set data.dir=data/tok "
                   "--set train.max_minutes=60 --set data.max_len=100\n");
}

// The lines of TEXT, sorted: two processes print in either order.
std::string sorted_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

TEST(TrainJob, SplitsTheUpdateOverProcesses) {
  const std::string config = TMT_SOURCE_DIR "/configs/multi30k_en_de.yaml";  // update_freq: 2
  const std::string train = "train -c " + config + " --run-dir run --set data.dir=data --set train.max_minutes=5";
  // Two processes on one CPU: each reads one of the update's two batches, with one thread.
  Result r = train_job_commands("train.en.gz", "--corpus multi30k --minutes 5 --processes 2", "taskset -c 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(sorted_lines(r.out), "prepare -c " + config + " --run-dir run --set data.dir=data\n"
                                 "rank 0 of 2, 1/1 threads: " + train + " --set train.update_freq=1\n"
                                 "rank 1 of 2, 1/1 threads: " + train + " --set train.update_freq=1\n");
  EXPECT_EQ(r.err, "train_job.sh: 2 tmt train processes, train.update_freq 1 each (an update: 2 batches)\n"
                   "average_recent.sh: no checkpoint_<update>.pt in 'run'\n");

  // An update_freq given with --set is the one split: 4 batches, 2 each.
  r = train_job_commands("train.en.gz", "--corpus multi30k --minutes 5 --processes 2 --set train.update_freq=4",
                         "taskset -c 0");
  EXPECT_EQ(sorted_lines(r.out), "prepare -c " + config + " --run-dir run --set data.dir=data --set train.update_freq=4\n"
                                 "rank 0 of 2, 1/1 threads: " + train + " --set train.update_freq=4 --set train.update_freq=2\n"
                                 "rank 1 of 2, 1/1 threads: " + train + " --set train.update_freq=4 --set train.update_freq=2\n");

  // auto: one process on one CPU, or where there is a GPU.
  r = train_job_commands("train.en.gz", "--corpus multi30k --minutes 5", "taskset -c 0");
  EXPECT_EQ(r.out, "prepare -c " + config + " --run-dir run --set data.dir=data\n" + train + "\n");
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "auto on two CPUs needs two CPUs";
  r = train_job_commands("train.en.gz", "--corpus multi30k --minutes 5", "taskset -c 0,1", /*cuda=*/true);
  EXPECT_EQ(r.out, "prepare -c " + config + " --run-dir run --set data.dir=data\n" + train + "\n");
  // auto on two CPUs without a GPU: one process per CPU.
  r = train_job_commands("train.en.gz", "--corpus multi30k --minutes 5", "taskset -c 0,1");
  EXPECT_EQ(sorted_lines(r.out), "prepare -c " + config + " --run-dir run --set data.dir=data\n"
                                 "rank 0 of 2, 1/1 threads: " + train + " --set train.update_freq=1\n"
                                 "rank 1 of 2, 1/1 threads: " + train + " --set train.update_freq=1\n");
}

// What scripts/average_recent.sh asks of tmt, for a run holding (empty) checkpoint_<u>.pt for u
// = every, 2 * every, ..., last and the given config.yaml ("": none); a stand-in tmt prints its
// arguments.
Result average_recent(int every, int last, const std::string& config) {
  const fs::path dir = scratch("average_recent");
  fs::create_directories(dir / "run");
  for (int u = every; u <= last; u += every) std::ofstream(dir / "run" / ("checkpoint_" + std::to_string(u) + ".pt"));
  if (!config.empty()) std::ofstream(dir / "run" / "config.yaml") << config;
  std::ofstream(dir / "tmt") << "#!/bin/sh\necho \"$*\"\n";
  fs::permissions(dir / "tmt", fs::perms::owner_exec, fs::perm_options::add);
  return run_command(dir, "'" TMT_SOURCE_DIR "/scripts/average_recent.sh' --tmt ./tmt run");
}

TEST(AverageRecent, AveragesUpToFiveCheckpointsOfTheLastQuarter) {
  const std::string no_cooldown = "model:\n  cooldown: 0.5\ntrain:\n  seed: 1\n  cooldown: 0.0\n";
  Result r = average_recent(250, 2000, no_cooldown);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "average run/checkpoint_1500.pt run/checkpoint_1750.pt run/checkpoint_2000.pt -o run/checkpoint_avg.pt\n");
  r = average_recent(250, 10000, no_cooldown);
  EXPECT_EQ(r.out,
            "average run/checkpoint_9000.pt run/checkpoint_9250.pt run/checkpoint_9500.pt run/checkpoint_9750.pt "
            "run/checkpoint_10000.pt -o run/checkpoint_avg.pt\n");
  r = average_recent(250, 1000, "");  // no config.yaml: no cool-down to read
  EXPECT_EQ(r.out, "average run/checkpoint_750.pt run/checkpoint_1000.pt -o run/checkpoint_avg.pt\n");
  EXPECT_EQ(r.err, "");
}

TEST(AverageRecent, KeepsTheLastCheckpointAloneAfterACooldown) {
  const Result r = average_recent(250, 10000, "train:\n  seed: 1\n  cooldown: 0.3\ndecode:\n  beam_size: 4\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "average run/checkpoint_10000.pt -o run/checkpoint_avg.pt\n");
  EXPECT_EQ(r.err, "average_recent.sh: train.cooldown 0.3: the last checkpoint alone, run/checkpoint_10000.pt\n");
}

TEST(AverageRecent, RefusesARunWithoutCheckpoints) {
  const Result r = average_recent(250, 0, "");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "average_recent.sh: no checkpoint_<update>.pt in 'run'\n");
}

}  // namespace
}  // namespace tmt
