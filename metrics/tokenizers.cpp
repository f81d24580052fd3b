#include "metrics/tokenizers.h"

#include <stdexcept>

#include "metrics/unicode.h"

namespace tmt {
namespace {

// Python's str.replace(from, to): leftmost non-overlapping occurrences, no rescanning.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string_view::npos; pos = hit + from.size()) {
    out.append(s.substr(pos, hit - pos));
    out.append(to);
  }
  out.append(s.substr(pos));
  return out;
}

// tokenizer_re.py's first class [\{-\~\[-\` -\&\(-\+\:-\@\/]: ASCII punctuation and symbols
// except ' , - . and the space-like separators the regex lists (space is in the range ' -&').
inline bool in_13a_class(unsigned char c) {
  return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) ||
         (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == 0x2F;
}
inline bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
inline bool is_period_comma(unsigned char c) { return c == '.' || c == ','; }

}  // namespace

// mteval-v13a: each regex of tokenizer_re.py as one left-to-right scan with re.sub's
// non-overlapping matches. Byte scans are exact here: every class is ASCII, and UTF-8
// continuation bytes never match '.', ',', '-' or a digit. Returns the text before the final
// ' '.join(line.split()); `a` and `b` are scratch buffers.
void tokenize_13a_raw(std::string_view line, std::string& a, std::string& b) {
  std::string s;
  std::string_view text = line;
  if (line.find("<skipped>") != std::string_view::npos) text = s = replace_all(line, "<skipped>", "");
  if (text.find('\n') != std::string_view::npos) text = s = replace_all(replace_all(text, "-\n", ""), "\n", " ");
  if (text.find('&') != std::string_view::npos) {
    s = replace_all(text, "&quot;", "\"");
    s = replace_all(s, "&amp;", "&");
    s = replace_all(s, "&lt;", "<");
    text = s = replace_all(s, "&gt;", ">");
  }
  // ([\{-\~\[-\` -\&\(-\+\:-\@\/]) -> ' \1 ', on ' ' + text + ' '
  a.resize(3 * text.size() + 2);
  char* out = a.data();
  *out++ = ' ';
  for (const char ch : text) {
    if (in_13a_class(static_cast<unsigned char>(ch))) {
      out[0] = ' ', out[1] = ch, out[2] = ' ', out += 3;
    } else {
      *out++ = ch;
    }
  }
  *out++ = ' ';
  a.resize(out - a.data());

  // ([^0-9])([\.,]) -> '\1 \2 '
  b.resize(2 * a.size());
  out = b.data();
  for (size_t i = 0, n = a.size(); i < n;) {
    if (i + 1 < n && !is_digit(static_cast<unsigned char>(a[i])) &&
        is_period_comma(static_cast<unsigned char>(a[i + 1]))) {
      out[0] = a[i], out[1] = ' ', out[2] = a[i + 1], out[3] = ' ', out += 4, i += 2;
    } else {
      *out++ = a[i++];
    }
  }
  b.resize(out - b.data());

  // ([\.,])([^0-9]) -> ' \1 \2'
  a.resize(2 * b.size());
  out = a.data();
  for (size_t i = 0, n = b.size(); i < n;) {
    if (i + 1 < n && is_period_comma(static_cast<unsigned char>(b[i])) &&
        !is_digit(static_cast<unsigned char>(b[i + 1]))) {
      out[0] = ' ', out[1] = b[i], out[2] = ' ', out[3] = b[i + 1], out += 4, i += 2;
    } else {
      *out++ = b[i++];
    }
  }
  a.resize(out - a.data());

  // ([0-9])(-) -> '\1 \2 '
  b.resize(2 * a.size());
  out = b.data();
  for (size_t i = 0, n = a.size(); i < n;) {
    if (i + 1 < n && is_digit(static_cast<unsigned char>(a[i])) && a[i + 1] == '-') {
      out[0] = a[i], out[1] = ' ', out[2] = '-', out[3] = ' ', out += 4, i += 2;
    } else {
      *out++ = a[i++];
    }
  }
  b.resize(out - b.data());
}

namespace {

std::string tokenize_13a(std::string_view line) {
  std::string a, b;
  tokenize_13a_raw(line, a, b);
  return join_split(b);
}

// mteval-v14 international: the three regexes of tokenizer_intl.py over code points.
std::string tokenize_intl(std::string_view line) {
  const std::vector<char32_t> in = code_points(line);
  std::vector<char32_t> a, b;
  a.reserve(in.size() * 2);
  for (size_t i = 0; i < in.size();) {  // (\P{N})(\p{P}) -> '\1 \2 '
    if (i + 1 < in.size() && !is_number(in[i]) && is_punctuation(in[i + 1])) {
      a.insert(a.end(), {in[i], U' ', in[i + 1], U' '});
      i += 2;
    } else {
      a.push_back(in[i++]);
    }
  }
  b.reserve(a.size() * 2);
  for (size_t i = 0; i < a.size();) {  // (\p{P})(\P{N}) -> ' \1 \2'
    if (i + 1 < a.size() && is_punctuation(a[i]) && !is_number(a[i + 1])) {
      b.insert(b.end(), {U' ', a[i], U' ', a[i + 1]});
      i += 2;
    } else {
      b.push_back(a[i++]);
    }
  }
  std::string out;
  out.reserve(b.size() * 2);
  for (const char32_t c : b) {  // (\p{S}) -> ' \1 '
    if (is_symbol(c)) {
      out.push_back(' ');
      append_utf8(out, c);
      out.push_back(' ');
    } else {
      append_utf8(out, c);
    }
  }
  return join_split(out);
}

// tokenizer_char.py: every character a token (whitespace vanishes in the later split).
std::string tokenize_char(std::string_view line) {
  std::string out;
  out.reserve(line.size() * 2);
  for (size_t i = 0; i < line.size();) {
    const size_t at = i;
    if (is_python_space(next_code_point(line, i))) continue;
    if (!out.empty()) out.push_back(' ');
    out.append(line.substr(at, i - at));
  }
  return out;
}

}  // namespace

std::string tokenize_bleu(std::string_view line, BleuTokenizer tokenizer) {
  line = rstrip_like_python(line);
  switch (tokenizer) {
    case BleuTokenizer::k13a:
      return tokenize_13a(line);
    case BleuTokenizer::kIntl:
      return tokenize_intl(line);
    case BleuTokenizer::kChar:
      return tokenize_char(line);
    case BleuTokenizer::kNone:
      break;
  }
  return join_split(line);
}

BleuTokenizer parse_bleu_tokenizer(const std::string& name) {
  if (name == "13a") return BleuTokenizer::k13a;
  if (name == "intl") return BleuTokenizer::kIntl;
  if (name == "char") return BleuTokenizer::kChar;
  if (name == "none") return BleuTokenizer::kNone;
  throw std::invalid_argument("unknown BLEU tokenizer '" + name +
                              "'; expected one of none, 13a, intl, char");
}

}  // namespace tmt
