#pragma once
// One training batch of padded id tensors.

#include <torch/torch.h>

namespace tmt {

/// Teacher-forcing batch: the decoder reads tgt_in and is trained to predict tgt_out.
struct Batch {
  torch::Tensor src;      // [batch, src_len] int64
  torch::Tensor tgt_in;   // [batch, tgt_len] int64, starts with the start symbol
  torch::Tensor tgt_out;  // [batch, tgt_len] int64, tgt_in shifted left by one
  int64_t epoch = 0;      // the pass over the training data this batch belongs to
  int64_t index = 0;      // its position in that epoch's batch order
};

}  // namespace tmt
