#pragma once
// Decoding settings. The foundation decodes greedily; beam search adds its keys later.

#include <cstdint>

namespace tmt {

/// Beam search and batching for `tmt translate`; the output length limit is
/// max_len_a * source_len + max_len_b, as in fairseq.
struct DecodeConfig {
  int64_t beam_size = 4;      // paper: 4
  double alpha = 0.6;         // length penalty ((5 + |Y|) / 6)^alpha (paper: 0.6)
  int64_t nbest = 1;          // translations printed per input line
  int64_t max_tokens = 4096;  // source tokens decoded together
  bool truncate_long = true;  // a source over model.max_positions is truncated with a warning (false: refused)
  double max_len_a = 1.0;     // paper: output up to input length + 50
  int64_t max_len_b = 50;

  void validate() const;
};

}  // namespace tmt
