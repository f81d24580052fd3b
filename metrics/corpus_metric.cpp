#include "metrics/corpus_metric.h"

#include <cstdio>
#include <set>
#include <stdexcept>

#include "metrics/unicode.h"

namespace tmt::metrics_detail {

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

std::string_view preprocess(const std::string& line, bool lowercase, std::string& buffer) {
  if (!lowercase) return line;
  buffer = lowercase_like_python(line);
  return buffer;
}

std::string fixed(double value, int width) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", width, value);
  return buf;
}

std::string nrefs_string(int nrefs) { return nrefs < 0 ? "var" : std::to_string(nrefs); }

}  // namespace tmt::metrics_detail
