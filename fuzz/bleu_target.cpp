// sacreBLEU's tokenizers, BLEU and chrF on any UTF-8 text (`tmt bleu` refuses the rest before
// scoring): lines alternate hypothesis, reference; scores are finite and within [0, 100] (up to
// rounding: sacreBLEU itself gives 100.00000000000004 for some exact matches), and a
// hypothesis equal to its reference scores 100 chrF when there is anything to compare.

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/utf8.h"
#include "fuzz/fuzz_targets.h"
#include "metrics/bleu.h"
#include "metrics/chrf.h"
#include "metrics/tokenizers.h"

namespace tmt::fuzz {

void bleu(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (!is_valid_utf8(text)) return;
  std::vector<std::string> hyps;
  std::vector<std::string> refs;
  size_t start = 0;
  for (size_t i = 0; start <= text.size(); ++i) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    (i % 2 == 0 ? hyps : refs).push_back(text.substr(start, end - start));
    start = end + 1;
  }
  refs.resize(hyps.size(), "x");
  for (const BleuTokenizer tok : {BleuTokenizer::kNone, BleuTokenizer::k13a, BleuTokenizer::kIntl, BleuTokenizer::kChar}) {
    for (const std::string& line : hyps) {
      const std::string tokens = tokenize_bleu(line, tok);
      require(tokens.find("  ") == std::string::npos, "tokens are separated by single spaces");
      require(is_valid_utf8(tokens), "tokenized UTF-8 stays UTF-8");
    }
    BleuOptions options;
    options.tokenize = tok;
    BleuScore score;
    try {
      score = corpus_bleu(hyps, {refs}, options);
    } catch (const std::invalid_argument&) {
      continue;  // a line whose references are all empty
    }
    require(std::isfinite(score.score) && score.score >= 0.0 && score.score <= 100.0 + 1e-9, "BLEU in [0, 100]");
  }
  try {
    const ChrfScore chrf = corpus_chrf(hyps, {refs});
    require(std::isfinite(chrf.score) && chrf.score >= 0.0 && chrf.score <= 100.0 + 1e-9, "chrF in [0, 100]");
    const ChrfScore same = corpus_chrf(hyps, {hyps});
    require(same.score == 0.0 || std::abs(same.score - 100.0) < 1e-9, "a hypothesis scores 100 against itself");
  } catch (const std::invalid_argument&) {
  }
}

std::vector<std::string> bleu_seeds() {
  return {"The cat sat on the mat.\nThe cat sat on a mat.\n",
          "Ein Hund läuft, 3.5 km/h!\nA dog runs at 3.5 km/h.\n\xe4\xb8\xad\xe6\x96\x87 text\n\xe4\xb8\xad text",
          "\n\n"};
}

}  // namespace tmt::fuzz
