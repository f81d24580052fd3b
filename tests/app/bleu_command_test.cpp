// `tmt bleu`: sacreBLEU's text and JSON output, and the errors for bad files.

#include "app/bleu_command.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "tests/app/run_tmt.h"
#include "tests/test_support.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;

using tests::error_of;
using tests::scratch;

void write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Runs bleu_command and returns what it printed.
std::string run_bleu(const BleuArgs& args) {
  std::ostringstream captured;
  std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
  try {
    bleu_command(args);
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
  std::cout.rdbuf(old);
  return captured.str();
}

TEST(BleuCommand, TextOutputAlignsMetricsLikeSacreBleu) {
  const fs::path dir = scratch("text");
  write(dir / "hyp.txt", "a b c d\nthe cat sat on the mat  \r\n");  // trailing whitespace is stripped
  write(dir / "ref.txt", "a b x d\nthe cat sat on a mat\n");
  BleuArgs args;
  args.refs = {(dir / "ref.txt").string()};
  args.input = (dir / "hyp.txt").string();
  args.metrics = {"chrf", "bleu"};  // printed in sacreBLEU's sorted order
  EXPECT_EQ(run_bleu(args),
            "  BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.4.2 = 42.7 80.0/50.0/33.3/25.0 "
            "(BP = 1.000 ratio = 1.000 hyp_len = 10 ref_len = 10)\n"
            "chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.4.2 = 67.7\n");
}

TEST(BleuCommand, JsonOutputHasSacreBleuFields) {
  const fs::path dir = scratch("json");
  write(dir / "hyp.txt", "a b c d\nthe cat sat on the mat\n");
  write(dir / "ref.txt", "a b x d\nthe cat sat on a mat\n");
  BleuArgs args;
  args.refs = {(dir / "ref.txt").string()};
  args.input = (dir / "hyp.txt").string();
  args.metrics = {"bleu", "chrf"};
  args.format = "json";
  // json.dumps(d, indent=1, ensure_ascii=False) of each Score; several make a list.
  const std::string bleu_json =
      "{\n \"name\": \"BLEU\",\n \"score\": 42.7,\n"
      " \"signature\": \"nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.4.2\",\n"
      " \"verbose_score\": \"80.0/50.0/33.3/25.0 (BP = 1.000 ratio = 1.000 hyp_len = 10 ref_len = 10)\",\n"
      " \"nrefs\": \"1\",\n \"case\": \"mixed\",\n \"eff\": \"no\",\n \"tok\": \"13a\",\n"
      " \"smooth\": \"exp\",\n \"version\": \"2.4.2\"\n}";
  const std::string chrf_json =
      "{\n \"name\": \"chrF2\",\n \"score\": 67.7,\n"
      " \"signature\": \"nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.4.2\",\n"
      " \"nrefs\": \"1\",\n \"case\": \"mixed\",\n \"eff\": \"yes\",\n \"nc\": \"6\",\n \"nw\": \"0\",\n"
      " \"space\": \"no\",\n \"version\": \"2.4.2\"\n}";
  EXPECT_EQ(run_bleu(args), "[\n" + bleu_json + ",\n" + chrf_json + "\n]\n");
  args.metrics = {"bleu"};
  EXPECT_EQ(run_bleu(args), bleu_json + "\n");
}

TEST(BleuCommand, MissingFilesAndBadInputAreReported) {
  const fs::path dir = scratch("errors");
  write(dir / "hyp.txt", "a\nb\n");
  write(dir / "ref.txt", "a\n");
  write(dir / "bad.txt", "ok\nbad \xff byte\n");
  BleuArgs args;
  args.refs = {(dir / "missing.txt").string()};
  args.input = (dir / "hyp.txt").string();
  EXPECT_EQ(error_of([&] { run_bleu(args); }),
            "cannot read reference '" + (dir / "missing.txt").string() + "': No such file or directory");
  args.refs = {(dir / "ref.txt").string()};
  EXPECT_EQ(error_of([&] { run_bleu(args); }),
            "hypothesis '" + (dir / "hyp.txt").string() + "' has 2 lines but reference '" +
                (dir / "ref.txt").string() + "' has 1; expected the same number of lines");
  args.input = (dir / "bad.txt").string();
  EXPECT_EQ(error_of([&] { run_bleu(args); }),
            "hypothesis '" + (dir / "bad.txt").string() + "' line 2: invalid UTF-8 at byte 5; expected UTF-8 text");
  args.input = (dir / "hyp.txt").string();
  args.metrics = {"ter"};
  EXPECT_EQ(error_of([&] { run_bleu(args); }), "unknown metric 'ter'; expected bleu or chrf");
}

}  // namespace
}  // namespace tmt
