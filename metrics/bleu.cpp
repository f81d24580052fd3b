// sacreBLEU 2.x corpus BLEU, re-implemented from its published algorithms (metrics/bleu.py,
// metrics/helpers.py, utils.py). Python's semantics are kept where they change numbers:
// str.split() whitespace and float operation order.

#include "metrics/bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "metrics/unicode.h"

namespace tmt {
namespace {

using namespace metrics_detail;  // NOLINT: the shared core of metrics/

constexpr int kBleuOrder = 4;

// [hyp_len, ref_len, correct x4, total x4], summed over segments.
using BleuStats = std::array<int64_t, 2 + 2 * kBleuOrder>;

// Calls visit(key, n) for every word n-gram of `text` (order n + 1, 1..4) in text order, the
// words given per-segment ids; returns the number of words.
template <typename Visit>
int64_t for_each_ngram(const std::string& text, Workspace& ws, Visit visit) {
  split_python(text, ws.tokens);
  ws.ids.clear();
  for (const auto t : ws.tokens) ws.ids.push_back(ws.words.id(t));
  for (size_t i = 0; i < ws.ids.size(); ++i) {
    Key key = 0;
    for (int n = 0; n < kBleuOrder && i + n < ws.ids.size(); ++n) {
      key = push_unit(key, ws.ids[i + n], n, 32);
      visit(key, n);
    }
  }
  return static_cast<int64_t>(ws.tokens.size());
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
    ref_lens.push_back(for_each_ngram(ws.texts[r], ws, [&](Key key, int) {
      Slot& s = ws.table.insert(key);
      if (s.ref != static_cast<int32_t>(r)) s.ref = static_cast<int32_t>(r), s.current = 0;
      s.count = std::max(s.count, ++s.current);
    }));
  }

  const int64_t hyp_len = for_each_ngram(ws.texts[refs.size()], ws, [&](Key key, int n) {
    ++stats[2 + kBleuOrder + n];
    // Each hypothesis occurrence takes one of the reference's remaining counts: the sum is
    // min(hyp count, max reference count) per n-gram, sacreBLEU's clipping.
    Slot* s = ws.table.find(key);
    if (s && s->count > 0) --s->count, ++stats[2 + n];
  });

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

}  // namespace

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

std::string bleu_signature(const BleuOptions& options, int nrefs) {
  static const char* const kTokNames[] = {"none", "13a", "intl", "char"};
  std::string smooth = "exp";
  if (options.smooth == BleuSmoothing::kFloor) smooth = "floor[" + fixed(options.smooth_value, 2) + "]";
  if (options.smooth == BleuSmoothing::kNone) smooth = "none";
  return "nrefs:" + nrefs_string(nrefs) + "|case:" + (options.lowercase ? "lc" : "mixed") +
         "|eff:no|tok:" + kTokNames[static_cast<int>(options.tokenize)] + "|smooth:" + smooth +
         "|version:" + kSacreBleuVersion;
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

}  // namespace tmt
