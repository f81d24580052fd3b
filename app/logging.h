#pragma once
// Log set-up for the tmt binary: spdlog to stderr and, for a run, to a file in its directory.

#include <string>

namespace tmt {

/// Logs to stderr and, when `log_file` is not empty, also appends to that file.
void setup_logging(const std::string& log_file = "");

}  // namespace tmt
