// sacreBLEU 2.x BLEU and chrF, re-implemented from its published algorithms (tokenizer_13a.py,
// tokenizer_re.py, tokenizer_intl.py, tokenizer_char.py, metrics/bleu.py, metrics/chrf.py,
// metrics/helpers.py, metrics/base.py, utils.py). Python's semantics are kept where they change
// numbers: str.split()/rstrip() whitespace, re.sub's leftmost non-overlapping matches, float
// operation order, and n-grams counted over code points.

#include "decode/bleu.h"

#include <utf8proc.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <istream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <thread>

namespace tmt {
namespace {

using Key = unsigned __int128;

// ---------------------------------------------------------------------------------------------
// UTF-8 and Python's character classes

// Decodes the code point at s[i] and advances i; a malformed byte decodes as U+FFFD and is
// skipped alone (files are validated on reading, so this only guards API callers).
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

// Python's str.isspace(): bidirectional class WS, B or S, or category Zs.
inline bool is_python_space(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Byte length of the code point starting with lead byte c (1 for malformed bytes).
inline size_t utf8_length(unsigned char c) {
  if (c < 0xC0) return 1;
  if (c < 0xE0) return 2;
  if (c < 0xF0) return 3;
  return c < 0xF8 ? 4 : 1;
}

// Python's str.split(): the maximal runs of non-whitespace, as views into `text`.
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

// ' '.join(text.split()).
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

inline utf8proc_category_t category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

// The `regex` module's \p{N}, \p{P} and \p{S}: the general categories N*, P* and S*.
inline bool is_number(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  const auto k = category(c);
  return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}
inline bool is_punctuation(char32_t c) {
  const auto k = category(c);
  return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}
inline bool is_symbol(char32_t c) {
  const auto k = category(c);
  return k >= UTF8PROC_CATEGORY_SM && k <= UTF8PROC_CATEGORY_SO;
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

std::vector<char32_t> code_points(std::string_view s) {
  std::vector<char32_t> cps;
  cps.reserve(s.size());
  for (size_t i = 0; i < s.size();) cps.push_back(next_code_point(s, i));
  return cps;
}

// ---------------------------------------------------------------------------------------------
// Tokenizers

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

// ---------------------------------------------------------------------------------------------
// Exact n-gram keys in an open-addressing table, reused across segments

// An n-gram's key packs its units (+1, so that zero means absent) into 128 bits: four 32-bit
// word ids, or six 21-bit code points. Keys are exact, so there are no hash collisions to
// worry about, and different orders never share a key.
inline Key push_unit(Key key, uint32_t unit, int index, int bits) {
  return key | (static_cast<Key>(unit + 1) << (bits * index));
}

// Mixes all 128 bits into the low bits the table masks (murmur3's finalizer); a weaker mix
// lets n-grams with a common prefix share slots.
inline uint64_t hash_key(Key k) {
  uint64_t x = static_cast<uint64_t>(k) * 0x9E3779B97F4A7C15ULL ^
               static_cast<uint64_t>(k >> 64) * 0xC2B2AE3D27D4EB4FULL;
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDULL;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ULL;
  return x ^ (x >> 33);
}

struct Slot {
  Key key = 0;
  uint32_t stamp = 0;
  int32_t count = 0;    // BLEU: max count over references; chrF: reference count
  int32_t current = 0;  // BLEU: count in the reference being added
  int32_t ref = -1;     // BLEU: the reference `current` belongs to
};

// Open-addressing slots reused across segments: reset() forgets every entry in O(1) by bumping
// a stamp (a slot counts only while its stamp is current) and grows to twice the expected size.
template <typename SlotT>
class StampedSlots {
 public:
  void reset(size_t expected) {
    size_t cap = 64;
    while (cap < 2 * expected + 2) cap <<= 1;
    if (cap > slots.size()) {
      slots.assign(cap, SlotT{});
      stamp = 0;
    }
    mask = cap - 1;
    if (++stamp == 0) {  // the stamp wrapped: stale slots could look current
      std::fill(slots.begin(), slots.end(), SlotT{});
      stamp = 1;
    }
  }

  std::vector<SlotT> slots;
  size_t mask = 0;
  uint32_t stamp = 0;
};

// Counts for one segment.
class NgramTable {
 public:
  void reset(size_t expected) { table_.reset(expected); }
  Slot& insert(Key key) {
    size_t h = hash_key(key) & table_.mask;
    while (table_.slots[h].stamp == table_.stamp && table_.slots[h].key != key) h = (h + 1) & table_.mask;
    Slot& s = table_.slots[h];
    if (s.stamp != table_.stamp) s = Slot{key, table_.stamp, 0, 0, -1};
    return s;
  }
  Slot* find(Key key) {
    size_t h = hash_key(key) & table_.mask;
    while (table_.slots[h].stamp == table_.stamp) {
      if (table_.slots[h].key == key) return &table_.slots[h];
      h = (h + 1) & table_.mask;
    }
    return nullptr;
  }

 private:
  StampedSlots<Slot> table_;
};

// Word -> per-segment id, so that word n-grams become exact integer keys.
class WordIds {
 public:
  void reset(size_t expected) {
    table_.reset(expected);
    next_ = 0;
  }
  uint32_t id(std::string_view word) {
    uint64_t h = 1469598103934665603ULL;  // FNV-1a
    for (const char c : word) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    size_t i = (h ^ (h >> 32)) & table_.mask;
    while (table_.slots[i].stamp == table_.stamp) {
      if (table_.slots[i].hash == h && table_.slots[i].word == word) return table_.slots[i].id;
      i = (i + 1) & table_.mask;
    }
    table_.slots[i] = WordSlot{word, h, table_.stamp, next_};
    return next_++;
  }

 private:
  struct WordSlot {
    std::string_view word;
    uint64_t hash = 0;
    uint32_t stamp = 0;
    uint32_t id = 0;
  };
  StampedSlots<WordSlot> table_;
  uint32_t next_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Segment statistics

constexpr int kBleuOrder = 4;
constexpr int kChrfOrder = 6;
constexpr int kChrfBeta = 2;

// [hyp_len, ref_len, correct x4, total x4], summed over segments.
using BleuStats = std::array<int64_t, 2 + 2 * kBleuOrder>;
using ChrfStats = std::array<int64_t, 3 * kChrfOrder>;

// The non-empty references of every segment, validated once before scoring.
struct Segments {
  std::vector<std::vector<const std::string*>> refs;  // per segment
  int nrefs = 1;
};

Segments collect_segments(const std::vector<std::string>& hyps,
                          const std::vector<std::vector<std::string>>& refs,
                          const CorpusSources& sources) {
  auto ref_name = [&](size_t r) {
    return r < sources.references.size() ? "'" + sources.references[r] + "'"
                                         : std::to_string(r + 1);
  };
  if (refs.empty()) throw std::invalid_argument("BLEU/chrF need at least one reference stream, got none");
  if (hyps.empty()) {
    throw std::invalid_argument("hypothesis '" + sources.hypothesis +
                                "' has no lines; expected one line per reference line");
  }
  for (size_t r = 0; r < refs.size(); ++r) {
    if (refs[r].size() != hyps.size()) {
      throw std::invalid_argument("hypothesis '" + sources.hypothesis + "' has " +
                                  std::to_string(hyps.size()) + " lines but reference " +
                                  ref_name(r) + " has " + std::to_string(refs[r].size()) +
                                  "; expected the same number of lines");
    }
  }
  Segments segments;
  segments.refs.resize(hyps.size());
  std::set<size_t> counts;
  for (size_t i = 0; i < hyps.size(); ++i) {
    for (const auto& stream : refs) {
      // sacreBLEU drops empty references: a segment may have fewer.
      if (!stream[i].empty()) segments.refs[i].push_back(&stream[i]);
    }
    if (segments.refs[i].empty()) {
      std::string names;
      for (size_t r = 0; r < refs.size(); ++r) names += (r ? ", " : "") + ref_name(r);
      throw std::invalid_argument("line " + std::to_string(i + 1) + " is empty in every reference (" +
                                  names + "); sacreBLEU rejects empty references too");
    }
    counts.insert(segments.refs[i].size());
  }
  segments.nrefs = counts.size() == 1 ? static_cast<int>(*counts.begin()) : -1;
  return segments;
}

// Per-thread buffers for one segment at a time.
struct Workspace {
  std::vector<std::string> texts;  // pre-processed references, then the hypothesis
  std::vector<std::string_view> tokens;
  std::vector<uint32_t> ids;
  std::vector<char32_t> cps;
  std::vector<Key> hyp_keys;
  std::vector<Key> ref_keys;
  std::string lowered;
  std::string scratch;
  std::vector<uint8_t> present;
  NgramTable table;
  WordIds words;
};

// The line itself, or its lowercased copy kept in `buffer`.
std::string_view preprocess(const std::string& line, bool lowercase, std::string& buffer) {
  if (!lowercase) return line;
  buffer = lowercase_like_python(line);
  return buffer;
}

void bleu_segment(const std::string& hyp, const std::vector<const std::string*>& refs,
                  const BleuOptions& options, Workspace& ws, BleuStats& stats) {
  ws.texts.resize(refs.size() + 1);
  size_t total_tokens = 0;
  for (size_t r = 0; r <= refs.size(); ++r) {
    const std::string& line = r < refs.size() ? *refs[r] : hyp;
    const std::string_view text = rstrip_like_python(preprocess(line, options.lowercase, ws.lowered));
    if (options.tokenize == BleuTokenizer::k13a) {
      tokenize_13a_raw(text, ws.scratch, ws.texts[r]);  // split below, so no join needed
    } else {
      ws.texts[r] = tokenize_bleu(text, options.tokenize);
    }
    total_tokens += ws.texts[r].size() / 2 + 1;
  }
  ws.words.reset(total_tokens);
  ws.table.reset(total_tokens * kBleuOrder);

  // Reference n-grams keep the maximum count over the references.
  std::vector<int64_t> ref_lens;
  for (size_t r = 0; r < refs.size(); ++r) {
    split_python(ws.texts[r], ws.tokens);
    ref_lens.push_back(static_cast<int64_t>(ws.tokens.size()));
    ws.ids.clear();
    for (const auto t : ws.tokens) ws.ids.push_back(ws.words.id(t));
    for (size_t i = 0; i < ws.ids.size(); ++i) {
      Key key = 0;
      for (int n = 0; n < kBleuOrder && i + n < ws.ids.size(); ++n) {
        key = push_unit(key, ws.ids[i + n], n, 32);
        Slot& s = ws.table.insert(key);
        if (s.ref != static_cast<int32_t>(r)) s.ref = static_cast<int32_t>(r), s.current = 0;
        s.count = std::max(s.count, ++s.current);
      }
    }
  }

  split_python(ws.texts[refs.size()], ws.tokens);
  const auto hyp_len = static_cast<int64_t>(ws.tokens.size());
  ws.ids.clear();
  for (const auto t : ws.tokens) ws.ids.push_back(ws.words.id(t));
  for (size_t i = 0; i < ws.ids.size(); ++i) {
    Key key = 0;
    for (int n = 0; n < kBleuOrder && i + n < ws.ids.size(); ++n) {
      key = push_unit(key, ws.ids[i + n], n, 32);
      ++stats[2 + kBleuOrder + n];
      // Each hypothesis occurrence takes one of the reference's remaining counts: the sum is
      // min(hyp count, max reference count) per n-gram, sacreBLEU's clipping.
      Slot* s = ws.table.find(key);
      if (s && s->count > 0) --s->count, ++stats[2 + n];
    }
  }

  // The closest reference length; ties go to the shorter reference.
  int64_t closest = -1, best_diff = -1;
  for (const int64_t len : ref_lens) {
    const int64_t diff = std::llabs(hyp_len - len);
    if (best_diff == -1 || diff < best_diff) {
      best_diff = diff, closest = len;
    } else if (diff == best_diff && len < closest) {
      closest = len;
    }
  }
  stats[0] += hyp_len;
  stats[1] += closest;
}

// metrics/chrf.py's _compute_f_score without eps smoothing: precision and recall averaged over
// the orders where both sides have n-grams, then F-beta. Operation order follows the Python.
double chrf_f_score(const int64_t* stats) {
  const double eps = 1e-16;
  const int factor = kChrfBeta * kChrfBeta;
  double avg_prec = 0.0, avg_rec = 0.0;
  int effective_order = 0;
  for (int i = 0; i < kChrfOrder; ++i) {
    const int64_t n_hyp = stats[3 * i], n_ref = stats[3 * i + 1], n_match = stats[3 * i + 2];
    const double prec = n_hyp > 0 ? static_cast<double>(n_match) / static_cast<double>(n_hyp) : eps;
    const double rec = n_ref > 0 ? static_cast<double>(n_match) / static_cast<double>(n_ref) : eps;
    if (n_hyp > 0 && n_ref > 0) {
      avg_prec += prec;
      avg_rec += rec;
      ++effective_order;
    }
  }
  if (effective_order == 0) {
    avg_prec = avg_rec = 0.0;
  } else {
    avg_prec /= effective_order;
    avg_rec /= effective_order;
  }
  if (avg_prec + avg_rec == 0.0) return 0.0;
  double score = (1 + factor) * avg_prec * avg_rec;
  score /= (factor * avg_prec) + avg_rec;
  return 100 * score;
}

// Code points of ''.join(line.split()).
void chrf_code_points(std::string_view line, std::vector<char32_t>& cps) {
  cps.clear();
  for (size_t i = 0; i < line.size();) {
    const char32_t c = next_code_point(line, i);
    if (!is_python_space(c)) cps.push_back(c);
  }
}

// All character n-gram keys, order by order: keys of order n+1 start at offsets[n]. A key of
// order n+1 extends the order-n key at the same position by one code point.
void chrf_keys(const std::vector<char32_t>& cps, std::vector<Key>& keys,
               std::array<size_t, kChrfOrder + 1>& offsets) {
  const size_t len = cps.size();
  size_t total = 0;
  for (int n = 0; n <= kChrfOrder; ++n) {
    offsets[n] = total;
    if (n < kChrfOrder && len > static_cast<size_t>(n)) total += len - n;
  }
  keys.resize(total);
  Key* out = keys.data();
  for (size_t i = 0; i < len; ++i) out[i] = push_unit(0, static_cast<uint32_t>(cps[i]), 0, 21);
  for (int n = 1; n < kChrfOrder; ++n) {
    const Key* prev = keys.data() + offsets[n - 1];
    out = keys.data() + offsets[n];
    for (size_t i = 0; i + n < len; ++i) out[i] = push_unit(prev[i], static_cast<uint32_t>(cps[i + n]), n, 21);
  }
}

void chrf_segment(const std::string& hyp, const std::vector<const std::string*>& refs,
                  const ChrfOptions& options, Workspace& ws, ChrfStats& total) {
  std::array<size_t, kChrfOrder + 1> hyp_off{}, ref_off{};
  chrf_code_points(preprocess(hyp, options.lowercase, ws.lowered), ws.cps);
  chrf_keys(ws.cps, ws.hyp_keys, hyp_off);

  std::vector<Key>& ref_keys = ws.ref_keys;
  ChrfStats best{};
  double best_f = -1.0;
  for (const std::string* ref : refs) {
    chrf_code_points(preprocess(*ref, options.lowercase, ws.lowered), ws.cps);
    chrf_keys(ws.cps, ref_keys, ref_off);
    ws.table.reset(ref_keys.size());
    for (const Key k : ref_keys) ++ws.table.insert(k).count;
    ChrfStats stats{};
    // present[i]: the hypothesis n-gram at i occurs in the reference. An (n+1)-gram whose
    // n-gram prefix is absent is absent too, so it needs no lookup.
    ws.present.assign(hyp_off[1], 1);
    for (int n = 0; n < kChrfOrder; ++n) {
      const auto n_ref = static_cast<int64_t>(ref_off[n + 1] - ref_off[n]);
      int64_t match = 0;
      for (size_t k = hyp_off[n]; k < hyp_off[n + 1]; ++k) {
        const size_t i = k - hyp_off[n];
        if (!ws.present[i]) continue;
        Slot* s = ws.table.find(ws.hyp_keys[k]);
        if (!s) {
          ws.present[i] = 0;
        } else if (s->count > 0) {
          --s->count, ++match;
        }
      }
      // sacreBLEU counts no hypothesis n-grams of an order the reference lacks.
      stats[3 * n] = n_ref > 0 ? static_cast<int64_t>(hyp_off[n + 1] - hyp_off[n]) : 0;
      stats[3 * n + 1] = n_ref;
      stats[3 * n + 2] = match;
    }
    const double f = chrf_f_score(stats.data());
    if (f > best_f) best_f = f, best = stats;
  }
  for (size_t i = 0; i < total.size(); ++i) total[i] += best[i];
}

// Sums per-segment statistics over the corpus, in parallel chunks (integer sums, so the
// result does not depend on the split).
template <typename Stats, typename SegmentFn>
Stats sum_segments(size_t count, SegmentFn segment) {
  const size_t min_chunk = 2048;
  size_t workers = std::max(1u, std::thread::hardware_concurrency());
  workers = std::min(workers, std::max<size_t>(1, count / min_chunk));
  std::vector<Stats> partial(workers, Stats{});
  auto run = [&](size_t w) {
    Workspace ws;
    const size_t begin = count * w / workers, end = count * (w + 1) / workers;
    for (size_t i = begin; i < end; ++i) segment(i, ws, partial[w]);
  };
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(run, w);
  run(0);
  for (auto& t : threads) t.join();
  Stats total{};
  for (const auto& p : partial) {
    for (size_t i = 0; i < total.size(); ++i) total[i] += p[i];
  }
  return total;
}

// utils.py's my_log: log with log(0) floored to -9999999999.
double floored_log(double x) { return x == 0.0 ? -9999999999.0 : std::log(x); }

// metrics/bleu.py's compute_bleu for corpus BLEU (effective_order off).
BleuScore compute_bleu(const BleuStats& stats, const BleuOptions& options) {
  BleuScore out;
  out.sys_len = stats[0];
  out.ref_len = stats[1];
  for (int n = 0; n < kBleuOrder; ++n) {
    out.counts[n] = stats[2 + n];
    out.totals[n] = stats[2 + kBleuOrder + n];
  }
  const auto sys_len = static_cast<double>(out.sys_len), ref_len = static_cast<double>(out.ref_len);
  if (out.sys_len < out.ref_len) {
    out.bp = out.sys_len > 0 ? std::exp(1 - ref_len / sys_len) : 0.0;
  } else {
    out.bp = 1.0;
  }
  out.ratio = out.ref_len ? sys_len / ref_len : 0.0;
  if (std::all_of(out.counts.begin(), out.counts.end(), [](int64_t c) { return c == 0; })) {
    return out;  // sacreBLEU's early exit: score 0, precisions 0
  }
  double smooth_mteval = 1.0;
  for (int n = 0; n < kBleuOrder; ++n) {
    if (out.totals[n] == 0) break;
    const auto total = static_cast<double>(out.totals[n]);
    if (out.counts[n] == 0) {
      if (options.smooth == BleuSmoothing::kExp) {
        smooth_mteval *= 2;
        out.precisions[n] = 100. / (smooth_mteval * total);
      } else if (options.smooth == BleuSmoothing::kFloor) {
        out.precisions[n] = 100. * options.smooth_value / total;
      }
    } else {
      out.precisions[n] = 100. * static_cast<double>(out.counts[n]) / total;
    }
  }
  double log_sum = 0.0;
  for (const double p : out.precisions) log_sum += floored_log(p);
  out.score = out.bp * std::exp(log_sum / kBleuOrder);
  return out;
}

std::string fixed(double value, int width) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", width, value);
  return buf;
}

std::string nrefs_string(int nrefs) { return nrefs < 0 ? "var" : std::to_string(nrefs); }

// Validates UTF-8 as Python's strict decoder: no overlongs, surrogates or values past U+10FFFF.
// Returns the offset of the first bad byte, or npos.
size_t invalid_utf8_at(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    const size_t len = utf8_length(c);
    if (len == 1 || c == 0xC0 || c == 0xC1 || c > 0xF4 || i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    }
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) ||
        (c == 0xF4 && c1 >= 0x90)) {
      return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

std::vector<std::string> split_lines(const std::string& text, const std::string& name,
                                     const std::string& what) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + pos, end - pos);
    const size_t bad = invalid_utf8_at(line);
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

// -----------------------------------------------------------------------------------------------
// Public functions

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

BleuScore corpus_bleu(const std::vector<std::string>& hyps,
                      const std::vector<std::vector<std::string>>& refs, const BleuOptions& options,
                      const CorpusSources& sources) {
  const Segments segments = collect_segments(hyps, refs, sources);
  const BleuStats stats = sum_segments<BleuStats>(hyps.size(), [&](size_t i, Workspace& ws, BleuStats& s) {
    bleu_segment(hyps[i], segments.refs[i], options, ws, s);
  });
  BleuScore score = compute_bleu(stats, options);
  score.nrefs = segments.nrefs;
  return score;
}

ChrfScore corpus_chrf(const std::vector<std::string>& hyps,
                      const std::vector<std::vector<std::string>>& refs, const ChrfOptions& options,
                      const CorpusSources& sources) {
  const Segments segments = collect_segments(hyps, refs, sources);
  ChrfScore score;
  score.stats = sum_segments<ChrfStats>(hyps.size(), [&](size_t i, Workspace& ws, ChrfStats& s) {
    chrf_segment(hyps[i], segments.refs[i], options, ws, s);
  });
  score.score = chrf_f_score(score.stats.data());
  score.nrefs = segments.nrefs;
  return score;
}

std::string bleu_signature(const BleuOptions& options, int nrefs) {
  static const char* const kTokNames[] = {"none", "13a", "intl", "char"};
  std::string smooth = "exp";
  if (options.smooth == BleuSmoothing::kFloor) smooth = "floor[" + fixed(options.smooth_value, 2) + "]";
  if (options.smooth == BleuSmoothing::kNone) smooth = "none";
  return "nrefs:" + nrefs_string(nrefs) + "|case:" + (options.lowercase ? "lc" : "mixed") +
         "|eff:no|tok:" + kTokNames[static_cast<int>(options.tokenize)] + "|smooth:" + smooth +
         "|version:" + kSacreBleuVersion;
}

std::string chrf_signature(const ChrfOptions& options, int nrefs) {
  return "nrefs:" + nrefs_string(nrefs) + "|case:" + (options.lowercase ? "lc" : "mixed") +
         "|eff:yes|nc:6|nw:0|space:no|version:" + kSacreBleuVersion;
}

std::string bleu_verbose(const BleuScore& score) {
  std::string out;
  for (int n = 0; n < kBleuOrder; ++n) out += (n ? "/" : "") + fixed(score.precisions[n], 1);
  out += " (BP = " + fixed(score.bp, 3) + " ratio = " + fixed(score.ratio, 3) +
         " hyp_len = " + std::to_string(score.sys_len) + " ref_len = " + std::to_string(score.ref_len) + ")";
  return out;
}

std::string format_bleu(const BleuScore& score, int width, const std::string& signature) {
  const std::string name = signature.empty() ? "BLEU" : "BLEU|" + signature;
  return name + " = " + fixed(score.score, width) + " " + bleu_verbose(score);
}

std::string format_chrf(const ChrfScore& score, int width, const std::string& signature) {
  const std::string name = signature.empty() ? "chrF2" : "chrF2|" + signature;
  return name + " = " + fixed(score.score, width);
}

std::vector<std::string> read_bleu_lines(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::invalid_argument("cannot read " + what + " '" + path + "': " + std::strerror(errno));
  }
  return read_bleu_lines(in, path, what);
}

std::vector<std::string> read_bleu_lines(std::istream& in, const std::string& name,
                                         const std::string& what) {
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("error reading " + what + " '" + name + "'");
  return split_lines(text, name, what);
}

}  // namespace tmt
