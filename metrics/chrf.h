#pragma once
// Corpus chrF2 with sacreBLEU 2.x semantics: character 1..6-grams without whitespace, beta 2,
// the same signature and score line.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/corpus_metric.h"

namespace tmt {

/// chrF settings: chrF2 over character 1..6-grams without whitespace, sacreBLEU's defaults.
struct ChrfOptions {
  bool lowercase = false;  // sacreBLEU compares case by default
};

/// A corpus chrF score with its statistics: [hyp, ref, match] per character order 1..6.
struct ChrfScore {
  double score = 0.0;  // 0..100
  std::array<int64_t, 18> stats{};
  int nrefs = 1;       // references per segment; -1: varies ("var")
};

/// Corpus chrF2 (sacreBLEU's effective-order averaging); per segment the reference with the best
/// sentence chrF counts. Same input rules as corpus_bleu.
ChrfScore corpus_chrf(const std::vector<std::string>& hyps,
                      const std::vector<std::vector<std::string>>& refs,
                      const ChrfOptions& options = {}, const CorpusSources& sources = {});

/// sacreBLEU's chrF signature, e.g. `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.4.2`.
std::string chrf_signature(const ChrfOptions& options, int nrefs = 1);

/// sacreBLEU's chrF line: `chrF2 = 52.34`, or `chrF2|<signature> = 52.3`.
std::string format_chrf(const ChrfScore& score, int width = 2, const std::string& signature = "");

}  // namespace tmt
