#include "decode/length_batches.h"

#include <algorithm>

namespace tmt {

std::vector<std::vector<size_t>> length_batches(const std::vector<int64_t>& lengths, int64_t max_tokens) {
  std::vector<size_t> order;
  for (size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] > 0) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] < lengths[b]; });
  std::vector<std::vector<size_t>> batches;
  for (const size_t i : order) {
    if (batches.empty() || static_cast<int64_t>(batches.back().size() + 1) * lengths[i] > max_tokens) {
      batches.emplace_back();
    }
    batches.back().push_back(i);
  }
  return batches;
}

torch::Tensor pad_rows(const std::vector<std::vector<int64_t>>& sequences, const std::vector<size_t>& rows,
                       int64_t pad_id, int64_t prefix, int64_t suffix) {
  const int64_t extra = (prefix >= 0 ? 1 : 0) + (suffix >= 0 ? 1 : 0);
  int64_t width = 0;
  for (const size_t i : rows) width = std::max(width, static_cast<int64_t>(sequences[i].size()) + extra);
  torch::Tensor out = torch::full({static_cast<int64_t>(rows.size()), width}, pad_id, torch::kLong);  // [rows, width]
  for (size_t r = 0; r < rows.size(); ++r) {
    int64_t* row = out.data_ptr<int64_t>() + static_cast<int64_t>(r) * width;
    if (prefix >= 0) *row++ = prefix;
    row = std::copy(sequences[rows[r]].begin(), sequences[rows[r]].end(), row);
    if (suffix >= 0) *row = suffix;
  }
  return out;
}

}  // namespace tmt
