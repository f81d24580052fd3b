// scripts/plot_metrics.py as a user runs it on a run directory's metrics.jsonl.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "tests/app/run_tmt.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;
using namespace tmt::tests;  // NOLINT: the helpers of run_tmt.h

const std::string kScript = std::string(TMT_SOURCE_DIR) + "/scripts/plot_metrics.py";

// The first python3 that can import matplotlib: the one on PATH, else Debian's own (a pyenv or
// virtualenv python3 on PATH does not see Debian's python3-matplotlib). Empty when there is none.
const std::string& python_with_matplotlib() {
  static const std::string python = [] {
    for (const std::string candidate : {"python3", "/usr/bin/python3"}) {
      const std::string probe = candidate + " -c 'import matplotlib' > /dev/null 2>&1";
      if (std::system(probe.c_str()) == 0) return candidate;
    }
    return std::string();
  }();
  return python;
}

// Runs `python3 plot_metrics.py RUN_DIR` with stdout and stderr captured in files beside it.
Result run_plot(const fs::path& run_dir) {
  const fs::path out = run_dir.parent_path() / (run_dir.filename().string() + ".stdout");
  const fs::path err = run_dir.parent_path() / (run_dir.filename().string() + ".stderr");
  const std::string cmd = python_with_matplotlib() + " '" + kScript + "' '" + run_dir.string() +
                          "' > '" + out.string() + "' 2> '" + err.string() + "'";
  const int status = std::system(cmd.c_str());
  Result r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

const char* const kTrain1 =
    R"({"kind":"train","update":100,"epoch":1,"lr":0.0001,"loss":5.2,"nll":5.0,"ppl":181.3,)"
    R"("acc":0.1,"tokens_per_s":1200.5,"grad_norm":2.1,"padding":0.12,"elapsed_s":10.0,)"
    R"("peak_mem_mib":512.0})";
const char* const kTrain2 =
    R"({"kind":"train","update":200,"epoch":1,"lr":0.0002,"loss":4.1,"nll":3.9,"ppl":49.4,)"
    R"("acc":0.2,"tokens_per_s":1190.0,"grad_norm":1.6,"padding":0.11,"elapsed_s":20.0,)"
    R"("peak_mem_mib":512.0})";
const char* const kValid1 =
    R"({"kind":"valid","update":200,"loss":4.3,"nll":4.1,"ppl":60.3,"acc":0.2,"bleu":null,)"
    R"("elapsed_s":21.0})";
const char* const kValid2 =
    R"({"kind":"valid","update":300,"loss":3.8,"nll":3.6,"ppl":36.6,"acc":0.3,"bleu":12.5,)"
    R"("elapsed_s":31.0})";

class PlotMetrics : public ::testing::Test {
 protected:
  void SetUp() override {
    if (python_with_matplotlib().empty()) {
      // scripts/setup.sh installs it; without it the script is untested, which is a failure.
      FAIL() << "no python3 with matplotlib (Debian: apt-get install python3-matplotlib)";
    }
  }
};

TEST_F(PlotMetrics, WritesFourPngs) {
  const fs::path run = scratch("plot_good") / "run";
  fs::create_directories(run);
  // The last line is cut short, as a killed run leaves it: skipped with a warning.
  std::ofstream(run / "metrics.jsonl") << kTrain1 << "\n"
                                       << kTrain2 << "\n"
                                       << kValid1 << "\n"
                                       << kValid2 << "\n"
                                       << R"({"kind":"train","upd)";
  const Result r = run_plot(run);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("partial last line"), std::string::npos) << r.err;
  for (const std::string name : {"loss.png", "ppl.png", "bleu.png", "lr.png"}) {
    const fs::path png = run / "plots" / name;
    EXPECT_NE(r.out.find(png.string()), std::string::npos) << r.out;
    ASSERT_TRUE(fs::exists(png)) << png;
    EXPECT_EQ(slurp(png).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << png;
  }
  // Only the four PNGs: no temporary file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(run / "plots"), fs::directory_iterator()), 4);
}

TEST_F(PlotMetrics, MalformedLineNamesFileAndLine) {
  const fs::path run = scratch("plot_malformed") / "run";
  fs::create_directories(run);
  std::ofstream(run / "metrics.jsonl") << kTrain1 << "\n"
                                       << R"({"kind":"train","update":200,"lr":)" << "\n"
                                       << kValid2 << "\n";
  const Result r = run_plot(run);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("metrics.jsonl:2:"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(run / "plots" / "loss.png"));
}

TEST_F(PlotMetrics, MissingMetricsFileIsAnError) {
  const fs::path run = scratch("plot_missing") / "run";
  fs::create_directories(run);
  const Result r = run_plot(run);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("metrics.jsonl"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tmt
