#pragma once
// Corpus BLEU and chrF with sacreBLEU 2.x semantics: the same tokenizers, statistics, smoothing,
// signatures and score lines, so that `tmt bleu` numbers can be quoted as sacreBLEU numbers.

#include <array>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace tmt {

/// The sacreBLEU version whose output (numbers, signature, formats) this module reproduces.
inline constexpr const char* kSacreBleuVersion = "2.4.2";

/// BLEU tokenizers, named as sacreBLEU's `--tokenize` choices.
enum class BleuTokenizer { kNone, k13a, kIntl, kChar };

/// BLEU smoothing of zero n-gram matches (Chen and Cherry, 2014), as sacreBLEU's `--smooth-method`.
enum class BleuSmoothing { kExp, kFloor, kNone };

/// BLEU settings; the defaults are sacreBLEU's corpus-BLEU defaults.
struct BleuOptions {
  BleuTokenizer tokenize = BleuTokenizer::k13a;  // mteval-v13a, sacreBLEU's default
  bool lowercase = false;                        // sacreBLEU compares case by default
  BleuSmoothing smooth = BleuSmoothing::kExp;    // mteval's exponential smoothing, sacreBLEU's default
  double smooth_value = 0.1;                     // floor only: Chen and Cherry's value, sacreBLEU's default
};

/// chrF settings: chrF2 over character 1..6-grams without whitespace, sacreBLEU's defaults.
struct ChrfOptions {
  bool lowercase = false;  // sacreBLEU compares case by default
};

/// Where the streams came from, named in error messages.
struct CorpusSources {
  std::string hypothesis = "hypothesis";
  std::vector<std::string> references;  // one per reference stream; empty: "reference N"
};

/// A corpus BLEU score with its sufficient statistics, as sacreBLEU's BLEUScore.
struct BleuScore {
  double score = 0.0;                  // 0..100
  std::array<int64_t, 4> counts{};     // clipped n-gram matches, n = 1..4
  std::array<int64_t, 4> totals{};     // hypothesis n-grams, n = 1..4
  std::array<double, 4> precisions{};  // percentages, smoothed
  double bp = 0.0;                     // brevity penalty
  double ratio = 0.0;                  // sys_len / ref_len (0 when ref_len is 0)
  int64_t sys_len = 0;
  int64_t ref_len = 0;                 // sum of the closest reference lengths
  int nrefs = 1;                       // references per segment; -1: varies ("var")
};

/// A corpus chrF score with its statistics: [hyp, ref, match] per character order 1..6.
struct ChrfScore {
  double score = 0.0;  // 0..100
  std::array<int64_t, 18> stats{};
  int nrefs = 1;       // references per segment; -1: varies ("var")
};

/// Tokenizes one line as sacreBLEU's BLEU tokenizer does (after its right strip); tokens are
/// separated by single spaces.
std::string tokenize_bleu(std::string_view line, BleuTokenizer tokenizer);

/// Python's str.lower() on UTF-8 text: per-code-point lowercase (utf8proc), plus the two
/// differences of Python's full mapping: U+0130 -> "i\u0307" and the final sigma rule.
std::string lowercase_like_python(std::string_view text);

/// Python's str.rstrip(): drops trailing Unicode whitespace (str.isspace()).
std::string_view rstrip_like_python(std::string_view text);

/// Parses a tokenizer name ("none", "13a", "intl", "char"); throws std::invalid_argument otherwise.
BleuTokenizer parse_bleu_tokenizer(const std::string& name);

/// Corpus BLEU of hyps[i] against refs[r][i] for every reference stream r. Empty reference lines
/// are skipped as sacreBLEU does; a line whose references are all empty, or streams of different
/// lengths, throw std::invalid_argument naming `sources`.
BleuScore corpus_bleu(const std::vector<std::string>& hyps,
                      const std::vector<std::vector<std::string>>& refs,
                      const BleuOptions& options = {}, const CorpusSources& sources = {});

/// Corpus chrF2 (sacreBLEU's effective-order averaging); per segment the reference with the best
/// sentence chrF counts. Same input rules as corpus_bleu.
ChrfScore corpus_chrf(const std::vector<std::string>& hyps,
                      const std::vector<std::vector<std::string>>& refs,
                      const ChrfOptions& options = {}, const CorpusSources& sources = {});

/// sacreBLEU's BLEU signature, e.g. `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.4.2`.
std::string bleu_signature(const BleuOptions& options, int nrefs = 1);

/// sacreBLEU's chrF signature, e.g. `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.4.2`.
std::string chrf_signature(const ChrfOptions& options, int nrefs = 1);

/// The part after the BLEU score: `67.5/41.2/27.8/19.1 (BP = 1.000 ratio = 1.003 hyp_len = 12345 ref_len = 12312)`.
std::string bleu_verbose(const BleuScore& score);

/// sacreBLEU's score line: `BLEU = 35.22 <verbose>` (width 2, the API default), or with a
/// signature `BLEU|<signature> = 35.2 <verbose>` (width 1, the command-line default).
std::string format_bleu(const BleuScore& score, int width = 2, const std::string& signature = "");

/// sacreBLEU's chrF line: `chrF2 = 52.34`, or `chrF2|<signature> = 52.3`.
std::string format_chrf(const ChrfScore& score, int width = 2, const std::string& signature = "");

/// Reads a UTF-8 text file as sacreBLEU does: lines split on '\n', each right-stripped of
/// Unicode whitespace. `what` names the file in errors ("reference"): a missing file or invalid
/// UTF-8 throws std::invalid_argument.
std::vector<std::string> read_bleu_lines(const std::string& path, const std::string& what);

/// As read_bleu_lines, from an open stream (stdin); `name` names it in errors.
std::vector<std::string> read_bleu_lines(std::istream& in, const std::string& name,
                                         const std::string& what);

}  // namespace tmt
