#include "decode/greedy.h"

namespace tmt {

torch::Tensor greedy_decode(Transformer& model, const torch::Tensor& src, int64_t start_id,
                            int64_t end_id, int64_t max_len) {
  TORCH_CHECK(src.dim() == 2, "greedy_decode: src must be [batch, src_len], got ", src.sizes());
  torch::NoGradGuard no_grad;
  const int64_t batch = src.size(0);
  const int64_t pad = model->vocab().pad_id;
  const torch::Tensor memory = model->encode(src);                 // [batch, src_len, d_model]
  const torch::Tensor src_mask = padding_mask(src, pad);           // [batch, 1, 1, src_len]
  torch::Tensor ys = torch::full({batch, 1}, start_id, src.options());  // [batch, 1]
  torch::Tensor finished = torch::zeros({batch}, src.options().dtype(torch::kBool));
  // Incremental decoding: each step feeds only the newest token and reuses cached keys/values.
  DecoderCache cache = model->start_decoding(memory, src_mask);
  for (int64_t step = 0; step < max_len; ++step) {
    torch::Tensor hidden = model->decode_step(ys.select(1, -1), cache);  // [batch, d_model]
    torch::Tensor logits = model->project(hidden);                 // [batch, vocab]
    torch::Tensor next = logits.argmax(-1);                        // [batch]
    next.masked_fill_(finished, pad);
    ys = torch::cat({ys, next.unsqueeze(1)}, 1);                   // [batch, step + 2]
    if (end_id >= 0) {
      finished.logical_or_(next.eq(end_id));
      if (finished.all().item<bool>()) break;
    }
  }
  return ys.narrow(1, 1, ys.size(1) - 1);                          // [batch, steps]
}

}  // namespace tmt
