// Transformer structure, masking invariants, weight tying, init and config validation.

#include "model/transformer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <set>
#include <stdexcept>
#include <string>

#include "model/embeddings.h"
#include "model/model_config.h"
#include "tests/tiny_model.h"

namespace tmt {
namespace {

constexpr int64_t kPad = 0;

ModelConfig small_config() { return tests::tiny_model(/*layers=*/2, /*d_model=*/8, /*heads=*/2, /*dropout=*/0.0, 32); }

// Seeded double-precision model in eval mode.
Transformer make_model(const ModelConfig& config, int64_t src_vocab = 11, int64_t tgt_vocab = 11) {
  torch::manual_seed(3);
  Transformer model(config, VocabInfo{src_vocab, tgt_vocab, kPad});
  model->to(torch::kDouble);
  model->eval();
  return model;
}

torch::Tensor ids(std::initializer_list<int64_t> values, int64_t batch) {
  return torch::tensor(std::vector<int64_t>(values), torch::kLong).view({batch, -1});
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

std::set<std::string> parameter_names(const Transformer& model) {
  std::set<std::string> names;
  for (const auto& item : model->named_parameters()) names.insert(item.key());
  return names;
}

// Parameters of one layer stack side by side with the paper's architecture.
int64_t expected_parameters(const ModelConfig& c, int64_t src_vocab, int64_t tgt_vocab) {
  const int64_t d = c.d_model;
  const int64_t attention = 4 * (d * d + d);
  const int64_t ffn = d * c.d_ff + c.d_ff + c.d_ff * d + d;
  const int64_t norm = 2 * d;
  const int64_t encoder_layer = attention + ffn + 2 * norm;
  const int64_t decoder_layer = 2 * attention + ffn + 3 * norm;
  const int64_t final_norms = c.pre_norm ? 2 * norm : 0;
  const int64_t embeddings =
      c.share_embeddings ? src_vocab * d : src_vocab * d + tgt_vocab * d + tgt_vocab * d;
  return c.layers * (encoder_layer + decoder_layer) + final_norms + embeddings;
}

int64_t count_parameters(const Transformer& model) {
  int64_t total = 0;
  for (const auto& p : model->parameters()) total += p.numel();
  return total;
}

TEST(ModelConfig, DefaultsAreValid) { EXPECT_NO_THROW(ModelConfig{}.validate()); }

TEST(ModelConfig, MessagesNameKeyExpectedAndActual) {
  ModelConfig config;
  config.heads = 7;
  try {
    config.validate();
    FAIL() << "heads 7 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "model.heads must divide model.d_model (d_model 512, heads 7)");
  }
  config = ModelConfig{};
  config.dropout = 1.5;
  try {
    config.validate();
    FAIL() << "dropout 1.5 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "model.dropout must be in [0, 1), got 1.5");
  }
}

TEST(ModelConfig, EachBadKeyIsRejectedByName) {
  const std::vector<std::pair<std::string, void (*)(ModelConfig&)>> cases = {
      {"model.layers", [](ModelConfig& c) { c.layers = 0; }},
      {"model.d_model", [](ModelConfig& c) { c.d_model = 0; }},
      {"model.d_model", [](ModelConfig& c) { c.d_model = 15; c.heads = 5; }},  // odd
      {"model.d_ff", [](ModelConfig& c) { c.d_ff = 0; }},
      {"model.heads", [](ModelConfig& c) { c.heads = 0; }},
      {"model.dropout", [](ModelConfig& c) { c.dropout = -0.1; }},
      {"model.dropout", [](ModelConfig& c) { c.dropout = 1.0; }},
      {"model.dropout", [](ModelConfig& c) { c.dropout = std::nan(""); }},
      {"model.attention_dropout", [](ModelConfig& c) { c.attention_dropout = 1.0; }},
      {"model.max_positions", [](ModelConfig& c) { c.max_positions = 0; }},
  };
  for (const auto& [key, spoil] : cases) {
    ModelConfig config;
    spoil(config);
    try {
      config.validate();
      ADD_FAILURE() << key << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(key + " ", 0), 0u) << e.what();
    }
  }
}

TEST(Embeddings, SinusoidalTableMatchesFormula) {
  const auto table = sinusoidal_table(/*max_positions=*/64, /*d_model=*/10);
  ASSERT_EQ(table.sizes(), torch::IntArrayRef({64, 10}));
  for (const int64_t pos : {0, 1, 7, 63}) {
    for (int64_t i = 0; i < 5; ++i) {
      const double angle = pos / std::pow(10000.0, 2.0 * i / 10.0);
      EXPECT_NEAR(table[pos][2 * i].item<double>(), std::sin(angle), 1e-7);
      EXPECT_NEAR(table[pos][2 * i + 1].item<double>(), std::cos(angle), 1e-7);
    }
  }
  EXPECT_NEAR(table[1][0].item<double>(), std::sin(1.0), 1e-7);
  EXPECT_NEAR(table[1][1].item<double>(), std::cos(1.0), 1e-7);
}

TEST(Embeddings, PositionTableIsABufferNotAParameter) {
  PositionalEncoding positions(/*max_positions=*/16, /*d_model=*/4);
  EXPECT_TRUE(positions->parameters().empty());
  ASSERT_EQ(positions->named_buffers().size(), 1u);
  EXPECT_EQ(positions->named_buffers().begin()->key(), "table");
  positions->to(torch::kDouble);
  EXPECT_EQ(positions->table.scalar_type(), torch::kDouble);
  const auto x = torch::zeros({2, 3, 4}, torch::kDouble);
  EXPECT_TRUE(torch::equal(positions(x, /*start=*/5)[1], positions->table.narrow(0, 5, 3)));
  EXPECT_THROW(positions(x, /*start=*/14), c10::Error);
}

TEST(Embeddings, TokenEmbeddingScaledBySqrtDModel) {
  ScaledEmbedding embedding(/*vocab_size=*/5, /*d_model=*/16);
  const auto out = embedding(ids({3, 1}, 1));
  EXPECT_TRUE(torch::allclose(out[0][0], embedding->weight[3] * 4.0));
  EXPECT_TRUE(torch::allclose(out[0][1], embedding->weight[1] * 4.0));
}

TEST(Transformer, MasksHaveDocumentedShapesAndValues) {
  const auto mask = padding_mask(ids({4, 5, 0, 6, 0, 0}, 2), kPad);
  EXPECT_EQ(mask.sizes(), torch::IntArrayRef({2, 1, 1, 3}));
  EXPECT_TRUE(torch::equal(mask.flatten(), torch::tensor({1, 1, 0, 1, 0, 0}, torch::kBool)));
  const auto causal = causal_mask(3, torch::kCPU);
  EXPECT_EQ(causal.sizes(), torch::IntArrayRef({1, 1, 3, 3}));
  EXPECT_TRUE(torch::equal(causal.flatten(),
                           torch::tensor({1, 0, 0, 1, 1, 0, 1, 1, 1}, torch::kBool)));
}

TEST(Transformer, OutputShapes) {
  auto model = make_model(small_config(), /*src_vocab=*/11, /*tgt_vocab=*/11);
  const auto src = ids({3, 4, 5, 0, 6, 7, 8, 9}, 2);
  const auto tgt = ids({1, 2, 3, 1, 4, 0}, 2);
  const auto memory = model->encode(src);
  EXPECT_EQ(memory.sizes(), torch::IntArrayRef({2, 4, 8}));
  const auto hidden = model->decode(tgt, memory, padding_mask(src, kPad));
  EXPECT_EQ(hidden.sizes(), torch::IntArrayRef({2, 3, 8}));
  const auto logits = model->forward(src, tgt);
  EXPECT_EQ(logits.sizes(), torch::IntArrayRef({2, 3, 11}));
  EXPECT_TRUE(torch::equal(logits, model->project(hidden)));
}

TEST(Transformer, ThreeWayTyingSharesOneTensor) {
  auto model = make_model(small_config());
  const auto names = parameter_names(model);
  EXPECT_EQ(names.count("embed.weight"), 1u);
  for (const auto& name : names) {
    EXPECT_EQ(name.find("src_embed"), std::string::npos) << name;
    EXPECT_EQ(name.find("tgt_embed"), std::string::npos) << name;
    EXPECT_EQ(name.find("output_proj"), std::string::npos) << name;
  }
  auto weight = model->named_parameters()["embed.weight"];
  const auto src = ids({3, 4}, 1);
  const auto tgt = ids({5, 6}, 1);
  torch::NoGradGuard no_grad;
  const auto memory = model->encode(src);
  const auto hidden = model->decode(tgt, memory, padding_mask(src, kPad));
  // Writing into the one tensor changes the source embedding, the target embedding and the
  // projection together, so all three read the same storage.
  weight[3].add_(0.5);  // token 3 occurs only in src
  weight[5].add_(0.5);  // token 5 occurs only in tgt
  const auto memory_after = model->encode(src);
  EXPECT_GT(max_diff(memory, memory_after), 1e-3);
  EXPECT_GT(max_diff(hidden, model->decode(tgt, memory, padding_mask(src, kPad))), 1e-3);
  const auto one_hot = torch::eye(8, torch::kDouble);  // [d_model, d_model]
  EXPECT_TRUE(torch::equal(model->project(one_hot), weight.t()));  // [d_model, vocab]
  EXPECT_EQ(weight.data_ptr(), model->named_parameters()["embed.weight"].data_ptr());
}

TEST(Transformer, ParameterCountMatchesFormula) {
  for (const bool tied : {true, false}) {
    for (const bool pre_norm : {false, true}) {
      auto config = small_config();
      config.share_embeddings = tied;
      config.pre_norm = pre_norm;
      const int64_t tgt_vocab = tied ? 11 : 13;
      auto model = make_model(config, /*src_vocab=*/11, tgt_vocab);
      EXPECT_EQ(count_parameters(model), expected_parameters(config, 11, tgt_vocab))
          << "tied " << tied << " pre_norm " << pre_norm;
    }
  }
  // The formula itself, by hand for the base model with a shared 37000 vocabulary:
  // 6 * (encoder 3152384 + decoder 4204032) + 37000 * 512.
  EXPECT_EQ(expected_parameters(ModelConfig{}, 37000, 37000), 63082496);
}

TEST(Transformer, UntiedUsesSeparateTensors) {
  auto config = small_config();
  config.share_embeddings = false;
  auto model = make_model(config, /*src_vocab=*/11, /*tgt_vocab=*/13);
  auto params = model->named_parameters();
  ASSERT_TRUE(params.contains("src_embed.weight"));
  ASSERT_TRUE(params.contains("tgt_embed.weight"));
  ASSERT_TRUE(params.contains("output_proj.weight"));
  EXPECT_FALSE(params.contains("output_proj.bias"));
  EXPECT_FALSE(params.contains("embed.weight"));
  EXPECT_NE(params["tgt_embed.weight"].data_ptr(), params["output_proj.weight"].data_ptr());
  EXPECT_EQ(model->forward(ids({1, 2, 3}, 1), ids({4, 5}, 1)).size(2), 13);
}

TEST(Transformer, ShareEmbeddingsNeedsOneVocabulary) {
  try {
    Transformer model(small_config(), VocabInfo{100, 120, 0});
    FAIL() << "different vocabularies accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "model.share_embeddings needs one shared vocabulary, got source 100 "
                           "and target 120");
  }
  auto config = small_config();
  config.heads = 3;
  EXPECT_THROW(Transformer(config, VocabInfo{10, 10, 0}), std::invalid_argument);
  EXPECT_THROW(Transformer(small_config(), VocabInfo{10, 10, 10}), std::invalid_argument);
}

// What both init schemes give a parameter other than the embedding: matrices Xavier-uniform
// with `gain` (bound gain * sqrt(6 / (fan_in + fan_out)); a default Linear init would exceed it
// for d_ff -> d_model and would not be symmetric in the two fans), biases 0, LayerNorm gains 1.
void expect_xavier_or_default(const std::string& name, const torch::Tensor& p, double gain) {
  if (p.dim() == 2) {
    const double bound = gain * std::sqrt(6.0 / static_cast<double>(p.size(0) + p.size(1)));
    EXPECT_LE(p.abs().max().item<double>(), bound) << name;
    EXPECT_GT(p.abs().max().item<double>(), 0.8 * bound) << name;
  } else if (name.size() >= 4 && name.substr(name.size() - 4) == "bias") {
    EXPECT_EQ(p.abs().max().item<double>(), 0.0) << name;
  } else {
    EXPECT_TRUE(torch::equal(p, torch::ones_like(p))) << name;
  }
}

TEST(Transformer, AnnotatedInitIsXavierEverywhere) {
  auto config = small_config();
  config.init = InitScheme::annotated;
  auto model = make_model(config);
  for (const auto& item : model->named_parameters()) expect_xavier_or_default(item.key(), item.value(), 1.0);
}

// fairseq's scheme: embeddings N(0, d^-1/2) with a zero padding row, q/k/v Xavier with gain
// 1/sqrt(2), every other matrix Xavier, biases 0, LayerNorm gains 1.
TEST(Transformer, FairseqInitScalesEmbeddingsByTheWidth) {
  auto config = small_config();
  config.init = InitScheme::fairseq;
  torch::manual_seed(3);
  Transformer model(config, VocabInfo{4000, 4000, 0});
  for (const auto& item : model->named_parameters()) {
    const auto& p = item.value();
    const std::string& name = item.key();
    if (name == "embed.weight") {
      EXPECT_TRUE(p[0].eq(0).all().item<bool>()) << "padding row";
      const double std = p.narrow(0, 1, p.size(0) - 1).std().item<double>();
      EXPECT_NEAR(std, 1.0 / std::sqrt(static_cast<double>(config.d_model)), 0.01);
      continue;
    }
    const bool qkv = name.find("q_proj") != std::string::npos || name.find("k_proj") != std::string::npos ||
                     name.find("v_proj") != std::string::npos;
    expect_xavier_or_default(name, p, qkv ? 1.0 / std::sqrt(2.0) : 1.0);
  }
}

TEST(Transformer, DecoderIsCausal) {
  for (const bool pre_norm : {false, true}) {
    auto config = small_config();
    config.pre_norm = pre_norm;
    auto model = make_model(config);
    torch::NoGradGuard no_grad;
    const auto src = ids({3, 4, 5, 6}, 1);
    const auto tgt = ids({1, 7, 8, 9, 2}, 1);
    auto changed = tgt.clone();
    changed[0][3] = 5;
    const auto before = model->forward(src, tgt);
    const auto after = model->forward(src, changed);
    EXPECT_LT(max_diff(before.narrow(1, 0, 3), after.narrow(1, 0, 3)), 1e-12);
    EXPECT_GT(max_diff(before.narrow(1, 3, 1), after.narrow(1, 3, 1)), 1e-6);
    // Decoding a prefix alone gives the same states as decoding the full sequence.
    const auto prefix = model->forward(src, tgt.narrow(1, 0, 3));
    EXPECT_LT(max_diff(prefix, before.narrow(1, 0, 3)), 1e-12);
  }
}

TEST(Transformer, SourcePaddingDoesNotChangeLogits) {
  for (const bool pre_norm : {false, true}) {
    auto config = small_config();
    config.pre_norm = pre_norm;
    auto model = make_model(config);
    torch::NoGradGuard no_grad;
    const auto tgt = ids({1, 7, 8, 1, 9, 0}, 2);
    const auto src = ids({3, 4, 5, 6, 7, 0}, 2);
    const auto padded = ids({3, 4, 5, 0, 0, 0, 6, 7, 0, 0, 0, 0}, 2);
    EXPECT_LT(max_diff(model->forward(src, tgt), model->forward(padded, tgt)), 1e-6);
    // The unpadded sentence alone gives the same logits as inside a padded batch.
    const auto alone = model->forward(ids({3, 4, 5}, 1), ids({1, 7, 8}, 1));
    EXPECT_LT(max_diff(alone[0], model->forward(padded, tgt)[0]), 1e-6);
    // Changing a real source token does change the logits.
    EXPECT_GT(max_diff(model->forward(src, tgt), model->forward(ids({3, 4, 9, 6, 7, 0}, 2), tgt)),
              1e-6);
  }
}

TEST(Transformer, AllPaddingSourceStaysFinite) {
  auto model = make_model(small_config());
  const auto logits = model->forward(ids({3, 4, 0, 0}, 2), ids({1, 2, 1, 2}, 2));
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
  logits.sum().backward();
  for (const auto& p : model->parameters()) {
    EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>());
  }
}

TEST(Transformer, NormLayoutsDifferInFinalNorms) {
  auto config = small_config();
  const auto post = parameter_names(make_model(config));
  config.pre_norm = true;
  auto pre_model = make_model(config);
  const auto pre = parameter_names(pre_model);
  EXPECT_EQ(post.count("encoder_norm.weight"), 0u);
  EXPECT_EQ(post.count("decoder_norm.weight"), 0u);
  for (const auto& name : {"encoder_norm.weight", "encoder_norm.bias", "decoder_norm.weight",
                           "decoder_norm.bias"}) {
    EXPECT_EQ(pre.count(name), 1u) << name;
  }
  EXPECT_EQ(pre.size(), post.size() + 4);
  // Both layouts end in a LayerNorm with unit gain: zero mean, unit variance per position.
  for (auto model : std::vector<Transformer>{make_model(small_config()), pre_model}) {
    torch::NoGradGuard no_grad;
    const auto memory = model->encode(ids({3, 4, 5, 6}, 1));
    EXPECT_LT(memory.mean(-1).abs().max().item<double>(), 1e-12);
    EXPECT_LT((memory.var(-1, /*unbiased=*/false) - 1).abs().max().item<double>(), 1e-3);
  }
  // Same seed, same weights where names agree, yet different outputs: the layout matters.
  auto post_model = make_model(small_config());
  torch::NoGradGuard no_grad;
  EXPECT_GT(max_diff(post_model->forward(ids({3, 4}, 1), ids({1, 5}, 1)),
                     pre_model->forward(ids({3, 4}, 1), ids({1, 5}, 1))),
            1e-3);
}

TEST(Transformer, DropoutOnlyInTraining) {
  auto config = small_config();
  config.dropout = 0.3;
  auto model = make_model(config);
  torch::NoGradGuard no_grad;
  const auto src = ids({3, 4, 5, 6}, 1);
  const auto tgt = ids({1, 7, 8}, 1);
  const auto eval1 = model->forward(src, tgt);
  EXPECT_TRUE(torch::equal(eval1, model->forward(src, tgt)));
  model->train();
  const auto train1 = model->forward(src, tgt);
  EXPECT_GT(max_diff(train1, eval1), 1e-6);
  EXPECT_GT(max_diff(train1, model->forward(src, tgt)), 1e-6);
}

TEST(Transformer, EmbeddingSumIsDroppedOut) {
  // With dropout near 1 the embedding+position sum is all zeros; zero biases at init keep every
  // sublayer at zero and LayerNorm(0) = 0, so the states are exactly zero only if that sum is
  // dropped (without embedding dropout the post-norm output is LayerNorm(embedding + position)).
  auto config = small_config();
  config.dropout = 1.0 - 1e-9;
  auto model = make_model(config);
  model->train();
  torch::NoGradGuard no_grad;
  const auto src = ids({3, 4, 5, 6}, 1);
  const auto memory = model->encode(src);
  EXPECT_EQ(memory.abs().max().item<double>(), 0.0);
  const auto hidden = model->decode(ids({1, 7}, 1), memory, padding_mask(src, kPad));
  EXPECT_EQ(hidden.abs().max().item<double>(), 0.0);
  model->eval();
  EXPECT_GT(model->encode(src).abs().max().item<double>(), 0.1);
}

TEST(Transformer, RejectsBadInputs) {
  auto model = make_model(small_config());
  const auto src = ids({3, 4}, 1);
  try {
    model->forward(torch::full({1, 33}, 3, torch::kLong), src);
    FAIL() << "source of 33 tokens accepted";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("src length 33 exceeds model.max_positions 32"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(model->forward(src, torch::full({1, 33}, 3, torch::kLong)), c10::Error);
  EXPECT_THROW(model->forward(src.to(torch::kInt), src), c10::Error);
  EXPECT_THROW(model->forward(src.view({2}), src), c10::Error);
  EXPECT_THROW(model->forward(src, ids({1, 2, 3, 4}, 2)), c10::Error);
  EXPECT_NO_THROW(model->forward(torch::full({1, 32}, 3, torch::kLong), src));
}

}  // namespace
}  // namespace tmt
