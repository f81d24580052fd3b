#include "metrics/unicode.h"

#include <utf8proc.h>

namespace tmt {
namespace {

utf8proc_category_t category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

// Unicode's Cased and Case_Ignorable, as Python's final-sigma rule uses them. Cased is
// approximated by the letter case categories or having a case mapping.
bool is_cased(char32_t c) {
  const auto k = category(c);
  if (k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT) return true;
  const auto i = static_cast<utf8proc_int32_t>(c);
  return utf8proc_tolower(i) != i || utf8proc_toupper(i) != i;
}

bool is_case_ignorable(char32_t c) {
  switch (c) {  // Word_Break MidLetter, MidNumLet and Single_Quote
    case 0x27: case 0x2E: case 0x3A: case 0xB7: case 0x387: case 0x55F: case 0x5F4:
    case 0x2018: case 0x2019: case 0x2024: case 0x2027: case 0xFE13: case 0xFE52:
    case 0xFE55: case 0xFF07: case 0xFF0E: case 0xFF1A:
      return true;
    default:
      break;
  }
  const auto k = category(c);
  return k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_ME || k == UTF8PROC_CATEGORY_CF ||
         k == UTF8PROC_CATEGORY_LM || k == UTF8PROC_CATEGORY_SK;
}

}  // namespace

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

void split_python(std::string_view text, std::vector<std::string_view>& tokens) {
  tokens.clear();
  size_t i = 0, start = std::string_view::npos;
  while (i < text.size()) {
    const size_t at = i;
    const auto byte = static_cast<unsigned char>(text[i]);
    const char32_t c = byte < 0x80 ? (++i, byte) : next_code_point(text, i);
    if (is_python_space(c)) {
      if (start != std::string_view::npos) tokens.push_back(text.substr(start, at - start));
      start = std::string_view::npos;
    } else if (start == std::string_view::npos) {
      start = at;
    }
  }
  if (start != std::string_view::npos) tokens.push_back(text.substr(start));
}

std::string join_split(std::string_view text) {
  std::vector<std::string_view> tokens;
  split_python(text, tokens);
  std::string out;
  out.reserve(text.size());
  for (size_t k = 0; k < tokens.size(); ++k) {
    if (k) out.push_back(' ');
    out.append(tokens[k]);
  }
  return out;
}

std::vector<char32_t> code_points(std::string_view s) {
  std::vector<char32_t> cps;
  cps.reserve(s.size());
  for (size_t i = 0; i < s.size();) cps.push_back(next_code_point(s, i));
  return cps;
}

bool is_number(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  const auto k = category(c);
  return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}

bool is_punctuation(char32_t c) {
  const auto k = category(c);
  return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

bool is_symbol(char32_t c) {
  const auto k = category(c);
  return k >= UTF8PROC_CATEGORY_SM && k <= UTF8PROC_CATEGORY_SO;
}

std::string_view rstrip_like_python(std::string_view text) {
  size_t end = text.size();
  while (end > 0) {
    size_t start = end - 1;  // back up to the lead byte of the last code point
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80 && end - start < 4) --start;
    size_t i = start;
    const char32_t c = next_code_point(text, i);
    if (i != end || !is_python_space(c)) break;
    end = start;
  }
  return text.substr(0, end);
}

std::string lowercase_like_python(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool ascii = true;
  for (const char c : text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) {
    for (const char c : text) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    return out;
  }
  const std::vector<char32_t> cps = code_points(text);
  for (size_t i = 0; i < cps.size(); ++i) {
    const char32_t c = cps[i];
    if (c == 0x130) {  // SpecialCasing: capital I with dot above -> i + combining dot above
      out.append("i\xCC\x87");
    } else if (c == 0x3A3) {
      // Final_Sigma: cased (case-ignorable)* SIGMA, not followed by (case-ignorable)* cased.
      size_t j = i;
      while (j > 0 && is_case_ignorable(cps[j - 1])) --j;
      bool final_sigma = j > 0 && is_cased(cps[j - 1]);
      if (final_sigma) {
        size_t k = i + 1;
        while (k < cps.size() && is_case_ignorable(cps[k])) ++k;
        final_sigma = k == cps.size() || !is_cased(cps[k]);
      }
      append_utf8(out, final_sigma ? 0x3C2 : 0x3C3);
    } else {
      append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
    }
  }
  return out;
}

}  // namespace tmt
