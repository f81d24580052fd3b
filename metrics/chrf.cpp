// sacreBLEU 2.x corpus chrF, re-implemented from its published algorithm (metrics/chrf.py,
// metrics/helpers.py): n-grams counted over code points, Python's float operation order.

#include "metrics/chrf.h"

#include "metrics/unicode.h"

namespace tmt {
namespace {

using namespace metrics_detail;  // NOLINT: the shared core of metrics/

constexpr int kChrfOrder = 6;
constexpr int kChrfBeta = 2;

// [hyp, ref, match] per order, summed over segments.
using ChrfStats = std::array<int64_t, 3 * kChrfOrder>;

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

}  // namespace

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

std::string chrf_signature(const ChrfOptions& options, int nrefs) {
  return "nrefs:" + nrefs_string(nrefs) + "|case:" + (options.lowercase ? "lc" : "mixed") +
         "|eff:yes|nc:6|nw:0|space:no|version:" + kSacreBleuVersion;
}

std::string format_chrf(const ChrfScore& score, int width, const std::string& signature) {
  const std::string name = signature.empty() ? "chrF2" : "chrF2|" + signature;
  return name + " = " + fixed(score.score, width);
}

}  // namespace tmt
