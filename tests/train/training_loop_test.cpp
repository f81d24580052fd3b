// The training loop without the binary: state() and restore() continue a run bit for bit, an
// injected validation drives the best checkpoint and early stopping, the cool-down follows the
// budget, and a signal that came before the first update ends the run with nothing saved.

#include "train/training_loop.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "data/copy_stream.h"
#include "model/checkpoint.h"
#include "train/lr_schedule.h"
#include "train/run_checkpoints.h"
#include "train/stop_signals.h"
#include "tests/tiny_model.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;
using namespace tmt::tests;  // NOLINT: tests/tiny_model.h

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("tmt_training_loop_test_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

DataConfig copy_data() {
  DataConfig d;
  d.batch_size = 8;
  return d;
}

TrainConfig copy_training(int64_t max_updates) {
  TrainConfig t;
  t.warmup_updates = 10;
  t.max_updates = max_updates;
  return t;
}

CheckpointHeader header_of(const DataConfig& data) {
  return CheckpointHeader{kCheckpointFormatVersion, "", VocabInfo{data.vocab_size, data.vocab_size, CopyStream::kPadId},
                          ""};
}

// One copy-task run: its model, trainer, stream and loop, ready to restore() or run().
struct CopyRun {
  DataConfig data = copy_data();
  TrainConfig train;
  Transformer model;
  Trainer trainer;
  CopyStream stream;
  TrainingLoop loop;

  CopyRun(const fs::path& dir, int64_t max_updates, TrainingLoop::Validate validate = {})
      : train(copy_training(max_updates)),
        model((torch::manual_seed(7), Transformer(tiny_model(), header_of(data).vocab))),
        trainer(model, train),
        stream(data, /*seed=*/7),
        loop(train, dir.string(), header_of(data), stream, trainer, std::move(validate)) {}
};

TEST(TrainingLoop, StateAndRestoreContinueBitIdentically) {
  CopyRun whole(fresh_dir("whole"), 6);
  ASSERT_EQ(whole.loop.run(), 0);

  CopyRun first(fresh_dir("first"), 3);
  ASSERT_EQ(first.loop.run(), 0);
  const TrainingState state = first.loop.state();
  EXPECT_EQ(state.update, 3);
  const NamedTensors weights = model_state(*first.model);
  // A different generator state in between, as a new process would have.
  torch::manual_seed(12345);
  torch::rand({100});

  CopyRun second(fresh_dir("second"), 6);
  load_weights(weights, *second.model, "first run");
  second.loop.restore(state, "first run");
  ASSERT_EQ(second.loop.run(), 0);
  EXPECT_EQ(second.trainer.updates(), 6);
  const NamedTensors a = model_state(*whole.model);
  const NamedTensors b = model_state(*second.model);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
  }
  EXPECT_TRUE(torch::equal(whole.loop.state().data_position, second.loop.state().data_position));
}

// Each update's learning rate over the schedule's (log_every 1): the share the cool-down kept.
std::vector<double> rate_shares(const fs::path& dir, int64_t warmup) {
  std::vector<double> shares;
  std::ifstream in(dir / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    if (!j.contains("lr")) continue;
    shares.push_back(j["lr"].get<double>() / noam_rate(j["update"].get<int64_t>(), tiny_model().d_model, warmup, 1.0));
  }
  return shares;
}

TEST(TrainingLoop, CooldownTakesTheRateDownOverTheLastShareOfTheUpdates) {
  const fs::path dir = fresh_dir("cooldown_updates");
  CopyRun run(dir, 10);
  run.train.cooldown = 0.4;
  run.train.log_every = 1;
  ASSERT_EQ(run.loop.run(), 0);
  // Update u starts with (u - 1) / 10 of the budget spent: the last 0.4 of it scales the rate
  // by (1 - spent) / 0.4, from update 8 on.
  const std::vector<double> expected = {1, 1, 1, 1, 1, 1, 1, 0.75, 0.5, 0.25};
  const std::vector<double> shares = rate_shares(dir, run.train.warmup_updates);
  ASSERT_EQ(shares.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(shares[i], expected[i], 1e-12) << "update " << i + 1;
}

TEST(TrainingLoop, CooldownFollowsTheMinutesWhenTheyRunOutFirst) {
  CopyRun first(fresh_dir("cooldown_minutes_first"), 1);
  ASSERT_EQ(first.loop.run(), 0);
  TrainingState state = first.loop.state();
  state.elapsed_s = 0.9 * 6000.0;  // 90 of the 100 minutes below spent by earlier runs

  const fs::path dir = fresh_dir("cooldown_minutes");
  CopyRun run(dir, 4);  // updates 2-4 start with at most 3/4 of the updates spent, under 0.9
  run.train.max_minutes = 100;
  run.train.cooldown = 0.2;
  run.train.log_every = 1;
  load_weights(model_state(*first.model), *run.model, "first run");
  run.loop.restore(state, "first run");
  ASSERT_EQ(run.loop.run(), 0);
  const std::vector<double> shares = rate_shares(dir, run.train.warmup_updates);
  ASSERT_EQ(shares.size(), 3u);
  // (1 - 0.9) / 0.2, less the milliseconds this run takes.
  for (double share : shares) EXPECT_NEAR(share, 0.5, 1e-3);
}

TEST(TrainingLoop, ValidationKeepsTheBestAndStopsEarly) {
  const fs::path dir = fresh_dir("validation");
  std::vector<double> losses = {3.0, 2.0, 4.0, 1.0};
  size_t calls = 0;
  CopyRun run(dir, 100, [&] {
    ValidationResult r;
    r.loss = losses.at(calls++);
    return r;
  });
  run.train.valid_every = 2;
  run.train.best_metric = BestMetric::loss;
  run.train.patience = 1;
  ASSERT_EQ(run.loop.run(), 0);
  // Validations at updates 2 (3.0, best), 4 (2.0, best), 6 (4.0: patience spent, stop).
  EXPECT_EQ(calls, 3u);
  const TrainingState state = run.loop.state();
  EXPECT_EQ(state.update, 6);
  EXPECT_EQ(state.best_update, 4);
  EXPECT_EQ(state.best_value, -2.0);
  EXPECT_EQ(state.stale_validations, 1);
  EXPECT_EQ(read_checkpoint(best_checkpoint_path(dir.string())).training->update, 4);
  EXPECT_EQ(read_checkpoint(last_checkpoint_path(dir.string())).training->update, 6);
}

// The command installs StopSignals before loading; a signal in that time is the loop's to report.
TEST(TrainingLoop, SignalBeforeTheFirstUpdateSavesNothing) {
  const fs::path dir = fresh_dir("early_signal");
  const StopSignals outer;
  CopyRun run(dir, 100);
  ASSERT_EQ(raise(SIGTERM), 0);
  EXPECT_EQ(outer.received(), SIGTERM);
  EXPECT_EQ(run.loop.run(), 128 + SIGTERM);
  EXPECT_EQ(run.trainer.updates(), 0);
  EXPECT_TRUE(fs::is_empty(dir)) << "nothing written: no checkpoint, no metrics";
}

TEST(TrainingLoop, SignalDuringTheRunSavesAfterTheUpdate) {
  const fs::path dir = fresh_dir("late_signal");
  CopyRun run(dir, 100, [&] {
    raise(SIGINT);  // validation after update 2 stands in for a Ctrl-C mid-run
    return ValidationResult{};
  });
  run.train.valid_every = 2;
  EXPECT_EQ(run.loop.run(), 128 + SIGINT);
  EXPECT_EQ(run.trainer.updates(), 2);
  EXPECT_EQ(read_checkpoint(last_checkpoint_path(dir.string())).training->update, 2);
}

}  // namespace
}  // namespace tmt
