// The fused criterion against a materialised-target reference and the spec's test vectors
// (../shared/LABEL_SMOOTHING.md).

#include "train/label_smoothing.h"
#include "train/label_smoothing_cpu.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "tests/test_support.h"

namespace tmt {
namespace {

using torch::Tensor;

// The spec's vectors are printed to 10 decimals.
constexpr double kSpecTolerance = 6e-11;

CriterionConfig make_config(SmoothingVariant variant, LossForm form, LossReduction reduction,
                            double eps, std::vector<double> weights = {},
                            ClassWeightMode mode = ClassWeightMode::per_class) {
  CriterionConfig c;
  c.variant = variant;
  c.form = form;
  c.reduction = reduction;
  c.label_smoothing = eps;
  c.class_weights = std::move(weights);
  c.class_weight_mode = mode;
  return c;
}

// The target distribution q of the spec's table, built explicitly: [N, K].
Tensor materialised_target(const CriterionConfig& c, const Tensor& target, int64_t k, int64_t pad) {
  const int64_t n = target.size(0);
  const double eps = c.label_smoothing;
  Tensor q = torch::zeros({n, k}, torch::kDouble);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y = target[i].item<int64_t>();
    if (pad >= 0 && y == pad) continue;  // rows whose gold is padding: ignored / zero
    switch (c.variant) {
      case SmoothingVariant::annotated:
        q[i].fill_(eps / (k - 2));
        q[i][pad] = 0.0;
        q[i][y] = 1.0 - eps;
        break;
      case SmoothingVariant::others:
        q[i].fill_(eps / (k - 1));
        q[i][y] = 1.0 - eps;
        break;
      case SmoothingVariant::uniform:
        q[i].fill_(eps / k);
        q[i][y] = 1.0 - eps + eps / k;
        break;
    }
  }
  return q;
}

// Independent reference: explicit sums over the materialised target, with 0 log 0 = 0 and
// torch::nll_loss for PyTorch's weighted NLL.
Tensor reference_loss(const CriterionConfig& c, const Tensor& logits, const Tensor& target,
                      int64_t pad) {
  const int64_t k = logits.size(1);
  Tensor l = torch::log_softmax(logits, 1);                      // [N, K]
  Tensor q = materialised_target(c, target, k, pad);             // [N, K]
  Tensor counted = pad >= 0 ? target.ne(pad) : torch::ones_like(target, torch::kBool);
  const double rows = counted.sum().item<double>();
  const bool weighted = !c.class_weights.empty();
  Tensor w = weighted ? torch::tensor(c.class_weights, torch::kDouble)
                      : torch::ones({k}, torch::kDouble);

  if (weighted && c.class_weight_mode == ClassWeightMode::gold_nll) {
    // (1 - eps) * weighted NLL + unweighted remainder r = q - (1 - eps) e_y.
    Tensor gold = torch::zeros_like(q).scatter_(1, target.unsqueeze(1), 1.0 - c.label_smoothing);
    Tensor r = (q - gold) * counted.unsqueeze(1);                // [N, K]
    Tensor smooth_rows = -(r * l).sum(1);                        // [N]
    auto nll_opts = torch::nn::functional::NLLLossFuncOptions().weight(w).ignore_index(pad);
    switch (c.reduction) {
      case LossReduction::none:
        return (1 - c.label_smoothing) * torch::nn::functional::nll_loss(l, target, nll_opts.reduction(torch::kNone)) + smooth_rows;
      case LossReduction::sum:
        return (1 - c.label_smoothing) * torch::nn::functional::nll_loss(l, target, nll_opts.reduction(torch::kSum)) + smooth_rows.sum();
      case LossReduction::mean:
        return (1 - c.label_smoothing) * torch::nn::functional::nll_loss(l, target, nll_opts.reduction(torch::kMean)) + smooth_rows.sum() / rows;
    }
  }
  Tensor terms = c.form == LossForm::kl ? q * (q.log() - l) : -q * l;            // [N, K]
  terms = torch::where(q > 0, terms * w.unsqueeze(0), torch::zeros_like(terms));  // 0 log 0 = 0
  Tensor row = torch::where(counted, terms.sum(1), torch::zeros({}, torch::kDouble));  // [N]
  switch (c.reduction) {
    case LossReduction::none: return row;
    case LossReduction::sum: return row.sum();
    case LossReduction::mean: return row.sum() / rows;
  }
  return row;
}

void expect_relative_near(const Tensor& actual, const Tensor& expected, double rel,
                          const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  Tensor a = actual.to(torch::kDouble).flatten();
  Tensor e = expected.to(torch::kDouble).flatten();
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = a[i].item<double>();
    const double y = e[i].item<double>();
    EXPECT_NEAR(x, y, rel * std::max(1.0, std::abs(y))) << what << " at " << i;
  }
}

using Combo = std::tuple<SmoothingVariant, LossForm, LossReduction, int /*weighting*/>;

class CriterionEquivalence : public ::testing::TestWithParam<Combo> {};

// Fused values and gradients equal the materialised reference in double, for every variant,
// form, reduction and weighting (0: none, 1: per_class, 2: gold_nll), with padding rows.
TEST_P(CriterionEquivalence, MatchesMaterialisedReference) {
  const auto [variant, form, reduction, weighting] = GetParam();
  torch::manual_seed(7);
  const int64_t n = 23, k = 9, pad = 2;
  for (double eps : {0.0, 0.1, 0.37}) {
    std::vector<double> weights;
    if (weighting > 0) {
      Tensor w = torch::rand({k}, torch::kDouble) * 2.0 + 0.1;
      weights.assign(w.data_ptr<double>(), w.data_ptr<double>() + k);
    }
    CriterionConfig c = make_config(variant, form, reduction, eps, weights,
                                    weighting == 2 ? ClassWeightMode::gold_nll : ClassWeightMode::per_class);
    if (weighting == 2 && form == LossForm::kl) {  // gold_nll is PyTorch's, defined for ce only
      EXPECT_THROW(LabelSmoothingLoss(c, k, pad), std::invalid_argument);
      continue;
    }
    Tensor logits = (torch::randn({n, k}, torch::kDouble) * 3.0).requires_grad_();
    Tensor target = torch::randint(0, k, {n}, torch::kLong);
    target.index_put_({torch::tensor({0, 5, 11})}, pad);  // some padding rows for sure

    LabelSmoothingLoss fused(c, k, pad);
    Tensor value = fused(logits, target).loss;
    Tensor up = torch::randn(value.sizes(), torch::kDouble);  // a random upstream gradient
    Tensor grad = torch::autograd::grad({value}, {logits}, {up})[0];

    Tensor ref_logits = logits.detach().clone().requires_grad_();
    Tensor ref = reference_loss(c, ref_logits, target, pad);
    Tensor ref_grad = torch::autograd::grad({ref}, {ref_logits}, {up})[0];

    const std::string what = "eps " + std::to_string(eps);
    expect_relative_near(value, ref, 1e-9, what + " value");
    expect_relative_near(grad, ref_grad, 1e-9, what + " gradient");

    // Float logits on CPU take the row kernels (label_smoothing_cpu.h): float accuracy.
    Tensor float_logits = logits.detach().to(torch::kFloat).requires_grad_();
    Tensor float_value = fused(float_logits, target).loss;
    Tensor float_grad = torch::autograd::grad({float_value}, {float_logits}, {up.to(torch::kFloat)})[0];
    expect_relative_near(float_value, ref, 1e-5, what + " float value");
    expect_relative_near(float_grad, ref_grad, 1e-6, what + " float gradient");
  }
}

std::string combo_name(const ::testing::TestParamInfo<Combo>& info) {
  static const char* const weighting[] = {"unweighted", "per_class", "gold_nll"};
  return std::string(to_string(std::get<0>(info.param))) + "_" + to_string(std::get<1>(info.param)) +
         "_" + to_string(std::get<2>(info.param)) + "_" + weighting[std::get<3>(info.param)];
}

INSTANTIATE_TEST_SUITE_P(
    AllCombinations, CriterionEquivalence,
    ::testing::Combine(::testing::Values(SmoothingVariant::annotated, SmoothingVariant::others,
                                         SmoothingVariant::uniform),
                       ::testing::Values(LossForm::kl, LossForm::ce),
                       ::testing::Values(LossReduction::sum, LossReduction::mean, LossReduction::none),
                       ::testing::Values(0, 1, 2)),
    combo_name);

// Without an ignore index every row counts, for the variants that allow it.
TEST(LabelSmoothing, NoPaddingIndexCountsEveryRow) {
  torch::manual_seed(3);
  for (auto variant : {SmoothingVariant::others, SmoothingVariant::uniform}) {
    CriterionConfig c = make_config(variant, LossForm::kl, LossReduction::mean, 0.2);
    Tensor logits = torch::randn({6, 4}, torch::kDouble);
    Tensor target = torch::tensor({0, 1, 2, 3, 0, 0}, torch::kLong);
    LossResult r = LabelSmoothingLoss(c, 4, -1)(logits, target);
    EXPECT_EQ(r.tokens.item<int64_t>(), 6);
    expect_relative_near(r.loss, reference_loss(c, logits, target, -1), 1e-12, to_string(variant));
  }
}

// Vector 1: the target rows, read off the gradient softmax - q at uniform logits.
TEST(LabelSmoothingSpec, Vector1TargetRows) {
  CriterionConfig c = make_config(SmoothingVariant::annotated, LossForm::kl, LossReduction::sum, 0.4);
  Tensor logits = torch::zeros({3, 5}, torch::kDouble).requires_grad_();
  Tensor target = torch::tensor({2, 1, 0}, torch::kLong);
  Tensor loss = LabelSmoothingLoss(c, 5, 0)(logits, target).loss;
  Tensor grad = torch::autograd::grad({loss}, {logits})[0];
  Tensor q = torch::full({3, 5}, 0.2, torch::kDouble) - grad;
  q[2] -= 0.2;  // the padding row has no gradient at all, so its q is 0, not 0.2 - 0
  const double t = 0.4 / 3;
  Tensor expected = torch::tensor({0.0, t, 0.6, t, t, 0.0, 0.6, t, t, t, 0.0, 0.0, 0.0, 0.0, 0.0},
                                  torch::kDouble).view({3, 5});
  expect_relative_near(q, expected, 1e-12, "q");
  expect_relative_near(grad[2], torch::zeros({5}, torch::kDouble), 0, "padding row gradient");
}

// Model probabilities [1e-10, x, 1, 1, 1] / (x + 3 + 1e-10) for gold 1.
double vector2_loss(double x) {
  CriterionConfig c = make_config(SmoothingVariant::annotated, LossForm::kl, LossReduction::sum, 0.1);
  Tensor p = torch::tensor({1e-10, x, 1.0, 1.0, 1.0}, torch::kDouble) / (x + 3 + 1e-10);
  return LabelSmoothingLoss(c, 5, 0)(p.log().unsqueeze(0), torch::tensor({1}, torch::kLong))
      .loss.item<double>();
}

TEST(LabelSmoothingSpec, Vector2PenalisesOverConfidence) {
  const std::vector<std::pair<double, double>> expected = {
      {1, 0.9513501589}, {2, 0.5506612477}, {3, 0.3680642072}, {5, 0.1960032182},
      {10, 0.0576785715}, {20, 0.0043909675}, {50, 0.0145270064}, {99, 0.0544207459}};
  for (const auto& [x, loss] : expected) EXPECT_NEAR(vector2_loss(x), loss, kSpecTolerance) << "x=" << x;
  int best = 1;
  for (int x = 2; x <= 99; ++x) best = vector2_loss(x) < vector2_loss(best) ? x : best;
  EXPECT_EQ(best, 27);
}

// Vector 3: a smoothed class of probability 0 gives +inf, never NaN, as the reference does.
TEST(LabelSmoothingSpec, Vector3ZeroProbabilityIsInfinityNotNan) {
  Tensor p = torch::tensor({0.0, 0.2, 0.7, 0.1, 0.0}, torch::kDouble).repeat({3, 1});
  Tensor target = torch::tensor({2, 1, 0}, torch::kLong);
  for (auto reduction : {LossReduction::sum, LossReduction::mean}) {
    CriterionConfig c = make_config(SmoothingVariant::annotated, LossForm::kl, reduction, 0.4);
    Tensor logits = p.log().requires_grad_();
    Tensor loss = LabelSmoothingLoss(c, 5, 0)(logits, target).loss;
    EXPECT_TRUE(std::isinf(loss.item<double>()) && loss.item<double>() > 0) << loss;
    EXPECT_TRUE(std::isinf(reference_loss(c, p.log(), target, 0).item<double>()));
    Tensor grad = torch::autograd::grad({loss}, {logits})[0];
    EXPECT_FALSE(grad.isnan().any().item<bool>()) << grad;
  }
  CriterionConfig none = make_config(SmoothingVariant::annotated, LossForm::kl, LossReduction::none, 0.4);
  Tensor rows = LabelSmoothingLoss(none, 5, 0)(p.log(), target).loss;
  EXPECT_TRUE(std::isinf(rows[0].item<double>()));
  EXPECT_TRUE(std::isinf(rows[1].item<double>()));
  EXPECT_EQ(rows[2].item<double>(), 0.0);  // the padding row is zero, not inf * 0 = NaN
}

Tensor vector4_logits() {
  return torch::tensor({1.0, 2.0, 0.5, -1.0, 0.0, 0.3, -0.2, 0.1, 0.4, 0.0,
                        2.0, 0.0, 0.0, 1.0, -0.5, 0.0, 1.5, -1.5, 0.25, 0.75},
                       torch::kDouble).view({4, 5});
}

TEST(LabelSmoothingSpec, Vector4Annotated) {
  Tensor logits = vector4_logits().requires_grad_();
  Tensor target = torch::tensor({2, 0, 4, 1}, torch::kLong);
  CriterionConfig sum = make_config(SmoothingVariant::annotated, LossForm::kl, LossReduction::sum, 0.1);
  Tensor loss = LabelSmoothingLoss(sum, 5, 0)(logits, target).loss;
  EXPECT_NEAR(loss.item<double>(), 4.6212152233, kSpecTolerance);
  Tensor grad = torch::autograd::grad({loss}, {logits})[0];
  expect_relative_near(grad[0], torch::tensor({0.2071239361, 0.5296878985, -0.7743729824,
                                               -0.0053021568, 0.0428633045}, torch::kDouble),
                       kSpecTolerance, "row 0");
  EXPECT_TRUE(grad[1].eq(0).all().item<bool>()) << grad[1];
  CriterionConfig mean = make_config(SmoothingVariant::annotated, LossForm::kl, LossReduction::mean, 0.1);
  LossResult r = LabelSmoothingLoss(mean, 5, 0)(vector4_logits(), target);
  EXPECT_NEAR(r.loss.item<double>(), 1.5404050744, kSpecTolerance);
  EXPECT_EQ(r.tokens.item<int64_t>(), 3);
}

TEST(LabelSmoothingSpec, Vector4OthersAndUniform) {
  Tensor target = torch::tensor({2, 0, 4, 1}, torch::kLong);
  auto value = [&](SmoothingVariant v, LossForm f, LossReduction r) {
    return LabelSmoothingLoss(make_config(v, f, r, 0.1), 5, 0)(vector4_logits(), target).loss.item<double>();
  };
  EXPECT_NEAR(value(SmoothingVariant::others, LossForm::ce, LossReduction::sum), 5.8635478301, kSpecTolerance);
  EXPECT_NEAR(value(SmoothingVariant::others, LossForm::kl, LossReduction::sum), 4.4724106016, kSpecTolerance);
  EXPECT_NEAR(value(SmoothingVariant::uniform, LossForm::ce, LossReduction::mean), 1.9520159434, kSpecTolerance);
}

TEST(LabelSmoothingSpec, Vector5WeightsWithoutPadding) {
  Tensor logits = torch::tensor({2.0, 1.0, 0.1, 1.5, 2.5, 0.3}, torch::kDouble).view({2, 3});
  Tensor target = torch::tensor({0, 1}, torch::kLong);
  auto value = [&](SmoothingVariant v, LossForm f, LossReduction r, std::vector<double> w,
                   ClassWeightMode m) {
    return LabelSmoothingLoss(make_config(v, f, r, 0.1, std::move(w), m), 3, -1)(logits, target)
        .loss.item<double>();
  };
  const auto per_class = ClassWeightMode::per_class;
  EXPECT_NEAR(value(SmoothingVariant::others, LossForm::ce, LossReduction::mean, {}, per_class), 0.5565907861, kSpecTolerance);
  EXPECT_NEAR(value(SmoothingVariant::others, LossForm::ce, LossReduction::mean, {1, 2, 1}, per_class), 0.7680347367, kSpecTolerance);
  EXPECT_NEAR(value(SmoothingVariant::uniform, LossForm::ce, LossReduction::mean, {}, per_class), 0.5057574528, kSpecTolerance);
  EXPECT_NEAR(value(SmoothingVariant::uniform, LossForm::ce, LossReduction::mean, {1, 2, 1}, ClassWeightMode::gold_nll), 0.5018756837, kSpecTolerance);
  EXPECT_NEAR(value(SmoothingVariant::others, LossForm::kl, LossReduction::sum, {}, per_class), 0.3243861893, kSpecTolerance);
}

// The uniform variant is PyTorch's own label-smoothed cross-entropy.
TEST(LabelSmoothing, UniformEqualsPyTorchCrossEntropy) {
  torch::manual_seed(11);
  Tensor logits = torch::randn({17, 8}, torch::kDouble);
  Tensor target = torch::randint(0, 8, {17}, torch::kLong);
  namespace F = torch::nn::functional;
  Tensor expected = F::cross_entropy(logits, target,
                                     F::CrossEntropyFuncOptions().ignore_index(3).label_smoothing(0.15));
  CriterionConfig c = make_config(SmoothingVariant::uniform, LossForm::ce, LossReduction::mean, 0.15);
  EXPECT_NEAR(LabelSmoothingLoss(c, 8, 3)(logits, target).loss.item<double>(), expected.item<double>(), 1e-12);
}

// Single precision and statistics: NLL, accuracy and token counts for the logs.
TEST(LabelSmoothing, StatisticsInFloat) {
  Tensor logits = vector4_logits().to(torch::kFloat);
  Tensor target = torch::tensor({2, 0, 4, 1}, torch::kLong);
  LossResult r = LabelSmoothingLoss(CriterionConfig{}, 5, 0)(logits, target);
  EXPECT_EQ(r.loss.scalar_type(), torch::kFloat);
  EXPECT_NEAR(r.loss.item<double>(), 1.5404050744, 1e-6);
  Tensor l = torch::log_softmax(vector4_logits(), 1);
  const double nll = -(l[0][2] + l[2][4] + l[3][1]).item<double>();
  EXPECT_NEAR(r.nll_sum.item<double>(), nll, 1e-5);
  EXPECT_EQ(r.correct.item<int64_t>(), 1);  // only row 3's argmax (1) is its gold
  EXPECT_EQ(r.tokens.item<int64_t>(), 3);
}

// Rows are processed in chunks; many rows over a small vocabulary cross chunk borders.
TEST(LabelSmoothing, ChunkBordersDoNotMatter) {
  torch::manual_seed(5);
  const int64_t k = 4, n = (int64_t{1} << 20) + 3;  // > one chunk of 2^22 / 4 rows
  Tensor logits = torch::randn({n, k}, torch::kDouble).requires_grad_();
  Tensor target = torch::randint(0, k, {n}, torch::kLong);
  CriterionConfig c = make_config(SmoothingVariant::annotated, LossForm::kl, LossReduction::sum, 0.1);
  Tensor loss = LabelSmoothingLoss(c, k, 0)(logits, target).loss;
  Tensor grad = torch::autograd::grad({loss}, {logits})[0];
  Tensor ref_logits = logits.detach().clone().requires_grad_();
  Tensor ref = reference_loss(c, ref_logits, target, 0);
  Tensor ref_grad = torch::autograd::grad({ref}, {ref_logits})[0];
  EXPECT_NEAR(loss.item<double>(), ref.item<double>(), 1e-9 * ref.item<double>());
  EXPECT_LT((grad - ref_grad).abs().max().item<double>(), 1e-12);
}

// The row kernels at a real vocabulary size (not a multiple of the vector width) against the
// double path, statistics included.
TEST(LabelSmoothing, FloatRowKernelsMatchDoubleAtVocabularySize) {
  torch::manual_seed(8);
  const int64_t n = 37, k = 8003, pad = 0;
  Tensor logits = torch::randn({n, k}, torch::kDouble) * 4.0;
  Tensor target = torch::randint(1, k, {n}, torch::kLong);
  target[3] = pad;
  target[5] = logits[5].argmax();  // at least one correct row
  CriterionConfig c = make_config(SmoothingVariant::annotated, LossForm::kl, LossReduction::mean, 0.1);
  LabelSmoothingLoss criterion(c, k, pad);
  Tensor d = logits.clone().requires_grad_();
  Tensor f = logits.to(torch::kFloat).requires_grad_();
  LossResult rd = criterion(d, target);
  LossResult rf = criterion(f, target);
  EXPECT_NEAR(rf.loss.item<double>(), rd.loss.item<double>(), 1e-5 * rd.loss.item<double>());
  EXPECT_NEAR(rf.nll_sum.item<double>(), rd.nll_sum.item<double>(), 1e-5 * rd.nll_sum.item<double>());
  EXPECT_EQ(rf.correct.item<int64_t>(), rd.correct.item<int64_t>());
  EXPECT_GE(rf.correct.item<int64_t>(), 1);
  Tensor gd = torch::autograd::grad({rd.loss}, {d})[0];
  Tensor gf = torch::autograd::grad({rf.loss}, {f})[0];
  // LibTorch's own float operators (taken for non-contiguous logits) as the yardstick.
  Tensor ops = logits.to(torch::kFloat).t().contiguous().t().requires_grad_();
  ASSERT_FALSE(criterion_rows_apply(ops));
  Tensor go = torch::autograd::grad({criterion(ops, target).loss}, {ops})[0];
  const double ops_error = (go.to(torch::kDouble) - gd).abs().max().item<double>();
  const double kernel_error = (gf.to(torch::kDouble) - gd).abs().max().item<double>();
  EXPECT_LT(kernel_error, 1e-7);
  EXPECT_LE(kernel_error, 1.5 * ops_error) << "the kernels may not be less accurate than LibTorch's float operators";
  EXPECT_TRUE(gf[3].eq(0).all().item<bool>());  // the padding row
}

TEST(LabelSmoothing, VectorisedExpIsWithinTwoUlpsOfStdExp) {
  std::vector<float> x;
  for (float v = -87.0f; v <= 88.0f; v += 0.0137f) x.push_back(v);
  x.push_back(-0.0f);
  std::vector<float> out(x.size());
  exp_floats(x.data(), out.data(), static_cast<int64_t>(x.size()));
  double worst = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double exact = std::exp(static_cast<double>(x[i]));
    worst = std::max(worst, std::abs(out[i] - exact) / exact);
  }
  EXPECT_LT(worst, 2.5e-7);  // 2 ulp of float
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> edge{-inf, -100.0f, 100.0f, inf, std::nanf("")};
  std::vector<float> edge_out(edge.size());
  exp_floats(edge.data(), edge_out.data(), static_cast<int64_t>(edge.size()));
  EXPECT_EQ(edge_out[0], 0.0f);
  EXPECT_EQ(edge_out[1], 0.0f);
  EXPECT_EQ(edge_out[2], inf);
  EXPECT_EQ(edge_out[3], inf);
  EXPECT_TRUE(std::isnan(edge_out[4]));
}

TEST(LabelSmoothing, EmptyBatchAndAllPadding) {
  CriterionConfig c;  // annotated, kl, mean
  Tensor logits = torch::zeros({0, 5}, torch::kDouble).requires_grad_();
  LossResult r = LabelSmoothingLoss(c, 5, 0)(logits, torch::zeros({0}, torch::kLong));
  EXPECT_EQ(r.loss.item<double>(), 0.0);
  EXPECT_EQ(r.tokens.item<int64_t>(), 0);
  Tensor pad_logits = torch::randn({3, 5}, torch::kDouble).requires_grad_();
  Tensor loss = LabelSmoothingLoss(c, 5, 0)(pad_logits, torch::zeros({3}, torch::kLong)).loss;
  EXPECT_EQ(loss.item<double>(), 0.0);
  Tensor grad = torch::autograd::grad({loss}, {pad_logits})[0];
  EXPECT_TRUE(grad.eq(0).all().item<bool>());
}

TEST(LabelSmoothing, RejectsBadSettings) {
  auto message = [](const CriterionConfig& c, int64_t k, int64_t pad) {
    return tests::error_of([&] { LabelSmoothingLoss loss(c, k, pad); });
  };
  CriterionConfig c;
  EXPECT_EQ(message(c, 5, -1),
            "label smoothing variant 'annotated' needs a padding index (its column gets 0)");
  EXPECT_EQ(message(c, 2, 0), "label smoothing variant 'annotated' needs at least 3 classes, got 2");
  c.label_smoothing = 1.0;
  EXPECT_EQ(message(c, 5, 0), "train.label_smoothing must be in [0, 1), got 1");
  c.label_smoothing = 0.1;
  c.class_weights = {1, 2};
  EXPECT_EQ(message(c, 5, 0), "train.class_weights has 2 entries, expected one per class (5)");
  c.class_weights = {1, 1, -1, 1, 1};
  EXPECT_EQ(message(c, 5, 0), "train.class_weights[2] must be a finite number >= 0, got -1");
  c.class_weights = {};
  c.class_weight_mode = ClassWeightMode::gold_nll;
  EXPECT_EQ(message(c, 5, 0),
            "train.class_weight_mode 'gold_nll' (PyTorch's weighted cross-entropy) needs "
            "train.loss_form 'ce', got 'kl'");
}

TEST(LabelSmoothing, RejectsBadTensors) {
  LabelSmoothingLoss loss(CriterionConfig{}, 5, 0);
  EXPECT_THROW(loss(torch::zeros({2, 4}), torch::zeros({2}, torch::kLong)), c10::Error);
  EXPECT_THROW(loss(torch::zeros({2, 5}), torch::zeros({3}, torch::kLong)), c10::Error);
  EXPECT_THROW(loss(torch::zeros({2, 5}), torch::tensor({1, 5}, torch::kLong)), c10::Error);
}

}  // namespace
}  // namespace tmt
