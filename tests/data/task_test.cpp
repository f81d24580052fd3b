// The two tasks: what they read and write, the data they open for training, and their errors.

#include "data/task.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/copy_stream.h"
#include "data/prepare.h"
#include "data/vocabulary.h"
#include "tests/test_support.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;
using tests::error_of;

DataConfig copy_config() {
  DataConfig c;
  c.vocab_size = 11;
  c.seq_len = 6;
  c.batch_size = 4;
  c.valid_size = 5;
  return c;
}

TEST(CopyTask, ReadsIdLinesAndWritesTheStartSymbolFirst) {
  const auto task = task_for_decoding(copy_config(), "");
  EXPECT_STREQ(task->name(), "copy");
  EXPECT_EQ(task->vocab().tgt_size, 11);
  EXPECT_EQ(task->vocab().pad_id, CopyStream::kPadId);
  EXPECT_EQ(task->vocab_hash(), "");
  EXPECT_EQ(task->start_id(), CopyStream::kStartId);
  EXPECT_EQ(task->end_id(), -1);
  EXPECT_EQ(task->encode(" 1 2  10 ", 1), (std::vector<int64_t>{1, 2, 10}));
  EXPECT_TRUE(task->encode("", 2).empty());
  EXPECT_EQ(task->format({4, 5, 6}), "1 4 5 6");
  EXPECT_EQ(task->format({}), "1");
  EXPECT_EQ(error_of([&] { task->encode("1 2x", 3); }),
            "input line 3: '2x' is not a token id (the copy task reads space-separated integers)");
  EXPECT_EQ(error_of([&] { task->encode("1 11", 4); }), "input line 4: token id 11 is outside the vocabulary [0, 11)");
  EXPECT_EQ(error_of([&] { task->encode("-1", 5); }), "input line 5: token id -1 is outside the vocabulary [0, 11)");
}

TEST(CopyTask, TrainsOnItsStreamAndChecksHeldOutCopies) {
  const auto task = task_for_training(copy_config(), "unused", "copy.yaml");
  TrainingData data = task->open_training(/*seed=*/3, /*pin_memory=*/false);
  CopyStream same(copy_config(), 3);
  EXPECT_TRUE(torch::equal(data.stream->next().src, same.next().src));
  EXPECT_TRUE(data.valid.batches.empty());
  EXPECT_TRUE(data.summary.empty());
  ASSERT_EQ(data.held_out.src.sizes(), (std::vector<int64_t>{5, 6}));
  EXPECT_TRUE(torch::equal(data.held_out.expected, data.held_out.src.narrow(1, 1, 5)));
  // Held-out sequences come from their own generator, not the training stream's.
  EXPECT_FALSE(torch::equal(data.held_out.src, CopyStream::sequences(copy_config(), 5, 3)));
}

void write_lines(const fs::path& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary);
  for (const auto& l : lines) out << l << '\n';
}

// A prepared run data folder: 120 training pairs, 8 valid pairs, every character seen in training.
struct Prepared {
  fs::path dir;
  DataConfig config;
  std::vector<std::string> valid_en;

  Prepared() : dir(fs::path(::testing::TempDir()) / "tmt_task_corpus") {
    fs::remove_all(dir);
    fs::create_directories(dir / "corpus");
    const std::vector<std::string> de = {"ein Hund läuft",      "zwei Katzen schlafen",   "der Mann liest ein Buch",
                                         "eine Frau fährt Rad", "Kinder spielen im Park", "das Haus ist groß"};
    const std::vector<std::string> en = {"a dog runs",           "two cats sleep",            "the man reads a book",
                                         "a woman rides a bike", "children play in the park", "the house is big"};
    std::vector<std::string> train_de, train_en, valid_de;
    for (size_t i = 0; i < 120; ++i) {
      train_de.push_back(de[i % 6] + " " + std::to_string(i % 7));
      train_en.push_back(en[i % 6] + " " + std::to_string(i % 7));
    }
    for (size_t i = 0; i < 8; ++i) {
      valid_de.push_back(de[i % 6] + " " + std::to_string(i % 7));
      valid_en.push_back(en[i % 6] + " " + std::to_string(i % 7));
    }
    write_lines(dir / "corpus/train.de", train_de);
    write_lines(dir / "corpus/train.en", train_en);
    write_lines(dir / "corpus/valid.de", valid_de);
    write_lines(dir / "corpus/valid.en", valid_en);
    config.kind = DataKind::parallel;
    config.dir = (dir / "corpus").string();
    config.vocab_size = 60;
    config.max_tokens = 40;
    prepare_data(config, 1, 1, (dir / "data").string());
  }
};

TEST(TranslationTask, EncodesWithTheEndSymbolAndFormatsText) {
  const Prepared p;
  const auto task = task_for_training(p.config, (p.dir / "data").string(), "c.yaml");
  const Vocabulary spm(vocab_path((p.dir / "data").string()));
  EXPECT_STREQ(task->name(), "translation");
  EXPECT_EQ(task->vocab().src_size, 60);
  EXPECT_EQ(task->vocab().pad_id, kPadId);
  EXPECT_EQ(task->vocab_hash(), spm.hash_hex());
  EXPECT_EQ(task->vocab_description(),
            "SentencePiece model '" + spm.path() + "' (60 pieces, hash " + spm.hash_hex() + ")");
  EXPECT_EQ(task->start_id(), kBosId);
  EXPECT_EQ(task->end_id(), kEosId);
  std::vector<int64_t> ids = task->encode("a dog runs 3", 1);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.back(), kEosId);
  const std::vector<int32_t> pieces = spm.encode("a dog runs 3");
  ids.pop_back();
  EXPECT_EQ(ids, std::vector<int64_t>(pieces.begin(), pieces.end()));
  EXPECT_EQ(task->format(ids), "a dog runs 3");
  EXPECT_TRUE(task->encode("", 2).empty());
  EXPECT_EQ(error_of([&] { task->encode("a \xff dog", 7); }), "input line 7: invalid UTF-8 at byte 3; expected UTF-8 text");
}

TEST(TranslationTask, OpensTrainingBatchesAndTheValidSetWithItsReferences) {
  const Prepared p;
  const auto task = task_for_training(p.config, (p.dir / "data").string(), "c.yaml");
  TrainingData data = task->open_training(/*seed=*/1, /*pin_memory=*/false);
  EXPECT_EQ(data.summary.rfind("train: 120 pairs in ", 0), 0u) << data.summary;
  EXPECT_NE(data.summary.find("; valid: 8 pairs"), std::string::npos) << data.summary;
  EXPECT_FALSE(data.held_out.src.defined());
  EXPECT_EQ(data.valid.examples, 8);
  ASSERT_GT(data.valid.batches.size(), 1u);  // max_tokens 40 splits the valid set
  int64_t rows = 0;
  for (const Batch& b : data.valid.batches) rows += b.src.size(0);
  EXPECT_EQ(rows, 8);
  // One reference a row, in batch order: every valid target exactly once.
  std::vector<std::string> refs = data.valid.references;
  std::vector<std::string> expected = p.valid_en;
  std::sort(refs.begin(), refs.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(refs, expected);
  const Batch first = data.stream->next();
  EXPECT_EQ(first.epoch, 0);
  EXPECT_EQ(first.tgt_in.select(1, 0).eq(kBosId).all().item<bool>(), true);
}

TEST(TranslationTask, RefusesARunWithoutPreparedDataAndTrainingWhenOpenedForDecoding) {
  const fs::path empty = fs::path(::testing::TempDir()) / "tmt_task_unprepared";
  fs::create_directories(empty);
  DataConfig config;
  config.kind = DataKind::parallel;
  config.dir = "corpus";
  EXPECT_EQ(error_of([&] { task_for_training(config, empty.string(), "c.yaml"); }),
            "no prepared data in '" + empty.string() + "': run `tmt prepare -c c.yaml` with the same --run-dir first");
  const Prepared p;
  const auto task = task_for_decoding(p.config, vocab_path((p.dir / "data").string()));
  EXPECT_EQ(error_of<std::logic_error>([&] { task->open_training(1, false); }),
            "TranslationTask::open_training: opened for decoding only");
}

}  // namespace
}  // namespace tmt
