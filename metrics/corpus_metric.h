#pragma once
// What corpus BLEU and chrF share (internal to metrics/): the sources named in errors, segments
// with their references, per-thread workspaces, parallel sums, and number formatting.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "metrics/ngram_table.h"

namespace tmt {

/// The sacreBLEU version whose output (numbers, signature, formats) metrics/ reproduces.
inline constexpr const char* kSacreBleuVersion = "2.4.2";

/// Where the streams came from, named in error messages.
struct CorpusSources {
  std::string hypothesis = "hypothesis";
  std::vector<std::string> references;  // one per reference stream; empty: "reference N"
};

namespace metrics_detail {

/// The non-empty references of every segment, validated once before scoring: streams of
/// different lengths, no hypothesis lines or a line whose references are all empty throw
/// std::invalid_argument naming `sources`.
struct Segments {
  std::vector<std::vector<const std::string*>> refs;  // per segment
  int nrefs = 1;                                      // references per segment; -1: varies
};
Segments collect_segments(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                          const CorpusSources& sources);

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

/// The line itself, or its lowercased copy kept in `buffer`.
std::string_view preprocess(const std::string& line, bool lowercase, std::string& buffer);

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

/// `value` with `width` decimals, as Python's "{:.{width}f}".
std::string fixed(double value, int width);

/// A signature's nrefs field: the count, or "var".
std::string nrefs_string(int nrefs);

}  // namespace metrics_detail
}  // namespace tmt
