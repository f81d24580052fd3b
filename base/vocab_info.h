#pragma once
// What the model and the data must agree on about a vocabulary, in a header both may include.

#include <cstdint>

namespace tmt {

/// Vocabulary facts the model needs besides its architecture.
struct VocabInfo {
  int64_t src_size = 0;
  int64_t tgt_size = 0;
  int64_t pad_id = 0;
};

}  // namespace tmt
