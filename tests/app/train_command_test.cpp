// `tmt train` as a run that can stop and go on: exact resume, checkpoints kept and refused,
// signals, the NaN guard, early stopping and the metrics file.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "model/checkpoint.h"
#include "tests/app/run_tmt.h"

extern char** environ;

namespace tmt {
namespace {

namespace fs = std::filesystem;
using namespace tmt::tests;  // NOLINT: the helpers of run_tmt.h
using nlohmann::json;

// A copy-task model small enough for a few dozen updates per second, logging every update.
const std::string kSmallCopy = "-c '" + kCopyConfig +
                               "' --set model.d_model=32 --set model.d_ff=64 --set model.layers=1"
                               " --set model.heads=2 --set train.warmup_updates=10 --set train.log_every=1";

// The metrics.jsonl records of `kind`, in file order.
std::vector<json> records(const fs::path& run_dir, const std::string& kind) {
  std::vector<json> out;
  std::ifstream in(run_dir / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line);
    if (j["kind"] == kind) out.push_back(j);
  }
  return out;
}

// The figures that must not depend on wall time: equal bit for bit between two runs.
json deterministic(json j) {
  for (const char* timing : {"elapsed_s", "tokens_per_s", "peak_mem_mib"}) j.erase(timing);
  return j;
}

void expect_same_training(const fs::path& a, const fs::path& b, const std::string& kind) {
  const auto ra = records(a, kind);
  const auto rb = records(b, kind);
  ASSERT_EQ(ra.size(), rb.size()) << kind;
  ASSERT_FALSE(ra.empty()) << kind;
  for (size_t i = 0; i < ra.size(); ++i) EXPECT_EQ(deterministic(ra[i]), deterministic(rb[i])) << kind << " " << i;
}

TEST(TrainCommand, ResumedCopyTaskContinuesBitIdentically) {
  const fs::path dir = scratch("resume_copy");
  ASSERT_EQ(run_tmt(dir, "train " + kSmallCopy + " --run-dir whole --set train.max_updates=30").exit_code, 0);
  ASSERT_EQ(run_tmt(dir, "train " + kSmallCopy + " --run-dir parts --set train.max_updates=10").exit_code, 0);
  // What a run killed after its last checkpoint leaves behind: a record past it and a torn line.
  std::ofstream(dir / "parts/metrics.jsonl", std::ios::app) << R"({"kind":"train","update":11,"loss":9})" "\n{\"kind\":";
  const Result resumed = run_tmt(dir, "train " + kSmallCopy + " --run-dir parts --set train.max_updates=30");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming from parts/checkpoint_10.pt at update 10"), std::string::npos) << resumed.err;
  expect_same_training(dir / "whole", dir / "parts", "train");  // updates 1..30, the next 20 after resuming included
  EXPECT_EQ(records(dir / "parts", "train").size(), 30u);

  const Result again = run_tmt(dir, "train " + kSmallCopy + " --run-dir parts --set train.max_updates=30");
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.err.find("is at update 30, train.max_updates is 30: nothing to do"), std::string::npos) << again.err;
}

TEST(TrainCommand, ResumedCorpusTrainingWithAccumulationContinuesBitIdentically) {
  const fs::path dir = tiny_corpus_dir("resume_corpus");
  ASSERT_EQ(run_tmt(dir, "prepare -c tiny.yaml --run-dir whole").exit_code, 0);
  fs::copy(dir / "whole", dir / "parts", fs::copy_options::recursive);
  // 2 batches per update, several batches per epoch: the stop at update 4 is mid-epoch.
  const std::string common = "train -c tiny.yaml --set train.update_freq=2 --set train.log_every=1"
                             " --set train.valid_every=3 --set train.max_updates=9";
  ASSERT_EQ(run_tmt(dir, common + " --run-dir whole").exit_code, 0);
  ASSERT_EQ(run_tmt(dir, common + " --run-dir parts --set train.max_updates=4").exit_code, 0);
  const Result resumed = run_tmt(dir, common + " --run-dir parts");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("at update 4"), std::string::npos) << resumed.err;
  expect_same_training(dir / "whole", dir / "parts", "train");
  // Validation at 3, 6, 9 in both, plus the interrupted run's final one at 4.
  const auto valid = records(dir / "parts", "valid");
  ASSERT_EQ(valid.size(), 4u);
  EXPECT_EQ(valid[1]["update"], 4);
  const auto whole_valid = records(dir / "whole", "valid");
  ASSERT_EQ(whole_valid.size(), 3u);
  EXPECT_EQ(deterministic(valid[3]), deterministic(whole_valid[2]));
  EXPECT_TRUE(valid[3]["bleu"].is_number()) << valid[3];
  // 18 batches: the resumed part crossed an epoch boundary too.
  EXPECT_GE(records(dir / "whole", "train").back()["epoch"].get<int>(), 2);
}

TEST(TrainCommand, KeepsTheLastCheckpointsAndLinksTheNewest) {
  const fs::path dir = scratch("keep_last");
  const Result r = run_tmt(dir, "train " + kSmallCopy + " --run-dir run --set train.max_updates=10"
                                " --set train.save_every=2 --set train.keep_last=2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir / "run")) {
    if (e.path().extension() == ".pt") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"checkpoint_10.pt", "checkpoint_8.pt", "checkpoint_last.pt"}));
  EXPECT_EQ(slurp(dir / "run/checkpoint_10.pt"), slurp(dir / "run/checkpoint_last.pt"));
  const Checkpoint last = read_checkpoint((dir / "run/checkpoint_last.pt").string());
  ASSERT_TRUE(last.training.has_value());
  EXPECT_EQ(last.training->update, 10);
}

TEST(TrainCommand, CorruptNewestCheckpointFallsBackToThePreviousOne) {
  const fs::path dir = scratch("corrupt");
  ASSERT_EQ(run_tmt(dir, "train " + kSmallCopy + " --run-dir run --set train.max_updates=6 --set train.save_every=3")
                .exit_code,
            0);
  fs::resize_file(dir / "run/checkpoint_6.pt", fs::file_size(dir / "run/checkpoint_6.pt") / 2);
  const Result r = run_tmt(dir, "train " + kSmallCopy + " --run-dir run --set train.max_updates=8");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("cannot resume from it: cannot read checkpoint 'run/checkpoint_6.pt'"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("resuming from run/checkpoint_3.pt at update 3"), std::string::npos) << r.err;
  EXPECT_EQ(read_checkpoint((dir / "run/checkpoint_8.pt").string()).training->update, 8);

  // Nothing valid left: an error that names the way out, not a silent fresh start.
  fs::resize_file(dir / "run/checkpoint_3.pt", 100);
  fs::resize_file(dir / "run/checkpoint_8.pt", 100);
  const Result none = run_tmt(dir, "train " + kSmallCopy + " --run-dir run --set train.max_updates=9");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no valid checkpoint to resume from in 'run' (see above); use --no-resume to start over"),
            std::string::npos)
      << none.err;
}

TEST(TrainCommand, NoResumeSetsTheOldCheckpointsAside) {
  const fs::path dir = scratch("no_resume");
  ASSERT_EQ(run_tmt(dir, "train " + kSmallCopy + " --run-dir run --set train.max_updates=4").exit_code, 0);
  const Result r = run_tmt(dir, "train " + kSmallCopy + " --run-dir run --set train.max_updates=2 --no-resume");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("--no-resume: moved 2 checkpoint(s) of the earlier run into run/previous_"), std::string::npos)
      << r.err;
  EXPECT_EQ(read_checkpoint((dir / "run/checkpoint_last.pt").string()).training->update, 2);
  EXPECT_EQ(records(dir / "run", "train").size(), 2u);  // a fresh curve
}

// A checkpoint of another run dropped into the run directory: refused, naming it, before the
// run's config.yaml or anything else changes.
TEST(TrainCommand, ForeignCheckpointIsRefusedBeforeTheRunChanges) {
  const fs::path dir = scratch("foreign");
  ASSERT_EQ(run_tmt(dir, "train " + kSmallCopy + " --run-dir mine --set train.max_updates=2").exit_code, 0);
  ASSERT_EQ(run_tmt(dir, "train " + kSmallCopy +
                             " --run-dir other --set train.max_updates=3 --set data.vocab_size=13 --set model.d_model=16")
                .exit_code,
            0);
  fs::copy_file(dir / "other/checkpoint_3.pt", dir / "mine/checkpoint_3.pt");
  const std::string config_before = slurp(dir / "mine/config.yaml");
  const auto files_before = std::distance(fs::directory_iterator(dir / "mine"), fs::directory_iterator());
  const Result r = run_tmt(dir, "train " + kSmallCopy + " --run-dir mine --set train.max_updates=5");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("checkpoint mine/checkpoint_3.pt was trained with another vocabulary (13 symbols) than the "
                       "run's data has: the copy task's 11 symbols; use --no-resume to start over"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(slurp(dir / "mine/config.yaml"), config_before);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "mine"), fs::directory_iterator()), files_before);
}

TEST(TrainCommand, SigtermFinishesTheUpdateSavesAndResumes) {
  const fs::path dir = scratch("sigterm");
  const std::string log = (dir / "stderr.txt").string();
  // Many updates: the signal arrives long before the end.
  const std::string cmd = "cd '" + dir.string() + "' && exec '" TMT_BINARY "' train " + kSmallCopy +
                          " --run-dir run --set train.max_updates=100000 2> '" + log + "'";
  pid_t pid = 0;
  const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
  ASSERT_EQ(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
  // Wait until training is under way (some updates logged), at most 60 s.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (records(dir / "run", "train").size() < 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed instead of exiting";
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM) << slurp(log);
  const Checkpoint saved = read_checkpoint((dir / "run/checkpoint_last.pt").string());
  ASSERT_TRUE(saved.training.has_value());
  const int64_t update = saved.training->update;
  EXPECT_GE(update, 5);
  EXPECT_NE(slurp(log).find("stopped by signal 15 after update " + std::to_string(update) +
                            "; run the same command to resume"),
            std::string::npos)
      << slurp(log);
  EXPECT_TRUE(fs::exists(dir / "run" / ("checkpoint_" + std::to_string(update) + ".pt")));

  const Result resumed =
      run_tmt(dir, "train " + kSmallCopy + " --run-dir run --set train.max_updates=" + std::to_string(update + 2));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("at update " + std::to_string(update)), std::string::npos) << resumed.err;
}

// SIGKILL at 20 moments drawn from a fixed generator, with every checkpoint write held for 40 ms
// (TMT_FAULT_WRITE_DELAY_MS) so that kills land inside writes too: every resume succeeds, no
// checkpoint left behind is corrupt, and the run ends with the parameters of one never killed.
TEST(TrainCommand, SigkillAtRandomMomentsResumesToTheSameParameters) {
  const fs::path dir = scratch("sigkill");
  const std::string common =
      "train " + kSmallCopy + " --set train.max_updates=1500 --set train.save_every=10 --set train.keep_last=3";
  ASSERT_EQ(run_tmt(dir, common + " --run-dir whole").exit_code, 0);
  std::mt19937 rng(20261201);
  std::uniform_int_distribution<int> moment_ms(50, 2500);
  int kills = 0;
  for (int k = 0; k < 20; ++k) {
    const std::string log = (dir / ("killed_" + std::to_string(k) + ".txt")).string();
    const std::string cmd = "cd '" + dir.string() + "' && TMT_FAULT_WRITE_DELAY_MS=40 exec '" TMT_BINARY "' " + common +
                            " --run-dir killed 2> '" + log + "'";
    pid_t pid = 0;
    const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
    ASSERT_EQ(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(moment_ms(rng)));
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) ++kills;
    EXPECT_EQ(slurp(log).find(" error: "), std::string::npos) << "run " << k << ": " << slurp(log);
    if (!fs::is_directory(dir / "killed")) continue;  // killed before it made its run directory
    for (const auto& entry : fs::directory_iterator(dir / "killed")) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("checkpoint_", 0) == 0 && entry.path().extension() == ".pt") {
        EXPECT_NO_THROW(read_checkpoint(entry.path().string())) << "after kill " << k << ": " << name;
      }
    }
    if (WIFEXITED(status)) break;  // trained to the end before this kill
  }
  EXPECT_GE(kills, 10) << "too few kills landed during training";
  const Result last = run_tmt(dir, common + " --run-dir killed");
  ASSERT_EQ(last.exit_code, 0) << last.err;
  const Checkpoint a = read_checkpoint((dir / "whole/checkpoint_last.pt").string());
  const Checkpoint b = read_checkpoint((dir / "killed/checkpoint_last.pt").string());
  ASSERT_EQ(b.training->update, 1500);
  ASSERT_EQ(a.model.size(), b.model.size());
  for (size_t i = 0; i < a.model.size(); ++i) {
    EXPECT_EQ(a.model[i].first, b.model[i].first);
    EXPECT_TRUE(torch::equal(a.model[i].second, b.model[i].second)) << a.model[i].first;
  }
  for (const auto& entry : fs::directory_iterator(dir / "killed")) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

TEST(TrainCommand, NonFiniteUpdatesAreSkippedThenAbortWithTheLastGoodState) {
  const fs::path dir = scratch("nan");
  // An absurd learning rate: the first update is finite, its weights overflow every later one.
  const Result r = run_tmt(dir, "train " + kSmallCopy + " --run-dir run --set train.max_updates=30"
                                " --set train.lr_factor=1e30 --set train.max_bad_updates=3");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("update 2 skipped: non-finite loss or gradient"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("3 in a row"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tmt: [train] error: 3 updates in a row had a non-finite loss or gradient "
                       "(train.max_bad_updates 3); stopped at update 1 and saved the last good state as "
                       "run/checkpoint_1.pt."),
            std::string::npos)
      << r.err;
  const Checkpoint saved = read_checkpoint((dir / "run/checkpoint_1.pt").string());
  EXPECT_EQ(saved.training->update, 1);
  EXPECT_EQ(saved.training->bad_updates, 3);
}

TEST(TrainCommand, EarlyStoppingAfterPatienceKeepsTheBest) {
  const fs::path dir = tiny_corpus_dir("early");
  ASSERT_EQ(run_tmt(dir, "prepare -c tiny.yaml --run-dir run").exit_code, 0);
  // A learning rate too small to move any weight: the valid loss never improves after the first.
  const Result r = run_tmt(dir, "train -c tiny.yaml --run-dir run --set train.max_updates=50"
                                " --set train.valid_every=1 --set train.lr_factor=1e-30"
                                " --set train.best_metric=loss --set train.patience=2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("early stopping: no better valid loss in 2 validations (best at update 1)"), std::string::npos)
      << r.err;
  const auto valid = records(dir / "run", "valid");
  ASSERT_EQ(valid.size(), 3u);
  EXPECT_EQ(valid.back()["update"], 3);
  const Checkpoint best = read_checkpoint((dir / "run/checkpoint_best.pt").string());
  EXPECT_EQ(best.training->update, 1);
  EXPECT_EQ(read_checkpoint((dir / "run/checkpoint_last.pt").string()).training->update, 3);
}

TEST(TrainCommand, MetricsHaveEveryFieldAndValidationHasBleu) {
  const fs::path dir = tiny_corpus_dir("metrics");
  ASSERT_EQ(run_tmt(dir, "prepare -c tiny.yaml --run-dir run").exit_code, 0);
  ASSERT_EQ(run_tmt(dir, "train -c tiny.yaml --run-dir run").exit_code, 0);
  const auto train = records(dir / "run", "train");
  ASSERT_EQ(train.size(), 3u);  // log_every 2 over 6 updates
  for (const char* key : {"update", "epoch", "lr", "loss", "nll", "ppl", "acc", "tokens_per_s", "grad_norm",
                          "padding", "elapsed_s", "peak_mem_mib"}) {
    EXPECT_TRUE(train[0].contains(key)) << key;
  }
  EXPECT_EQ(train[2]["update"], 6);
  EXPECT_GT(train[2]["grad_norm"].get<double>(), 0.0);
  EXPECT_GT(train[2]["peak_mem_mib"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(train[2]["ppl"].get<double>(), std::exp(train[2]["nll"].get<double>()));
  const auto valid = records(dir / "run", "valid");
  ASSERT_EQ(valid.size(), 2u);
  for (const auto& v : valid) {
    ASSERT_TRUE(v["bleu"].is_number()) << v;
    EXPECT_GE(v["bleu"].get<double>(), 0.0);
    EXPECT_LE(v["bleu"].get<double>(), 100.0);
  }
  EXPECT_TRUE(fs::exists(dir / "run/checkpoint_best.pt"));
}

}  // namespace
}  // namespace tmt
