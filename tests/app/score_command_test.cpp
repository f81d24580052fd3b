// `tmt score` and `tmt calibrate` on a model trained on the tiny corpus: the scores agree with
// the NLL validation logged for the same checkpoint, the report's figures agree with each other,
// and bad input is refused by name.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/app/run_tmt.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;
using namespace tmt::tests;  // NOLINT: the helpers of run_tmt.h
using nlohmann::json;

// A tiny corpus and a model trained on it for 6 updates (validation at 3 and 6).
fs::path trained(const std::string& name) {
  const fs::path dir = tiny_corpus_dir(name);
  EXPECT_EQ(run_tmt(dir, "prepare -c tiny.yaml --run-dir run").exit_code, 0);
  EXPECT_EQ(run_tmt(dir, "train -c tiny.yaml --run-dir run").exit_code, 0);
  return dir;
}

// The validation record of the last update in metrics.jsonl.
json last_validation(const fs::path& run) {
  json last;
  std::ifstream in(run / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const json j = json::parse(line);
    if (j["kind"] == "valid") last = j;
  }
  return last;
}

TEST(ScoreCommand, SumsToTheValidationNllOfTheSameCheckpoint) {
  const fs::path dir = trained("score");
  const Result r = run_tmt(dir, "score --checkpoint run/checkpoint_last.pt -s corpus/valid.de -t corpus/valid.en");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream out(r.out);
  double log_prob_sum = 0.0;
  int64_t tokens = 0;
  int lines = 0;
  for (std::string line; std::getline(out, line); ++lines) {
    double log_prob = 0.0, ppl = 0.0;
    int64_t n = 0;
    std::istringstream fields(line);
    ASSERT_TRUE(fields >> log_prob >> n >> ppl) << line;
    EXPECT_LT(log_prob, 0.0);
    EXPECT_NEAR(ppl, std::exp(-log_prob / static_cast<double>(n)), 1e-3 * ppl) << line;
    log_prob_sum += log_prob;
    tokens += n;
  }
  EXPECT_EQ(lines, 8);
  const json valid = last_validation(dir / "run");
  ASSERT_EQ(valid["update"], 6);
  // Validation averages the same teacher-forced NLL over the binarised valid split.
  EXPECT_NEAR(-log_prob_sum / static_cast<double>(tokens), valid["nll"].get<double>(), 1e-3);
  EXPECT_NE(r.err.find("[score] 8 pairs, 8 scored (0 with an empty side not), " + std::to_string(tokens) +
                       " target tokens"),
            std::string::npos)
      << r.err;

  // JSON lines, and an empty line on either side: reported, not scored, not an error.
  std::ofstream(dir / "src.txt") << "ein Hund läuft 1\n\nder Mann liest 2\n";
  std::ofstream(dir / "tgt.txt") << "a dog runs 1\ntwo cats sleep 0\n\n";
  const Result j = run_tmt(dir, "score --checkpoint run/checkpoint_last.pt -s src.txt -t tgt.txt -f jsonl");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  std::istringstream records(j.out);
  std::string first, second, third;
  std::getline(records, first);
  std::getline(records, second);
  std::getline(records, third);
  EXPECT_EQ(json::parse(first)["line"], 1);
  EXPECT_TRUE(json::parse(first)["log_prob"].is_number());
  EXPECT_EQ(json::parse(second).dump(), R"({"line":2,"log_prob":null,"ppl":null,"tokens":0})");
  EXPECT_TRUE(json::parse(third)["log_prob"].is_null());
}

TEST(ScoreCommand, RefusesMisalignedFilesAnotherVocabularyAndTheCopyTask) {
  const fs::path dir = trained("score_errors");
  std::ofstream(dir / "two.txt") << "a\nb\n";
  const Result mismatch = run_tmt(dir, "score --checkpoint run/checkpoint_last.pt -s corpus/valid.de -t two.txt");
  EXPECT_EQ(mismatch.exit_code, 2);
  EXPECT_NE(mismatch.err.find("source 'corpus/valid.de' has 8 lines but target 'two.txt' has 2; expected the same "
                              "number of lines"),
            std::string::npos)
      << mismatch.err;
  const Result format = run_tmt(dir, "score --checkpoint run/checkpoint_last.pt -s two.txt -t two.txt -f xml");
  EXPECT_EQ(format.exit_code, 2);
  EXPECT_NE(format.err.find("--format must be text or jsonl, got 'xml'"), std::string::npos) << format.err;
  const Result missing = run_tmt(dir, "score --checkpoint run/checkpoint_last.pt -s none.txt -t two.txt");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot read source 'none.txt': No such file or directory"), std::string::npos)
      << missing.err;
  // Another SentencePiece model: the one of a second run prepared with another vocabulary size.
  ASSERT_EQ(run_tmt(dir, "prepare -c tiny.yaml --run-dir other --set data.vocab_size=44").exit_code, 0);
  const Result vocab =
      run_tmt(dir, "score --checkpoint run/checkpoint_last.pt --vocab other/data/spm.model -s two.txt -t two.txt");
  EXPECT_EQ(vocab.exit_code, 2);
  EXPECT_NE(vocab.err.find("is not the one checkpoint 'run/checkpoint_last.pt' was trained with"), std::string::npos)
      << vocab.err;
  ASSERT_EQ(run_tmt(dir, "train -c '" + kCopyConfig + "' --run-dir copy --set train.max_updates=1").exit_code, 0);
  const Result copy = run_tmt(dir, "score --checkpoint copy/checkpoint_last.pt -s two.txt -t two.txt");
  EXPECT_EQ(copy.exit_code, 2);
  EXPECT_NE(copy.err.find("forced decoding needs a translation model; this one was trained on the copy task"),
            std::string::npos)
      << copy.err;
}

TEST(CalibrateCommand, ReportAgreesWithScoreAndFitsATemperature) {
  const fs::path dir = trained("calibrate");
  const Result r = run_tmt(dir,
                           "calibrate --checkpoint run/checkpoint_last.pt -s corpus/valid.de -t corpus/valid.en"
                           " --valid-source corpus/train.de --valid-target corpus/train.en --json report.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("teacher-forced, all"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("inference, beam 4"), std::string::npos) << r.out;
  const json report = json::parse(slurp(dir / "report.json"));
  const json& all = report["teacher_forced"]["all"];
  const json& eos = report["teacher_forced"]["eos"];
  EXPECT_EQ(report["bins"], 20);
  EXPECT_EQ(eos["tokens"], 8);  // one end symbol a pair
  int64_t binned = 0;
  for (const json& bin : all["bins"]) binned += bin["count"].get<int64_t>();
  EXPECT_EQ(binned, all["tokens"].get<int64_t>());
  EXPECT_EQ(all["bins"].size(), 20u);
  // The same NLL as validation logged for this checkpoint, and as tmt score gives.
  EXPECT_NEAR(all["nll"].get<double>(), last_validation(dir / "run")["nll"].get<double>(), 1e-3);
  EXPECT_GE(all["ece"].get<double>(), 0.0);
  EXPECT_GE(all["mce"].get<double>(), all["ece"].get<double>() - 1e-12);
  EXPECT_GT(report["inference"]["tokens"].get<int64_t>(), 0);
  const json& t = report["temperature"];
  EXPECT_GT(t["value"].get<double>(), 0.2);
  EXPECT_LE(t["valid_nll"].get<double>(), t["valid_nll_at_1"].get<double>() + 1e-9);
  EXPECT_EQ(t["teacher_forced"]["all"]["tokens"], all["tokens"]);

  const Result half = run_tmt(dir, "calibrate --checkpoint run/checkpoint_last.pt -s corpus/valid.de -t corpus/valid.en"
                                   " --valid-source corpus/train.de");
  EXPECT_EQ(half.exit_code, 2);
  EXPECT_NE(half.err.find("--valid-source and --valid-target go together"), std::string::npos) << half.err;
}

}  // namespace
}  // namespace tmt
