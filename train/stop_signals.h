#pragma once
// SIGINT and SIGTERM during training: the handler only records the signal; the training loop
// finishes its update, saves and exits.

namespace tmt {

/// Installs the handlers for its lifetime. A second signal gets the default action
/// (SA_RESETHAND), so an impatient second Ctrl-C still ends the process at once. Instances nest:
/// an inner one (the training loop's, inside the command's that covers loading) shares the
/// outer one's handlers and the signal it recorded.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  /// The signal received since the outermost instance was constructed; 0 when none.
  int received() const;
};

/// Has the kernel send this process SIGTERM when its parent dies (PR_SET_PDEATHSIG), and sends it
/// at once when `parent` is gone already (this process was handed to init). scripts/launch.sh
/// gives each rank its pid: a launcher killed by SIGKILL, which it cannot pass on, still stops its
/// ranks, and each saves as on any TERM instead of training on unseen.
void term_when_parent_dies(int parent);

}  // namespace tmt
