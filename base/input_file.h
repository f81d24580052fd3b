#pragma once
// One check for every file a command reads, so a missing file, a directory or an unreadable file
// gets the same message and the same exit status whichever argument named it.

#include <string>

namespace tmt {

/// Throws std::invalid_argument "cannot read WHAT 'PATH': REASON" (REASON as strerror gives it:
/// "No such file or directory", "Is a directory", "Permission denied") unless `path` opens for
/// reading and is not a directory. Pipes such as /dev/stdin pass.
void require_readable_file(const std::string& path, const std::string& what);

}  // namespace tmt
