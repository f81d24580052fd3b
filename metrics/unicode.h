#pragma once
// Text as Python 3 sees it, for sacreBLEU's semantics: code points of UTF-8, str.isspace(),
// str.split(), str.rstrip(), str.lower() and the regex module's \p{N}, \p{P}, \p{S}.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tmt {

/// Decodes the code point at s[i] and advances i; a malformed byte decodes as U+FFFD and is
/// skipped alone (files are validated on reading, so this only guards API callers).
inline char32_t next_code_point(std::string_view s, size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  size_t len = 0;
  char32_t cp = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07;
  } else {
    ++i;
    return 0xFFFD;
  }
  if (i + len > s.size()) {
    ++i;
    return 0xFFFD;
  }
  for (size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  i += len;
  return cp;
}

/// Appends code point `cp` as UTF-8.
void append_utf8(std::string& out, char32_t cp);

/// Python's str.isspace(): bidirectional class WS, B or S, or category Zs.
inline bool is_python_space(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/// Python's str.split(): the maximal runs of non-whitespace, as views into `text`.
void split_python(std::string_view text, std::vector<std::string_view>& tokens);

/// ' '.join(text.split()).
std::string join_split(std::string_view text);

/// The code points of `s` (malformed bytes as U+FFFD).
std::vector<char32_t> code_points(std::string_view s);

/// The `regex` module's \p{N}, \p{P} and \p{S}: the general categories N*, P* and S*.
bool is_number(char32_t c);
bool is_punctuation(char32_t c);
bool is_symbol(char32_t c);

/// Python's str.lower() on UTF-8 text: per-code-point lowercase (utf8proc), plus the two
/// differences of Python's full mapping: U+0130 -> "i\u0307" and the final sigma rule.
std::string lowercase_like_python(std::string_view text);

/// Python's str.rstrip(): drops trailing Unicode whitespace (str.isspace()).
std::string_view rstrip_like_python(std::string_view text);

}  // namespace tmt
