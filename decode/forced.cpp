#include "decode/forced.h"

#include <stdexcept>
#include <string>

namespace tmt {

torch::Tensor forced_logits(Transformer& model, const torch::Tensor& src, const torch::Tensor& tgt_in) {
  torch::NoGradGuard no_grad;
  model->eval();
  const torch::Device device = model->parameters().front().device();
  return model->forward(src.to(device), tgt_in.to(device)).to(torch::kFloat);  // [batch, tgt_len, vocab]
}

ForcedStats forced_stats(const torch::Tensor& logits, const torch::Tensor& tgt_out, int64_t pad_id, double temperature) {
  if (!(temperature > 0.0)) {
    throw std::invalid_argument("forced_stats: temperature must be > 0, got " + std::to_string(temperature));
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor gold = tgt_out.to(logits.device());                       // [batch, tgt_len]
  const torch::Tensor log_probs = (logits / temperature).log_softmax(-1);  // [batch, tgt_len, vocab]
  const torch::Tensor mask = gold.ne(pad_id);
  ForcedStats s;
  s.mask = mask.cpu();
  const auto cpu64 = [&](const torch::Tensor& t) { return t.masked_fill(~mask, 0.0).to(torch::kCPU, torch::kDouble); };
  s.gold_log_prob = cpu64(log_probs.gather(-1, gold.unsqueeze(-1)).squeeze(-1));
  const auto [top_log_prob, top_id] = log_probs.max(-1);
  s.top_prob = cpu64(top_log_prob.exp());
  s.top_is_gold = top_id.eq(gold).logical_and(mask).cpu();
  s.entropy = cpu64(-(log_probs.exp() * log_probs).sum(-1));
  return s;
}

torch::Tensor gold_log_probs(const torch::Tensor& logits, const torch::Tensor& tgt_out, int64_t pad_id) {
  torch::NoGradGuard no_grad;
  const torch::Tensor gold = tgt_out.to(logits.device());
  const torch::Tensor log_prob = logits.gather(-1, gold.unsqueeze(-1)).squeeze(-1) - logits.logsumexp(-1);
  return log_prob.masked_fill(gold.eq(pad_id), 0.0).to(torch::kCPU, torch::kDouble);
}

std::vector<double> nll_at_temperatures(const torch::Tensor& logits, const torch::Tensor& tgt_out, int64_t pad_id,
                                        const std::vector<double>& temperatures) {
  torch::NoGradGuard no_grad;
  const torch::Tensor gold = tgt_out.to(logits.device());
  const torch::Tensor mask = gold.ne(pad_id);
  // Only the real positions: [positions, vocab] and their gold logits [positions].
  const torch::Tensor z = logits.index({mask});
  const torch::Tensor z_gold = z.gather(-1, gold.index({mask}).unsqueeze(-1)).squeeze(-1);
  std::vector<double> nll;
  nll.reserve(temperatures.size());
  for (const double t : temperatures) {
    if (!(t > 0.0)) throw std::invalid_argument("nll_at_temperatures: temperature must be > 0, got " + std::to_string(t));
    nll.push_back(((z / t).logsumexp(-1) - z_gold / t).sum(torch::kDouble).item<double>());
  }
  return nll;
}

}  // namespace tmt
