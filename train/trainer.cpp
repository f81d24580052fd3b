#include "train/trainer.h"

#include <cmath>

#include "model/torch_compat.h"
#include "train/lr_schedule.h"

namespace tmt {
namespace {

NamedTensors named_parameters(TransformerImpl& model) {
  NamedTensors params;
  for (const auto& p : model.named_parameters()) params.emplace_back(p.key(), p.value());
  return params;
}

int64_t count_tokens(const torch::Tensor& ids, int64_t pad_id) { return ids.ne(pad_id).sum().item<int64_t>(); }

torch::Tensor to_device(const torch::Tensor& t, const torch::Device& device) {
  return t.device() == device ? t : t.to(device, /*non_blocking=*/true);
}

}  // namespace

Trainer::Trainer(Transformer model, const TrainConfig& config, const torch::Device& device,
                 Communicator* communicator)
    : model_(std::move(model)),
      config_(config),
      device_(device),
      communicator_(communicator),
      criterion_(config.criterion, model_->vocab().tgt_size, model_->vocab().pad_id) {
  config_.validate();
  model_->to(device_);
  optimizer_ = std::make_unique<Adam>(named_parameters(*model_), config_.adam_beta1, config_.adam_beta2,
                                      config_.adam_eps);
}

UpdateStats Trainer::step(const std::vector<Batch>& batches) {
  TORCH_CHECK(!batches.empty() || communicator_ != nullptr, "an update needs at least one batch");
  model_->train();
  const double lr =
      lr_scale_ * noam_rate(updates_ + 1, model_->config().d_model, config_.warmup_updates, config_.lr_factor);
  const int64_t pad = model_->vocab().pad_id;
  UpdateStats s;
  s.lr = lr;
  // The criterion's mean divides by the whole update's normaliser: its batches, every rank.
  Normaliser update;
  for (const Batch& b : batches) {
    const Normaliser n = criterion_.normaliser(b.tgt_out.reshape({-1}));
    const int64_t positions = b.src.numel() + b.tgt_out.numel();
    update.tokens += n.tokens;
    update.gold_weight += n.gold_weight;
    s.positions += positions;
    s.padding += positions - count_tokens(b.src, pad) - static_cast<int64_t>(n.tokens);
  }
  if (communicator_ != nullptr) {
    torch::Tensor global = torch::tensor({update.tokens, update.gold_weight}, torch::kDouble);
    communicator_->sum({global});
    update.tokens = global[0].item<double>();
    update.gold_weight = global[1].item<double>();
  }

  optimizer_->zero_grad();
  for (const Batch& b : batches) {
    LossResult r = loss_of(b, update);
    r.loss.backward();
    add_stats(r, s);
  }
  if (communicator_ != nullptr) sum_over_ranks(s);
  const bool finite = std::isfinite(s.loss_sum);
  std::vector<torch::Tensor> grads;
  for (const auto& p : model_->parameters()) {
    if (p.grad().defined()) grads.push_back(p.grad().detach());
  }
  std::vector<torch::Tensor> norms;
#if TMT_TORCH_AT_LEAST(2, 0)
  if (!grads.empty() && grads.front().is_cuda()) norms = at::_foreach_norm(grads, 2);  // one kernel, not one per tensor
#endif
  if (norms.empty()) {
    for (const auto& g : grads) norms.push_back(g.to(torch::kFloat).norm());
  }
  s.grad_norm = norms.empty() ? 0.0 : torch::stack(norms).norm().item<double>();
  if (!finite || !std::isfinite(s.grad_norm)) {
    optimizer_->zero_grad();
    s.skipped = true;
    s.update = updates_;
    return s;
  }
  if (config_.clip_norm > 0.0 && s.grad_norm > config_.clip_norm) {
    torch::NoGradGuard no_grad;
    const double factor = config_.clip_norm / (s.grad_norm + 1e-6);
    for (auto& p : model_->parameters()) {
      if (p.grad().defined()) p.mutable_grad().mul_(factor);
    }
  }
  optimizer_->step(lr);
  ++updates_;
  s.update = updates_;
  return s;
}

void Trainer::sum_over_ranks(UpdateStats& s) {
  // Every rank sends every parameter's gradient, in the same order, whatever it computed.
  std::vector<torch::Tensor> grads;
  for (auto& p : model_->parameters()) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  communicator_->sum(grads);
  torch::Tensor totals = torch::tensor({s.loss_sum, s.nll_sum, static_cast<double>(s.correct),
                                        static_cast<double>(s.tokens), static_cast<double>(s.positions),
                                        static_cast<double>(s.padding)},
                                       torch::kDouble);
  communicator_->sum({totals});
  const auto t = totals.accessor<double, 1>();
  s.loss_sum = t[0];
  s.nll_sum = t[1];
  s.correct = static_cast<int64_t>(t[2]);
  s.tokens = static_cast<int64_t>(t[3]);
  s.positions = static_cast<int64_t>(t[4]);
  s.padding = static_cast<int64_t>(t[5]);
}

UpdateStats Trainer::evaluate(const Batch& batch) {
  model_->eval();
  torch::NoGradGuard no_grad;
  UpdateStats s;
  add_stats(loss_of(batch, criterion_.normaliser(batch.tgt_out.reshape({-1}))), s);
  s.update = updates_;
  return s;
}

void Trainer::restore(int64_t updates, const NamedTensors& optimizer_state, const std::string& origin) {
  optimizer_->load_state(optimizer_state, updates, origin);
  updates_ = updates;
}

LossResult Trainer::loss_of(const Batch& batch, const Normaliser& update) {
  torch::Tensor logits;
  {
    AutocastGuard autocast(device_, config_.precision == Precision::bf16);
    logits = model_->forward(to_device(batch.src, device_), to_device(batch.tgt_in, device_));  // [batch, tgt_len, vocab]
  }
  logits = logits.to(torch::kFloat);  // the criterion always runs in fp32
  return criterion_(logits.reshape({-1, logits.size(-1)}),                // [batch * tgt_len, vocab]
                    to_device(batch.tgt_out, device_).reshape({-1}),      // [batch * tgt_len]
                    update);
}

void Trainer::add_stats(const LossResult& r, UpdateStats& s) const {
  // One device-to-host copy for the four figures (counts are exact in double below 2^53).
  const torch::Tensor figures = torch::stack({r.sum.to(torch::kDouble), r.nll_sum.to(torch::kDouble),
                                              r.correct.to(torch::kDouble), r.tokens.to(torch::kDouble)})
                                    .to(torch::kCPU);
  const auto f = figures.accessor<double, 1>();
  const auto tokens = static_cast<int64_t>(f[3]);
  s.loss_sum += f[0];
  s.nll_sum += f[1];
  s.correct += static_cast<int64_t>(f[2]);
  s.tokens += tokens;
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
