// Corpus text as `tmt prepare` reads it, plain or gzip: lines split on "\n" (a "\r" before it
// dropped), a final line without "\n" kept, and exactly the lines that are not UTF-8 flagged.

#include <zlib.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "base/utf8.h"
#include "data/text_file.h"
#include "fuzz/fuzz_targets.h"

namespace tmt::fuzz {
namespace {

std::string gzip(const std::string& text) {
  const std::string path = scratch_file("seed.gz", nullptr, 0);
  gzFile out = gzopen(path.c_str(), "wb");
  gzwrite(out, text.data(), static_cast<unsigned>(text.size()));
  gzclose(out);
  return read_file(path);
}

}  // namespace

void text_file(const uint8_t* data, size_t size) {
  const std::string path = scratch_file("text", data, size);
  TextFile file;
  try {
    file = read_text_file(path);
  } catch (const std::invalid_argument&) {
    return;  // empty, or not a valid gzip stream
  }
  for (size_t i = 0; i < file.invalid_utf8_lines.size(); ++i) {
    const int64_t line = file.invalid_utf8_lines[i];
    require(line >= 1 && line <= static_cast<int64_t>(file.lines.size()), "flagged line numbers exist");
    require(i == 0 || line > file.invalid_utf8_lines[i - 1], "flagged line numbers increase");
  }
  for (size_t i = 0; i < file.lines.size(); ++i) {
    const bool flagged = std::binary_search(file.invalid_utf8_lines.begin(), file.invalid_utf8_lines.end(),
                                            static_cast<int64_t>(i + 1));
    require(flagged == !is_valid_utf8(file.lines[i]), "a line is flagged exactly when it is not UTF-8");
    require(file.lines[i].find('\n') == std::string::npos, "no line holds a newline");
  }
  const bool gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  if (!gz) {
    const auto* text = reinterpret_cast<const char*>(data);
    const auto newlines = static_cast<size_t>(std::count(text, text + size, '\n'));
    const size_t expected = newlines + (size > 0 && text[size - 1] != '\n' ? 1 : 0);
    require(file.lines.size() == expected, "one line per newline, plus an unterminated last one");
  }
}

std::vector<std::string> text_file_seeds() {
  const std::string text = "ein Hund läuft\r\nzwei Katzen\n\nbad \xff byte\nno newline at the end";
  return {text, gzip(text), "x\n", gzip("")};
}

}  // namespace tmt::fuzz
