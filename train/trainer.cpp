#include "train/trainer.h"

#include <cmath>

#include "train/lr_schedule.h"

namespace tmt {

Trainer::Trainer(Transformer model, const TrainConfig& config)
    : model_(std::move(model)),
      config_(config),
      criterion_(config.criterion, model_->vocab().tgt_size, model_->vocab().pad_id) {
  config_.validate();
  optimizer_ = std::make_unique<torch::optim::Adam>(
      model_->parameters(), torch::optim::AdamOptions(0.0)
                                .betas({config_.adam_beta1, config_.adam_beta2})
                                .eps(config_.adam_eps));
}

UpdateStats Trainer::step(const Batch& batch) {
  model_->train();
  const double lr = noam_rate(updates_ + 1, model_->config().d_model, config_.warmup_updates,
                              config_.lr_factor);
  for (auto& group : optimizer_->param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }
  optimizer_->zero_grad();
  LossResult r = loss_of(batch);
  r.loss.backward();
  optimizer_->step();
  ++updates_;
  UpdateStats s = stats_of(r);
  s.lr = lr;
  return s;
}

UpdateStats Trainer::evaluate(const Batch& batch) {
  model_->eval();
  torch::NoGradGuard no_grad;
  return stats_of(loss_of(batch));
}

LossResult Trainer::loss_of(const Batch& batch) {
  torch::Tensor logits = model_->forward(batch.src, batch.tgt_in);  // [batch, tgt_len, vocab]
  return criterion_(logits.reshape({-1, logits.size(-1)}),           // [batch * tgt_len, vocab]
                    batch.tgt_out.reshape({-1}));                     // [batch * tgt_len]
}

UpdateStats Trainer::stats_of(const LossResult& r) const {
  UpdateStats s;
  s.update = updates_;
  s.tokens = r.tokens.item<int64_t>();
  const double loss = r.loss.item<double>();
  s.loss_sum = config_.criterion.reduction == LossReduction::mean ? loss * static_cast<double>(s.tokens) : loss;
  s.nll_sum = r.nll_sum.item<double>();
  s.correct = r.correct.item<int64_t>();
  return s;
}

void IntervalStats::add(const UpdateStats& s) {
  loss_sum += s.loss_sum;
  nll_sum += s.nll_sum;
  correct += s.correct;
  tokens += s.tokens;
}

double IntervalStats::loss() const { return tokens > 0 ? loss_sum / static_cast<double>(tokens) : 0.0; }
double IntervalStats::nll() const { return tokens > 0 ? nll_sum / static_cast<double>(tokens) : 0.0; }
double IntervalStats::perplexity() const { return std::exp(nll()); }
double IntervalStats::accuracy() const {
  return tokens > 0 ? static_cast<double>(correct) / static_cast<double>(tokens) : 0.0;
}

}  // namespace tmt
