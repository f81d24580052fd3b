#include "metrics/text_lines.h"

#include <fstream>
#include <istream>
#include <iterator>
#include <stdexcept>

#include "base/input_file.h"
#include "base/utf8.h"
#include "metrics/unicode.h"

namespace tmt {
namespace {

std::vector<std::string> split_lines(const std::string& text, const std::string& name,
                                     const std::string& what) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + pos, end - pos);
    const size_t bad = first_invalid_utf8(line);
    if (bad != std::string_view::npos) {
      throw std::invalid_argument(what + " '" + name + "' line " + std::to_string(lines.size() + 1) +
                                  ": invalid UTF-8 at byte " + std::to_string(bad + 1) +
                                  "; expected UTF-8 text");
    }
    lines.emplace_back(rstrip_like_python(line));
    pos = end + 1;
  }
  return lines;
}

}  // namespace

std::vector<std::string> read_bleu_lines(const std::string& path, const std::string& what) {
  require_readable_file(path, what);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot read " + what + " '" + path + "'");
  return read_bleu_lines(in, path, what);
}

std::vector<std::string> read_bleu_lines(std::istream& in, const std::string& name,
                                         const std::string& what) {
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("error reading " + what + " '" + name + "'");
  return split_lines(text, name, what);
}

}  // namespace tmt
