// The binarised corpus format: round trip, and refusal of foreign, damaged and mismatched files.

#include "data/corpus.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/test_support.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) { return (fs::path(::testing::TempDir()) / name).string(); }

// Any exception: the corpus reader throws both kinds.
std::string error_of(const std::function<void()>& f) { return tests::error_of<std::exception>(f); }

const std::vector<std::vector<int32_t>> kSrc = {{5, 6, 7}, {}, {8}, {9, 10, 11, 12}};
const std::vector<std::vector<int32_t>> kTgt = {{20, 21}, {22}, {23, 24, 25}, {}};

std::vector<int64_t> src_of(const ParallelCorpus& c, int64_t i) {
  std::vector<int64_t> out(c.src_length(i));
  c.copy_src(i, out.data());
  return out;
}

std::vector<int64_t> tgt_of(const ParallelCorpus& c, int64_t i) {
  std::vector<int64_t> out(c.tgt_length(i));
  c.copy_tgt(i, out.data());
  return out;
}

TEST(Corpus, RoundTripsWithTwoAndFourByteTokens) {
  for (int64_t vocab : {int64_t{8000}, int64_t{70000}}) {
    const std::string path = temp_path("roundtrip_" + std::to_string(vocab) + ".bin");
    std::vector<std::vector<int32_t>> src = kSrc;
    src[0][0] = static_cast<int32_t>(vocab - 1);  // the largest id survives the narrow type
    write_corpus(path, src, kTgt, vocab, 0xabcdef);
    ParallelCorpus c(path, vocab, 0xabcdef, "spm.model");
    EXPECT_EQ(c.header().token_bytes, vocab <= 65536 ? 2u : 4u);
    ASSERT_EQ(c.size(), 4);
    EXPECT_EQ(c.header().src_tokens, 8);
    EXPECT_EQ(c.header().tgt_tokens, 6);
    for (int64_t i = 0; i < 4; ++i) {
      EXPECT_EQ(src_of(c, i), std::vector<int64_t>(src[i].begin(), src[i].end()));
      EXPECT_EQ(tgt_of(c, i), std::vector<int64_t>(kTgt[i].begin(), kTgt[i].end()));
    }
  }
}

TEST(Corpus, RefusesDataOfAnotherSentencePieceModel) {
  const std::string path = temp_path("hash.bin");
  write_corpus(path, kSrc, kTgt, 8000, 0x1111);
  EXPECT_EQ(error_of([&] { ParallelCorpus(path, 8000, 0x2222, "run/data/spm.model"); }),
            "corpus '" + path + "' was binarised with a SentencePiece model of hash 0000000000001111 (8000 pieces), "
            "but 'run/data/spm.model' has hash 0000000000002222 (8000 pieces): re-run tmt prepare");
}

TEST(Corpus, RefusesTruncatedAndForeignFiles) {
  const std::string path = temp_path("truncated.bin");
  write_corpus(path, kSrc, kTgt, 8000, 1);
  const auto size = fs::file_size(path);
  fs::resize_file(path, size - 2);
  EXPECT_EQ(error_of([&] { ParallelCorpus(path, 8000, 1, "spm.model"); }),
            "corpus '" + path + "' is truncated or corrupt: " + std::to_string(size - 2) +
                " bytes, its header describes " + std::to_string(size));

  const std::string foreign = temp_path("foreign.bin");
  std::ofstream(foreign) << std::string(100, 'x');
  EXPECT_EQ(error_of([&] { ParallelCorpus(foreign, 8000, 1, "spm.model"); }),
            "'" + foreign + "' is not a tmt corpus (no TMTCORP magic)");

  const std::string tiny = temp_path("tiny.bin");
  std::ofstream(tiny) << "TMT";
  EXPECT_EQ(error_of([&] { ParallelCorpus(tiny, 8000, 1, "spm.model"); }),
            "'" + tiny + "' is not a tmt corpus: 3 bytes, shorter than the header");
  EXPECT_NE(error_of([&] { ParallelCorpus(temp_path("missing.bin"), 8000, 1, "spm.model"); })
                .find("cannot open corpus"),
            std::string::npos);
}

// Counts so large that the expected size would overflow, and ids past the vocabulary, which
// would index past the embedding table.
TEST(Corpus, RefusesImpossibleCountsAndIdsOutsideTheVocabulary) {
  const std::string path = temp_path("huge_counts.bin");
  write_corpus(path, kSrc, kTgt, 8000, 1);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const int64_t huge = int64_t{1} << 62;
  std::string patched = bytes;
  std::memcpy(patched.data() + 40, &huge, sizeof huge);  // src_tokens
  std::ofstream(path, std::ios::binary | std::ios::trunc) << patched;
  EXPECT_EQ(error_of([&] { ParallelCorpus(path, 8000, 1, "spm.model"); })
                .rfind("corpus '" + path + "' is truncated or corrupt: ", 0),
            0u);

  const std::string ids = temp_path("ids.bin");
  write_corpus(ids, {{1, 2}}, {{3, 9000, 4}}, 8000, 1);
  EXPECT_EQ(error_of([&] { ParallelCorpus(ids, 8000, 1, "spm.model"); }),
            "corpus '" + ids + "' is corrupt: token 3 is outside the vocabulary of 8000 pieces");
}

TEST(Corpus, FailedWriteLeavesNoFile) {
  const std::string path = temp_path("no_such_dir/x.bin");
  EXPECT_THROW(write_corpus(path, kSrc, kTgt, 8000, 1), std::runtime_error);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_THROW(write_corpus(temp_path("mismatch.bin"), kSrc, {{1}}, 8000, 1), std::invalid_argument);
  EXPECT_FALSE(fs::exists(temp_path("mismatch.bin")));
}

}  // namespace
}  // namespace tmt
