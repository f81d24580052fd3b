// tmt::Adam against LibTorch's own Adam, and its state round trip.

#include "train/adam.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/test_support.h"

namespace tmt {
namespace {

using namespace tmt::tests;  // NOLINT: tests/test_support.h

const torch::TensorOptions kDouble = torch::TensorOptions().dtype(torch::kDouble);

// Three parameters of different shapes, the same values on every call for a seed.
NamedTensors parameters(uint64_t seed) {
  torch::manual_seed(seed);
  return {{"encoder.w", torch::randn({3, 4}, kDouble).requires_grad_()},
          {"encoder.b", torch::randn({5}, kDouble).requires_grad_()},
          {"decoder.norm", torch::randn({2, 2}, kDouble).requires_grad_()}};
}

NamedTensors detached_clone(const NamedTensors& tensors) {
  NamedTensors out;
  for (const auto& [name, t] : tensors) out.emplace_back(name, t.detach().clone().requires_grad_());
  return out;
}

// Random gradients for `params`, drawn from their own generator so both sides see the same.
std::vector<torch::Tensor> gradients(const NamedTensors& params, uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> grads;
  for (const auto& [name, p] : params) grads.push_back(torch::randn(p.sizes(), kDouble));
  return grads;
}

void set_gradients(NamedTensors& params, const std::vector<torch::Tensor>& grads) {
  for (size_t i = 0; i < params.size(); ++i) params[i].second.mutable_grad() = grads[i].clone();
}

bool all_close(const NamedTensors& a, const NamedTensors& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!torch::allclose(a[i].second, b[i].second, /*rtol=*/1e-12, /*atol=*/1e-15)) return false;
  }
  return true;
}

bool all_equal(const NamedTensors& a, const NamedTensors& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].first != b[i].first || !torch::equal(a[i].second, b[i].second)) return false;
  }
  return true;
}

const double kRates[] = {1e-3, 5e-3, 2e-2, 7e-3, 1e-4};

TEST(Adam, MatchesTorchAdamWithChangingLearningRates) {
  NamedTensors ours = parameters(7);
  NamedTensors reference = detached_clone(ours);
  std::vector<torch::Tensor> reference_params;
  for (const auto& [name, p] : reference) reference_params.push_back(p);
  torch::optim::Adam torch_adam(reference_params,
                                torch::optim::AdamOptions(kRates[0]).betas({0.9, 0.98}).eps(1e-9));
  Adam adam(ours, 0.9, 0.98, 1e-9);

  const NamedTensors initial = detached_clone(ours);
  for (int step = 0; step < 5; ++step) {
    const std::vector<torch::Tensor> grads = gradients(ours, 100 + step);
    set_gradients(ours, grads);
    set_gradients(reference, grads);
    adam.step(kRates[step]);
    static_cast<torch::optim::AdamOptions&>(torch_adam.param_groups()[0].options()).lr(kRates[step]);
    torch_adam.step();
    EXPECT_TRUE(all_close(ours, reference)) << "after step " << step + 1;
  }
  EXPECT_EQ(adam.steps(), 5);
  EXPECT_FALSE(all_close(ours, initial));  // the parameters did move
}

// The multi-tensor update (what step does on CUDA) computes what the per-tensor loop computes,
// bit for bit on CPU, a parameter without a gradient included.
TEST(Adam, MultiTensorStepEqualsTheLoop) {
  NamedTensors loop_params = parameters(9);
  NamedTensors foreach_params = detached_clone(loop_params);
  Adam loop(loop_params, 0.9, 0.98, 1e-9);
  Adam foreach(foreach_params, 0.9, 0.98, 1e-9);
  for (int step = 0; step < 4; ++step) {
    const std::vector<torch::Tensor> grads = gradients(loop_params, 300 + step);
    set_gradients(loop_params, grads);
    set_gradients(foreach_params, grads);
    if (step == 2) {  // the bias gets no gradient this time
      loop_params[1].second.mutable_grad() = torch::Tensor();
      foreach_params[1].second.mutable_grad() = torch::Tensor();
    }
    loop.step(kRates[step]);
    foreach.step_multi_tensor(kRates[step]);
    EXPECT_TRUE(all_equal(loop_params, foreach_params)) << "after step " << step + 1;
  }
  EXPECT_EQ(foreach.steps(), 4);
  EXPECT_TRUE(all_equal(loop.state(), foreach.state()));
}

TEST(Adam, ContinuesIdenticallyFromItsState) {
  NamedTensors first_params = parameters(8);
  Adam first(first_params, 0.9, 0.98, 1e-9);
  for (int step = 0; step < 3; ++step) {
    set_gradients(first_params, gradients(first_params, 200 + step));
    first.step(kRates[step]);
  }

  NamedTensors second_params = detached_clone(first_params);
  Adam second(second_params, 0.9, 0.98, 1e-9);
  second.load_state(first.state(), first.steps(), "ckpt_3.pt");
  EXPECT_EQ(second.steps(), 3);
  EXPECT_TRUE(all_equal(second.state(), first.state()));

  for (int step = 3; step < 5; ++step) {
    const std::vector<torch::Tensor> grads = gradients(first_params, 200 + step);
    set_gradients(first_params, grads);
    set_gradients(second_params, grads);
    first.step(kRates[step]);
    second.step(kRates[step]);
    EXPECT_TRUE(all_equal(first_params, second_params)) << "after step " << step + 1;
  }
  EXPECT_TRUE(all_equal(second.state(), first.state()));
}

TEST(Adam, StateNamesEveryMomentOfEveryParameter) {
  NamedTensors params = parameters(9);
  Adam adam(params, 0.9, 0.98, 1e-9);
  std::vector<std::string> names;
  for (const auto& [name, t] : adam.state()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"exp_avg.encoder.w", "exp_avg.encoder.b", "exp_avg.decoder.norm",
                                             "exp_avg_sq.encoder.w", "exp_avg_sq.encoder.b",
                                             "exp_avg_sq.decoder.norm"}));
}

TEST(Adam, LoadStateRefusesAMissingName) {
  NamedTensors params = parameters(10);
  Adam adam(params, 0.9, 0.98, 1e-9);
  NamedTensors state = adam.state();
  state[1].first = "exp_avg.encoder.bias";  // instead of exp_avg.encoder.b
  const std::string error = error_of<std::runtime_error>([&] { adam.load_state(state, 4, "run/checkpoint_4.pt"); });
  EXPECT_NE(error.find("exp_avg.encoder.b'"), std::string::npos) << error;
  EXPECT_NE(error.find("run/checkpoint_4.pt"), std::string::npos) << error;

  state = adam.state();
  state.pop_back();
  const std::string count_error = error_of<std::runtime_error>([&] { adam.load_state(state, 4, "run/checkpoint_4.pt"); });
  EXPECT_NE(count_error.find("run/checkpoint_4.pt"), std::string::npos) << count_error;
}

TEST(Adam, LoadStateRefusesAWrongShape) {
  NamedTensors params = parameters(11);
  Adam adam(params, 0.9, 0.98, 1e-9);
  NamedTensors state = adam.state();
  state[5].second = torch::zeros({4, 1}, kDouble);  // exp_avg_sq.decoder.norm is [2, 2]
  const std::string error = error_of<std::runtime_error>([&] { adam.load_state(state, 4, "run/checkpoint_4.pt"); });
  EXPECT_NE(error.find("exp_avg_sq.decoder.norm"), std::string::npos) << error;
  EXPECT_NE(error.find("run/checkpoint_4.pt"), std::string::npos) << error;
}

TEST(Adam, ParameterWithoutGradientIsLeftAlone) {
  NamedTensors params = parameters(12);
  const NamedTensors initial = detached_clone(params);
  Adam adam(params, 0.9, 0.98, 1e-9);
  const std::vector<torch::Tensor> grads = gradients(params, 300);
  params[0].second.mutable_grad() = grads[0].clone();
  params[2].second.mutable_grad() = grads[2].clone();
  adam.step(1e-2);

  EXPECT_TRUE(torch::equal(params[1].second, initial[1].second));
  EXPECT_FALSE(torch::equal(params[0].second, initial[0].second));
  EXPECT_FALSE(torch::equal(params[2].second, initial[2].second));
  for (const auto& [name, moment] : adam.state()) {
    if (name.find("encoder.b") != std::string::npos) EXPECT_EQ(moment.abs().sum().item<double>(), 0.0) << name;
  }

  // zero_grad drops every gradient: the next step changes nothing.
  adam.zero_grad();
  const NamedTensors before = detached_clone(params);
  adam.step(1e-2);
  EXPECT_TRUE(all_equal(params, before));
}

}  // namespace
}  // namespace tmt
