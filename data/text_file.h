#pragma once
// Corpora arrive as plain or gzip-compressed text; reading both through one path keeps
// `tmt prepare` indifferent to how a corpus was shipped.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tmt {

/// Lines of a text file, plain or gzip-compressed (detected by content, not by name).
struct TextFile {
  std::string path;
  std::vector<std::string> lines;           // without "\n" or "\r\n"; a final line without "\n" counts
  std::vector<int64_t> invalid_utf8_lines;  // 1-based numbers of lines that are not valid UTF-8
};

/// Reads every line. Throws std::invalid_argument "cannot read 'PATH': <strerror>" for a missing
/// or unreadable file or a directory, "'PATH' is empty" for a file with no lines, and
/// "'PATH' is not a valid gzip file: <zlib message>" for corrupt (including truncated) gzip data.
TextFile read_text_file(const std::string& path);

}  // namespace tmt
