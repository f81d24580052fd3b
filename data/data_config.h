#pragma once
// Where training examples come from. The foundation ships the synthetic copy task; parallel
// corpora arrive with `tmt prepare`.

#include <cstdint>

namespace tmt {

/// The source of training batches.
enum class DataKind { copy };

/// The Annotated Transformer's copy task: random sequences whose first token is fixed to 1,
/// padding id 0, the target equal to the source.
struct DataConfig {
  DataKind kind = DataKind::copy;
  int64_t vocab_size = 11;       // copy task: ids 1..vocab_size-1 are symbols, 0 is padding
  int64_t seq_len = 10;          // copy task: tokens per sequence, the fixed first one included
  int64_t batch_size = 80;       // sequences per update (the Annotated Transformer's 80)
  int64_t valid_size = 100;      // sequences decoded after training to check the copy

  void validate() const;
};

const char* to_string(DataKind k);

}  // namespace tmt
