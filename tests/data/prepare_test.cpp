// tmt prepare on tiny corpora: what it writes, what it drops, and how it refuses bad input
// without writing anything.

#include "data/prepare.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/corpus.h"
#include "data/vocabulary.h"
#include "tests/test_support.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;

const char* const kDe[] = {"ein Hund läuft", "zwei Katzen schlafen", "der Mann liest ein Buch",
                           "eine Frau fährt Rad", "Kinder spielen im Park", "das Haus ist groß"};
const char* const kEn[] = {"a dog runs", "two cats sleep", "the man reads a book",
                           "a woman rides a bike", "children play in the park", "the house is big"};

std::vector<std::string> lines_of(const char* const* words, int n) {
  std::vector<std::string> lines;
  for (int i = 0; i < n; ++i) lines.push_back(std::string(words[i % 6]) + " " + std::to_string(i % 7));
  return lines;
}

void write_lines(const fs::path& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary);
  for (const auto& l : lines) out << l << '\n';
}

void write_gz_lines(const fs::path& path, const std::vector<std::string>& lines) {
  gzFile f = gzopen(path.c_str(), "wb");
  for (const auto& l : lines) gzprintf(f, "%s\n", l.c_str());
  gzclose(f);
}

// A corpus folder with train (gzip), valid and test (plain) splits.
fs::path make_corpus(const std::string& name, int train_lines = 120) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("tmt_prepare_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir / "corpus");
  write_gz_lines(dir / "corpus/train.de.gz", lines_of(kDe, train_lines));
  write_gz_lines(dir / "corpus/train.en.gz", lines_of(kEn, train_lines));
  write_lines(dir / "corpus/valid.de", lines_of(kDe, 12));
  write_lines(dir / "corpus/valid.en", lines_of(kEn, 12));
  write_lines(dir / "corpus/test.de", lines_of(kDe, 6));
  write_lines(dir / "corpus/test.en", lines_of(kEn, 6));
  return dir;
}

DataConfig config_for(const fs::path& dir) {
  DataConfig c;
  c.kind = DataKind::parallel;
  c.dir = (dir / "corpus").string();
  c.vocab_size = 60;
  c.test_prefixes = {"test"};
  return c;
}

std::string error_of(const DataConfig& c, const fs::path& out) {
  return tests::error_of([&] { prepare_data(c, 1, 1, out.string()); });
}

TEST(Prepare, WritesVocabularyAndEverySplit) {
  const fs::path dir = make_corpus("ok");
  const fs::path out = dir / "run/data";
  const PrepareReport r = prepare_data(config_for(dir), 1, 1, out.string());
  ASSERT_EQ(r.splits.size(), 3u);
  EXPECT_EQ(r.splits[0].name, "train");
  EXPECT_EQ(r.splits[0].kept, 120);
  EXPECT_EQ(r.splits[2].name, "test");
  EXPECT_EQ(r.vocab_size, 60);
  const Vocabulary vocab(vocab_path(out.string()));
  EXPECT_EQ(r.vocab_hash, vocab.hash_hex());
  for (const char* split : {"train", "valid", "test"}) {
    ParallelCorpus corpus(split_path(out.string(), split), vocab.size(), vocab.hash(), vocab.path());
    EXPECT_EQ(corpus.size(), std::string(split) == "train" ? 120 : std::string(split) == "valid" ? 12 : 6);
  }
  // The binarised ids decode back to the text.
  ParallelCorpus test(split_path(out.string(), "test"), vocab.size(), vocab.hash(), vocab.path());
  std::vector<int64_t> ids(test.tgt_length(3));
  test.copy_tgt(3, ids.data());
  EXPECT_EQ(vocab.decode(std::vector<int32_t>(ids.begin(), ids.end())), "a woman rides a bike 3");
}

TEST(Prepare, DropsAndCountsEmptyLongAndDisproportionatePairs) {
  const fs::path dir = make_corpus("filters");
  std::vector<std::string> de = lines_of(kDe, 120), en = lines_of(kEn, 120);
  de[0] = "";                                      // empty
  for (int i = 0; i < 60; ++i) en[1] += " a dog runs";  // over 100 pieces
  de[2] = "H";                                     // a piece or two against fifteen words: ratio over 3
  en[2] = "a dog runs a dog runs a dog runs a dog runs a dog runs";
  write_gz_lines(dir / "corpus/train.de.gz", de);
  write_gz_lines(dir / "corpus/train.en.gz", en);
  DataConfig c = config_for(dir);
  c.max_len = 100;
  c.max_ratio = 3.0;
  const PrepareReport r = prepare_data(c, 1, 1, (dir / "out").string());
  const SplitReport& t = r.splits[0];
  EXPECT_EQ(t.read, 120);
  EXPECT_EQ(t.empty, 1);
  EXPECT_EQ(t.too_long, 1);
  EXPECT_EQ(t.bad_ratio, 1);
  EXPECT_EQ(t.kept, 117);
}

TEST(Prepare, BlankTrainingSidesAreRefusedBeforeSentencePieceRuns) {
  const fs::path dir = make_corpus("blank");
  std::vector<std::string> blank(120, " ");
  blank[3] = "";
  write_gz_lines(dir / "corpus/train.de.gz", blank);
  const std::string corpus = (dir / "corpus").string();
  EXPECT_EQ(error_of(config_for(dir), dir / "out"),
            "no training pairs left after filtering '" + corpus + "/train.de.gz' and '" + corpus +
                "/train.en.gz' (120 read: 120 with a blank side, 0 not UTF-8)");
  EXPECT_FALSE(fs::exists(dir / "out"));
}

// A failure after SentencePiece has run leaves the data folder as it was: a folder holding
// spm.model is a prepared one, so no vocabulary may be left without its corpora.
TEST(Prepare, FiltersThatLeaveNothingWriteNothing) {
  const fs::path dir = make_corpus("filtered_out");
  DataConfig c = config_for(dir);
  c.max_len = 1;
  const std::string corpus = (dir / "corpus").string();
  EXPECT_EQ(error_of(c, dir / "out"),
            "no training pairs left after filtering '" + corpus + "/train.de.gz' and '" + corpus +
                "/train.en.gz' (120 read: 0 with an empty side, 120 over data.max_len 1, 0 over data.max_ratio 3, "
                "0 not UTF-8)");
  EXPECT_TRUE(fs::is_empty(dir / "out"));
  // And a second prepare into a prepared folder that fails keeps the first one whole.
  ASSERT_NO_THROW(prepare_data(config_for(dir), 1, 1, (dir / "out").string()));
  const std::string vocab = (dir / "out/spm.model").string();
  const auto written = fs::last_write_time(vocab);
  EXPECT_THROW(prepare_data(c, 2, 1, (dir / "out").string()), std::invalid_argument);
  EXPECT_EQ(fs::last_write_time(vocab), written);
  EXPECT_FALSE(fs::exists(dir / "out/.prepare.partial"));
}

TEST(Prepare, MismatchedLineCountsNameBothFilesAndWriteNothing) {
  const fs::path dir = make_corpus("mismatch");
  write_lines(dir / "corpus/valid.en", lines_of(kEn, 11));
  const fs::path out = dir / "out";
  EXPECT_EQ(error_of(config_for(dir), out),
            "'" + (dir / "corpus/valid.de").string() + "' has 12 lines but '" + (dir / "corpus/valid.en").string() +
                "' has 11: the two sides of a parallel corpus must align line by line");
  EXPECT_FALSE(fs::exists(out));
}

TEST(Prepare, InvalidUtf8FailsWithFileAndLineOrIsSkippedAndCounted) {
  const fs::path dir = make_corpus("utf8");
  std::vector<std::string> en = lines_of(kEn, 120);
  en[4] = "bad \xC3\x28 byte";
  en[9] = "\xFF";
  write_gz_lines(dir / "corpus/train.en.gz", en);
  const fs::path out = dir / "out";
  DataConfig c = config_for(dir);
  EXPECT_EQ(error_of(c, out), (dir / "corpus/train.en.gz").string() +
                                  ":5: not valid UTF-8 (2 such lines in the file; set data.skip_invalid: true "
                                  "to drop those pairs)");
  EXPECT_FALSE(fs::exists(out));
  c.skip_invalid = true;
  const PrepareReport r = prepare_data(c, 1, 1, out.string());
  EXPECT_EQ(r.splits[0].invalid_utf8, 2);
  EXPECT_EQ(r.splits[0].kept, 118);
}

TEST(Prepare, MissingAndEmptyFilesAreErrors) {
  const fs::path dir = make_corpus("missing");
  fs::remove(dir / "corpus/test.en");
  const std::string corpus = (dir / "corpus").string();
  EXPECT_EQ(error_of(config_for(dir), dir / "out"),
            "no corpus file for 'test.en' in data.dir '" + corpus + "': looked for '" + corpus + "/test.en' and '" +
                corpus + "/test.en.gz'");
  write_lines(dir / "corpus/test.en", {});
  EXPECT_EQ(error_of(config_for(dir), dir / "out"), "'" + corpus + "/test.en' is empty");
  EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(Prepare, PlainAndGzipFilesOfOneSideAreAnError) {
  const fs::path dir = make_corpus("both");
  write_lines(dir / "corpus/train.en", lines_of(kEn, 120));  // beside train.en.gz
  const std::string corpus = (dir / "corpus").string();
  EXPECT_EQ(error_of(config_for(dir), dir / "out"),
            "two corpus files for 'train.en' in data.dir '" + corpus + "': '" + corpus + "/train.en' and '" + corpus +
                "/train.en.gz'; remove or rename one");
  EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(Prepare, SameSeedSameVocabularyAndData) {
  const fs::path dir = make_corpus("seed");
  const PrepareReport a = prepare_data(config_for(dir), 5, 1, (dir / "a").string());
  const PrepareReport b = prepare_data(config_for(dir), 5, 1, (dir / "b").string());
  EXPECT_EQ(a.vocab_hash, b.vocab_hash);
  auto bytes = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(bytes(dir / "a/train.bin"), bytes(dir / "b/train.bin"));
}

}  // namespace
}  // namespace tmt
