#include "train/stop_signals.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>

namespace tmt {
namespace {

std::atomic<int> g_stop_signal{0};
int g_depth = 0;  // StopSignals alive; only the outermost installs and restores handlers
struct sigaction g_previous_int {};
struct sigaction g_previous_term {};

extern "C" void on_stop_signal(int signal_number) { g_stop_signal = signal_number; }

}  // namespace

StopSignals::StopSignals() {
  if (g_depth++ > 0) return;
  g_stop_signal = 0;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
}

StopSignals::~StopSignals() {
  if (--g_depth > 0) return;
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

int StopSignals::received() const { return g_stop_signal.load(); }

void term_when_parent_dies(int parent) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  // Not its child (a setsid that forked stands between): the signal comes only if it is gone.
  if (getppid() != parent && kill(parent, 0) != 0 && errno == ESRCH) raise(SIGTERM);
}

}  // namespace tmt
