#pragma once
// SIGINT and SIGTERM during training: the handler only records the signal; the training loop
// finishes its update, saves and exits.

namespace tmt {

/// Installs the handlers for its lifetime (one at a time). A second signal gets the default
/// action (SA_RESETHAND), so an impatient second Ctrl-C still ends the process at once.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  /// The signal received since construction; 0 when none.
  int received() const;
};

}  // namespace tmt
