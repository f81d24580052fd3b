// The joint SentencePiece vocabulary: fixed special ids, lossless round trips, deterministic
// training, the model hash, and the documented errors.

#include "data/vocabulary.h"

#include <gtest/gtest.h>
#include <sentencepiece_processor.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/test_support.h"

namespace {

namespace fs = std::filesystem;

fs::path temp_dir() {
  const fs::path dir = fs::path(::testing::TempDir()) / "tmt_vocabulary_test";
  fs::create_directories(dir);
  return dir;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A few hundred German and English sentences built from small phrase tables, with umlauts,
// ß and punctuation in both directions.
std::vector<std::string> bilingual_corpus() {
  const std::vector<std::string> de_subjects = {"Der Bär", "Die Möwe", "Ein Mädchen", "Der Fußballspieler",
                                                "Eine ältere Frau", "Zwei Jungen", "Der Bürger", "Die Ärztin",
                                                "Der Übersetzer"};
  const std::vector<std::string> de_verbs = {"läuft über", "schaut auf", "spielt an", "grüßt",
                                             "überquert", "fotografiert"};
  const std::vector<std::string> de_objects = {"die Straße.", "die Brücke!", "den großen Fluss?",
                                               "das Gebäude, oder?", "die Tür: schnell.",
                                               "den Ölfleck (rechts)."};
  const std::vector<std::string> en_subjects = {"The bear", "The seagull", "A girl", "The football player",
                                                "An older woman", "Two boys", "The citizen", "The doctor",
                                                "The translator"};
  const std::vector<std::string> en_verbs = {"runs across", "looks at", "plays at", "greets", "crosses",
                                             "photographs"};
  const std::vector<std::string> en_objects = {"the street.", "the bridge!", "the big river?",
                                               "the building, right?", "the door: quickly.",
                                               "the oil stain (right)."};
  std::vector<std::string> corpus;
  for (size_t s = 0; s < de_subjects.size(); ++s) {
    for (size_t v = 0; v < de_verbs.size(); ++v) {
      for (size_t o = 0; o < de_objects.size(); ++o) {
        corpus.push_back(de_subjects[s] + " " + de_verbs[v] + " " + de_objects[o]);
        corpus.push_back(en_subjects[s] + " " + en_verbs[v] + " " + en_objects[o]);
      }
    }
  }
  return corpus;  // 9 * 6 * 6 * 2 = 648 sentences
}

tmt::VocabularyOptions small_options() {
  tmt::VocabularyOptions options;
  options.vocab_size = 150;
  return options;
}

using tmt::tests::error_of;

class VocabularyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_path_ = new std::string((temp_dir() / "spm.model").string());
    tmt::train_vocabulary(bilingual_corpus(), small_options(), *model_path_);
  }
  static void TearDownTestSuite() {
    delete model_path_;
    model_path_ = nullptr;
  }
  static std::string* model_path_;
};
std::string* VocabularyTest::model_path_ = nullptr;

TEST_F(VocabularyTest, SpecialIdsAndPiecesAreFixed) {
  const tmt::Vocabulary vocab(*model_path_);
  EXPECT_EQ(vocab.size(), 150);
  EXPECT_EQ(vocab.path(), *model_path_);

  // Read back with SentencePiece itself: the ids are in the model, not only in our constants.
  sentencepiece::SentencePieceProcessor sp;
  ASSERT_TRUE(sp.Load(*model_path_).ok());
  EXPECT_EQ(sp.pad_id(), tmt::kPadId);
  EXPECT_EQ(sp.unk_id(), tmt::kUnkId);
  EXPECT_EQ(sp.bos_id(), tmt::kBosId);
  EXPECT_EQ(sp.eos_id(), tmt::kEosId);
  EXPECT_EQ(sp.IdToPiece(0), "<pad>");
  EXPECT_EQ(sp.IdToPiece(1), "<unk>");
  EXPECT_EQ(sp.IdToPiece(2), "<s>");
  EXPECT_EQ(sp.IdToPiece(3), "</s>");
}

TEST_F(VocabularyTest, RoundTripsUmlautsAndPunctuation) {
  const tmt::Vocabulary vocab(*model_path_);
  for (const std::string text :
       {"Der Bär läuft über die Straße.", "Eine ältere Frau grüßt die Möwe, oder?", "Two boys cross the big river!",
        "Die Ärztin: schnell.", "Der Übersetzer sieht den Ölfleck (rechts).", "ä ö ü ß Ä Ö Ü"}) {
    const std::vector<int32_t> ids = vocab.encode(text);
    ASSERT_FALSE(ids.empty());
    for (int32_t id : ids) {
      EXPECT_GE(id, 4) << text;  // no pad/bos/eos, and nothing unknown: every character was seen
      EXPECT_LT(id, vocab.size()) << text;
    }
    EXPECT_EQ(vocab.decode(ids), text);
  }
}

TEST_F(VocabularyTest, DecodeSkipsPadBosEos) {
  const tmt::Vocabulary vocab(*model_path_);
  const std::string text = "Der Bürger überquert die Brücke!";
  std::vector<int32_t> ids = vocab.encode(text);
  ids.insert(ids.begin(), static_cast<int32_t>(tmt::kBosId));
  ids.push_back(static_cast<int32_t>(tmt::kEosId));
  ids.push_back(static_cast<int32_t>(tmt::kPadId));
  ids.push_back(static_cast<int32_t>(tmt::kPadId));
  EXPECT_EQ(vocab.decode(ids), text);
  EXPECT_EQ(vocab.decode({}), "");
  EXPECT_EQ(vocab.encode(""), std::vector<int32_t>{});
}

TEST_F(VocabularyTest, UnseenCharacterIsUnknown) {
  const tmt::Vocabulary vocab(*model_path_);
  const std::vector<int32_t> ids = vocab.encode("日");
  EXPECT_NE(std::find(ids.begin(), ids.end(), static_cast<int32_t>(tmt::kUnkId)), ids.end());
}

TEST_F(VocabularyTest, DecodeRejectsIdsOutOfRange) {
  const tmt::Vocabulary vocab(*model_path_);
  EXPECT_EQ(error_of<std::invalid_argument>([&] { vocab.decode({5, 150}); }),
            "cannot decode id 150: expected an id in [0, 150) of SentencePiece model '" + *model_path_ + "'");
  EXPECT_EQ(error_of<std::invalid_argument>([&] { vocab.decode({-1}); }),
            "cannot decode id -1: expected an id in [0, 150) of SentencePiece model '" + *model_path_ + "'");
}

TEST_F(VocabularyTest, HashIsFnv1aOfTheFileBytes) {
  const tmt::Vocabulary vocab(*model_path_);
  EXPECT_EQ(vocab.hash(), tmt::fnv1a64(read_bytes(*model_path_)));
  char expected[17];
  std::snprintf(expected, sizeof(expected), "%016llx", static_cast<unsigned long long>(vocab.hash()));
  EXPECT_EQ(vocab.hash_hex(), expected);
  EXPECT_EQ(vocab.hash_hex().size(), 16u);
}

TEST_F(VocabularyTest, MoveKeepsTheModel) {
  tmt::Vocabulary a(*model_path_);
  const uint64_t hash = a.hash();
  tmt::Vocabulary b(std::move(a));
  EXPECT_EQ(b.hash(), hash);
  EXPECT_EQ(b.decode(b.encode("Die Möwe grüßt.")), "Die Möwe grüßt.");
}

TEST(Vocabulary, SameSeedGivesByteIdenticalModels) {
  const std::string a = (temp_dir() / "same_a.model").string();
  const std::string b = (temp_dir() / "same_b.model").string();
  tmt::train_vocabulary(bilingual_corpus(), small_options(), a);
  tmt::train_vocabulary(bilingual_corpus(), small_options(), b);
  EXPECT_EQ(read_bytes(a), read_bytes(b));
  EXPECT_EQ(tmt::Vocabulary(a).hash(), tmt::Vocabulary(b).hash());
}

// SentencePiece would skip an over-long sentence with a raw "LOG(WARNING)" line on stderr; tmt
// leaves it out itself, counts it, and the model is the one trained without it.
TEST(Vocabulary, OverlongSentencesAreCountedNotWarnedAbout) {
  const std::string a = (temp_dir() / "long_a.model").string();
  const std::string b = (temp_dir() / "long_b.model").string();
  std::vector<std::string> with_long = bilingual_corpus();
  with_long.push_back(std::string(tmt::kMaxVocabSentenceBytes + 1, 'x'));
  with_long.push_back(std::string(tmt::kMaxVocabSentenceBytes, 'y'));  // at the limit: kept
  std::vector<std::string> without = bilingual_corpus();
  without.push_back(with_long.back());
  testing::internal::CaptureStderr();
  const int64_t left_out = tmt::train_vocabulary(with_long, small_options(), a);
  const std::string stderr_text = testing::internal::GetCapturedStderr();
  EXPECT_EQ(left_out, 1);
  EXPECT_EQ(stderr_text, "");
  EXPECT_EQ(tmt::train_vocabulary(without, small_options(), b), 0);
  EXPECT_EQ(read_bytes(a), read_bytes(b));
}

TEST(Vocabulary, HashChangesWithTheModel) {
  const std::string a = (temp_dir() / "v150.model").string();
  const std::string b = (temp_dir() / "v120.model").string();
  tmt::VocabularyOptions options = small_options();
  tmt::train_vocabulary(bilingual_corpus(), options, a);
  options.vocab_size = 120;
  tmt::train_vocabulary(bilingual_corpus(), options, b);
  EXPECT_EQ(tmt::Vocabulary(b).size(), 120);
  EXPECT_NE(tmt::Vocabulary(a).hash(), tmt::Vocabulary(b).hash());
}

TEST(Vocabulary, SeedPicksTheSampledSentences) {
  tmt::VocabularyOptions options = small_options();
  options.input_sentence_size = 160;  // of 648
  const std::string a1 = (temp_dir() / "seed1_a.model").string();
  const std::string a2 = (temp_dir() / "seed1_b.model").string();
  const std::string b = (temp_dir() / "seed2.model").string();
  tmt::train_vocabulary(bilingual_corpus(), options, a1);
  tmt::train_vocabulary(bilingual_corpus(), options, a2);
  options.seed = 2;
  tmt::train_vocabulary(bilingual_corpus(), options, b);
  EXPECT_EQ(read_bytes(a1), read_bytes(a2));
  EXPECT_NE(read_bytes(a1), read_bytes(b));
}

TEST(Vocabulary, UnigramTrains) {
  tmt::VocabularyOptions options = small_options();
  options.model_type = "unigram";
  options.vocab_size = 100;  // unigram keeps fewer pieces than BPE on this corpus
  const std::string path = (temp_dir() / "unigram.model").string();
  tmt::train_vocabulary(bilingual_corpus(), options, path);
  const tmt::Vocabulary vocab(path);
  EXPECT_EQ(vocab.size(), 100);
  EXPECT_EQ(vocab.decode(vocab.encode("Zwei Jungen spielen an der Brücke.")), "Zwei Jungen spielen an der Brücke.");
}

TEST(Vocabulary, MissingModelError) {
  const std::string path = (temp_dir() / "missing.model").string();
  EXPECT_EQ(error_of<std::invalid_argument>([&] { tmt::Vocabulary v(path); }),
            "cannot read SentencePiece model '" + path + "': No such file or directory");
}

TEST(Vocabulary, NonModelFileError) {
  const std::string path = (temp_dir() / "not_a.model").string();
  std::ofstream(path) << "this is a text file, not a SentencePiece model\n";
  EXPECT_EQ(error_of<std::runtime_error>([&] { tmt::Vocabulary v(path); }),
            "cannot load SentencePiece model '" + path +
                "': not a valid SentencePiece model (check failed: "
                "model_proto->ParseFromArray(serialized.data(), serialized.size()))");
  const std::string empty = (temp_dir() / "empty.model").string();
  std::ofstream(empty).close();
  EXPECT_EQ(error_of<std::runtime_error>([&] { tmt::Vocabulary v(empty); }),
            "cannot load SentencePiece model '" + empty + "': the file is empty");
}

TEST(Vocabulary, VocabTooLargeForTheCorpusNamesTheModelAndTheLimit) {
  tmt::VocabularyOptions options = small_options();
  options.vocab_size = 50000;
  const std::string path = (temp_dir() / "too_large.model").string();
  EXPECT_EQ(error_of<std::runtime_error>([&] { tmt::train_vocabulary(bilingual_corpus(), options, path); }),
            "cannot train SentencePiece model '" + path +
                "' (bpe, vocab_size 50000): Vocabulary size too high (50000). Please set it to a value <= 644.");
  EXPECT_FALSE(fs::exists(path));  // nothing half-made is left behind
}

TEST(Vocabulary, RejectsBadOptions) {
  const std::string path = (temp_dir() / "bad.model").string();
  auto train = [&](tmt::VocabularyOptions options) {
    return error_of<std::invalid_argument>([&] { tmt::train_vocabulary(bilingual_corpus(), options, path); });
  };
  tmt::VocabularyOptions options = small_options();
  options.model_type = "wordpiece";
  EXPECT_EQ(train(options), "vocabulary: model_type must be \"bpe\" or \"unigram\", got \"wordpiece\"");
  options = small_options();
  options.vocab_size = 4;
  EXPECT_EQ(train(options), "vocabulary: vocab_size must be > 4 (the special pieces take ids 0..3), got 4");
  options = small_options();
  options.character_coverage = 0.5;
  EXPECT_EQ(train(options), "vocabulary: character_coverage must be in [0.98, 1] (SentencePiece's range), got 0.5");
  options = small_options();
  options.input_sentence_size = -1;
  EXPECT_EQ(train(options), "vocabulary: input_sentence_size must be >= 0 (0 = all sentences), got -1");
  options = small_options();
  options.threads = 0;
  EXPECT_EQ(train(options), "vocabulary: threads must be in [1, 128], got 0");
  EXPECT_EQ(error_of<std::invalid_argument>([&] { tmt::train_vocabulary({}, small_options(), path); }),
            "vocabulary: no sentences to train on");
}

TEST(Fnv1a64, KnownVectors) {
  EXPECT_EQ(tmt::fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(tmt::fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(tmt::fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

}  // namespace
