#include "train/label_smoothing.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "train/label_smoothing_cpu.h"

namespace tmt {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rows are processed in chunks of about this many logits, bounding the temporaries of
// log-sum-exp (and of the dtype upcast for half-precision logits) independently of N: 16 MiB
// of float on a CPU, 256 MiB on a GPU, where each chunk costs ~15 kernel launches and small
// chunks leave the criterion launch-bound (25k x 37k logits: 221 chunks of 4M took 53 ms on an
// H200, against 22 ms for the materialised target).
int64_t rows_per_chunk(const Tensor& logits) {
  const int64_t elements = logits.is_cuda() ? int64_t{1} << 26 : int64_t{1} << 22;
  return std::max<int64_t>(1, elements / std::max<int64_t>(logits.size(1), 1));
}

// Statistics are accumulated in double for double logits and in float otherwise.
torch::ScalarType compute_dtype(const Tensor& logits) {
  return logits.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
}

double xlogx(double x) { return x > 0.0 ? x * std::log(x) : 0.0; }

// sum_{j in support} w_j z_ij with the support all columns but `excluded` (< 0: none).
// Column slices rather than "total minus excluded" keep a -inf logit in the excluded column
// from turning the sum into NaN.
Tensor support_sum(const Tensor& z, const Tensor& weights, int64_t excluded) {
  const int64_t k = z.size(1);
  auto piece = [&](int64_t from, int64_t len) {
    Tensor cols = z.narrow(1, from, len);  // [rows, len]
    return weights.defined() ? cols.matmul(weights.narrow(0, from, len))  // [rows]
                             : cols.sum(1);                               // [rows]
  };
  if (excluded < 0) return piece(0, k);
  return piece(0, excluded) + piece(excluded + 1, k - excluded - 1);
}

// Per-row quantities every variant reduces to.
struct RowStats {
  Tensor lse;      // [N] log-sum-exp of the row
  Tensor gold;     // [N] gold logit z_{i, y_i}
  Tensor support;  // [N] sum_{j in support} w_j z_ij
  Tensor correct;  // scalar: counted rows whose argmax is the gold class
};

RowStats row_stats(const Tensor& logits, const Tensor& target, const Tensor& counted,
                   const Tensor& support_weights, int64_t excluded) {
  torch::NoGradGuard no_grad;
  if (criterion_rows_apply(logits)) {  // one pass per row (label_smoothing_cpu.h)
    RowStats s;
    criterion_row_stats(logits, target, counted, support_weights, excluded, s.lse, s.gold, s.support, s.correct);
    return s;
  }
  const int64_t n = logits.size(0);
  const auto dtype = compute_dtype(logits);
  auto opts = logits.options().dtype(dtype);
  RowStats s{torch::empty({n}, opts), torch::empty({n}, opts), torch::empty({n}, opts),
             torch::zeros({}, logits.options().dtype(torch::kLong))};
  const int64_t step = rows_per_chunk(logits);
  for (int64_t r = 0; r < n; r += step) {
    const int64_t m = std::min(step, n - r);
    Tensor z = logits.narrow(0, r, m).to(dtype);  // [m, K]; a view unless upcast
    Tensor y = target.narrow(0, r, m);            // [m]
    s.lse.narrow(0, r, m).copy_(z.logsumexp(1));
    s.gold.narrow(0, r, m).copy_(z.gather(1, y.unsqueeze(1)).squeeze(1));
    s.support.narrow(0, r, m).copy_(support_sum(z, support_weights, excluded));
    s.correct += z.argmax(1).eq(y).logical_and(counted.narrow(0, r, m)).sum();
  }
  return s;
}

// What the backward pass needs besides the logits: dL/dz_ij = p_ij * (a_i W + b_i)
// - a_i w_j [j in support] - b_i [j = y_i], with a, b the per-row coefficients of
// sum_{support} w_j l_ij and of l_{i, y_i} (reduction scale folded in, 0 on uncounted rows).
struct GradPlan {
  Tensor value;            // the loss, already computed
  Tensor lse;              // [N]
  Tensor row_a;            // [N]
  Tensor row_b;            // [N]
  Tensor target;           // [N]
  Tensor counted;          // [N] bool
  Tensor support_weights;  // [K] or undefined (all ones)
  int64_t excluded = -1;   // column outside the support
  double support_total = 0;  // W: sum of the support's weights
};

// Loss whose backward writes softmax - q into the gradient buffer, chunk by chunk.
struct SmoothedLossFunction : public torch::autograd::Function<SmoothedLossFunction> {
  static Tensor forward(AutogradContext* ctx, const Tensor& logits, const GradPlan& plan) {
    ctx->save_for_backward({logits});
    ctx->saved_data["lse"] = plan.lse;
    ctx->saved_data["row_a"] = plan.row_a;
    ctx->saved_data["row_b"] = plan.row_b;
    ctx->saved_data["target"] = plan.target;
    ctx->saved_data["counted"] = plan.counted;
    ctx->saved_data["weights"] = plan.support_weights;
    ctx->saved_data["excluded"] = plan.excluded;
    ctx->saved_data["total"] = plan.support_total;
    return plan.value;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const Tensor logits = ctx->get_saved_variables()[0];
    const Tensor lse = ctx->saved_data["lse"].toTensor();
    const Tensor target = ctx->saved_data["target"].toTensor();
    const Tensor counted = ctx->saved_data["counted"].toTensor();
    const Tensor weights = ctx->saved_data["weights"].toTensor();
    const int64_t excluded = ctx->saved_data["excluded"].toInt();
    const double total = ctx->saved_data["total"].toDouble();
    const int64_t n = logits.size(0);

    Tensor go = grad_outputs[0].to(lse.scalar_type());
    go = go.dim() == 0 ? go.expand({n}) : go;                     // [N]
    Tensor a = ctx->saved_data["row_a"].toTensor() * go;          // [N]
    Tensor b = ctx->saved_data["row_b"].toTensor() * go;          // [N]
    Tensor p_scale = a * total + b;                               // [N]
    Tensor w = weights.defined() ? weights.to(lse.scalar_type()) : weights;
    if (criterion_rows_apply(logits)) {  // one pass per row (label_smoothing_cpu.h)
      return {criterion_row_grad(logits, lse, p_scale, a, b, target, counted, w, excluded), Tensor()};
    }

    Tensor grad = torch::empty_like(logits, torch::MemoryFormat::Contiguous);
    const bool in_place = logits.scalar_type() == lse.scalar_type();
    const int64_t step = rows_per_chunk(logits);
    for (int64_t r = 0; r < n; r += step) {
      const int64_t m = std::min(step, n - r);
      Tensor out = grad.narrow(0, r, m);                           // [m, K]
      Tensor g = in_place ? out : torch::empty(out.sizes(), lse.options());
      torch::sub_out(g, logits.narrow(0, r, m), lse.narrow(0, r, m).unsqueeze(1));
      g.exp_().mul_(p_scale.narrow(0, r, m).unsqueeze(1));         // p * (a W + b)
      Tensor a_col = a.narrow(0, r, m).unsqueeze(1);               // [m, 1]
      if (w.defined()) {
        g.addcmul_(a_col, w.unsqueeze(0), -1.0);                   // - a w_j, w_excluded = 0
      } else {
        g.sub_(a_col);
        if (excluded >= 0) g.select(1, excluded).add_(a.narrow(0, r, m));
      }
      g.scatter_add_(1, target.narrow(0, r, m).unsqueeze(1),
                     b.narrow(0, r, m).neg().unsqueeze(1));       // - b at the gold class
      g.masked_fill_(counted.narrow(0, r, m).logical_not().unsqueeze(1), 0.0);
      if (!in_place) out.copy_(g);
    }
    return {grad, Tensor()};
  }
};

}  // namespace

LabelSmoothingLoss::LabelSmoothingLoss(const CriterionConfig& config, int64_t num_classes,
                                       int64_t padding_idx)
    : config_(config), num_classes_(num_classes), padding_idx_(padding_idx < 0 ? -1 : padding_idx) {
  config_.validate();
  const double eps = config_.label_smoothing;
  const auto k = static_cast<double>(num_classes);
  const int64_t min_classes = config_.variant == SmoothingVariant::annotated ? 3 : 2;
  if (num_classes < min_classes) {
    throw std::invalid_argument("label smoothing variant '" + std::string(to_string(config_.variant)) +
                                "' needs at least " + std::to_string(min_classes) +
                                " classes, got " + std::to_string(num_classes));
  }
  if (padding_idx_ >= num_classes) {
    throw std::invalid_argument("padding index " + std::to_string(padding_idx_) +
                                " is outside the " + std::to_string(num_classes) + " classes");
  }
  switch (config_.variant) {
    case SmoothingVariant::annotated:
      if (padding_idx_ < 0) {
        throw std::invalid_argument(
            "label smoothing variant 'annotated' needs a padding index (its column gets 0)");
      }
      gold_ = 1.0 - eps;
      smooth_ = eps / (k - 2.0);
      break;
    case SmoothingVariant::others:
      gold_ = 1.0 - eps;
      smooth_ = eps / (k - 1.0);
      break;
    case SmoothingVariant::uniform:
      gold_ = 1.0 - eps + eps / k;
      smooth_ = eps / k;
      break;
  }
  if (!config_.class_weights.empty()) {
    if (static_cast<int64_t>(config_.class_weights.size()) != num_classes) {
      throw std::invalid_argument("train.class_weights has " +
                                  std::to_string(config_.class_weights.size()) +
                                  " entries, expected one per class (" +
                                  std::to_string(num_classes) + ")");
    }
    weights_ = torch::tensor(config_.class_weights, torch::kDouble);
  }
}

namespace {

// The smoothed classes: all but the padding column for `annotated`, all for the others; with
// per_class weights, w (w_excluded = 0, so the backward needs no special case); unweighted and
// gold_nll (whose smoothing term is unweighted) have none.
struct Support {
  Tensor weights;        // [K] in the compute dtype, or undefined
  double total = 0.0;    // W: the sum of the support's weights
  int64_t excluded = -1; // the column outside the support (< 0: none)
};

Support support_of(const CriterionConfig& config, const Tensor& class_weights, int64_t num_classes,
                   int64_t padding_idx, const torch::TensorOptions& opts) {
  const bool annotated = config.variant == SmoothingVariant::annotated;
  const bool gold_nll = class_weights.defined() && config.class_weight_mode == ClassWeightMode::gold_nll;
  Support support;
  support.excluded = annotated ? padding_idx : -1;
  support.total = static_cast<double>(annotated ? num_classes - 1 : num_classes);
  if (class_weights.defined() && !gold_nll) {
    Tensor w = class_weights.clone();
    if (support.excluded >= 0) w[support.excluded] = 0.0;
    support.total = w.sum().item<double>();
    support.weights = w.to(opts);
  }
  return support;
}

// Per-row coefficients of ce_i = -(a_i * sum_support w_j l_ij + b_i * l_{i, y_i}), and the
// reduction's normaliser `scale`, folded into a and b for the backward.
struct Coefficients {
  Tensor a;       // [N]
  Tensor b;       // [N]
  Tensor w_gold;  // [N] w_{y_i} (ones when unweighted)
  double scale = 1.0;
};

Coefficients coefficients(const CriterionConfig& config, double gold, double smooth, const Tensor& class_weights,
                          const Tensor& target, const Normaliser& over, const torch::TensorOptions& opts) {
  const int64_t n = target.size(0);
  const double eps = config.label_smoothing;
  Coefficients k;
  k.w_gold = class_weights.defined() ? class_weights.to(opts).index_select(0, target) : torch::ones({n}, opts);
  k.a = torch::full({n}, smooth, opts);
  if (class_weights.defined() && config.class_weight_mode == ClassWeightMode::gold_nll) {
    // (1-eps) NLL_w + smoothing remainder r = q - (1-eps) e_y, unweighted (PyTorch semantics).
    const bool mean = config.reduction == LossReduction::mean;
    const double a_norm = mean ? (over.gold_weight > 0 ? 1.0 / over.gold_weight : 0.0) : 1.0;
    const double b_norm = mean ? (over.tokens > 0 ? 1.0 / over.tokens : 0.0) : 1.0;
    k.a.mul_(b_norm);
    k.b = k.w_gold * ((1.0 - eps) * a_norm) + (gold - smooth - (1.0 - eps)) * b_norm;
  } else {
    k.b = k.w_gold * (gold - smooth);
    if (config.reduction == LossReduction::mean) k.scale = over.tokens > 0 ? 1.0 / over.tokens : 0.0;
  }
  return k;
}

// The loss of every row, 0 on padding rows; +inf where the gold class has probability 0 (q_y > 0,
// as torch::kl_div gives).
Tensor row_losses(const CriterionConfig& config, double gold, double smooth, const RowStats& st,
                  const Coefficients& k, const Support& support, const Tensor& counted) {
  const int64_t n = counted.size(0);
  Tensor log_gold = st.gold - st.lse;                      // [N] l_{i, y_i}
  Tensor row = k.b * log_gold;                             // [N]
  if (smooth > 0.0) row += k.a * (st.support - support.total * st.lse);
  row = row.neg();
  if (config.form == LossForm::kl) {  // + sum_j w_j q_j log q_j, the entropy-like constant
    row += support.weights.defined() ? (support.total - k.w_gold) * xlogx(smooth) + k.w_gold * xlogx(gold)
                                     : k.w_gold.new_full({n}, (support.total - 1.0) * xlogx(smooth) + xlogx(gold));
  }
  const double inf = std::numeric_limits<double>::infinity();
  row = torch::where(log_gold.eq(-inf), torch::full_like(row, inf), row);
  return torch::where(counted, row, torch::zeros_like(row));
}

// Rows that count: all but those whose target is the padding index.
Tensor counted_rows(const Tensor& target, int64_t padding_idx) {
  return padding_idx >= 0 ? target.ne(padding_idx)
                          : torch::ones({target.size(0)}, target.options().dtype(torch::kBool));
}

// The normaliser of `target`, its gold weights summed in the dtype of `opts`.
Normaliser normaliser_of(const Tensor& class_weights, const CriterionConfig& config, const Tensor& target,
                         const Tensor& counted, const torch::TensorOptions& opts) {
  Normaliser n;
  n.tokens = static_cast<double>(counted.sum().item<int64_t>());
  if (class_weights.defined() && config.class_weight_mode == ClassWeightMode::gold_nll) {
    n.gold_weight = class_weights.to(opts).index_select(0, target).masked_select(counted).sum().item<double>();
  }
  return n;
}

}  // namespace

void LabelSmoothingLoss::check(const torch::Tensor& logits, const torch::Tensor& target) const {
  TORCH_CHECK(logits.dim() == 2 && logits.size(1) == num_classes_,
              "label smoothing: logits must be [N, ", num_classes_, "], got ", logits.sizes());
  TORCH_CHECK(target.dim() == 1 && target.size(0) == logits.size(0),
              "label smoothing: target must be [", logits.size(0), "], got ", target.sizes());
  TORCH_CHECK(target.scalar_type() == torch::kLong, "label smoothing: target must be int64");
  if (target.size(0) > 0) {
    TORCH_CHECK(target.min().item<int64_t>() >= 0 && target.max().item<int64_t>() < num_classes_,
                "label smoothing: target ids must be in [0, ", num_classes_, ")");
  }
}

Normaliser LabelSmoothingLoss::normaliser(const torch::Tensor& target) const {
  TORCH_CHECK(target.dim() == 1 && target.scalar_type() == torch::kLong, "label smoothing: target must be [N] int64");
  return normaliser_of(weights_, config_, target, counted_rows(target, padding_idx_),
                       target.options().dtype(torch::kFloat));
}

LossResult LabelSmoothingLoss::operator()(const torch::Tensor& logits, const torch::Tensor& target) const {
  check(logits, target);
  const Normaliser own = normaliser_of(weights_, config_, target, counted_rows(target, padding_idx_),
                                       logits.options().dtype(compute_dtype(logits)));
  return compute(logits, target, own);
}

LossResult LabelSmoothingLoss::operator()(const torch::Tensor& logits, const torch::Tensor& target,
                                          const Normaliser& over) const {
  check(logits, target);
  return compute(logits, target, over);
}

LossResult LabelSmoothingLoss::compute(const torch::Tensor& logits, const torch::Tensor& target,
                                       const Normaliser& over) const {
  const auto opts = logits.options().dtype(compute_dtype(logits));
  const Support support = support_of(config_, weights_, num_classes_, padding_idx_, opts);
  const Tensor counted = counted_rows(target, padding_idx_);
  const RowStats st = row_stats(logits.detach(), target, counted, support.weights, support.excluded);

  torch::NoGradGuard no_grad;
  const Tensor tokens = counted.sum();
  const Coefficients k = coefficients(config_, gold_, smooth_, weights_, target, over, opts);
  const Tensor row = row_losses(config_, gold_, smooth_, st, k, support, counted);

  const Tensor total = row.sum();
  const Tensor value = config_.reduction == LossReduction::none ? row : total * k.scale;
  const Tensor zero = torch::zeros_like(k.a);
  GradPlan plan{value.to(logits.scalar_type()),
                st.lse,
                torch::where(counted, k.a * k.scale, zero),
                torch::where(counted, k.b * k.scale, zero),
                target,
                counted,
                support.weights,
                support.excluded,
                support.total};

  LossResult result;
  {
    at::AutoGradMode grad_mode(true);
    result.loss = logits.requires_grad() ? SmoothedLossFunction::apply(logits, plan) : plan.value;
  }
  const bool gold_nll_mean = weights_.defined() && config_.class_weight_mode == ClassWeightMode::gold_nll &&
                             config_.reduction == LossReduction::mean;
  result.sum = gold_nll_mean ? plan.value * over.tokens : total;
  result.nll_sum = (st.lse - st.gold).masked_select(counted).sum();
  result.correct = st.correct;
  result.tokens = tokens;
  return result;
}

}  // namespace tmt
