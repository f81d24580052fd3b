#pragma once
// Decoding settings: the one options struct of greedy decoding, beam search and `tmt translate`.

#include <cstdint>

namespace tmt {

/// Beam search and batching for `tmt translate`; the output length limit is
/// max_len_a * source_len + max_len_b, as in fairseq. Defaults are the paper's (section 6.1).
struct DecodeConfig {
  int64_t beam_size = 4;      // paper: 4
  double alpha = 0.6;         // length penalty ((5 + |Y|) / 6)^alpha (paper: 0.6)
  int64_t nbest = 1;          // translations printed per input line
  int64_t max_tokens = 4096;  // source tokens decoded together
  bool truncate_long = true;  // a source over model.max_positions is truncated with a warning (false: refused)
  double max_len_a = 1.0;     // paper: output up to input length + 50
  int64_t max_len_b = 50;

  /// Tokens a source of `src_len` tokens may produce before the forced end symbol:
  /// floor(max_len_a * src_len) + max_len_b, at least 0 and at most max_positions - 1 (the
  /// decoder sees the start symbol plus that many tokens).
  int64_t output_limit(int64_t src_len, int64_t max_positions) const;

  /// Throws std::invalid_argument naming the decode.* key when a value is out of range.
  void validate() const;
};

}  // namespace tmt
