#pragma once
// `tmt bleu`: sacreBLEU-compatible corpus BLEU and chrF of a hypothesis file.

#include <string>
#include <vector>

namespace tmt {

/// `tmt bleu` arguments; the defaults are sacreBLEU's.
struct BleuArgs {
  std::vector<std::string> refs;                 // one or more reference files
  std::string input;                             // hypothesis file; "" = stdin
  std::string tokenize = "13a";                  // none, 13a, intl or char (BLEU only)
  bool lowercase = false;                        // applies to BLEU and chrF alike
  std::vector<std::string> metrics = {"bleu"};   // bleu and/or chrf
  std::string format = "text";                   // "text" (sacrebleu -f text) or "json"
};

/// `tmt bleu REF [REF2 ...] [-i HYP]`: scores a hypothesis file against references.
int bleu_command(const BleuArgs& args);

}  // namespace tmt
