// Multi-head attention against hand-computed and LibTorch references, plus masking invariants.

#include "model/attention.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/torch_compat.h"

namespace tmt {
namespace {

// Small double-precision module with non-zero biases, so the reference has to use them.
MultiHeadAttention make_attention(int64_t d_model, int64_t heads, double dropout = 0.0) {
  torch::manual_seed(7);
  MultiHeadAttention attention(d_model, heads, dropout);
  attention->to(torch::kDouble);
  torch::NoGradGuard no_grad;
  for (auto& p : attention->parameters()) {
    p.uniform_(-0.5, 0.5);
  }
  attention->eval();
  return attention;
}

torch::Tensor random_input(int64_t batch, int64_t len, int64_t d_model) {
  return torch::randn({batch, len, d_model}, torch::kDouble);
}

// y = W x + b for one row vector, computed element by element.
std::vector<double> affine(const torch::nn::Linear& linear, const torch::Tensor& x) {
  const auto w = linear->weight.accessor<double, 2>();
  const auto b = linear->bias.accessor<double, 1>();
  const auto in = x.accessor<double, 1>();
  std::vector<double> y(w.size(0));
  for (int64_t i = 0; i < w.size(0); ++i) {
    double sum = b[i];
    for (int64_t j = 0; j < w.size(1); ++j) sum += w[i][j] * in[j];
    y[i] = sum;
  }
  return y;
}

// Scalar-loop multi-head attention: the paper's formula with no tensor ops in the hot path.
torch::Tensor reference_attention(MultiHeadAttention& m, const torch::Tensor& query,
                                  const torch::Tensor& memory, const torch::Tensor& key_mask) {
  const int64_t batch = query.size(0), tgt_len = query.size(1), src_len = memory.size(1);
  const int64_t d_model = query.size(2), heads = m->heads(), dk = m->head_dim();
  auto out = torch::zeros({batch, tgt_len, d_model}, torch::kDouble);
  const auto mask = key_mask.accessor<bool, 2>();  // [batch, src_len]
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<std::vector<double>> k(src_len), v(src_len);
    for (int64_t j = 0; j < src_len; ++j) {
      k[j] = affine(m->k_proj, memory[b][j]);
      v[j] = affine(m->v_proj, memory[b][j]);
    }
    for (int64_t i = 0; i < tgt_len; ++i) {
      const auto q = affine(m->q_proj, query[b][i]);
      auto concat = torch::zeros({d_model}, torch::kDouble);
      for (int64_t h = 0; h < heads; ++h) {
        std::vector<double> score(src_len, 0.0);
        double max_score = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < src_len; ++j) {
          if (!mask[b][j]) continue;
          for (int64_t c = 0; c < dk; ++c) score[j] += q[h * dk + c] * k[j][h * dk + c];
          score[j] /= std::sqrt(static_cast<double>(dk));
          max_score = std::max(max_score, score[j]);
        }
        double total = 0.0;
        for (int64_t j = 0; j < src_len; ++j) {
          score[j] = mask[b][j] ? std::exp(score[j] - max_score) : 0.0;
          total += score[j];
        }
        for (int64_t c = 0; c < dk; ++c) {
          double sum = 0.0;
          for (int64_t j = 0; j < src_len; ++j) sum += score[j] / total * v[j][h * dk + c];
          concat[h * dk + c] = sum;
        }
      }
      const auto y = affine(m->out_proj, concat);
      for (int64_t c = 0; c < d_model; ++c) out[b][i][c] = y[c];
    }
  }
  return out;
}

TEST(MultiHeadAttention, MatchesScalarReference) {
  auto attention = make_attention(/*d_model=*/6, /*heads=*/3);
  const auto query = random_input(2, 3, 6);
  const auto memory = random_input(2, 5, 6);
  const auto key_mask = torch::tensor({1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, torch::kBool).view({2, 5});
  const auto expected = reference_attention(attention, query, memory, key_mask);
  torch::NoGradGuard no_grad;
  const auto actual = attention(query, memory, memory, key_mask.view({2, 1, 1, 5}));
  EXPECT_EQ(actual.sizes(), torch::IntArrayRef({2, 3, 6}));
  EXPECT_LT((actual - expected).abs().max().item<double>(), 1e-12);
}

TEST(MultiHeadAttention, MatchesLibTorchMultiheadAttention) {
  auto attention = make_attention(/*d_model=*/8, /*heads=*/2);
  torch::nn::MultiheadAttention reference(torch::nn::MultiheadAttentionOptions(8, 2));
  reference->to(torch::kDouble);
  reference->eval();
  {
    torch::NoGradGuard no_grad;
    reference->in_proj_weight.copy_(torch::cat(
        {attention->q_proj->weight, attention->k_proj->weight, attention->v_proj->weight}));
    reference->in_proj_bias.copy_(
        torch::cat({attention->q_proj->bias, attention->k_proj->bias, attention->v_proj->bias}));
    reference->out_proj->weight.copy_(attention->out_proj->weight);
    reference->out_proj->bias.copy_(attention->out_proj->bias);
  }
  const auto query = random_input(2, 4, 8);
  const auto memory = random_input(2, 3, 8);
  const auto key_mask = torch::tensor({1, 1, 1, 1, 0, 0}, torch::kBool).view({2, 3});
  torch::NoGradGuard no_grad;
  const auto actual = attention(query, memory, memory, key_mask.view({2, 1, 1, 3}));
  // LibTorch's module is time-major and its key_padding_mask is true where a key is ignored.
  const auto expected = std::get<0>(reference(query.transpose(0, 1), memory.transpose(0, 1),
                                              memory.transpose(0, 1),
                                              /*key_padding_mask=*/key_mask.logical_not()))
                            .transpose(0, 1);  // [batch, tgt_len, d_model]
  EXPECT_LT((actual - expected).abs().max().item<double>(), 1e-12);
}

TEST(MultiHeadAttention, MaskedKeysHaveNoInfluence) {
  auto attention = make_attention(/*d_model=*/4, /*heads=*/2);
  const auto query = random_input(1, 3, 4);
  const auto memory = random_input(1, 4, 4);
  const auto mask = torch::tensor({1, 1, 0, 1}, torch::kBool).view({1, 1, 1, 4});
  auto changed = memory.clone();
  changed[0][2].fill_(1e6);  // a huge value at the masked key would dominate any non-zero weight
  torch::NoGradGuard no_grad;
  const auto before = attention(query, memory, memory, mask);
  const auto after = attention(query, changed, changed, mask);
  EXPECT_TRUE(torch::equal(before, after));
  // Without the mask the same change does move the output, so the check above can fail.
  EXPECT_FALSE(
      torch::allclose(attention(query, memory, memory), attention(query, changed, changed)));
}

TEST(MultiHeadAttention, FullyMaskedRowIsFiniteAndIsolated) {
  auto attention = make_attention(/*d_model=*/4, /*heads=*/2);
  const auto query = random_input(2, 3, 4).requires_grad_(true);
  const auto memory = random_input(2, 3, 4);
  const auto mask = torch::tensor({1, 1, 0, 0, 0, 0}, torch::kBool).view({2, 1, 1, 3});
  const auto out = attention(query, memory, memory, mask);
  ASSERT_TRUE(torch::isfinite(out).all().item<bool>());
  // Zero weights leave only the output bias for the sentence whose keys are all masked.
  EXPECT_TRUE(torch::allclose(out[1], attention->out_proj->bias.expand({3, 4})));
  // The real sentence is unaffected by sharing a batch with it.
  const auto first_memory = memory.narrow(0, 0, 1);
  const auto alone =
      attention(query.narrow(0, 0, 1), first_memory, first_memory, mask.narrow(0, 0, 1));
  EXPECT_LT((out[0] - alone[0]).abs().max().item<double>(), 1e-14);
  out.sum().backward();
  EXPECT_TRUE(torch::isfinite(query.grad()).all().item<bool>());
  for (const auto& p : attention->parameters()) {
    EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>());
  }
}

TEST(MultiHeadAttention, CausalMaskBroadcastsOverBatch) {
  auto attention = make_attention(/*d_model=*/4, /*heads=*/1);
  const auto x = random_input(2, 4, 4);
  const auto causal = torch::ones({4, 4}, torch::kBool).tril().view({1, 1, 4, 4});
  torch::NoGradGuard no_grad;
  const auto full = attention(x, x, x, causal);
  // Position 1 sees only positions 0 and 1, so attending over the 2-token prefix must agree.
  const auto prefix = x.narrow(1, 0, 2);
  EXPECT_LT((full.narrow(1, 1, 1) - attention(prefix, prefix, prefix).narrow(1, 1, 1))
                .abs()
                .max()
                .item<double>(),
            1e-13);
  // The first position attends only to itself: softmax weight 1 on its own value.
  const auto first = attention->out_proj(attention->v_proj(x.narrow(1, 0, 1)));
  EXPECT_LT((full.narrow(1, 0, 1) - first).abs().max().item<double>(), 1e-13);
}

TEST(MultiHeadAttention, ParameterNamesAndShapes) {
  MultiHeadAttention attention(/*d_model=*/8, /*heads=*/4, /*dropout=*/0.0);
  std::vector<std::string> names;
  for (const auto& item : attention->named_parameters()) {
    names.push_back(item.key());
    EXPECT_EQ(item.value().size(0), 8);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"q_proj.weight", "q_proj.bias", "k_proj.weight",
                                             "k_proj.bias", "v_proj.weight", "v_proj.bias",
                                             "out_proj.weight", "out_proj.bias"}));
  EXPECT_EQ(attention->head_dim(), 2);
}

TEST(MultiHeadAttention, DropoutOnlyInTraining) {
  auto attention = make_attention(/*d_model=*/4, /*heads=*/2, /*dropout=*/0.5);
  const auto x = random_input(2, 6, 4);
  torch::NoGradGuard no_grad;
  const auto eval1 = attention(x, x, x);
  const auto eval2 = attention(x, x, x);
  EXPECT_TRUE(torch::equal(eval1, eval2));
  attention->train();
  EXPECT_FALSE(torch::allclose(attention(x, x, x), eval1));
}

TEST(MultiHeadAttention, RejectsBadShapes) {
  EXPECT_THROW(MultiHeadAttention(/*d_model=*/6, /*heads=*/4, /*dropout=*/0.0),
               std::invalid_argument);
  auto attention = make_attention(/*d_model=*/4, /*heads=*/2);
  const auto x = random_input(2, 3, 4);
  EXPECT_THROW(attention(x, x, x, torch::ones({2, 1, 1, 3}, torch::kLong)), c10::Error);
  EXPECT_THROW(attention(x, x, x, torch::ones({2, 1, 1, 4}, torch::kBool)), c10::Error);
  EXPECT_THROW(attention(x, random_input(3, 3, 4), random_input(3, 3, 4)), c10::Error);
  EXPECT_THROW(attention(x, random_input(2, 3, 5), random_input(2, 3, 5)), c10::Error);
  EXPECT_THROW(attention(x[0], x[0], x[0]), c10::Error);
}

// What one forward and backward pass of a kernel produced.
struct KernelRun {
  torch::Tensor out, input_grad, unmasked_out;
  std::vector<torch::Tensor> param_grads;
};

// Self-attention of a float module under padding, a causal mask and a query row whose keys are
// all masked (sentence 1 is left-padded, so under the causal mask its first query sees only a
// padding key), forward and backward; `seed` is set before the pass so that dropout draws the
// same seed whichever kernel runs.
class AttentionKernels : public ::testing::TestWithParam<AttentionKernel> {
 protected:
  static constexpr int64_t kBatch = 2, kLen = 5, kModel = 8;

  KernelRun run(MultiHeadAttention& attention, AttentionKernel kernel, uint64_t seed) {
    attention->set_kernel(kernel);
    attention->zero_grad();
    const auto padding =
        torch::tensor({1, 1, 1, 0, 0, 0, 1, 1, 1, 1}, torch::kBool).view({kBatch, 1, 1, kLen});
    const auto causal = torch::ones({kLen, kLen}, torch::kBool).tril().view({1, 1, kLen, kLen});
    const auto mask = padding.logical_and(causal);  // [batch, 1, len, len]
    EXPECT_FALSE(mask[1][0][0].any().item<bool>());
    const auto input = x_.clone().requires_grad_(true);
    torch::manual_seed(seed);
    const auto out = attention(input, input, input, mask);
    (out * upstream_).sum().backward();
    KernelRun r{out.detach(), input.grad().clone(), {}, {}};
    for (const auto& p : attention->parameters()) r.param_grads.push_back(p.grad().clone());
    torch::NoGradGuard no_grad;
    torch::manual_seed(seed);
    r.unmasked_out = attention(x_, x_, x_);
    return r;
  }

  static void expect_close(const KernelRun& a, const KernelRun& b, double tolerance) {
    ASSERT_TRUE(torch::isfinite(a.out).all().item<bool>());
    ASSERT_TRUE(torch::isfinite(a.input_grad).all().item<bool>());
    EXPECT_LT((a.out - b.out).abs().max().item<double>(), tolerance);
    EXPECT_LT((a.input_grad - b.input_grad).abs().max().item<double>(), tolerance);
    for (size_t i = 0; i < a.param_grads.size(); ++i) {
      EXPECT_LT((a.param_grads[i] - b.param_grads[i]).abs().max().item<double>(), tolerance) << "parameter " << i;
    }
    EXPECT_LT((a.unmasked_out - b.unmasked_out).abs().max().item<double>(), tolerance);
  }

  void SetUp() override {
    if (GetParam() == AttentionKernel::sdpa && !fused_attention_available()) {
      GTEST_SKIP() << "scaled_dot_product_attention needs LibTorch >= 2.0, this is " << torch_version();
    }
    torch::manual_seed(3);
    x_ = torch::randn({kBatch, kLen, kModel});
    upstream_ = torch::randn({kBatch, kLen, kModel});
  }

  torch::Tensor x_, upstream_;
};

// Each kernel against the explicit softmax formula, in float, without dropout.
TEST_P(AttentionKernels, AgreeWithTheExplicitFormula) {
  auto attention = make_attention(kModel, /*heads=*/2);
  attention->to(torch::kFloat);
  const KernelRun kernel = run(attention, GetParam(), 1);
  const KernelRun explicit_formula = run(attention, AttentionKernel::explicit_formula, 1);
  expect_close(kernel, explicit_formula, 1e-5);
  // The fully masked row keeps the contract of zero weights: only the output bias remains.
  EXPECT_LT((kernel.out[1][0] - attention->out_proj->bias).abs().max().item<double>(), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Kernels, AttentionKernels,
                         ::testing::Values(AttentionKernel::cpu, AttentionKernel::sdpa),
                         [](const auto& info) { return info.param == AttentionKernel::cpu ? "Cpu" : "Sdpa"; });

// With dropout on the attention weights, the CPU kernel drops exactly the weights tmt::Dropout
// drops from the explicit formula's weights for the same seed: equal outputs and gradients.
TEST(AttentionKernelsDropout, CpuKernelDropsWhatTheExplicitFormulaDrops) {
  auto attention = make_attention(/*d_model=*/8, /*heads=*/2, /*dropout=*/0.3);
  attention->to(torch::kFloat);
  attention->train();
  torch::manual_seed(4);
  const auto x = torch::randn({3, 6, 8});
  const auto upstream = torch::randn({3, 6, 8});
  const auto mask = torch::ones({6, 6}, torch::kBool).tril().view({1, 1, 6, 6});
  auto run = [&](AttentionKernel kernel, uint64_t seed) {
    attention->set_kernel(kernel);
    attention->zero_grad();
    const auto input = x.clone().requires_grad_(true);
    torch::manual_seed(seed);
    const auto out = attention(input, input, input, mask);
    (out * upstream).sum().backward();
    return std::make_pair(out.detach(), input.grad().clone());
  };
  const auto [cpu_out, cpu_grad] = run(AttentionKernel::cpu, 11);
  const auto [explicit_out, explicit_grad] = run(AttentionKernel::explicit_formula, 11);
  EXPECT_LT((cpu_out - explicit_out).abs().max().item<double>(), 1e-5);
  EXPECT_LT((cpu_grad - explicit_grad).abs().max().item<double>(), 1e-5);
  const auto [other_out, other_grad] = run(AttentionKernel::cpu, 12);
  EXPECT_GT((other_out - cpu_out).abs().max().item<double>(), 1e-2) << "another seed must drop other weights";
}

// Cached decoding hands the kernel [batch, heads, steps, head_dim] keys whose layout differs from
// the projections' head-split views: the same result as the explicit formula.
TEST(AttentionKernelsDropout, CpuKernelServesCachedDecoding) {
  auto attention = make_attention(/*d_model=*/8, /*heads=*/2);
  attention->to(torch::kFloat);
  torch::NoGradGuard no_grad;
  const auto memory = torch::randn({2, 7, 8});
  const auto query = torch::randn({2, 1, 8});
  const auto mask = torch::tensor({1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1}, torch::kBool).view({2, 1, 1, 7});
  auto [k, v] = attention->project_kv(memory);
  attention->set_kernel(AttentionKernel::cpu);
  const auto fast = attention->attend_cached(query, k, v, mask);
  attention->set_kernel(AttentionKernel::explicit_formula);
  const auto reference = attention->attend_cached(query, k, v, mask);
  EXPECT_LT((fast - reference).abs().max().item<double>(), 1e-5);
}

TEST(MultiHeadAttention, KernelChoiceFollowsLibTorchVersionAndDevice) {
  EXPECT_EQ(fused_attention_available(), static_cast<bool>(TMT_TORCH_AT_LEAST(2, 0)));
  EXPECT_STREQ(automatic_attention_kernel(torch::kCPU), "cpu");
  MultiHeadAttention attention(/*d_model=*/4, /*heads=*/2, /*dropout=*/0.0);
  EXPECT_EQ(attention->kernel(), AttentionKernel::automatic);
  attention->set_kernel(AttentionKernel::explicit_formula);
  EXPECT_EQ(attention->kernel(), AttentionKernel::explicit_formula);
  if (fused_attention_available()) {
    attention->set_kernel(AttentionKernel::sdpa);
    EXPECT_EQ(attention->kernel(), AttentionKernel::sdpa);
    return;
  }
  // LibTorch < 2.0 has no scaled_dot_product_attention: asking for it is an error, not a no-op.
  try {
    attention->set_kernel(AttentionKernel::sdpa);
    FAIL() << "sdpa was accepted on LibTorch " << torch_version();
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("LibTorch >= 2.0"), std::string::npos) << message;
    EXPECT_NE(message.find(torch_version()), std::string::npos) << message;
  }
  EXPECT_EQ(attention->kernel(), AttentionKernel::explicit_formula);
}

}  // namespace
}  // namespace tmt
