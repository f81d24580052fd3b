#pragma once
// Files that matter are written under a temporary name and renamed into place, so a crash
// never leaves a half-written file that looks valid.

#include <functional>
#include <string>

namespace tmt {

/// Calls write(tmp_path) to produce the file at a temporary name beside `path` (PATH.tmp.PID),
/// flushes it to disk and renames it to `path`. On any failure the temporary file is removed and the error
/// (std::runtime_error naming `path`) propagates; an existing `path` is left untouched.
void write_atomically(const std::string& path, const std::function<void(const std::string&)>& write);

/// Writes `text` to `path` atomically.
void write_text_atomically(const std::string& path, const std::string& text);

}  // namespace tmt
