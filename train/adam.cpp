#include "train/adam.h"

#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>

namespace tmt {

Adam::Adam(NamedTensors params, double beta1, double beta2, double eps)
    : params_(std::move(params)), beta1_(beta1), beta2_(beta2), eps_(eps) {
  for (const auto& [name, p] : params_) {
    exp_avg_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    exp_avg_sq_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
  }
}

Adam::StepSizes Adam::next_step(double lr) {
  ++steps_;
  const double correction1 = 1.0 - std::pow(beta1_, static_cast<double>(steps_));
  const double correction2 = 1.0 - std::pow(beta2_, static_cast<double>(steps_));
  return {lr / correction1, std::sqrt(correction2)};
}

void Adam::step(double lr) {
  if (!params_.empty() && params_.front().second.is_cuda()) {
    step_multi_tensor(lr);
    return;
  }
  torch::NoGradGuard no_grad;
  const StepSizes sizes = next_step(lr);
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i].second;
    const torch::Tensor& grad = p.grad();
    if (!grad.defined()) continue;
    exp_avg_[i].mul_(beta1_).add_(grad, 1.0 - beta1_);
    exp_avg_sq_[i].mul_(beta2_).addcmul_(grad, grad, 1.0 - beta2_);
    const torch::Tensor denom = (exp_avg_sq_[i].sqrt() / sizes.sqrt_correction2).add_(eps_);
    p.addcdiv_(exp_avg_[i], denom, -sizes.step_size);
  }
}

void Adam::step_multi_tensor(double lr) {
  torch::NoGradGuard no_grad;
  const StepSizes sizes = next_step(lr);
  std::vector<torch::Tensor> params, grads, exp_avg, exp_avg_sq;
  for (size_t i = 0; i < params_.size(); ++i) {
    const torch::Tensor& grad = params_[i].second.grad();
    if (!grad.defined()) continue;
    params.push_back(params_[i].second);
    grads.push_back(grad);
    exp_avg.push_back(exp_avg_[i]);
    exp_avg_sq.push_back(exp_avg_sq_[i]);
  }
  if (params.empty()) return;
  at::_foreach_mul_(exp_avg, beta1_);
  at::_foreach_add_(exp_avg, grads, 1.0 - beta1_);
  at::_foreach_mul_(exp_avg_sq, beta2_);
  at::_foreach_addcmul_(exp_avg_sq, grads, grads, 1.0 - beta2_);
  std::vector<torch::Tensor> denom = at::_foreach_sqrt(exp_avg_sq);
  at::_foreach_div_(denom, sizes.sqrt_correction2);
  at::_foreach_add_(denom, eps_);
  at::_foreach_addcdiv_(params, exp_avg, denom, -sizes.step_size);
}

void Adam::zero_grad() {
  for (auto& [name, p] : params_) {
    if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
  }
}

NamedTensors Adam::state() const {
  NamedTensors state;
  for (size_t i = 0; i < params_.size(); ++i) state.emplace_back("exp_avg." + params_[i].first, exp_avg_[i]);
  for (size_t i = 0; i < params_.size(); ++i) state.emplace_back("exp_avg_sq." + params_[i].first, exp_avg_sq_[i]);
  return state;
}

void Adam::load_state(const NamedTensors& state, int64_t steps, const std::string& origin) {
  std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
  if (by_name.size() != 2 * params_.size()) {
    throw std::runtime_error("optimizer state in '" + origin + "' holds " + std::to_string(by_name.size()) +
                             " tensors, the model needs " + std::to_string(2 * params_.size()));
  }
  torch::NoGradGuard no_grad;
  const auto restore = [&](const std::string& name, torch::Tensor& into) {
    const auto found = by_name.find(name);
    if (found == by_name.end()) {
      throw std::runtime_error("optimizer state in '" + origin + "' has no '" + name + "'");
    }
    if (!found->second.sizes().equals(into.sizes())) {
      std::ostringstream message;
      message << "optimizer state '" << name << "' in '" << origin << "' is " << found->second.sizes()
              << ", the model expects " << into.sizes();
      throw std::runtime_error(message.str());
    }
    into.copy_(found->second);
  };
  for (size_t i = 0; i < params_.size(); ++i) {
    restore("exp_avg." + params_[i].first, exp_avg_[i]);
    restore("exp_avg_sq." + params_[i].first, exp_avg_sq_[i]);
  }
  steps_ = steps;
}

}  // namespace tmt
