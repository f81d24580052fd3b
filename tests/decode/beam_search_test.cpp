// Beam search: the search core on hand-written step tables, and the Transformer adapter against
// greedy decoding, full-prefix recomputation and single-sentence decoding.

#include "decode/beam_search.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "decode/greedy.h"
#include "model/model_config.h"
#include "model/transformer.h"
#include "tests/tiny_model.h"

namespace tmt {
namespace {

constexpr int64_t kPad = 0;
constexpr int64_t kBos = 1;
constexpr int64_t kEos = 2;
constexpr int64_t kA = 3;
constexpr int64_t kB = 4;

using Tokens = std::vector<int64_t>;

torch::Tensor longs(const Tokens& values) { return torch::tensor(values, torch::kLong); }

// ---------------------------------------------------------------------------------------------
// Search core on a step table: next-token probabilities looked up by the prefix (without bos).

struct Table {
  int64_t vocab = 5;
  std::map<Tokens, std::map<int64_t, double>> next;  // prefix -> token -> probability
  std::map<int64_t, double> fallback;                // for prefixes not in `next`
  int64_t calls = 0;
  int64_t max_rows = 0;
};

StepModel table_step(Table& table) {
  StepModel step;
  step.log_probs = [&table](const torch::Tensor& prefix) {
    ++table.calls;
    table.max_rows = std::max(table.max_rows, prefix.size(0));
    auto out = torch::full({prefix.size(0), table.vocab},
                           -std::numeric_limits<float>::infinity());  // [rows, vocab]
    for (int64_t r = 0; r < prefix.size(0); ++r) {
      Tokens key;
      for (int64_t t = 1; t < prefix.size(1); ++t) key.push_back(prefix[r][t].item<int64_t>());
      const auto it = table.next.find(key);
      for (const auto& [token, p] : it == table.next.end() ? table.fallback : it->second) {
        out[r][token] = std::log(p);
      }
    }
    return out;
  };
  return step;  // stateless: no reorder
}

SearchProblem table_problem(const Table& table, std::vector<int64_t> max_len) {
  SearchProblem problem;
  problem.max_len = std::move(max_len);
  problem.vocab_size = table.vocab;
  problem.bos_id = kBos;
  problem.eos_id = kEos;
  problem.pad_id = kPad;
  return problem;
}

DecodeConfig beam(int64_t size, double alpha, int64_t nbest = 1) {
  DecodeConfig options;
  options.beam_size = size;
  options.alpha = alpha;
  options.nbest = nbest;
  return options;
}

// Greedy takes a (0.55) and then must end with p(eos | a) = 0.4: 0.22 in all. Starting with b
// (0.45) ends with eos at 0.95: 0.4275. Only a search that keeps b alive finds it.
Table garden_path() {
  Table table;
  table.next[{}] = {{kA, 0.55}, {kB, 0.45}};
  table.next[{kA}] = {{kEos, 0.4}, {kA, 0.3}, {kB, 0.3}};
  table.next[{kB}] = {{kEos, 0.95}, {kA, 0.03}, {kB, 0.02}};
  table.fallback = {{kEos, 0.9}, {kA, 0.05}, {kB, 0.05}};
  return table;
}

TEST(LengthPenalty, MatchesWuEtAl) {
  EXPECT_EQ(length_penalty(1, 0.6), 1.0);  // (5 + 1) / 6 = 1
  EXPECT_DOUBLE_EQ(length_penalty(7, 0.6), std::pow(2.0, 0.6));
  EXPECT_DOUBLE_EQ(length_penalty(7, 0.6), 1.5157165665103982);
  EXPECT_DOUBLE_EQ(length_penalty(25, 1.0), 5.0);
  EXPECT_EQ(length_penalty(40, 0.0), 1.0);
  EXPECT_LT(length_penalty(3, 0.6), length_penalty(4, 0.6));
}

TEST(DecodeOptions, RejectsBadValuesByName) {
  auto expect_message = [](DecodeConfig options, const std::string& message) {
    try {
      options.validate();
      ADD_FAILURE() << message << ": accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(e.what(), message);
    }
  };
  EXPECT_NO_THROW(DecodeConfig{}.validate());
  expect_message(beam(0, 0.6), "decode.beam_size must be >= 1, got 0");
  expect_message(beam(4, 0.6, /*nbest=*/5), "decode.nbest (5) cannot exceed decode.beam_size (4)");
  expect_message(beam(4, 0.6, /*nbest=*/0), "decode.nbest must be >= 1, got 0");
  expect_message(beam(4, -0.5), "decode.alpha must be >= 0, got -0.5");
  expect_message(beam(4, std::numeric_limits<double>::infinity()), "decode.alpha must be finite and >= 0, got inf");
  auto options = beam(4, 0.6);
  options.max_len_a = -1;
  expect_message(options, "decode.max_len_a must be >= 0, got -1");
  options.max_len_a = std::nan("");
  expect_message(options, "decode.max_len_a must be finite and >= 0, got nan");
  Table table = garden_path();
  auto problem = table_problem(table, {3});
  problem.eos_id = kPad;
  EXPECT_THROW(beam_search(table_step(table), problem, beam(2, 0.0)), std::invalid_argument);
}

TEST(BeamSearchCore, BeamFindsWhatGreedyMisses) {
  Table table = garden_path();
  const auto greedy = beam_search(table_step(table), table_problem(table, {5}), beam(1, 0.0));
  ASSERT_EQ(greedy.size(), 1u);
  ASSERT_EQ(greedy[0].size(), 1u);
  EXPECT_EQ(greedy[0][0].tokens, Tokens({kA}));
  EXPECT_NEAR(greedy[0][0].log_prob, std::log(0.55 * 0.4), 1e-6);

  const auto found = beam_search(table_step(table), table_problem(table, {5}), beam(2, 0.0));
  ASSERT_EQ(found[0].size(), 1u);
  EXPECT_EQ(found[0][0].tokens, Tokens({kB}));
  EXPECT_NEAR(found[0][0].log_prob, std::log(0.45 * 0.95), 1e-6);
  EXPECT_NEAR(found[0][0].score, found[0][0].log_prob, 1e-12);  // alpha 0: lp = 1

  // With alpha 0.6 the score is normalised by lp(|Y| = 2) = (7/6)^0.6.
  const auto normalised =
      beam_search(table_step(table), table_problem(table, {5}), beam(2, 0.6));
  EXPECT_EQ(normalised[0][0].tokens, Tokens({kB}));
  EXPECT_NEAR(normalised[0][0].score,
              std::log(0.45 * 0.95) / std::pow(7.0 / 6.0, 0.6), 1e-6);
}

TEST(BeamSearchCore, NbestSortedByScore) {
  Table table = garden_path();
  const auto result =
      beam_search(table_step(table), table_problem(table, {5}), beam(3, 0.0, /*nbest=*/3));
  ASSERT_EQ(result[0].size(), 3u);
  // By hand: b eos 0.4275 > a eos 0.22 > then the best three-token hypothesis, a a eos or
  // a b eos, 0.55 * 0.3 * 0.9 = 0.1485 (both tie; the earlier-found one comes first).
  EXPECT_EQ(result[0][0].tokens, Tokens({kB}));
  EXPECT_EQ(result[0][1].tokens, Tokens({kA}));
  EXPECT_EQ(result[0][2].tokens.size(), 2u);
  EXPECT_EQ(result[0][2].tokens[0], kA);
  EXPECT_NEAR(result[0][2].log_prob, std::log(0.55 * 0.3 * 0.9), 1e-6);
  for (size_t i = 1; i < result[0].size(); ++i) {
    EXPECT_GE(result[0][i - 1].score, result[0][i].score);
  }
}

TEST(BeamSearchCore, KeepsFinishedUntilNoLiveBeamCanBeatThem) {
  // An early eos (0.5 after one token) and a long continuation whose per-token probability is
  // high: with alpha 0 the early one wins and the search stops at once (the live beam's
  // log-prob already lies below it); with alpha 1 the longer hypothesis wins after normalising,
  // so the search must not stop when the first hypothesis finishes.
  Table table;
  table.next[{}] = {{kA, 1.0}};
  table.next[{kA}] = {{kEos, 0.5}, {kA, 0.5}};
  table.fallback = {{kA, 0.97}, {kEos, 0.03}};
  table.next[{kA, kA, kA, kA}] = {{kEos, 0.99}, {kA, 0.01}};
  const auto raw = beam_search(table_step(table), table_problem(table, {10}), beam(2, 0.0));
  EXPECT_EQ(raw[0][0].tokens, Tokens({kA}));
  // Two steps: a, then "a eos" finishes at 0.5, which no live beam (<= 0.5) can beat.
  EXPECT_EQ(table.calls, 2);

  const auto normalised =
      beam_search(table_step(table), table_problem(table, {10}), beam(2, 1.0));
  EXPECT_EQ(normalised[0][0].tokens, Tokens({kA, kA, kA, kA}));
  const double expected = std::log(0.5 * 0.97 * 0.97 * 0.99) / length_penalty(5, 1.0);
  EXPECT_NEAR(normalised[0][0].score, expected, 1e-6);
  EXPECT_GT(normalised[0][0].score, std::log(0.5) / length_penalty(2, 1.0));
}

TEST(BeamSearchCore, MaxLengthForcesEosAndCountsIt) {
  // eos is nearly impossible, so every hypothesis runs to the limit, where eos is forced; the
  // forced eos is scored with its own log-probability and counts in |Y| (fairseq's behaviour).
  Table table;
  table.fallback = {{kA, 0.6}, {kB, 0.399999}, {kEos, 1e-6}};
  const auto result = beam_search(table_step(table), table_problem(table, {3, 0}), beam(2, 0.6));
  ASSERT_EQ(result.size(), 2u);
  ASSERT_EQ(result[0].size(), 1u);
  EXPECT_EQ(result[0][0].tokens, Tokens({kA, kA, kA}));
  EXPECT_NEAR(result[0][0].log_prob, 3 * std::log(0.6) + std::log(1e-6), 1e-4);
  EXPECT_NEAR(result[0][0].score, result[0][0].log_prob / length_penalty(4, 0.6), 1e-6);
  // max_len 0: only the forced eos.
  ASSERT_EQ(result[1].size(), 1u);
  EXPECT_TRUE(result[1][0].tokens.empty());
  EXPECT_NEAR(result[1][0].log_prob, std::log(1e-6), 1e-4);
}

TEST(BeamSearchCore, BeamLargerThanVocabulary) {
  // pad, bos, eos, a: only eos and a can be generated, so the effective beam is 2.
  Table table;
  table.vocab = 4;
  table.fallback = {{kA, 0.7}, {kEos, 0.3}};
  const auto wide = beam_search(table_step(table), table_problem(table, {4}), beam(10, 0.6, 2));
  EXPECT_LE(table.max_rows, 2);
  table.max_rows = 0;
  const auto two = beam_search(table_step(table), table_problem(table, {4}), beam(2, 0.6, 2));
  ASSERT_EQ(wide[0].size(), two[0].size());
  ASSERT_FALSE(wide[0].empty());
  for (size_t i = 0; i < wide[0].size(); ++i) {
    EXPECT_EQ(wide[0][i].tokens, two[0][i].tokens);
    EXPECT_EQ(wide[0][i].score, two[0][i].score);
  }
  // A single generable token (eos): the only hypothesis is the empty one.
  table.vocab = 3;
  table.fallback = {{kEos, 1.0}};
  const auto only_eos = beam_search(table_step(table), table_problem(table, {4}), beam(5, 0.6));
  ASSERT_EQ(only_eos[0].size(), 1u);
  EXPECT_TRUE(only_eos[0][0].tokens.empty());
  EXPECT_EQ(only_eos[0][0].log_prob, 0.0);
}

TEST(BeamSearchCore, NeverGeneratesPadOrBos) {
  Table table;
  table.fallback = {{kPad, 0.5}, {kBos, 0.3}, {kA, 0.1}, {kEos, 0.1}};
  const auto result = beam_search(table_step(table), table_problem(table, {3}), beam(3, 0.6, 3));
  ASSERT_FALSE(result[0].empty());
  for (const auto& h : result[0]) {
    for (const int64_t token : h.tokens) EXPECT_EQ(token, kA);
  }
}

TEST(BeamSearchCore, NoSentences) {
  Table table = garden_path();
  EXPECT_TRUE(beam_search(table_step(table), table_problem(table, {}), beam(4, 0.6)).empty());
  EXPECT_EQ(table.calls, 0);
}

// ---------------------------------------------------------------------------------------------
// The Transformer: seeded random models.

constexpr int64_t kVocab = 13;

ModelConfig small_config(bool pre_norm = false) {
  ModelConfig config = tests::tiny_model(/*layers=*/2, /*d_model=*/8, /*heads=*/2, /*dropout=*/0.0, 64);
  config.pre_norm = pre_norm;
  config.init = InitScheme::annotated;  // the seeded models below were chosen under this init
  return config;
}

Transformer make_model(const ModelConfig& config, uint64_t seed = 5) {
  torch::manual_seed(seed);
  Transformer model(config, VocabInfo{kVocab, kVocab, kPad});
  model->eval();
  return model;
}

// Right-padded batch from sentences of different lengths.
torch::Tensor padded(const std::vector<Tokens>& sentences) {
  size_t width = 0;
  for (const auto& s : sentences) width = std::max(width, s.size());
  auto batch = torch::full({static_cast<int64_t>(sentences.size()), static_cast<int64_t>(width)},
                           kPad, torch::kLong);  // [batch, width]
  for (size_t i = 0; i < sentences.size(); ++i) {
    for (size_t j = 0; j < sentences[i].size(); ++j) batch[i][j] = sentences[i][j];
  }
  return batch;
}

const std::vector<Tokens>& sentences() {
  static const std::vector<Tokens> s = {
      {5, 6, 7, 8, 9, kEos}, {10, 11, kEos}, {3, 4, 12, 5, 6, 7, 8, 9, 10, kEos}, {kEos},
      {7, 3, 3, 9, kEos},    {12, kEos},
  };
  return s;
}

void expect_same(const std::vector<std::vector<Hypothesis>>& a,
                 const std::vector<std::vector<Hypothesis>>& b, double tolerance,
                 const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].size(), b[i].size()) << what << ", sentence " << i;
    for (size_t j = 0; j < a[i].size(); ++j) {
      EXPECT_EQ(a[i][j].tokens, b[i][j].tokens) << what << ", sentence " << i << ", hyp " << j;
      EXPECT_NEAR(a[i][j].score, b[i][j].score, tolerance) << what << ", sentence " << i;
      EXPECT_NEAR(a[i][j].log_prob, b[i][j].log_prob, tolerance) << what << ", sentence " << i;
    }
  }
}

TEST(IncrementalDecoding, StepsEqualFullPrefix) {
  for (const bool pre_norm : {false, true}) {
    auto model = make_model(small_config(pre_norm));
    torch::NoGradGuard no_grad;
    const auto src = padded({{5, 6, 7, kEos}, {8, kEos}});
    const auto tgt = padded({{kBos, 3, 4, 5, 6}, {kBos, 9, 9, 10, 11}});  // [2, 5]
    const auto memory = model->encode(src);
    const auto mask = padding_mask(src, kPad);
    const auto full = model->decode(tgt, memory, mask);  // [2, 5, d_model]
    auto cache = model->start_decoding(memory, mask);
    for (int64_t t = 0; t < tgt.size(1); ++t) {
      const auto hidden = model->decode_step(tgt.select(1, t), cache);  // [2, d_model]
      EXPECT_LT((hidden - full.select(1, t)).abs().max().item<double>(), 1e-5)
          << "pre_norm " << pre_norm << ", position " << t;
    }
    EXPECT_EQ(cache.steps, 5);
    EXPECT_EQ(cache.self_k[0].sizes(), torch::IntArrayRef({2, 2, 5, 4}));
    EXPECT_EQ(cache.cross_k[1].sizes(), torch::IntArrayRef({2, 2, 4, 4}));
  }
}

// greedy_decode (cached) picks the same tokens as argmax over full-prefix recomputation.
TEST(IncrementalDecoding, GreedyEqualsFullPrefixArgmax) {
  auto model = make_model(small_config());
  torch::NoGradGuard no_grad;
  const auto src = padded(sentences());
  const auto out = greedy_decode(model, src, kBos, /*end_id=*/-1, /*max_len=*/12);  // [6, 12]
  const auto memory = model->encode(src);
  const auto mask = padding_mask(src, kPad);
  auto ys = torch::full({src.size(0), 1}, kBos, torch::kLong);
  for (int64_t t = 0; t < 12; ++t) {
    const auto next = model->project(model->decode(ys, memory, mask).select(1, -1)).argmax(-1);  // [6]
    ys = torch::cat({ys, next.unsqueeze(1)}, 1);
  }
  EXPECT_TRUE(torch::equal(out, ys.narrow(1, 1, 12))) << out << ys;
}

TEST(IncrementalDecoding, ReorderFollowsRows) {
  auto model = make_model(small_config());
  torch::NoGradGuard no_grad;
  const auto src = padded({{5, 6, 7, kEos}, {8, kEos}});
  const auto memory = model->encode(src);
  auto cache = model->start_decoding(memory, padding_mask(src, kPad));
  model->decode_step(longs({kBos, kBos}), cache);
  model->decode_step(longs({3, 4}), cache);
  // Three rows: sentence 1 twice, then sentence 0; their next step must equal decoding those
  // rows' sources and prefixes from scratch.
  reorder_cache(cache, longs({1, 1, 0}));
  const auto hidden = model->decode_step(longs({5, 6, 7}), cache);  // [3, d_model]
  const auto src3 = src.index_select(0, longs({1, 1, 0}));
  const auto tgt3 = longs({kBos, 4, 5, kBos, 4, 6, kBos, 3, 7}).view({3, 3});  // [3, 3]
  const auto full = model->decode(tgt3, model->encode(src3), padding_mask(src3, kPad));
  EXPECT_LT((hidden - full.select(1, 2)).abs().max().item<double>(), 1e-5);
  EXPECT_THROW(model->decode_step(longs({5, 6}), cache), c10::Error);  // 2 != 3 rows
}

// A model that can never prefer pad or bos: the output rows of pad and bos point against a
// direction that the last LayerNorm's bias pushes every hidden state into (|normalised
// component| <= sqrt(d_model - 1) < 3, bias 10, so those logits stay below -70), so greedy's
// unmasked argmax and the search's masked one face the same choices. Untied, so that the input
// embeddings stay as initialised.
Transformer model_without_pad_or_bos() {
  auto config = small_config();
  config.share_embeddings = false;
  auto model = make_model(config, /*seed=*/11);
  torch::NoGradGuard no_grad;
  auto params = model->named_parameters();
  auto bias = params["decoder_layers.1.ffn_norm.bias"];
  auto out = params["output_proj.weight"];
  bias.zero_();
  bias[0] = 10.0;
  for (const int64_t id : {kPad, kBos}) {
    out[id].zero_();
    out[id][0] = -10.0;
  }
  // A nudge towards eos, so that some test sentences end with eos and others run to the limit.
  out[kEos][0] += 0.12;
  return model;
}

TEST(BeamSearch, BeamOneEqualsGreedy) {
  // Beam 1 is greedy decoding when the score is the raw log-probability (alpha 0). With
  // alpha > 0 the exact stopping rule may rightly keep searching past greedy's eos.
  auto model = model_without_pad_or_bos();
  auto options = beam(1, 0.0);
  options.max_len_b = 6;
  const auto result = beam_search(model, padded(sentences()), kBos, kEos, options);
  ASSERT_EQ(result.size(), sentences().size());
  int ended = 0;
  int at_limit = 0;
  for (size_t i = 0; i < sentences().size(); ++i) {
    const auto& s = sentences()[i];
    const auto max_len = static_cast<int64_t>(s.size()) + options.max_len_b;
    const auto out = greedy_decode(model, padded({s}), kBos, kEos, max_len);  // [1, steps]
    Tokens expected;
    bool saw_eos = false;
    for (int64_t t = 0; t < out.size(1); ++t) {
      const int64_t token = out[0][t].item<int64_t>();
      ASSERT_NE(token, kPad);
      ASSERT_NE(token, kBos);
      if (token == kEos) {
        saw_eos = true;
        break;
      }
      expected.push_back(token);
    }
    ended += saw_eos;
    at_limit += !saw_eos;
    ASSERT_EQ(result[i].size(), 1u);
    EXPECT_EQ(result[i][0].tokens, expected) << "sentence " << i;
  }
  // Both ways of finishing are covered.
  EXPECT_GT(ended, 0);
  EXPECT_GT(at_limit, 0);
}

TEST(BeamSearch, CachedEqualsRecomputed) {
  for (const bool pre_norm : {false, true}) {
    auto model = make_model(small_config(pre_norm));
    auto options = beam(4, 0.6, /*nbest=*/4);
    options.max_len_b = 8;
    const auto src = padded(sentences());
    const auto cached = beam_search(model, src, kBos, kEos, options);
    const auto recomputed = beam_search(model, src, kBos, kEos, options, DecoderState::recomputed);
    expect_same(cached, recomputed, 1e-5, pre_norm ? "pre-norm" : "post-norm");
    for (const auto& hyps : cached) {
      ASSERT_FALSE(hyps.empty());
      for (size_t j = 0; j < hyps.size(); ++j) {
        if (j > 0) EXPECT_GE(hyps[j - 1].score, hyps[j].score);
        const auto length = static_cast<int64_t>(hyps[j].tokens.size()) + 1;
        EXPECT_NEAR(hyps[j].score, hyps[j].log_prob / length_penalty(length, 0.6), 1e-9);
        EXPECT_LE(hyps[j].log_prob, 0.0);
        for (const int64_t token : hyps[j].tokens) {
          EXPECT_NE(token, kPad);
          EXPECT_NE(token, kBos);
          EXPECT_NE(token, kEos);
        }
      }
    }
  }
}

TEST(BeamSearch, ResultIndependentOfBatch) {
  auto model = make_model(small_config());
  auto options = beam(4, 0.6, /*nbest=*/2);
  options.max_len_b = 8;
  const auto together = beam_search(model, padded(sentences()), kBos, kEos, options);
  for (size_t i = 0; i < sentences().size(); ++i) {
    const auto alone = beam_search(model, padded({sentences()[i]}), kBos, kEos, options);
    expect_same(alone, {together[i]}, 1e-5, "sentence " + std::to_string(i) + " alone");
  }
}

TEST(BeamSearch, RespectsPerSentenceMaxLength) {
  auto model = make_model(small_config());
  auto options = beam(4, 0.6, /*nbest=*/4);
  options.max_len_a = 0.5;
  options.max_len_b = 2;
  const auto result = beam_search(model, padded(sentences()), kBos, kEos, options);
  for (size_t i = 0; i < sentences().size(); ++i) {
    const auto limit = static_cast<size_t>(std::floor(0.5 * sentences()[i].size())) + 2;
    for (const auto& h : result[i]) EXPECT_LE(h.tokens.size(), limit) << "sentence " << i;
  }
}

TEST(BeamSearch, EmptySourceAndBeamLargerThanVocabulary) {
  auto model = make_model(small_config());
  auto options = beam(4, 0.6);
  options.max_len_b = 3;
  // Length 0, all padding, and only eos.
  const auto none = beam_search(model, torch::zeros({2, 0}, torch::kLong), kBos, kEos, options);
  const auto all_pad = beam_search(model, torch::zeros({1, 3}, torch::kLong), kBos, kEos, options);
  const auto only_eos = beam_search(model, padded({{kEos}}), kBos, kEos, options);
  for (const auto* result : {&none, &all_pad, &only_eos}) {
    ASSERT_FALSE(result->empty());
    for (const auto& hyps : *result) {
      ASSERT_EQ(hyps.size(), 1u);
      EXPECT_LE(hyps[0].tokens.size(), 4u);  // floor(1.0 * length) + 3 with length <= 1
      EXPECT_TRUE(std::isfinite(hyps[0].score));
    }
  }
  EXPECT_EQ(none[0][0].tokens, all_pad[0][0].tokens);
  EXPECT_TRUE(beam_search(model, torch::zeros({0, 4}, torch::kLong), kBos, kEos, options).empty());

  // 13 ids, 11 of them generable: beam 50 searches with 11 beams, as beam 11 does.
  auto wide = beam(50, 0.6, /*nbest=*/11);
  wide.max_len_b = 3;
  const auto result = beam_search(model, padded({{5, 6, kEos}}), kBos, kEos, wide);
  ASSERT_EQ(result[0].size(), 11u);
  auto eleven = beam(11, 0.6, /*nbest=*/11);
  eleven.max_len_b = 3;
  expect_same(result, beam_search(model, padded({{5, 6, kEos}}), kBos, kEos, eleven), 0.0,
              "beam 50 vs 11");
}

}  // namespace
}  // namespace tmt
