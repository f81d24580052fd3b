#pragma once
// Hypothesis and reference files as sacreBLEU reads them.

#include <iosfwd>
#include <string>
#include <vector>

namespace tmt {

/// Reads a UTF-8 text file as sacreBLEU does: lines split on '\n', each right-stripped of
/// Unicode whitespace. `what` names the file in errors ("reference"): a file that cannot be read
/// (require_readable_file) or invalid UTF-8 throws std::invalid_argument.
std::vector<std::string> read_bleu_lines(const std::string& path, const std::string& what);

/// As read_bleu_lines, from an open stream (stdin); `name` names it in errors.
std::vector<std::string> read_bleu_lines(std::istream& in, const std::string& name,
                                         const std::string& what);

}  // namespace tmt
