// Data-parallel `tmt train` on Gloo over loopback: two processes equal one with update_freq 2,
// and a rank that dies or hangs ends the job with the documented error.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "model/checkpoint.h"
#include "tests/app/run_tmt.h"

extern char** environ;

namespace tmt {
namespace {

namespace fs = std::filesystem;
using namespace tmt::tests;  // NOLINT: the helpers of run_tmt.h

// A loopback port nobody listens on right now.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t size = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size);
  close(fd);
  return ntohs(addr.sin_port);
}

// Starts `sh -c command` and returns its pid.
pid_t spawn(const std::string& command) {
  pid_t pid = 0;
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  EXPECT_EQ(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
  return pid;
}

// Exit code of `pid`, waiting at most `limit`; -1 if it did not exit by then (it is killed).
int exit_code_within(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

// Polls `done` every 50 ms until it holds or `limit` has passed; whether it held.
template <typename Done>
bool wait_until(Done done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

// The largest absolute difference between the weights of two checkpoints.
double max_weight_difference(const fs::path& a, const fs::path& b) {
  const Checkpoint ca = read_checkpoint(a.string());
  const Checkpoint cb = read_checkpoint(b.string());
  EXPECT_EQ(ca.model.size(), cb.model.size());
  double worst = 0.0;
  for (size_t i = 0; i < ca.model.size() && i < cb.model.size(); ++i) {
    EXPECT_EQ(ca.model[i].first, cb.model[i].first);
    worst = std::max(worst, (ca.model[i].second - cb.model[i].second).abs().max().item<double>());
  }
  return worst;
}

TEST(Distributed, TwoProcessesEqualOneWithUpdateFreq2) {
  const fs::path dir = tiny_corpus_dir("dist_equal");
  ASSERT_EQ(run_tmt(dir, "prepare -c tiny.yaml --run-dir one").exit_code, 0);
  fs::copy(dir / "one", dir / "two", fs::copy_options::recursive);
  // No dropout: the two ranks draw different dropout masks than one process would.
  const std::string common = " --set model.dropout=0 --set model.attention_dropout=0"
                             " --set train.max_updates=8 --set train.valid_every=4";
  // The same BLAS threading as launch.sh gives each rank: a different OpenBLAS blocking changes
  // the last bits of the gradients, and Adam turns noise in gradients that are zero in exact
  // arithmetic (the key biases') into full-size steps.
  const Result one = run_tmt(dir, "train -c tiny.yaml" + common + " --run-dir one --set train.update_freq=2",
                             /*input=*/"", "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const std::string launch = "cd '" + dir.string() + "' && TMT='" TMT_BINARY "' MASTER_PORT=" +
                             std::to_string(free_port()) + " '" TMT_SOURCE_DIR "/scripts/launch.sh' 2 tiny.yaml" +
                             common + " --run-dir two --set train.update_freq=1 > two.out 2> two.err";
  const int status = std::system(launch.c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(dir / "two.err");
  EXPECT_NE(slurp(dir / "two.err").find("2 processes (gloo)"), std::string::npos) << slurp(dir / "two.err");
  const double difference = max_weight_difference(dir / "one/checkpoint_last.pt", dir / "two/checkpoint_last.pt");
  EXPECT_LE(difference, 1e-6);
  // Rank 0 alone wrote the run directory: as many metrics records as the single process.
  const auto lines = [](const std::string& text) { return std::count(text.begin(), text.end(), '\n'); };
  EXPECT_EQ(lines(slurp(dir / "two/metrics.jsonl")), lines(slurp(dir / "one/metrics.jsonl")));
}

// A small copy-task model that trains until stopped, logging every update.
const std::string kEndlessTinyRun = " --set model.d_model=32 --set model.d_ff=64 --set model.layers=1"
                                    " --set model.heads=2 --set train.max_updates=1000000 --set train.log_every=1";

// Whether the run in `run_dir` has logged update 5 within 60 s.
bool under_way(const fs::path& run_dir) {
  return wait_until([&] { return slurp(run_dir / "metrics.jsonl").find("\"update\":5}") != std::string::npos; },
                    std::chrono::seconds(60));
}

// Two ranks of a long run started by hand, the way torchrun would.
struct Job {
  pid_t rank0 = 0;
  pid_t rank1 = 0;
};

Job start_job(const fs::path& dir, int timeout_s) {
  const std::string env = "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(free_port());
  const std::string train = " exec '" + tmt_binary() + "' train -c '" + kCopyConfig + "' --run-dir run" +
                            kEndlessTinyRun + " --set train.dist_timeout_s=" + std::to_string(timeout_s);
  Job job;
  job.rank0 = spawn("cd '" + dir.string() + "' && RANK=0 " + env + train + " 2> rank0.err");
  job.rank1 = spawn("cd '" + dir.string() + "' && RANK=1 " + env + train + " 2> rank1.err");
  under_way(dir / "run");
  return job;
}

TEST(Distributed, AKilledRankEndsTheJobWithTheDocumentedError) {
  const fs::path dir = scratch("dist_killed");
  const Job job = start_job(dir, 30);
  ASSERT_EQ(kill(job.rank1, SIGKILL), 0);
  exit_code_within(job.rank1, std::chrono::seconds(5));
  // The peer's socket closes at once: no need to wait for the timeout.
  EXPECT_EQ(exit_code_within(job.rank0, std::chrono::seconds(20)), 1);
  const std::string err = slurp(dir / "rank0.err");
  // The kill lands in whichever collective rank 0 is in: the gradient sum or the stop agreement.
  const std::string failed = err.find("summing gradients failed: ") != std::string::npos
                                 ? "summing gradients failed: "
                                 : "agreeing on when to stop failed: ";
  EXPECT_NE(err.find("tmt: [train] error: rank 0 of 2: " + failed +
                     "another rank exited or did not answer within train.dist_timeout_s (30 s)"),
            std::string::npos)
      << err;
}

TEST(Distributed, AHungRankEndsTheJobAfterTheTimeout) {
  const fs::path dir = scratch("dist_hung");
  const Job job = start_job(dir, 3);
  ASSERT_EQ(kill(job.rank1, SIGSTOP), 0);
  const auto start = std::chrono::steady_clock::now();
  const int code = exit_code_within(job.rank0, std::chrono::seconds(30));
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  kill(job.rank1, SIGKILL);
  exit_code_within(job.rank1, std::chrono::seconds(5));
  EXPECT_EQ(code, 1);
  EXPECT_GE(waited, 2.0);   // it did wait for the peer...
  EXPECT_LE(waited, 20.0);  // ...but not for ever
  EXPECT_NE(slurp(dir / "rank0.err").find("did not answer within train.dist_timeout_s (3 s)"), std::string::npos)
      << slurp(dir / "rank0.err");
}

// Ctrl-C (INT to the script's process group) or a TERM to scripts/launch.sh reaches every
// process once, and the script waits until each has stopped (tmt saves a checkpoint then) before
// it exits with their status. Stand-ins for tmt take a second to "save" on the first TERM or INT
// and, as tmt does, die at once on a second.
void expect_signal_stops_and_waits(int signal_number, bool to_group) {
  const fs::path dir = scratch("launch_signal");
  std::ofstream(dir / "tmt") << "#!/bin/sh\n"
                                "save() { trap - INT TERM; sleep 1; echo saved > rank$RANK.saved; exit $1; }\n"
                                "trap 'save 130' INT\ntrap 'save 143' TERM\n"
                                "echo > rank$RANK.started\n"
                                "while :; do sleep 0.1; done\n";
  fs::permissions(dir / "tmt", fs::perms::owner_exec, fs::perm_options::add);
  // setsid: the script leads a process group of its own, as in a terminal.
  const pid_t launch = spawn("cd '" + dir.string() + "' && TMT=./tmt exec setsid '" + source_dir() +
                             "/scripts/launch.sh' 2 config.yaml > launch.out 2> launch.err");
  ASSERT_TRUE(wait_until([&] { return fs::exists(dir / "rank0.started") && fs::exists(dir / "rank1.started"); },
                         std::chrono::seconds(20)));
  ASSERT_EQ(kill(to_group ? -launch : launch, signal_number), 0);
  EXPECT_EQ(exit_code_within(launch, std::chrono::seconds(20)), 143);  // the TERM the script passed on
  // Both had saved when the script returned.
  EXPECT_EQ(slurp(dir / "rank0.saved"), "saved\n");
  EXPECT_EQ(slurp(dir / "rank1.saved"), "saved\n");
  EXPECT_EQ(slurp(dir / "launch.err"), "");
}

// Whether a process whose command line contains `needle` is still running (zombies excluded).
bool process_running(const std::string& needle) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = slurp(entry.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    const std::string stat = slurp(entry.path() / "stat");
    const auto state = stat.rfind(") ");
    if (state != std::string::npos && stat.compare(state + 2, 1, "Z") == 0) continue;
    if (cmdline.find(needle) != std::string::npos) return true;
  }
  return false;
}

// scripts/launch.sh killed by SIGKILL cannot pass anything on; the kernel's parent-death signal
// (TMT_LAUNCHER_PID) still gives each tmt a TERM: both stop, and rank 0 saves its last update.
TEST(Launch, AKilledLauncherStillStopsItsRanksAndTheySave) {
  const fs::path dir = scratch("launch_killed");
  const std::string run = (dir / "run").string();
  const pid_t launch = spawn("cd '" + dir.string() + "' && TMT='" + tmt_binary() + "' MASTER_PORT=" +
                             std::to_string(free_port()) + " exec '" + source_dir() + "/scripts/launch.sh' 2 '" +
                             kCopyConfig + "' --run-dir '" + run + "'" + kEndlessTinyRun +
                             " --set train.save_every=0 > launch.out 2> launch.err");
  ASSERT_TRUE(under_way(dir / "run")) << slurp(dir / "launch.err");
  ASSERT_TRUE(process_running(run));
  ASSERT_EQ(kill(launch, SIGKILL), 0);
  exit_code_within(launch, std::chrono::seconds(5));
  EXPECT_TRUE(wait_until([&] { return !process_running(run); }, std::chrono::seconds(30)));
  const std::string log = slurp(dir / "run/train.log");
  EXPECT_NE(log.find("signal 15"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(dir / "run/checkpoint_last.pt")) << log;
}

TEST(Launch, ATermStopsEveryProcessAndWaitsForThem) { expect_signal_stops_and_waits(SIGTERM, false); }

TEST(Launch, CtrlCToTheGroupStopsEveryProcessOnce) { expect_signal_stops_and_waits(SIGINT, true); }

}  // namespace
}  // namespace tmt
