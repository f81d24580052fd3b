// `tmt bleu` prints what `sacrebleu REF... -i HYP -m METRICS -f text|json` prints (sacreBLEU
// 2.4.2 at its default --width 1): one signature-and-score line per metric, aligned on '=' when
// there are several, or the metrics' JSON objects (a list when there are several).

#include "app/bleu_command.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "metrics/bleu.h"
#include "metrics/chrf.h"
#include "metrics/text_lines.h"

namespace tmt {
namespace {

// sacreBLEU's command-line default for --width.
constexpr int kWidth = 1;

// One metric's result, the fields of sacreBLEU's Score.format().
struct MetricResult {
  std::string name;  // "BLEU", "chrF2"
  double score = 0.0;
  std::string signature;
  std::string verbose;  // empty for chrF
  std::string line;     // the text form
};

// json.dumps(d, indent=1, ensure_ascii=False) of Score.format(is_json=True).
std::string json_of(const MetricResult& r) {
  nlohmann::ordered_json d;
  d["name"] = r.name;
  char rounded[64];
  std::snprintf(rounded, sizeof rounded, "%.*f", kWidth, r.score);
  d["score"] = std::stod(rounded);  // float(f'{score:.1f}')
  d["signature"] = r.signature;
  if (!r.verbose.empty()) d["verbose_score"] = r.verbose;
  size_t pos = 0;
  while (pos <= r.signature.size()) {
    size_t end = r.signature.find('|', pos);
    if (end == std::string::npos) end = r.signature.size();
    const std::string pair = r.signature.substr(pos, end - pos);
    const size_t colon = pair.find(':');
    d[pair.substr(0, colon)] = pair.substr(colon + 1);
    pos = end + 1;
  }
  return d.dump(1);
}

// utils.py's print_single_results: several text lines are right-aligned on their '='.
void print_results(const std::vector<MetricResult>& results, bool json) {
  if (json) {
    if (results.size() == 1) {
      std::cout << json_of(results[0]) << "\n";
      return;
    }
    std::cout << "[\n";
    for (size_t i = 0; i < results.size(); ++i) std::cout << (i ? ",\n" : "") << json_of(results[i]);
    std::cout << "\n]\n";
    return;
  }
  size_t width = 0;
  for (const auto& r : results) width = std::max(width, r.line.find('=') - 1);
  for (const auto& r : results) {
    const size_t left = r.line.find('=') - 1;
    std::cout << std::string(results.size() > 1 ? width - left : 0, ' ') << r.line << "\n";
  }
}

}  // namespace

int bleu_command(const BleuArgs& args) {
  if (args.refs.empty()) throw std::invalid_argument("tmt bleu needs at least one reference file, got none");
  if (args.format != "text" && args.format != "json") {
    throw std::invalid_argument("--format must be text or json, got '" + args.format + "'");
  }
  const bool json = args.format == "json";
  // sacreBLEU scores its metrics in sorted order of their upper-case names, each once.
  bool want_bleu = false, want_chrf = false;
  for (const auto& m : args.metrics) {
    if (m == "bleu") {
      want_bleu = true;
    } else if (m == "chrf") {
      want_chrf = true;
    } else {
      throw std::invalid_argument("unknown metric '" + m + "'; expected bleu or chrf");
    }
  }
  if (!want_bleu && !want_chrf) throw std::invalid_argument("tmt bleu needs a metric (bleu or chrf), got none");

  BleuOptions bleu_options;
  bleu_options.tokenize = parse_bleu_tokenizer(args.tokenize);
  bleu_options.lowercase = args.lowercase;
  ChrfOptions chrf_options;
  chrf_options.lowercase = args.lowercase;

  CorpusSources sources;
  std::vector<std::vector<std::string>> refs;
  for (const auto& path : args.refs) {
    refs.push_back(read_bleu_lines(path, "reference"));
    sources.references.push_back(path);
  }
  std::vector<std::string> hyps;
  if (args.input.empty()) {
    sources.hypothesis = "<stdin>";
    hyps = read_bleu_lines(std::cin, sources.hypothesis, "hypothesis");
  } else {
    sources.hypothesis = args.input;
    hyps = read_bleu_lines(args.input, "hypothesis");
  }

  std::vector<MetricResult> results;
  if (want_bleu) {
    const BleuScore s = corpus_bleu(hyps, refs, bleu_options, sources);
    const std::string sig = bleu_signature(bleu_options, s.nrefs);
    results.push_back({"BLEU", s.score, sig, bleu_verbose(s), format_bleu(s, kWidth, sig)});
  }
  if (want_chrf) {
    const ChrfScore s = corpus_chrf(hyps, refs, chrf_options, sources);
    const std::string sig = chrf_signature(chrf_options, s.nrefs);
    results.push_back({"chrF2", s.score, sig, "", format_chrf(s, kWidth, sig)});
  }
  print_results(results, json);
  return 0;
}

}  // namespace tmt
