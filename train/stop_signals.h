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

}  // namespace tmt
