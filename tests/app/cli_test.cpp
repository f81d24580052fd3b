// The tmt binary as a user runs it: exit codes, error messages, and the copy task end to end.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "model/checkpoint.h"
#include "model/cpu_runtime.h"
#include "model/torch_compat.h"
#include "tests/app/run_tmt.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;
using namespace tmt::tests;  // NOLINT: the helpers of run_tmt.h

TEST(Cli, VersionNamesLibTorchAndCuda) {
  const Result r = run_tmt(scratch("version"), "--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("LibTorch " + torch_version()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(cuda_available() ? "CUDA available" : "CUDA not available"), std::string::npos) << r.out;
}

// `env` arguments that take away a core the machine or the user has chosen (some machines set
// OPENBLAS_CORETYPE for every process), so that each test below sets up its own case.
const std::string kNoChosenCore = "-u OPENBLAS_CORETYPE -u TMT_OPENBLAS_CORETYPE ";

// OpenBLAS's generic fallback is simulated with TMT_OPENBLAS_PRETEND_CORE: tmt restarts itself
// with OPENBLAS_CORETYPE set where the CPU can do better, and says so.
TEST(Cli, GenericOpenblasCoreIsReplacedByARestart) {
  const BlasInfo info = blas_info();
  if (!info.openblas) GTEST_SKIP() << "LibTorch multiplies with another BLAS: " << info.describe();
  const std::string better = better_openblas_core("Prescott", cpu_features());
  const Result r = run_tmt(scratch("blas_restart"), "--version", "", kNoChosenCore + "TMT_OPENBLAS_PRETEND_CORE=Prescott");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (better.empty()) {
    EXPECT_NE(r.out.find("(detected)"), std::string::npos) << "no AVX2 here, nothing to replace: " << r.out;
  } else {
    EXPECT_NE(r.out.find("core " + better + " (set by tmt: OpenBLAS took this CPU for Prescott)"), std::string::npos)
        << r.out;
  }
}

TEST(Cli, UsersOpenblasCoretypeIsKept) {
  if (!blas_info().openblas) GTEST_SKIP() << "LibTorch multiplies with another BLAS";
  const Result r = run_tmt(scratch("blas_user"), "--version", "",
                           kNoChosenCore + "OPENBLAS_CORETYPE=Prescott TMT_OPENBLAS_PRETEND_CORE=Prescott");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("core Prescott (OPENBLAS_CORETYPE=Prescott)"), std::string::npos) << r.out;
  const Result kept = run_tmt(scratch("blas_keep"), "--version", "",
                              kNoChosenCore + "TMT_OPENBLAS_CORETYPE=keep TMT_OPENBLAS_PRETEND_CORE=Prescott");
  EXPECT_NE(kept.out.find("(detected)"), std::string::npos) << kept.out;
}

TEST(Cli, HelpExitsZero) {
  const Result r = run_tmt(scratch("help"), "train --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--run-dir"), std::string::npos) << r.out;
}

TEST(Cli, UnknownOptionIsAUsageError) {
  const Result r = run_tmt(scratch("badopt"), "train --no-such-option");
  EXPECT_EQ(r.exit_code, 2);
}

TEST(Cli, MissingConfigFileIsAUsageError) {
  const Result r = run_tmt(scratch("missing"), "train -c nowhere.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "tmt: [train] error: cannot read config file 'nowhere.yaml': No such file or directory\n");
  EXPECT_FALSE(fs::exists(scratch("missing") / "runs"));
}

TEST(Cli, MisspelledKeyNamesTheKeyAndCreatesNoRun) {
  const fs::path dir = scratch("badkey");
  std::ofstream(dir / "bad.yaml") << "model:\n  layers: 2\n  d_modle: 64\n";
  const Result r = run_tmt(dir, "train -c bad.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "tmt: [train] error: bad.yaml:3:3: unknown key 'model.d_modle' (did you mean 'd_model'?)\n");
  EXPECT_FALSE(fs::exists(dir / "runs"));
}

TEST(Cli, OutOfRangeOverrideIsAUsageError) {
  const Result r = run_tmt(scratch("range"), "train -c '" + kCopyConfig + "' --set model.dropout=1.5");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("model.dropout must be in [0, 1), got 1.5"), std::string::npos) << r.err;
}

TEST(Cli, MissingCheckpointIsAUsageError) {
  const Result r = run_tmt(scratch("nockpt"), "translate --checkpoint none.pt", "1 2 3\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "tmt: [decode] error: cannot read checkpoint 'none.pt': No such file or directory\n");
}

// Numbers on the command line are checked as config keys are: finite, in range, worded alike.
TEST(Cli, NumberOptionsAreRangeCheckedAndFinite) {
  const fs::path dir = scratch("numbers");
  const auto error = [&](const std::string& args) {
    const Result r = run_tmt(dir, args, "1 2\n");
    EXPECT_EQ(r.exit_code, 2) << args;
    return r.err;
  };
  EXPECT_EQ(error("translate --checkpoint none.pt --beam 0"), "tmt: [decode] error: --beam must be >= 1, got 0\n");
  EXPECT_EQ(error("translate --checkpoint none.pt --threads 0"), "tmt: [decode] error: --threads must be >= 1, got 0\n");
  EXPECT_EQ(error("translate --checkpoint none.pt --max-tokens 0"),
            "tmt: [decode] error: --max-tokens must be >= 1, got 0\n");
  EXPECT_EQ(error("translate --checkpoint none.pt --alpha nan"),
            "tmt: [decode] error: --alpha must be a finite number, got 'nan'\n");
  EXPECT_EQ(error("translate --checkpoint none.pt --alpha inf"),
            "tmt: [decode] error: --alpha must be a finite number, got 'inf'\n");
  EXPECT_EQ(error("translate --checkpoint none.pt --nbest 2x"),
            "tmt: [decode] error: --nbest must be an integer, got '2x'\n");
  EXPECT_EQ(error("average --last 0 run -o avg.pt"), "tmt: [train] error: --last must be >= 1, got 0\n");
}

// Every file a command reads: a directory or a missing file gets one message and exit 2.
TEST(Cli, EveryFileArgumentIsCheckedAlike) {
  const fs::path dir = scratch("file_arguments");
  fs::create_directories(dir / "adir");
  std::ofstream(dir / "ref.txt") << "a b c\n";
  const auto error = [&](const std::string& args) {
    const Result r = run_tmt(dir, args, "a b c\n");
    EXPECT_EQ(r.exit_code, 2) << args;
    return r.err;
  };
  EXPECT_EQ(error("train -c adir"), "tmt: [train] error: cannot read config file 'adir': Is a directory\n");
  EXPECT_EQ(error("translate --checkpoint adir"), "tmt: [decode] error: cannot read checkpoint 'adir': Is a directory\n");
  EXPECT_EQ(error("average adir -o avg.pt"), "tmt: [train] error: cannot read checkpoint 'adir': Is a directory\n");
  EXPECT_EQ(error("bleu adir"), "tmt: [decode] error: cannot read reference 'adir': Is a directory\n");
  EXPECT_EQ(error("bleu ref.txt -i adir"), "tmt: [decode] error: cannot read hypothesis 'adir': Is a directory\n");
  EXPECT_EQ(error("bleu ref.txt -i none.txt"),
            "tmt: [decode] error: cannot read hypothesis 'none.txt': No such file or directory\n");
  ASSERT_EQ(run_tmt(dir, "train -c '" + kCopyConfig + "' --run-dir run --set train.max_updates=1").exit_code, 0);
  EXPECT_EQ(error("translate --checkpoint run/checkpoint_last.pt -i adir"),
            "tmt: [decode] error: cannot read input file 'adir': Is a directory\n");
  EXPECT_FALSE(fs::exists(dir / "avg.pt"));
}

// The copy task, scaled down to run in seconds: train through the CLI, then the translations
// of held-out sequences are the sequences themselves.
TEST(Cli, CopyTaskTrainsAndCopiesExactly) {
  const fs::path dir = scratch("copy");
  const Result train = run_tmt(dir, "train -c '" + kCopyConfig + "' --run-dir run"
                                    " --set model.d_model=64 --set model.d_ff=128 --set model.dropout=0"
                                    " --set train.max_updates=500 --set train.warmup_updates=200"
                                    " --set train.lr_factor=0.5");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  EXPECT_TRUE(fs::exists(dir / "run" / "checkpoint_last.pt"));
  EXPECT_TRUE(fs::exists(dir / "run" / "config.yaml"));
  const std::string log = slurp(dir / "run" / "train.log");
  EXPECT_NE(log.find("update 500 |"), std::string::npos);
  EXPECT_NE(log.find("[train] copy check: "), std::string::npos) << log;
  EXPECT_NE(log.find("/100 held-out sequences decoded exactly (greedy)"), std::string::npos) << log;

  const std::string input = "1 2 3 4 5 6 7 8 9 10\n1 10 9 8 7 6 5 4 3 2\n\n1 5 5 5 2 2 2 7 7 7\n1 3 1 3 1 3 1 3 1 3\n";
  const Result out = run_tmt(dir, "translate --checkpoint run/checkpoint_last.pt", input);
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(out.out, input);

  const Result bad = run_tmt(dir, "translate --checkpoint run/checkpoint_last.pt", "1 2 x\n");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err.substr(bad.err.find("tmt:")),
            "tmt: [decode] error: input line 1: 'x' is not a token id (the copy task reads space-separated integers)\n");
}

// --device cpu gives the same output as the default; a device that is not there is refused.
TEST(Cli, TranslateDeviceOption) {
  const fs::path dir = scratch("translate_device");
  const Result train = run_tmt(dir, "train -c '" + kCopyConfig + "' --run-dir run --set train.max_updates=2");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const std::string input = "1 2 3 4\n1 5 6\n";
  const Result automatic = run_tmt(dir, "translate --checkpoint run/checkpoint_last.pt", input);
  const Result cpu = run_tmt(dir, "translate --checkpoint run/checkpoint_last.pt --device cpu", input);
  ASSERT_EQ(automatic.exit_code, 0) << automatic.err;
  ASSERT_EQ(cpu.exit_code, 0) << cpu.err;
  EXPECT_NE(cpu.err.find("device cpu"), std::string::npos) << cpu.err;
  if (!cuda_available()) EXPECT_EQ(automatic.out, cpu.out);

  const Result wrong = run_tmt(dir, "translate --checkpoint run/checkpoint_last.pt --device tpu", input);
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.err.find("device must be auto, cpu, cuda or cuda:N, got 'tpu'"), std::string::npos) << wrong.err;
  if (!cuda_available()) {
    const Result missing = run_tmt(dir, "translate --checkpoint run/checkpoint_last.pt --device cuda", input);
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_NE(missing.err.find("sees no CUDA device"), std::string::npos) << missing.err;
  }
}

TEST(Cli, TinyCorpusPreparesAndTrains) {
  const fs::path dir = tiny_corpus_dir("corpus");
  const Result prep = run_tmt(dir, "prepare -c tiny.yaml --run-dir run");
  ASSERT_EQ(prep.exit_code, 0) << prep.err;
  for (const char* f : {"spm.model", "train.bin", "valid.bin"}) EXPECT_TRUE(fs::exists(dir / "run/data" / f)) << f;
  const Result train = run_tmt(dir, "train -c tiny.yaml --run-dir run");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const std::string log = slurp(dir / "run/train.log");
  EXPECT_NE(log.find("valid | update 3 |"), std::string::npos) << log;
  EXPECT_NE(log.find("valid | update 6 |"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(dir / "run/checkpoint_last.pt"));
  // The CPU engine is logged; training restarts itself with glibc's allocator tuned unless the
  // user chose GLIBC_TUNABLES.
  EXPECT_NE(log.find("[train] CPU: LibTorch " + torch_version()), std::string::npos) << log;
  if (std::getenv("GLIBC_TUNABLES") == nullptr) {
    EXPECT_NE(log.find(std::string("malloc: GLIBC_TUNABLES=") + kTrainingMallocTunables + " (set by tmt)"),
              std::string::npos)
        << log;
  }
}

// With OpenBLAS, training and decoding restart with OMP_WAIT_POLICY=PASSIVE, so that more intra-op
// threads than one do not spin on the cores OpenBLAS's threads need; a policy the user set stands.
TEST(Cli, PassiveWaitPolicyUnlessTheUserChoseOne) {
  if (!blas_info().openblas) GTEST_SKIP() << "LibTorch multiplies with another BLAS: no wait policy is set";
  const fs::path dir = tiny_corpus_dir("wait_policy");
  const std::string unset = "-u OMP_WAIT_POLICY -u TMT_WAIT_POLICY_SET ";
  const auto train_log = [&](const std::string& run, const std::string& env) {
    EXPECT_EQ(run_tmt(dir, "prepare -c tiny.yaml --run-dir " + run).exit_code, 0);
    const Result r =
        run_tmt(dir, "train -c tiny.yaml --run-dir " + run + " --set train.max_updates=1 --set train.threads=2", "", env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return slurp(dir / run / "train.log");
  };
  const std::string tuned = train_log("tuned", unset);
  EXPECT_NE(tuned.find("[train] CPU: LibTorch " + torch_version() +
                       ", 2 intra-op threads (OMP_WAIT_POLICY=PASSIVE, set by tmt); BLAS: "),
            std::string::npos)
      << tuned;
  const std::string users = train_log("users", unset + "OMP_WAIT_POLICY=active");
  EXPECT_NE(users.find(", 2 intra-op threads (OMP_WAIT_POLICY=active); BLAS: "), std::string::npos) << users;

  // Decoding too, with one thread per CPU unless --threads says otherwise; the count does not
  // change the translations.
  const std::string translate = "translate --checkpoint tuned/checkpoint_last.pt --device cpu -i corpus/valid.de";
  const Result all = run_tmt(dir, translate, "", unset);
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const int cpus = available_cpus();
  EXPECT_NE(all.err.find("; CPU: LibTorch " + torch_version() + ", " + std::to_string(cpus) + " intra-op thread" +
                         (cpus == 1 ? "" : "s") + " (OMP_WAIT_POLICY=PASSIVE, set by tmt); BLAS: "),
            std::string::npos)
      << all.err;
  const Result one = run_tmt(dir, translate + " --threads 1", "", unset);
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.err.find(", 1 intra-op thread (OMP_WAIT_POLICY=PASSIVE, set by tmt); BLAS: "), std::string::npos)
      << one.err;
  EXPECT_EQ(one.out, all.out);
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), 8);
  // Spinning OpenMP threads the user asked for: LibTorch's own count stands.
  const Result spinning = run_tmt(dir, translate, "", unset + "OMP_WAIT_POLICY=active");
  ASSERT_EQ(spinning.exit_code, 0) << spinning.err;
  EXPECT_NE(spinning.err.find(", " + std::to_string(torch::get_num_threads()) + " intra-op thread"), std::string::npos)
      << spinning.err;
  EXPECT_NE(spinning.err.find(" (OMP_WAIT_POLICY=active); BLAS: "), std::string::npos) << spinning.err;
}

TEST(Cli, TrainingWithoutPreparedDataSaysWhatToRun) {
  const fs::path dir = tiny_corpus_dir("unprepared");
  const Result r = run_tmt(dir, "train -c tiny.yaml --run-dir run");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("tmt: [train] error: no prepared data in 'run/data': run `tmt prepare -c tiny.yaml` with the "
                       "same --run-dir first"),
            std::string::npos)
      << r.err;
}

TEST(Cli, DataOfAnotherVocabularyIsRefused) {
  const fs::path dir = tiny_corpus_dir("mismatch");
  ASSERT_EQ(run_tmt(dir, "prepare -c tiny.yaml --run-dir a").exit_code, 0);
  ASSERT_EQ(run_tmt(dir, "prepare -c tiny.yaml --run-dir b --set data.vocab_size=44").exit_code, 0);
  fs::copy_file(dir / "b/data/train.bin", dir / "a/data/train.bin", fs::copy_options::overwrite_existing);
  const Result r = run_tmt(dir, "train -c tiny.yaml --run-dir a");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("corpus 'a/data/train.bin' was binarised with a SentencePiece model of hash"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("but 'a/data/spm.model' has hash"), std::string::npos) << r.err;
}

TEST(Cli, AverageTakesTheElementwiseMeanOfTheLastCheckpoints) {
  const fs::path dir = tiny_corpus_dir("average");
  ASSERT_EQ(run_tmt(dir, "prepare -c tiny.yaml --run-dir run").exit_code, 0);
  const Result train = run_tmt(dir, "train -c tiny.yaml --run-dir run --set train.save_every=2");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  for (const char* f : {"checkpoint_2.pt", "checkpoint_4.pt", "checkpoint_6.pt"}) EXPECT_TRUE(fs::exists(dir / "run" / f)) << f;

  const Result avg = run_tmt(dir, "average -o avg.pt --last 2 run");
  ASSERT_EQ(avg.exit_code, 0) << avg.err;
  const NamedTensors a = read_checkpoint((dir / "run/checkpoint_4.pt").string()).model;
  const NamedTensors b = read_checkpoint((dir / "run/checkpoint_6.pt").string()).model;
  const NamedTensors mean = read_checkpoint((dir / "avg.pt").string()).model;
  ASSERT_EQ(mean.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(mean[i].first, a[i].first);
    EXPECT_TRUE(torch::allclose(mean[i].second, (a[i].second + b[i].second) / 2, 1e-6, 1e-7)) << a[i].first;
  }
  EXPECT_EQ(read_checkpoint((dir / "avg.pt").string()).header.config_yaml,
            read_checkpoint((dir / "run/checkpoint_6.pt").string()).header.config_yaml);

  const Result explicit_list = run_tmt(dir, "average -o avg2.pt run/checkpoint_2.pt run/checkpoint_4.pt run/checkpoint_6.pt");
  EXPECT_EQ(explicit_list.exit_code, 0) << explicit_list.err;
  const Result too_many = run_tmt(dir, "average -o x.pt --last 5 run");
  EXPECT_EQ(too_many.exit_code, 2);
  EXPECT_NE(too_many.err.find("--last 5 needs 5 checkpoint_<update>.pt files in 'run', found 3"), std::string::npos)
      << too_many.err;
}

TEST(Cli, AverageRefusesDifferentArchitectures) {
  const fs::path dir = tiny_corpus_dir("average_mismatch");
  ASSERT_EQ(run_tmt(dir, "prepare -c tiny.yaml --run-dir run").exit_code, 0);
  ASSERT_EQ(run_tmt(dir, "train -c tiny.yaml --run-dir run").exit_code, 0);
  ASSERT_EQ(run_tmt(dir, "prepare -c tiny.yaml --run-dir wide").exit_code, 0);
  ASSERT_EQ(run_tmt(dir, "train -c tiny.yaml --run-dir wide --set model.heads=4").exit_code, 0);
  const Result r = run_tmt(dir, "average -o x.pt run/checkpoint_last.pt wide/checkpoint_last.pt");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot average 'wide/checkpoint_last.pt' (layers 1, d_model 32, d_ff 64, heads 4, shared "
                       "embeddings, post-norm, 64 positions, vocabulary 40/40, pad 0) with 'run/checkpoint_last.pt' "
                       "(layers 1, d_model 32, d_ff 64, heads 2,"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir / "x.pt"));
}

TEST(Cli, BleuScoresFromStdinAndRefusesMisalignedFiles) {
  const fs::path dir = scratch("bleu");
  std::ofstream(dir / "ref.txt") << "a b x d\nthe cat sat on a mat\n";
  const Result r = run_tmt(dir, "bleu ref.txt --metrics bleu,chrf", "a b c d\nthe cat sat on the mat\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "  BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.4.2 = 42.7 80.0/50.0/33.3/25.0 "
            "(BP = 1.000 ratio = 1.000 hyp_len = 10 ref_len = 10)\n"
            "chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.4.2 = 67.7\n");
  const Result lc = run_tmt(dir, "bleu ref.txt --tok none --lc", "A B X D\nTHE CAT SAT ON A MAT\n");
  ASSERT_EQ(lc.exit_code, 0) << lc.err;
  EXPECT_EQ(lc.out.rfind("BLEU|nrefs:1|case:lc|eff:no|tok:none|smooth:exp|version:2.4.2 = 100.0 ", 0), 0u) << lc.out;
  const Result short_hyp = run_tmt(dir, "bleu ref.txt", "a b c d\n");
  EXPECT_EQ(short_hyp.exit_code, 2);
  EXPECT_NE(short_hyp.err.find("tmt: [decode] error: "), std::string::npos) << short_hyp.err;
  EXPECT_EQ(short_hyp.out, "");
  EXPECT_EQ(run_tmt(dir, "bleu ref.txt --tokenize moses", "x\n").exit_code, 2);
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Cli, TranslateKeepsOrderAndEmptyLinesAndMatchesSentenceBySentence) {
  const fs::path dir = tiny_corpus_dir("translate");
  ASSERT_EQ(run_tmt(dir, "prepare -c tiny.yaml --run-dir run").exit_code, 0);
  ASSERT_EQ(run_tmt(dir, "train -c tiny.yaml --run-dir run --set train.max_updates=20").exit_code, 0);
  const std::vector<std::string> inputs = {"zwei Katzen schlafen 1", "", "ein Hund läuft 3", "der Mann liest 2"};
  std::string all;
  for (const auto& l : inputs) all += l + "\n";
  const Result batch = run_tmt(dir, "translate --checkpoint run/checkpoint_last.pt --beam 3 --set decode.max_len_b=8", all);
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  const std::vector<std::string> out = split_lines(batch.out);
  ASSERT_EQ(out.size(), inputs.size());
  EXPECT_EQ(out[1], "");
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Result alone = run_tmt(dir, "translate --checkpoint run/checkpoint_last.pt --beam 3 --set decode.max_len_b=8",
                                 inputs[i] + "\n");
    ASSERT_EQ(alone.exit_code, 0) << alone.err;
    EXPECT_EQ(alone.out, out[i] + "\n") << "line " << i;
  }

  const Result nbest = run_tmt(dir, "translate --checkpoint run/checkpoint_last.pt --beam 3 --nbest 2 --set decode.max_len_b=8",
                               "ein Hund läuft 3\n");
  ASSERT_EQ(nbest.exit_code, 0) << nbest.err;
  const std::vector<std::string> hyps = split_lines(nbest.out);
  ASSERT_EQ(hyps.size(), 2u) << nbest.out;
  EXPECT_EQ(hyps[0].rfind("0 ||| ", 0), 0u) << hyps[0];
  EXPECT_EQ(hyps[0].substr(6, hyps[0].rfind(" ||| ") - 6), out[2]);  // the best equals the 1-best output
  const double s0 = std::stod(hyps[0].substr(hyps[0].rfind("||| ") + 4));
  const double s1 = std::stod(hyps[1].substr(hyps[1].rfind("||| ") + 4));
  EXPECT_GE(s0, s1);
}

TEST(Cli, TranslateRefusesAnotherSentencePieceModelAndOverlongInputWhenAsked) {
  const fs::path dir = tiny_corpus_dir("translate_refuse");
  ASSERT_EQ(run_tmt(dir, "prepare -c tiny.yaml --run-dir run").exit_code, 0);
  ASSERT_EQ(run_tmt(dir, "train -c tiny.yaml --run-dir run --set train.max_updates=2").exit_code, 0);
  ASSERT_EQ(run_tmt(dir, "prepare -c tiny.yaml --run-dir other --set data.vocab_size=44").exit_code, 0);
  const Result r = run_tmt(dir, "translate --checkpoint run/checkpoint_last.pt --vocab other/data/spm.model", "a\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("SentencePiece model 'other/data/spm.model' (44 pieces, hash "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is not the one checkpoint 'run/checkpoint_last.pt' was trained with (40 pieces, hash "),
            std::string::npos)
      << r.err;

  std::string longest;
  for (int i = 0; i < 80; ++i) longest += "Hund ";
  const Result refused = run_tmt(dir, "translate --checkpoint run/checkpoint_last.pt --set decode.truncate_long=false",
                                 "kurz\n" + longest + "\n");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("input line 2 has "), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("over model.max_positions 64 (set decode.truncate_long: true to truncate)"), std::string::npos)
      << refused.err;
  const Result truncated = run_tmt(dir, "translate --checkpoint run/checkpoint_last.pt --set decode.max_len_b=4",
                                   "kurz\n" + longest + "\n");
  EXPECT_EQ(truncated.exit_code, 0) << truncated.err;
  EXPECT_NE(truncated.err.find("input line 2 has "), std::string::npos);
  EXPECT_NE(truncated.err.find("truncated to the model's 64"), std::string::npos) << truncated.err;
  EXPECT_EQ(split_lines(truncated.out).size(), 2u);
}

// A test binary carried to another machine (scripts/gpu_suite.sh) runs the tmt and reads the
// configs that $TMT_TEST_BINARY and $TMT_TEST_SOURCE_DIR name, not those compiled in: shown by
// running one of these tests again in a child process, first against a stand-in tmt that only
// prints its arguments (the test fails and says what was run), then against a copy of tmt and
// of the config elsewhere (the test passes).
TEST(RunTmt, TheEnvironmentNamesTheBinaryAndTheSourceTree) {
  const fs::path dir = scratch("carried");
  fs::create_directories(dir / "src" / "configs");
  fs::copy_file(kCopyConfig, dir / "src" / "configs" / "copy_task.yaml");
  std::ofstream(dir / "stand_in") << "#!/bin/sh\necho \"stand-in tmt $*\" >&2\nexit 2\n";
  fs::permissions(dir / "stand_in", fs::perms::owner_exec, fs::perm_options::add);
  fs::copy_file(tmt_binary(), dir / "tmt");
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const auto child = [&](const std::string& binary) {
    fs::remove_all(dir / "tmp");
    fs::create_directories(dir / "tmp");
    return run_command(dir, "env TEST_TMPDIR='" + (dir / "tmp").string() + "/' TMT_TEST_BINARY='" + binary +
                                "' TMT_TEST_SOURCE_DIR='" + (dir / "src").string() + "' '" + self +
                                "' --gtest_filter=Cli.OutOfRangeOverrideIsAUsageError");
  };
  Result r = child((dir / "stand_in").string());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("stand-in tmt train -c " + (dir / "src" / "configs" / "copy_task.yaml").string() +
                       " --set model.dropout=1.5\n"),
            std::string::npos)
      << r.out;
  r = child((dir / "tmt").string());
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

}  // namespace
}  // namespace tmt
