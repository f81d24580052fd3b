#pragma once
// Decoding settings. The foundation decodes greedily; beam search adds its keys later.

#include <cstdint>

namespace tmt {

/// Output length limit max_len_a * source_len + max_len_b, as in fairseq.
struct DecodeConfig {
  double max_len_a = 1.0;   // paper: output up to input length + 50
  int64_t max_len_b = 50;

  void validate() const;
};

}  // namespace tmt
