#include "app/sentence_pairs.h"

#include <algorithm>
#include <stdexcept>

#include "base/input_file.h"
#include "data/text_file.h"
#include "decode/length_batches.h"

namespace tmt {
namespace {

std::vector<std::string> read_side(const std::string& path, const std::string& what) {
  require_readable_file(path, what);
  TextFile file = read_text_file(path);
  if (!file.invalid_utf8_lines.empty()) {
    throw std::invalid_argument(what + " '" + path + "' line " + std::to_string(file.invalid_utf8_lines.front()) +
                                ": not valid UTF-8 (" + std::to_string(file.invalid_utf8_lines.size()) +
                                " such lines)");
  }
  return std::move(file.lines);
}

}  // namespace

SentencePairs read_sentence_pairs(const Task& task, const std::string& source, const std::string& target,
                                  int64_t max_positions) {
  if (task.end_id() < 0) {
    throw std::invalid_argument(std::string("forced decoding needs a translation model; this one was trained on the ") +
                                task.name() + " task");
  }
  const std::vector<std::string> src = read_side(source, "source");
  const std::vector<std::string> tgt = read_side(target, "target");
  if (src.size() != tgt.size()) {
    throw std::invalid_argument("source '" + source + "' has " + std::to_string(src.size()) + " lines but target '" +
                                target + "' has " + std::to_string(tgt.size()) + "; expected the same number of lines");
  }
  SentencePairs pairs;
  for (size_t i = 0; i < src.size(); ++i) {
    const auto line = static_cast<int64_t>(i) + 1;
    pairs.src.push_back(task.encode(src[i], line));
    std::vector<int64_t> ids = task.encode(tgt[i], line);
    if (!ids.empty()) ids.pop_back();  // the end symbol: tgt_out gets it, tgt_in must not
    const auto longest = static_cast<int64_t>(std::max(pairs.src.back().size(), ids.size() + 1));
    if (longest > max_positions) {
      throw std::invalid_argument("line " + std::to_string(line) + " of '" + source + "' / '" + target + "' has " +
                                  std::to_string(longest) + " tokens a side, over model.max_positions " +
                                  std::to_string(max_positions));
    }
    pairs.tgt.push_back(std::move(ids));
    if (!pairs.scored(i)) ++pairs.empty;
  }
  return pairs;
}

ForcedBatch forced_batch(const std::vector<std::vector<int64_t>>& src, const std::vector<std::vector<int64_t>>& tgt,
                         const std::vector<size_t>& rows, const Task& task) {
  const int64_t pad = task.vocab().pad_id;
  return ForcedBatch{rows, pad_rows(src, rows, pad), pad_rows(tgt, rows, pad, task.start_id()),
                     pad_rows(tgt, rows, pad, /*prefix=*/-1, task.end_id())};
}

std::vector<ForcedBatch> forced_batches(const SentencePairs& pairs, const Task& task, int64_t max_tokens) {
  std::vector<int64_t> lengths(pairs.size(), 0);
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (pairs.scored(i)) lengths[i] = static_cast<int64_t>(pairs.src[i].size() + pairs.tgt[i].size() + 1);
  }
  std::vector<ForcedBatch> batches;
  for (const auto& rows : length_batches(lengths, max_tokens)) batches.push_back(forced_batch(pairs.src, pairs.tgt, rows, task));
  return batches;
}

}  // namespace tmt
