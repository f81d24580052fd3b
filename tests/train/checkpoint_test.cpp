// Checkpoint files (round trip, refusal of damaged files, atomic writes) and the checkpoints of
// a run directory (numbering, pruning, checkpoint_last.pt, where to resume).

#include "model/checkpoint.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/torch_compat.h"
#include "train/run_checkpoints.h"
#include "tests/test_support.h"
#include "tests/tiny_model.h"

namespace tmt {
namespace {

using namespace tmt::tests;  // NOLINT: tests/test_support.h, tests/tiny_model.h

namespace fs = std::filesystem;

// An empty directory of the test's own under the temporary directory.
std::string fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("tmt_checkpoint_test_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// A value whose 8 bytes occur in a checkpoint only where the "marker" tensor's data is.
constexpr int64_t kMarker = 0x5eadbeefcafe1234;

NamedTensors small_weights() {
  torch::manual_seed(21);
  return {{"encoder.weight", torch::randn({4, 3})},
          {"marker", torch::full({4}, kMarker, torch::kLong)},
          {"decoder.bias", torch::randn({5}, torch::kDouble)}};
}

// A checkpoint with every training field set to something other than its default.
Checkpoint full_checkpoint(int64_t update) {
  Checkpoint c;
  c.header = CheckpointHeader{kCheckpointFormatVersion, "model:\n  layers: 1\n", VocabInfo{11, 12, 3}, "feedc0de"};
  c.model = small_weights();
  TrainingState t;
  t.update = update;
  t.optimizer = {{"exp_avg.encoder.weight", torch::randn({4, 3})}, {"exp_avg_sq.encoder.weight", torch::rand({4, 3})}};
  t.data_position = torch::tensor({int64_t{2}, int64_t{17}}, torch::kLong);
  t.rng_cpu = rng_state(torch::kCPU);
  t.bad_updates = 2;
  t.best_value = std::numeric_limits<double>::quiet_NaN();
  t.best_update = update - 1;
  t.stale_validations = 3;
  t.elapsed_s = 1234.5;
  c.training = std::move(t);
  return c;
}

// Tensors equal in name, dtype, shape and every bit, whatever order they are listed in.
void expect_same_tensors(const NamedTensors& expected, const NamedTensors& actual, const std::string& what) {
  ASSERT_EQ(expected.size(), actual.size()) << what;
  std::map<std::string, torch::Tensor> by_name(actual.begin(), actual.end());
  for (const auto& [name, tensor] : expected) {
    const auto found = by_name.find(name);
    ASSERT_NE(found, by_name.end()) << what << ": no " << name;
    EXPECT_EQ(found->second.scalar_type(), tensor.scalar_type()) << what << ": " << name;
    EXPECT_TRUE(torch::equal(found->second, tensor)) << what << ": " << name;
  }
}

// Flips one bit inside the marker tensor's data; returns false when the marker is not found.
bool corrupt_marker(const std::string& path) {
  std::string bytes = bytes_of(path);
  char pattern[sizeof kMarker];
  std::memcpy(pattern, &kMarker, sizeof kMarker);
  const size_t at = bytes.find(std::string(pattern, sizeof pattern));
  if (at == std::string::npos) return false;
  bytes[at + 3] ^= 0x10;
  write_bytes(path, bytes);
  return true;
}

TEST(Checkpoint, FullCheckpointRoundTripsExactly) {
  const std::string dir = fresh_dir("full");
  const std::string path = dir + "/full.pt";
  const Checkpoint written = full_checkpoint(40);
  write_checkpoint(path, written);
  EXPECT_EQ(files_in(dir), std::vector<std::string>{"full.pt"});  // no temporary file left

  const Checkpoint read = read_checkpoint(path);
  EXPECT_EQ(read.header.format_version, kCheckpointFormatVersion);
  EXPECT_EQ(read.header.config_yaml, written.header.config_yaml);
  EXPECT_EQ(read.header.vocab.src_size, 11);
  EXPECT_EQ(read.header.vocab.tgt_size, 12);
  EXPECT_EQ(read.header.vocab.pad_id, 3);
  EXPECT_EQ(read.header.vocab_hash, "feedc0de");
  expect_same_tensors(written.model, read.model, "model");

  ASSERT_TRUE(read.training.has_value());
  const TrainingState& t = *read.training;
  EXPECT_EQ(t.update, 40);
  expect_same_tensors(written.training->optimizer, t.optimizer, "optimizer");
  ASSERT_TRUE(t.data_position.defined());
  EXPECT_EQ(t.data_position.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(t.data_position, written.training->data_position));
  ASSERT_TRUE(t.rng_cpu.defined());
  EXPECT_TRUE(torch::equal(t.rng_cpu, written.training->rng_cpu));
  EXPECT_FALSE(t.rng_cuda.defined());
  EXPECT_EQ(t.bad_updates, 2);
  EXPECT_TRUE(std::isnan(t.best_value));
  EXPECT_EQ(t.best_update, 39);
  EXPECT_EQ(t.stale_validations, 3);
  EXPECT_EQ(t.elapsed_s, 1234.5);
}

TEST(Checkpoint, FiniteBestValueAndCudaStateRoundTrip) {
  const std::string path = fresh_dir("finite") + "/finite.pt";
  Checkpoint written = full_checkpoint(7);
  written.training->best_value = 0.1234567890123;
  written.training->rng_cuda = torch::arange(16, torch::kByte);  // stands in for a CUDA generator state
  write_checkpoint(path, written);
  const Checkpoint read = read_checkpoint(path);
  ASSERT_TRUE(read.training.has_value());
  EXPECT_EQ(read.training->best_value, 0.1234567890123);
  ASSERT_TRUE(read.training->rng_cuda.defined());
  EXPECT_TRUE(torch::equal(read.training->rng_cuda, written.training->rng_cuda));
}

TEST(Checkpoint, WeightsOnlyCheckpointHasNoTrainingState) {
  torch::manual_seed(3);
  Transformer model(tiny_model(), VocabInfo{11, 11, 0});
  const std::string path = fresh_dir("weights_only") + "/weights.pt";
  save_checkpoint(path, *model, "", "");
  const Checkpoint read = read_checkpoint(path);
  EXPECT_FALSE(read.training.has_value());
  expect_same_tensors(model_state(*model), read.model, "model");
}

TEST(Checkpoint, RoundTripsWeightsAndHeader) {
  torch::manual_seed(3);
  const VocabInfo vocab{11, 11, 0};
  Transformer model(tiny_model(), vocab);
  const std::string dir = fresh_dir("roundtrip");
  const std::string path = dir + "/roundtrip.pt";
  save_checkpoint(path, *model, "model:\n  layers: 1\n", "0123456789abcdef");
  EXPECT_EQ(files_in(dir), std::vector<std::string>{"roundtrip.pt"});  // no temporary file left

  const CheckpointHeader header = read_checkpoint(path).header;
  EXPECT_EQ(header.format_version, kCheckpointFormatVersion);
  EXPECT_EQ(header.config_yaml, "model:\n  layers: 1\n");
  EXPECT_EQ(header.vocab.src_size, 11);
  EXPECT_EQ(header.vocab.pad_id, 0);
  EXPECT_EQ(header.vocab_hash, "0123456789abcdef");

  torch::manual_seed(4);  // different initial weights
  Transformer restored(tiny_model(), vocab);
  load_checkpoint_weights(path, *restored);
  model->eval();
  restored->eval();
  torch::Tensor src = torch::tensor({{1, 4, 5, 6}}, torch::kLong);
  torch::Tensor tgt = torch::tensor({{1, 4, 5}}, torch::kLong);
  EXPECT_TRUE(torch::equal(model->forward(src, tgt), restored->forward(src, tgt)));
}

TEST(Checkpoint, FlippedByteIsCaughtByTheChecksum) {
  // LibTorch's zip reader does not check CRCs, so a flipped bit in tensor data reads fine;
  // only the checkpoint's own checksum notices.
  const std::string path = fresh_dir("flipped") + "/flipped.pt";
  write_checkpoint(path, full_checkpoint(5));
  ASSERT_TRUE(corrupt_marker(path));
  const std::string error = error_of<std::runtime_error>([&] { read_checkpoint(path); });
#if TMT_TORCH_AT_LEAST(2, 0)
  // A newer reader may check the zip CRCs itself; either way the file is refused by name.
  EXPECT_TRUE(error.rfind("checkpoint '" + path + "' is corrupted", 0) == 0 ||
              error.rfind("cannot read checkpoint '" + path + "'", 0) == 0)
      << error;
#else
  EXPECT_EQ(error.rfind("checkpoint '" + path + "' is corrupted", 0), 0u) << error;
#endif
}

TEST(Checkpoint, FlippedByteInTheMiddleIsRefused) {
  const std::string path = fresh_dir("middle") + "/middle.pt";
  write_checkpoint(path, full_checkpoint(5));
  std::string bytes = bytes_of(path);
  bytes[bytes.size() / 2] ^= 0x01;
  write_bytes(path, bytes);
  // Wherever the byte lands (tensor data or archive structure), the file is refused by name.
  const std::string error = error_of<std::runtime_error>([&] { read_checkpoint(path); });
  EXPECT_NE(error.find("'" + path + "'"), std::string::npos) << error;
  EXPECT_TRUE(error.find("is corrupted") != std::string::npos ||
              error.find("cannot read checkpoint") != std::string::npos || error.find("not a tmt checkpoint") != std::string::npos)
      << error;
}

TEST(Checkpoint, TruncatedFileIsReportedWithItsPath) {
  torch::manual_seed(3);
  Transformer model(tiny_model(), VocabInfo{11, 11, 0});
  const std::string path = fresh_dir("truncated") + "/truncated.pt";
  save_checkpoint(path, *model, "", "");
  fs::resize_file(path, fs::file_size(path) / 2);
  const std::string error = error_of<std::runtime_error>([&] { read_checkpoint(path).header; });
  EXPECT_EQ(error.rfind("cannot read checkpoint '" + path + "': truncated (", 0), 0u) << error;
  EXPECT_NE(error.find(" bytes; its zip archive has no end record: was its writing cut short?)"), std::string::npos)
      << error;
}

// Missing, a directory, not a checkpoint at all, or from a newer tmt: said in plain words, not
// in the zip reader's ("failed finding central directory", "errno 2 on fopen").
TEST(Checkpoint, UnreadableFilesAreRefusedInPlainWords) {
  const std::string dir = fresh_dir("plain_words");
  EXPECT_EQ(error_of([&] { read_checkpoint(dir + "/none.pt"); }),
            "cannot read checkpoint '" + dir + "/none.pt': No such file or directory");
  EXPECT_EQ(error_of([&] { read_checkpoint(dir); }), "cannot read checkpoint '" + dir + "': Is a directory");
  write_bytes(dir + "/text.pt", "model: not a checkpoint but long enough to look at\n");
  EXPECT_EQ(error_of<std::runtime_error>([&] { read_checkpoint(dir + "/text.pt"); }),
            "cannot read checkpoint '" + dir + "/text.pt': not a tmt checkpoint (51 bytes, no zip archive)");
  torch::serialize::OutputArchive newer;
  newer.write("format_version", c10::IValue(int64_t{kCheckpointFormatVersion + 1}));
  newer.save_to(dir + "/newer.pt");
  EXPECT_EQ(error_of<std::runtime_error>([&] { read_checkpoint(dir + "/newer.pt"); }),
            "cannot read checkpoint '" + dir + "/newer.pt': written by a newer tmt (format version " +
                std::to_string(kCheckpointFormatVersion + 1) + "; this tmt reads version " +
                std::to_string(kCheckpointFormatVersion) + ")");
}

TEST(Checkpoint, TruncatedTrainingCheckpointIsReportedWithItsPath) {
  const std::string path = fresh_dir("truncated_training") + "/truncated.pt";
  write_checkpoint(path, full_checkpoint(5));
  write_bytes(path, bytes_of(path).substr(0, fs::file_size(path) / 2));
  const std::string error = error_of<std::runtime_error>([&] { read_checkpoint(path); });
  EXPECT_EQ(error.rfind("cannot read checkpoint '" + path + "'", 0), 0u) << error;
}

TEST(Checkpoint, ArchitectureMismatchIsRefused) {
  torch::manual_seed(3);
  Transformer model(tiny_model(), VocabInfo{11, 11, 0});
  const std::string path = fresh_dir("mismatch") + "/mismatch.pt";
  save_checkpoint(path, *model, "", "");
  ModelConfig bigger = tiny_model();
  bigger.d_model = 64;
  Transformer other(bigger, VocabInfo{11, 11, 0});
  const std::string error = error_of<std::runtime_error>([&] { load_checkpoint_weights(path, *other); });
  EXPECT_EQ(error.rfind("checkpoint '" + path + "' does not match the model", 0), 0u) << error;
}

// --- run directories -------------------------------------------------------------------------

TEST(RunCheckpoints, NumberedCheckpointsAreSortedByUpdate) {
  const std::string dir = fresh_dir("numbered");
  for (const char* name : {"checkpoint_10.pt", "checkpoint_9.pt", "checkpoint_100.pt", "checkpoint_2.pt",
                           "checkpoint_last.pt", "checkpoint_best.pt", "checkpoint_3.pt.tmp", "checkpoint_x.pt",
                           "notes.txt"}) {
    write_bytes(dir + "/" + name, "x");
  }
  const auto found = numbered_checkpoints(dir);
  std::vector<std::pair<int64_t, std::string>> expected;
  for (int64_t update : {2, 9, 10, 100}) expected.emplace_back(update, numbered_checkpoint_path(dir, update));
  EXPECT_EQ(found, expected);
  EXPECT_EQ(numbered_checkpoint_path(dir, 10), (fs::path(dir) / "checkpoint_10.pt").string());
  EXPECT_EQ(last_checkpoint_path(dir), (fs::path(dir) / "checkpoint_last.pt").string());
  EXPECT_EQ(best_checkpoint_path(dir), (fs::path(dir) / "checkpoint_best.pt").string());
}

TEST(RunCheckpoints, UnfinishedWritesOfAKilledRunAreRemoved) {
  const std::string dir = fresh_dir("unfinished");
  const std::vector<std::string> temporary = {"checkpoint_30.pt.tmp.1234", "checkpoint_last.pt.tmp",
                                              "checkpoint_best.pt.tmp.77", "config.yaml.tmp.1234",
                                              "metrics.jsonl.tmp.3190"};
  const std::vector<std::string> kept = {"checkpoint_30.pt", "checkpoint_last.pt", "config.yaml", "notes.tmp",
                                         "metrics.jsonl", "checkpoint_30.pt.tmp.x"};
  for (const auto& name : temporary) write_bytes(dir + "/" + name, "x");
  for (const auto& name : kept) write_bytes(dir + "/" + name, "x");
  std::vector<std::string> removed = remove_unfinished_writes(dir);
  std::sort(removed.begin(), removed.end());
  std::vector<std::string> expected;
  for (const auto& name : temporary) expected.push_back(dir + "/" + name);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(removed, expected);
  for (const auto& name : temporary) EXPECT_FALSE(fs::exists(dir + "/" + name)) << name;
  for (const auto& name : kept) EXPECT_TRUE(fs::exists(dir + "/" + name)) << name;
}

TEST(RunCheckpoints, PruneKeepsTheNewest) {
  const std::string dir = fresh_dir("prune");
  for (int64_t update : {1, 2, 3, 10, 20}) write_bytes(numbered_checkpoint_path(dir, update), "x");
  write_bytes(last_checkpoint_path(dir), "x");
  write_bytes(best_checkpoint_path(dir), "x");

  EXPECT_TRUE(prune_checkpoints(dir, 0).empty());  // 0 keeps all
  EXPECT_TRUE(prune_checkpoints(dir, 5).empty());  // no more than that
  EXPECT_EQ(files_in(dir).size(), 7u);

  const std::vector<std::string> deleted = prune_checkpoints(dir, 2);
  EXPECT_EQ(deleted, (std::vector<std::string>{numbered_checkpoint_path(dir, 1), numbered_checkpoint_path(dir, 2),
                                               numbered_checkpoint_path(dir, 3)}));
  EXPECT_EQ(files_in(dir), (std::vector<std::string>{"checkpoint_10.pt", "checkpoint_20.pt", "checkpoint_best.pt",
                                                     "checkpoint_last.pt"}));
}

TEST(RunCheckpoints, LinkHoldsTheSameBytesAndOutlivesPruning) {
  const std::string dir = fresh_dir("link");
  write_checkpoint(numbered_checkpoint_path(dir, 4), full_checkpoint(4));
  write_checkpoint(numbered_checkpoint_path(dir, 8), full_checkpoint(8));
  link_checkpoint(numbered_checkpoint_path(dir, 4), last_checkpoint_path(dir));
  EXPECT_EQ(bytes_of(last_checkpoint_path(dir)), bytes_of(numbered_checkpoint_path(dir, 4)));

  // Re-pointed at a newer checkpoint, then that one pruned: the link still reads.
  link_checkpoint(numbered_checkpoint_path(dir, 8), last_checkpoint_path(dir));
  const std::string expected = bytes_of(numbered_checkpoint_path(dir, 8));
  EXPECT_EQ(bytes_of(last_checkpoint_path(dir)), expected);
  EXPECT_EQ(files_in(dir),
            (std::vector<std::string>{"checkpoint_4.pt", "checkpoint_8.pt", "checkpoint_last.pt"}));  // no .tmp
  fs::remove(numbered_checkpoint_path(dir, 8));
  EXPECT_EQ(bytes_of(last_checkpoint_path(dir)), expected);
  EXPECT_EQ(read_checkpoint(last_checkpoint_path(dir)).training->update, 8);
}

TEST(RunCheckpoints, LinkingTwiceToTheSameTargetLeavesNoTemporaryFile) {
  // A run that saves checkpoint_N.pt periodically and again at its end links checkpoint_last.pt
  // to the same file twice.
  const std::string dir = fresh_dir("link_twice");
  write_checkpoint(numbered_checkpoint_path(dir, 4), full_checkpoint(4));
  link_checkpoint(numbered_checkpoint_path(dir, 4), last_checkpoint_path(dir));
  link_checkpoint(numbered_checkpoint_path(dir, 4), last_checkpoint_path(dir));
  EXPECT_EQ(bytes_of(last_checkpoint_path(dir)), bytes_of(numbered_checkpoint_path(dir, 4)));
  EXPECT_EQ(files_in(dir), (std::vector<std::string>{"checkpoint_4.pt", "checkpoint_last.pt"}));
}

TEST(RunCheckpoints, NewestValidSkipsACorruptedNewest) {
  const std::string dir = fresh_dir("newest_valid");
  for (int64_t update : {2, 4, 6}) write_checkpoint(numbered_checkpoint_path(dir, update), full_checkpoint(update));
  const std::string newest = numbered_checkpoint_path(dir, 6);
  ASSERT_TRUE(corrupt_marker(newest));

  std::vector<std::string> skipped;
  const auto resume = newest_valid_checkpoint(dir, skipped);
  ASSERT_TRUE(resume.has_value());
  EXPECT_EQ(resume->path, numbered_checkpoint_path(dir, 4));
  ASSERT_TRUE(resume->checkpoint.training.has_value());
  EXPECT_EQ(resume->checkpoint.training->update, 4);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find(newest), std::string::npos) << skipped[0];
}

TEST(RunCheckpoints, NewestValidSkipsAWeightsOnlyCheckpoint) {
  const std::string dir = fresh_dir("weights_only_newest");
  write_checkpoint(numbered_checkpoint_path(dir, 3), full_checkpoint(3));
  write_checkpoint(numbered_checkpoint_path(dir, 5), small_weights(), full_checkpoint(5).header);
  std::vector<std::string> skipped;
  const auto resume = newest_valid_checkpoint(dir, skipped);
  ASSERT_TRUE(resume.has_value());
  EXPECT_EQ(resume->path, numbered_checkpoint_path(dir, 3));
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find(numbered_checkpoint_path(dir, 5)), std::string::npos) << skipped[0];
}

TEST(RunCheckpoints, NoValidCheckpointGivesNothing) {
  std::vector<std::string> skipped;
  const std::string empty = fresh_dir("empty");
  EXPECT_FALSE(newest_valid_checkpoint(empty, skipped).has_value());
  EXPECT_TRUE(skipped.empty());
  EXPECT_FALSE(newest_valid_checkpoint(empty + "/missing", skipped).has_value());

  // Only a truncated one: nothing to resume from, and the reason is given.
  const std::string dir = fresh_dir("only_truncated");
  const std::string path = numbered_checkpoint_path(dir, 1);
  write_checkpoint(path, full_checkpoint(1));
  fs::resize_file(path, fs::file_size(path) / 2);
  EXPECT_FALSE(newest_valid_checkpoint(dir, skipped).has_value());
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find(path), std::string::npos) << skipped[0];
}

}  // namespace
}  // namespace tmt
