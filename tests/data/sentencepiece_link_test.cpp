// SentencePiece, built from source as a static library with hidden symbols, trains and encodes
// inside a process that also runs LibTorch (Debian's shared libsentencepiece would crash it in
// static initialisation through the two protobuf versions).

#include <gtest/gtest.h>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

TEST(SentencePieceLink, TrainsEncodesAndDecodesNextToLibTorch) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "tmt_spm_link";
  std::filesystem::create_directories(dir);
  {
    std::ofstream corpus(dir / "corpus.txt");
    const char* lines[] = {"a man is riding a horse", "two dogs play in the snow",
                           "ein Mann reitet ein Pferd", "zwei Hunde spielen im Schnee",
                           "a woman is reading a book", "eine Frau liest ein Buch"};
    for (int i = 0; i < 50; ++i) corpus << lines[i % 6] << '\n';
  }
  const auto status = sentencepiece::SentencePieceTrainer::Train(
      "--input=" + (dir / "corpus.txt").string() + " --model_prefix=" + (dir / "spm").string() +
      " --vocab_size=60 --model_type=bpe --minloglevel=2");
  ASSERT_TRUE(status.ok()) << status.ToString();

  sentencepiece::SentencePieceProcessor sp;
  ASSERT_TRUE(sp.Load((dir / "spm.model").string()).ok());
  EXPECT_EQ(sp.GetPieceSize(), 60);
  std::vector<int> ids;
  ASSERT_TRUE(sp.Encode("zwei Hunde spielen", &ids).ok());
  std::string text;
  ASSERT_TRUE(sp.Decode(ids, &text).ok());
  EXPECT_EQ(text, "zwei Hunde spielen");

  torch::Tensor t = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()));
  EXPECT_EQ(t.numel(), static_cast<int64_t>(ids.size()));
}

}  // namespace
