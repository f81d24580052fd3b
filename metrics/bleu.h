#pragma once
// Corpus BLEU with sacreBLEU 2.x semantics: the same tokenizers, statistics, smoothing,
// signature and score line, so that `tmt bleu` numbers can be quoted as sacreBLEU numbers.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/corpus_metric.h"
#include "metrics/tokenizers.h"

namespace tmt {

/// BLEU smoothing of zero n-gram matches (Chen and Cherry, 2014), as sacreBLEU's `--smooth-method`.
enum class BleuSmoothing { kExp, kFloor, kNone };

/// BLEU settings; the defaults are sacreBLEU's corpus-BLEU defaults.
struct BleuOptions {
  BleuTokenizer tokenize = BleuTokenizer::k13a;  // mteval-v13a, sacreBLEU's default
  bool lowercase = false;                        // sacreBLEU compares case by default
  BleuSmoothing smooth = BleuSmoothing::kExp;    // mteval's exponential smoothing, sacreBLEU's default
  double smooth_value = 0.1;                     // floor only: Chen and Cherry's value, sacreBLEU's default
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

/// Corpus BLEU of hyps[i] against refs[r][i] for every reference stream r. Empty reference lines
/// are skipped as sacreBLEU does; a line whose references are all empty, or streams of different
/// lengths, throw std::invalid_argument naming `sources`.
BleuScore corpus_bleu(const std::vector<std::string>& hyps,
                      const std::vector<std::vector<std::string>>& refs,
                      const BleuOptions& options = {}, const CorpusSources& sources = {});

/// sacreBLEU's BLEU signature, e.g. `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.4.2`.
std::string bleu_signature(const BleuOptions& options, int nrefs = 1);

/// The part after the BLEU score: `67.5/41.2/27.8/19.1 (BP = 1.000 ratio = 1.003 hyp_len = 12345 ref_len = 12312)`.
std::string bleu_verbose(const BleuScore& score);

/// sacreBLEU's score line: `BLEU = 35.22 <verbose>` (width 2, the API default), or with a
/// signature `BLEU|<signature> = 35.2 <verbose>` (width 1, the command-line default).
std::string format_bleu(const BleuScore& score, int width = 2, const std::string& signature = "");

}  // namespace tmt
