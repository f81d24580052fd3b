#pragma once
// The tmt subcommands behind a thin main.

namespace tmt {

/// Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

/// Parses the command line, runs the chosen subcommand, and returns the process exit code.
/// Errors are reported on stderr as one line, never as a stack dump.
int run_cli(int argc, char** argv);

}  // namespace tmt
