#include "decode/beam_search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace tmt {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// A beam that survives a step: which row it extends, with which token, at what log-probability.
struct Continuation {
  int64_t row;
  int64_t token;
  double log_prob;
};

[[noreturn]] void reject(const std::string& what) { throw std::invalid_argument(what); }

void check_problem(const SearchProblem& problem) {
  const int64_t v = problem.vocab_size;
  if (v < 1) reject("beam search needs vocab_size >= 1, got " + std::to_string(v));
  for (const auto& [name, id] : {std::pair<const char*, int64_t>{"bos_id", problem.bos_id},
                                 {"eos_id", problem.eos_id},
                                 {"pad_id", problem.pad_id}}) {
    if (id < 0 || id >= v) {
      reject(std::string("beam search ") + name + " must be in [0, " + std::to_string(v) +
             "), got " + std::to_string(id));
    }
  }
  if (problem.eos_id == problem.bos_id || problem.eos_id == problem.pad_id) {
    reject("beam search eos_id " + std::to_string(problem.eos_id) +
           " must differ from bos_id and pad_id, which are never generated");
  }
  for (const int64_t len : problem.max_len) {
    if (len < 0) reject("beam search max_len must be >= 0, got " + std::to_string(len));
  }
}

// The nbest-th best score among `finished` (which holds at least nbest entries).
double nth_best_score(const std::vector<Hypothesis>& finished, int64_t nbest) {
  std::vector<double> scores;
  scores.reserve(finished.size());
  for (const auto& h : finished) scores.push_back(h.score);
  std::nth_element(scores.begin(), scores.begin() + (nbest - 1), scores.end(),
                   std::greater<double>());
  return scores[nbest - 1];
}

}  // namespace

double length_penalty(int64_t length, double alpha) {
  return std::pow((5.0 + static_cast<double>(length)) / 6.0, alpha);
}

// The search keeps, for every unfinished sentence, `beams` rows of the step model: one row at
// the first step (all beams would start from the same start symbol), k afterwards. Per step:
//  1. one step.log_probs call for all rows; pad and bos are masked to -inf; a sentence at its
//     length limit may only emit eos (fairseq's behaviour: the forced eos is scored like any
//     other, and counts in |Y|, so a forced stop is no free lunch);
//  2. candidates = row log-prob + token log-prob; the top 2k per sentence (at most k of them are
//     eos, one per row, so k non-eos remain) go to the host, the only sync per step;
//  3. as in fairseq, an eos candidate finishes a hypothesis only if it ranks among the top k
//     (so beam 1 with alpha 0 is exactly greedy decoding); the first k non-eos candidates
//     become the next beams; -inf candidates (fewer than k reachable tokens) leave dead beams;
//  4. a sentence stops when it has no live beam, or has nbest finished hypotheses of which the
//     nbest-th best scores at least the best any live beam can still reach (see below). Its
//     rows leave the batch through the same reorder that follows the surviving beams.
//
// The bound: a live beam has log-prob s <= 0 after L tokens; any completion Y has log-prob
// s' <= s (log-probs are <= 0) and |Y| in [L + 1, max_len + 1] (eos counted). Its score
// s' / lp(|Y|) <= s / lp(|Y|) <= s / max(lp(L + 1), lp(max_len + 1)), because dividing a
// non-positive number by a larger positive one makes it larger and lp is monotone in |Y|
// (non-decreasing, as alpha >= 0, so the longest reachable length). The best live beam has
// the largest s, so its bound covers all live beams.

namespace {

// One search, step by step: the state the steps share and one method per step.
class BeamSearch {
 public:
  BeamSearch(const StepModel& step, const SearchProblem& problem, const DecodeConfig& options)
      : step_(step),
        problem_(problem),
        options_(options),
        sentences_(static_cast<int64_t>(problem.max_len.size())),
        vocab_(problem.vocab_size),
        // Beams beyond the number of generable tokens could only hold duplicates or -inf rows, so
        // the effective beam is clamped (nbest is not: finished hypotheses accumulate over steps).
        k_(std::min(options.beam_size, problem.vocab_size - (problem.bos_id == problem.pad_id ? 1 : 2))),
        finished_(sentences_),
        row_log_prob_(sentences_, 0.0),
        row_tokens_(sentences_) {
    const auto float_options = torch::TensorOptions().dtype(torch::kFloat).device(problem.device);
    const float neg_inf = -std::numeric_limits<float>::infinity();
    banned_ = torch::zeros({vocab_}, float_options);  // [vocab], added to log-probs
    banned_[problem.pad_id] = neg_inf;
    banned_[problem.bos_id] = neg_inf;
    eos_only_ = torch::full({vocab_}, neg_inf, float_options);  // [vocab], added
    eos_only_[problem.eos_id] = 0.0;
    active_.resize(sentences_);  // original index of each unfinished sentence
    for (int64_t i = 0; i < sentences_; ++i) active_[i] = i;
    prefix_ = torch::full({sentences_, 1}, problem.bos_id,
                          torch::TensorOptions().dtype(torch::kLong).device(problem.device));  // [rows, 1]
  }

  std::vector<std::vector<Hypothesis>> run() {
    for (int64_t t = 0; !active_.empty(); ++t) {
      const torch::Tensor log_probs = masked_log_probs(t);  // [rows, vocab]
      const Candidates top = top_candidates(log_probs);
      std::vector<int64_t> next_active;
      std::vector<Continuation> next;
      for (int64_t i = 0; i < static_cast<int64_t>(active_.size()); ++i) {
        std::vector<Continuation> live = choose(i, top, t);
        if (live.empty()) continue;
        next_active.push_back(active_[i]);
        next.insert(next.end(), live.begin(), live.end());
      }
      active_ = std::move(next_active);
      if (active_.empty()) break;
      advance(next);
    }
    return results();
  }

 private:
  // The top 2k candidates of every unfinished sentence, on the host: the only sync per step.
  struct Candidates {
    int64_t width = 0;
    torch::Tensor scores;   // [n, width] float, best first
    torch::Tensor indices;  // [n, width] int64 into beams * vocab
  };

  // Step 1: one step.log_probs call for all rows; pad and bos masked to -inf; a sentence at its
  // length limit may only emit eos.
  torch::Tensor masked_log_probs(int64_t t) {
    const auto n = static_cast<int64_t>(active_.size());
    const int64_t rows = n * beams_;
    torch::Tensor log_probs = step_.log_probs(prefix_);  // [rows, vocab]
    TORCH_CHECK(log_probs.dim() == 2 && log_probs.size(0) == rows && log_probs.size(1) == vocab_,
                "beam search step must return log-probs [", rows, ", ", vocab_, "], got ", log_probs.sizes());
    log_probs = log_probs.to(torch::kFloat) + banned_;  // [rows, vocab]
    std::vector<uint8_t> at_limit(rows, 0);
    bool any_at_limit = false;
    for (int64_t i = 0; i < n; ++i) {
      if (t >= problem_.max_len[active_[i]]) {
        std::fill(at_limit.begin() + i * beams_, at_limit.begin() + (i + 1) * beams_, 1);
        any_at_limit = true;
      }
    }
    if (any_at_limit) {
      const torch::Tensor limit_rows =
          torch::from_blob(at_limit.data(), {rows, 1}, torch::kUInt8)
              .to(torch::TensorOptions().dtype(torch::kBool).device(problem_.device));  // [rows, 1]
      // [rows, vocab]: eos keeps its log-prob, every other token -inf
      log_probs = torch::where(limit_rows, log_probs + eos_only_, log_probs);
    }
    return log_probs;
  }

  // Step 2: candidates = row log-prob + token log-prob; the top 2k per sentence (at most k of
  // them are eos, one per row, so k non-eos remain).
  Candidates top_candidates(const torch::Tensor& log_probs) const {
    const auto n = static_cast<int64_t>(active_.size());
    std::vector<float> row_scores(row_log_prob_.begin(), row_log_prob_.end());
    const torch::Tensor scores = torch::tensor(row_scores).to(problem_.device);  // [rows]
    // [n, beams * vocab]: every (beam, token) extension of each sentence
    const torch::Tensor candidates = (log_probs + scores.unsqueeze(1)).view({n, beams_ * vocab_});
    Candidates top;
    top.width = std::min(2 * k_, beams_ * vocab_);
    auto [top_scores, top_indices] = candidates.topk(top.width, /*dim=*/-1);  // [n, width] each
    top.scores = top_scores.to(torch::kCPU);
    top.indices = top_indices.to(torch::kCPU);
    return top;
  }

  // Step 3, for the i-th unfinished sentence: an eos candidate among the top k finishes a
  // hypothesis; the first k non-eos candidates become the next beams (padded with dead ones).
  // Returns none when the sentence is done (step 4).
  std::vector<Continuation> choose(int64_t i, const Candidates& top, int64_t t) {
    const int64_t sentence = active_[i];
    auto& done = finished_[sentence];
    const auto top_score = top.scores.accessor<float, 2>();
    const auto top_index = top.indices.accessor<int64_t, 2>();
    std::vector<Continuation> live;
    for (int64_t c = 0; c < top.width; ++c) {
      const double score = top_score[i][c];
      if (score == kNegInf) break;  // sorted: only unreachable candidates follow
      const int64_t row = i * beams_ + top_index[i][c] / vocab_;
      const int64_t token = top_index[i][c] % vocab_;
      if (token == problem_.eos_id) {
        if (c < k_) {
          const auto length = static_cast<int64_t>(row_tokens_[row].size()) + 1;
          done.push_back({row_tokens_[row], score / length_penalty(length, options_.alpha), score});
        }
      } else if (static_cast<int64_t>(live.size()) < k_) {
        live.push_back({row, token, score});
      }
    }
    if (live.empty() || cannot_improve(sentence, live.front().log_prob, t)) return {};
    // Dead beams keep the batch rectangular; -inf never wins a later comparison.
    while (static_cast<int64_t>(live.size()) < k_) live.push_back({live.front().row, problem_.eos_id, kNegInf});
    return live;
  }

  // Step 4: the sentence has nbest finished hypotheses and the nbest-th best scores at least the
  // best any live beam (best log-prob `best_live` after t + 1 tokens) can still reach.
  bool cannot_improve(int64_t sentence, double best_live, int64_t t) const {
    const auto& done = finished_[sentence];
    if (static_cast<int64_t>(done.size()) < options_.nbest) return false;
    const int64_t length = t + 1;  // tokens of every live beam
    const double best_lp = std::max(length_penalty(length + 1, options_.alpha),
                                    length_penalty(problem_.max_len[sentence] + 1, options_.alpha));
    return nth_best_score(done, options_.nbest) >= best_live / best_lp;
  }

  // Step 5: the surviving beams become the rows of the next step, through one reorder.
  void advance(const std::vector<Continuation>& next) {
    beams_ = k_;
    std::vector<int64_t> order;
    std::vector<int64_t> tokens;
    std::vector<std::vector<int64_t>> next_tokens;
    row_log_prob_.clear();
    for (const auto& c : next) {
      order.push_back(c.row);
      tokens.push_back(c.token);
      row_log_prob_.push_back(c.log_prob);
      next_tokens.push_back(row_tokens_[c.row]);
      next_tokens.back().push_back(c.token);
    }
    row_tokens_ = std::move(next_tokens);
    const torch::Tensor order_t = torch::tensor(order, torch::kLong).to(problem_.device);
    const torch::Tensor tokens_t = torch::tensor(tokens, torch::kLong).to(problem_.device);
    if (step_.reorder) step_.reorder(order_t);
    prefix_ = torch::cat({prefix_.index_select(0, order_t), tokens_t.unsqueeze(1)},
                         /*dim=*/1);  // [k * next n, t + 2]
  }

  // Per sentence the finished hypotheses, best first, at most nbest.
  std::vector<std::vector<Hypothesis>> results() {
    for (auto& done : finished_) {
      std::stable_sort(done.begin(), done.end(),
                       [](const Hypothesis& a, const Hypothesis& b) { return a.score > b.score; });
      if (static_cast<int64_t>(done.size()) > options_.nbest) done.resize(options_.nbest);
    }
    return std::move(finished_);
  }

  const StepModel& step_;
  const SearchProblem& problem_;
  const DecodeConfig& options_;
  int64_t sentences_;
  int64_t vocab_;
  int64_t k_;
  torch::Tensor banned_;    // [vocab]: -inf at pad and bos
  torch::Tensor eos_only_;  // [vocab]: -inf except at eos
  std::vector<std::vector<Hypothesis>> finished_;
  std::vector<int64_t> active_;
  int64_t beams_ = 1;  // rows per unfinished sentence: 1 at the first step, k afterwards
  std::vector<double> row_log_prob_;
  std::vector<std::vector<int64_t>> row_tokens_;
  torch::Tensor prefix_;  // [rows, t + 1]
};

}  // namespace

std::vector<std::vector<Hypothesis>> beam_search(const StepModel& step,
                                                 const SearchProblem& problem,
                                                 const DecodeConfig& options) {
  options.validate();
  check_problem(problem);
  TORCH_CHECK(step.log_probs, "beam search needs a log_probs step function");
  if (problem.max_len.empty()) return {};
  return BeamSearch(step, problem, options).run();
}

std::vector<std::vector<Hypothesis>> beam_search(Transformer& model, const torch::Tensor& src,
                                                 int64_t bos_id, int64_t eos_id,
                                                 const DecodeConfig& options, DecoderState state) {
  TORCH_CHECK(src.dim() == 2 && src.scalar_type() == torch::kLong,
              "beam_search: src must be [batch, src_len] int64, got ", src.scalar_type(), " ",
              src.sizes());
  options.validate();
  torch::NoGradGuard no_grad;
  const int64_t pad = model->vocab().pad_id;
  const torch::Device device = model->parameters().front().device();
  torch::Tensor source = src.to(device);
  const int64_t batch = source.size(0);
  if (batch == 0) return {};
  if (source.size(1) == 0) {
    // Length-0 sources: one padding column gives every row a fully masked source, which the
    // attention turns into zero weights (the decoder then runs as a language model).
    source = torch::full({batch, 1}, pad, source.options());  // [batch, 1]
  }

  SearchProblem problem;
  problem.vocab_size = model->vocab().tgt_size;
  problem.bos_id = bos_id;
  problem.eos_id = eos_id;
  problem.pad_id = pad;
  problem.device = device;
  // The decoder sees at most max_len + 1 positions (start symbol, max_len tokens; the forced
  // eos is predicted from the last of them), so the limit is clamped to the position table.
  const torch::Tensor lengths = source.ne(pad).sum(/*dim=*/1).to(torch::kCPU);  // [batch]
  const auto length = lengths.accessor<int64_t, 1>();
  for (int64_t i = 0; i < batch; ++i) {
    problem.max_len.push_back(options.output_limit(length[i], model->config().max_positions));
  }

  const torch::Tensor memory = model->encode(source);          // [batch, src_len, d_model]
  const torch::Tensor src_mask = padding_mask(source, pad);    // [batch, 1, 1, src_len]
  StepModel step;
  if (state == DecoderState::cached) {
    auto cache = std::make_shared<DecoderCache>(model->start_decoding(memory, src_mask));
    step.log_probs = [model, cache](const torch::Tensor& prefix) mutable {
      const auto hidden = model->decode_step(prefix.select(1, -1), *cache);  // [rows, d_model]
      return torch::log_softmax(model->project(hidden).to(torch::kFloat), /*dim=*/-1);
    };
    step.reorder = [cache](const torch::Tensor& order) { reorder_cache(*cache, order); };
  } else {
    // Recomputes every prefix position each step: the reference for the cached path.
    struct State {
      torch::Tensor memory;
      torch::Tensor src_mask;
    };
    auto state = std::make_shared<State>(State{memory, src_mask});
    step.log_probs = [model, state](const torch::Tensor& prefix) mutable {
      // [rows, t + 1, d_model]
      const auto hidden = model->decode(prefix, state->memory, state->src_mask);
      return torch::log_softmax(model->project(hidden.select(1, -1)).to(torch::kFloat),
                                /*dim=*/-1);  // [rows, vocab]
    };
    step.reorder = [state](const torch::Tensor& order) {
      state->memory = state->memory.index_select(0, order);      // [rows, src_len, d_model]
      state->src_mask = state->src_mask.index_select(0, order);  // [rows, 1, 1, src_len]
    };
  }
  return beam_search(step, problem, options);
}

}  // namespace tmt
