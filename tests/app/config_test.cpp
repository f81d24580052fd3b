#include "app/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tmt {
namespace {

// The message of the std::invalid_argument that `f` throws; fails the test if none is thrown.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected std::invalid_argument, nothing was thrown";
  return "";
}

// The error parse_config gives for `yaml` under the origin "x.yaml".
std::string parse_error(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  return error_of([&] { parse_config(yaml, "x.yaml", overrides); });
}

// Writes `text` to a fresh file under the test temp dir and returns its path.
std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "tmt_config_test_" + name;
  std::ofstream(path) << text;
  return path;
}

// Compares every field; doubles exactly, since to_yaml must round-trip bit for bit.
void expect_same(const Config& a, const Config& b) {
  EXPECT_EQ(a.model.layers, b.model.layers);
  EXPECT_EQ(a.model.d_model, b.model.d_model);
  EXPECT_EQ(a.model.d_ff, b.model.d_ff);
  EXPECT_EQ(a.model.heads, b.model.heads);
  EXPECT_EQ(a.model.dropout, b.model.dropout);
  EXPECT_EQ(a.model.attention_dropout, b.model.attention_dropout);
  EXPECT_EQ(a.model.share_embeddings, b.model.share_embeddings);
  EXPECT_EQ(a.model.pre_norm, b.model.pre_norm);
  EXPECT_EQ(a.model.max_positions, b.model.max_positions);
  EXPECT_EQ(a.model.init, b.model.init);
  EXPECT_EQ(a.data.kind, b.data.kind);
  EXPECT_EQ(a.data.vocab_size, b.data.vocab_size);
  EXPECT_EQ(a.data.seq_len, b.data.seq_len);
  EXPECT_EQ(a.data.batch_size, b.data.batch_size);
  EXPECT_EQ(a.data.valid_size, b.data.valid_size);
  EXPECT_EQ(a.train.seed, b.train.seed);
  EXPECT_EQ(a.train.max_updates, b.train.max_updates);
  EXPECT_EQ(a.train.lr_factor, b.train.lr_factor);
  EXPECT_EQ(a.train.warmup_updates, b.train.warmup_updates);
  EXPECT_EQ(a.train.adam_beta1, b.train.adam_beta1);
  EXPECT_EQ(a.train.adam_beta2, b.train.adam_beta2);
  EXPECT_EQ(a.train.adam_eps, b.train.adam_eps);
  EXPECT_EQ(a.train.log_every, b.train.log_every);
  EXPECT_EQ(a.train.max_minutes, b.train.max_minutes);
  EXPECT_EQ(a.train.update_freq, b.train.update_freq);
  EXPECT_EQ(a.train.clip_norm, b.train.clip_norm);
  EXPECT_EQ(a.train.max_bad_updates, b.train.max_bad_updates);
  EXPECT_EQ(a.train.save_minutes, b.train.save_minutes);
  EXPECT_EQ(a.train.keep_last, b.train.keep_last);
  EXPECT_EQ(a.train.valid_bleu, b.train.valid_bleu);
  EXPECT_EQ(a.train.valid_beam_size, b.train.valid_beam_size);
  EXPECT_EQ(a.train.best_metric, b.train.best_metric);
  EXPECT_EQ(a.train.patience, b.train.patience);
  EXPECT_EQ(a.train.device, b.train.device);
  EXPECT_EQ(a.train.precision, b.train.precision);
  EXPECT_EQ(a.train.threads, b.train.threads);
  EXPECT_EQ(a.train.dist_timeout_s, b.train.dist_timeout_s);
  EXPECT_EQ(a.train.criterion.label_smoothing, b.train.criterion.label_smoothing);
  EXPECT_EQ(a.train.criterion.variant, b.train.criterion.variant);
  EXPECT_EQ(a.train.criterion.form, b.train.criterion.form);
  EXPECT_EQ(a.train.criterion.reduction, b.train.criterion.reduction);
  EXPECT_EQ(a.train.criterion.class_weights, b.train.criterion.class_weights);
  EXPECT_EQ(a.train.criterion.class_weight_mode, b.train.criterion.class_weight_mode);
  EXPECT_EQ(a.decode.max_len_a, b.decode.max_len_a);
  EXPECT_EQ(a.decode.max_len_b, b.decode.max_len_b);
}

// A valid configuration in which every field differs from its default, with doubles that
// only survive text with full precision.
Config unusual_config() {
  Config c;
  c.model.layers = 3;
  c.model.d_model = 96;
  c.model.d_ff = 200;
  c.model.heads = 3;
  c.model.dropout = 0.1 + 0.2;  // 0.30000000000000004
  c.model.attention_dropout = 1.0 / 3.0;
  c.model.share_embeddings = false;
  c.model.pre_norm = true;
  c.model.max_positions = 77;
  c.data.vocab_size = 5;
  c.data.seq_len = 7;
  c.data.batch_size = 3;
  c.data.valid_size = 9;
  c.train.seed = std::numeric_limits<uint64_t>::max();
  c.train.max_updates = 1234;
  c.train.lr_factor = 2.0;
  c.train.warmup_updates = 17;
  c.train.adam_beta1 = 0.85;
  c.train.adam_beta2 = 0.995;
  c.train.adam_eps = 1e-8;
  c.train.log_every = 7;
  c.train.max_minutes = 0.1 + 0.2;
  c.train.update_freq = 8;
  c.train.clip_norm = 1.0 / 3.0;
  c.train.max_bad_updates = 3;
  c.train.save_minutes = 2.5;
  c.train.keep_last = 0;
  c.train.valid_bleu = false;
  c.train.valid_beam_size = 5;
  c.train.best_metric = BestMetric::nll;
  c.train.patience = 4;
  c.train.device = "cpu";
  c.train.precision = Precision::bf16;
  c.train.threads = 2;
  c.train.dist_timeout_s = 60;
  c.train.criterion.label_smoothing = 2.0 / 7.0;
  c.train.criterion.variant = SmoothingVariant::uniform;
  c.train.criterion.form = LossForm::ce;
  c.train.criterion.reduction = LossReduction::sum;
  c.train.criterion.class_weights = {0.0, 1e-300, 0.1, 2.5, 123456789.125};
  c.train.criterion.class_weight_mode = ClassWeightMode::gold_nll;
  c.decode.max_len_a = 1.5;
  c.decode.max_len_b = -3;
  return c;
}

// The keys of to_yaml's output, "section.key", in the order written.
std::vector<std::string> keys_of(const std::string& yaml) {
  std::vector<std::string> keys;
  std::istringstream lines(yaml);
  std::string line, section;
  while (std::getline(lines, line)) {
    const std::string name = line.substr(0, line.find(':'));
    if (line.rfind("  ", 0) == 0) {
      keys.push_back(section + "." + name.substr(2));
    } else {
      section = name;
    }
  }
  return keys;
}

const std::vector<std::string> kAllKeys = {
    "model.layers", "model.d_model", "model.d_ff", "model.heads", "model.dropout",
    "model.attention_dropout", "model.share_embeddings", "model.pre_norm",
    "model.max_positions", "model.init", "data.kind", "data.vocab_size", "data.seq_len", "data.batch_size",
    "data.valid_size", "data.dir", "data.src_lang", "data.tgt_lang", "data.train_prefix",
    "data.valid_prefix", "data.test_prefixes", "data.subword_model", "data.character_coverage",
    "data.spm_sentences", "data.max_len", "data.max_ratio", "data.skip_invalid", "data.max_tokens",
    "data.prefetch", "train.seed", "train.max_updates", "train.max_epochs", "train.max_minutes",
    "train.update_freq", "train.lr_factor", "train.warmup_updates", "train.adam_beta1",
    "train.adam_beta2", "train.adam_eps", "train.clip_norm", "train.max_bad_updates",
    "train.log_every", "train.save_every", "train.save_minutes", "train.keep_last",
    "train.valid_every", "train.valid_bleu", "train.valid_beam_size", "train.best_metric",
    "train.patience", "train.device", "train.precision", "train.threads", "train.dist_timeout_s", "train.label_smoothing", "train.smoothing_variant",
    "train.loss_form", "train.loss_reduction", "train.class_weights", "train.class_weight_mode",
    "decode.beam_size", "decode.alpha", "decode.nbest", "decode.max_tokens", "decode.truncate_long",
    "decode.max_len_a", "decode.max_len_b"};

// --- Round trip and defaults ---------------------------------------------------------------

TEST(ConfigTest, ToYamlRoundTripsEveryField) {
  const Config original = unusual_config();
  const std::string yaml = to_yaml(original);
  const Config parsed = parse_config(yaml, "round trip");
  expect_same(parsed, original);
  EXPECT_EQ(to_yaml(parsed), yaml);
}

TEST(ConfigTest, ToYamlWritesEveryKeyInDeclarationOrder) {
  EXPECT_EQ(keys_of(to_yaml(Config{})), kAllKeys);
  expect_same(parse_config(to_yaml(Config{}), "defaults"), Config{});
}

TEST(ConfigTest, ToYamlWritesReadableValues) {
  const std::string yaml = to_yaml(Config{});
  EXPECT_NE(yaml.find("  lr_factor: 1.0\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  adam_eps: 1e-09\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  class_weights: []\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  smoothing_variant: annotated\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  share_embeddings: true\n"), std::string::npos) << yaml;
}

TEST(ConfigTest, EmptyTextKeepsEveryDefault) {
  expect_same(parse_config("", "empty.yaml"), Config{});
  expect_same(parse_config("# nothing but a comment\n", "comment.yaml"), Config{});
}

TEST(ConfigTest, AbsentSectionsAndKeysKeepDefaults) {
  const Config c = parse_config("model:\n  layers: 3\ntrain:\n", "partial.yaml");
  Config expected;
  expected.model.layers = 3;
  expect_same(c, expected);
}

TEST(ConfigTest, NumbersAcceptIntegersDecimalsAndExponents) {
  const Config c = parse_config(
      "model:\n  dropout: 0\n  attention_dropout: .25\ntrain:\n  adam_eps: 1e-9\n"
      "  lr_factor: 2\n  class_weights: [1, 0.5, 2e0, +3, 0]\n  label_smoothing: 1.5e-1\n"
      "data:\n  vocab_size: 5\ndecode:\n  max_len_b: -7\n",
      "numbers.yaml");
  EXPECT_EQ(c.model.dropout, 0.0);
  EXPECT_EQ(c.model.attention_dropout, 0.25);
  EXPECT_EQ(c.train.adam_eps, 1e-9);
  EXPECT_EQ(c.train.lr_factor, 2.0);
  EXPECT_EQ(c.train.criterion.class_weights, (std::vector<double>{1, 0.5, 2, 3, 0}));
  EXPECT_EQ(c.train.criterion.label_smoothing, 0.15);
  EXPECT_EQ(c.decode.max_len_b, -7);
}

// --- Overrides ------------------------------------------------------------------------------

TEST(ConfigTest, OverridesApplyAfterTheFile) {
  const Config c = parse_config(
      "model:\n  layers: 3\ntrain:\n  max_updates: 10\n", "x.yaml",
      {"model.layers=4", "train.smoothing_variant=others", "model.pre_norm=true",
       "train.adam_eps=1e-6", "train.seed=42", "decode.max_len_b=-1"});
  EXPECT_EQ(c.model.layers, 4);
  EXPECT_EQ(c.train.max_updates, 10);  // from the file, untouched
  EXPECT_EQ(c.train.criterion.variant, SmoothingVariant::others);
  EXPECT_TRUE(c.model.pre_norm);
  EXPECT_EQ(c.train.adam_eps, 1e-6);
  EXPECT_EQ(c.train.seed, 42u);
  EXPECT_EQ(c.decode.max_len_b, -1);
}

TEST(ConfigTest, OverrideValueIsYamlSoListsWork) {
  const Config c = parse_config("", "x.yaml", {"data.vocab_size=4", "train.class_weights=[1,2,0.5,0]"});
  EXPECT_EQ(c.train.criterion.class_weights, (std::vector<double>{1, 2, 0.5, 0}));
  const Config cleared = parse_config("data:\n  vocab_size: 3\ntrain:\n  class_weights: [1, 1, 1]\n",
                                      "x.yaml", {"train.class_weights=[]"});
  EXPECT_TRUE(cleared.train.criterion.class_weights.empty());
}

TEST(ConfigTest, LaterOverrideWins) {
  const Config c = parse_config("", "x.yaml", {"model.layers=2", "model.layers=5"});
  EXPECT_EQ(c.model.layers, 5);
}

TEST(ConfigTest, LoadConfigReadsAFileWithOverrides) {
  const std::string path = write_temp("load.yaml", "model:\n  layers: 3\n");
  const Config c = load_config(path, {"model.heads=4"});
  EXPECT_EQ(c.model.layers, 3);
  EXPECT_EQ(c.model.heads, 4);
}

// --- Errors, one per documented shape -------------------------------------------------------

TEST(ConfigErrorTest, MissingFile) {
  const std::string path = ::testing::TempDir() + "tmt_config_test_does_not_exist.yaml";
  EXPECT_EQ(error_of([&] { load_config(path); }),
            "config file '" + path + "' cannot be read: No such file or directory");
}

TEST(ConfigErrorTest, DirectoryInsteadOfFile) {
  const std::string path = ::testing::TempDir();
  EXPECT_EQ(error_of([&] { load_config(path); }),
            "config file '" + path + "' cannot be read: Is a directory");
}

TEST(ConfigErrorTest, InvalidYamlNamesFileLineAndColumn) {
  const std::string path = write_temp("syntax.yaml", "model:\n  layers: 2\n  d_model: [1, 2\n");
  EXPECT_EQ(error_of([&] { load_config(path); }),
            path + ":4:1: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(parse_error("model:\n  layers: 2: 3\n"), "x.yaml:2:12: invalid YAML: illegal map value");
}

TEST(ConfigErrorTest, TopLevelMustBeAMapping) {
  const std::string message =
      "x.yaml: the top level must be a mapping of sections (model, data, train, decode)";
  EXPECT_EQ(parse_error("- model\n- data\n"), message);
  EXPECT_EQ(parse_error("hello\n"), message);
}

TEST(ConfigErrorTest, MoreThanOneDocument) {
  EXPECT_EQ(parse_error("model:\n  layers: 2\n---\nmodel:\n  layers: 3\n"),
            "x.yaml:4:1: expected one YAML document, found 2");
}

TEST(ConfigErrorTest, UnknownSection) {
  const std::string path = write_temp("section.yaml", "model:\n  layers: 2\nmodle:\n  layers: 2\n");
  EXPECT_EQ(error_of([&] { load_config(path); }),
            path + ":3:1: unknown section 'modle' (expected one of model, data, train, decode)");
}

TEST(ConfigErrorTest, SectionMustBeAMapping) {
  EXPECT_EQ(parse_error("model:\n  - 1\n  - 2\n"),
            "x.yaml:2:3: section 'model' must be a mapping of keys, found a sequence");
  EXPECT_EQ(parse_error("data: 5\n"),
            "x.yaml:1:7: section 'data' must be a mapping of keys, found '5'");
}

TEST(ConfigErrorTest, UnknownKeySuggestsTheNearestKnownKey) {
  EXPECT_EQ(parse_error("model:\n  d_modle: 512\n"),
            "x.yaml:2:3: unknown key 'model.d_modle' (did you mean 'd_model'?)");
  EXPECT_EQ(parse_error("train:\n  warmup_update: 10\n"),
            "x.yaml:2:3: unknown key 'train.warmup_update' (did you mean 'warmup_updates'?)");
}

TEST(ConfigErrorTest, UnknownKeyListsKnownKeysWhenNothingIsClose) {
  EXPECT_EQ(parse_error("model:\n  layers: 2\n  colour: red\n"),
            "x.yaml:3:3: unknown key 'model.colour' (known keys: layers, d_model, d_ff, heads, "
            "dropout, attention_dropout, share_embeddings, pre_norm, max_positions, init)");
}

TEST(ConfigErrorTest, KeyInTheWrongSectionNamesTheRightOne) {
  EXPECT_EQ(parse_error("model:\n  label_smoothing: 0.1\n"),
            "x.yaml:2:3: unknown key 'model.label_smoothing' (did you mean "
            "'train.label_smoothing'?)");
}

TEST(ConfigErrorTest, DuplicateKeyAndSection) {
  EXPECT_EQ(parse_error("model:\n  layers: 2\n  layers: 3\n"),
            "x.yaml:3:3: duplicate key 'model.layers' (first at line 2)");
  EXPECT_EQ(parse_error("model:\n  layers: 2\ndata:\n  seq_len: 4\nmodel:\n  heads: 2\n"),
            "x.yaml:5:1: duplicate section 'model' (first at line 1)");
}

TEST(ConfigErrorTest, IntegerRejectsFractionsExponentsBooleansAndText) {
  EXPECT_EQ(parse_error("model:\n  d_model: abc\n"),
            "x.yaml:2:12: model.d_model: expected an integer, found 'abc'");
  EXPECT_EQ(parse_error("model:\n  d_model: 3.5\n"),
            "x.yaml:2:12: model.d_model: expected an integer, found '3.5'");
  EXPECT_EQ(parse_error("model:\n  d_model: 1e3\n"),
            "x.yaml:2:12: model.d_model: expected an integer, found '1e3'");
  EXPECT_EQ(parse_error("model:\n  d_model: true\n"),
            "x.yaml:2:12: model.d_model: expected an integer, found 'true'");
  EXPECT_EQ(parse_error("model:\n  d_model: 99999999999999999999\n"),
            "x.yaml:2:12: model.d_model: expected an integer, found '99999999999999999999'");
}

TEST(ConfigErrorTest, NonScalarsAreNamedByKind) {
  EXPECT_EQ(parse_error("model:\n  d_model: [512]\n"),
            "x.yaml:2:12: model.d_model: expected an integer, found a sequence");
  EXPECT_EQ(parse_error("model:\n  d_model: {a: 1}\n"),
            "x.yaml:2:12: model.d_model: expected an integer, found a mapping");
  EXPECT_EQ(parse_error("model:\n  d_model: ~\n"),
            "x.yaml:2:12: model.d_model: expected an integer, found null");
}

TEST(ConfigErrorTest, NumberRejectsTextBooleansAndInfinity) {
  EXPECT_EQ(parse_error("model:\n  dropout: abc\n"),
            "x.yaml:2:12: model.dropout: expected a number, found 'abc'");
  EXPECT_EQ(parse_error("model:\n  dropout: true\n"),
            "x.yaml:2:12: model.dropout: expected a number, found 'true'");
  EXPECT_EQ(parse_error("train:\n  lr_factor: inf\n"),
            "x.yaml:2:14: train.lr_factor: expected a number, found 'inf'");
  EXPECT_EQ(parse_error("train:\n  lr_factor: 1.0.0\n"),
            "x.yaml:2:14: train.lr_factor: expected a number, found '1.0.0'");
}

TEST(ConfigErrorTest, BooleanMustBeTrueOrFalse) {
  EXPECT_EQ(parse_error("model:\n  share_embeddings: yes\n"),
            "x.yaml:2:21: model.share_embeddings: expected true or false, found 'yes'");
  EXPECT_EQ(parse_error("model:\n  pre_norm: 1\n"),
            "x.yaml:2:13: model.pre_norm: expected true or false, found '1'");
}

TEST(ConfigErrorTest, SeedMustBeANonNegativeInteger) {
  EXPECT_EQ(parse_error("train:\n  seed: -1\n"),
            "x.yaml:2:9: train.seed: expected a non-negative integer, found '-1'");
}

TEST(ConfigErrorTest, EnumListsItsValues) {
  EXPECT_EQ(parse_error("train:\n  smoothing_variant: fancy\n"),
            "x.yaml:2:22: train.smoothing_variant: expected one of annotated, others, uniform, "
            "found 'fancy'");
  EXPECT_EQ(parse_error("train:\n  loss_form: KL\n"),
            "x.yaml:2:14: train.loss_form: expected one of kl, ce, found 'KL'");
  EXPECT_EQ(parse_error("data:\n  kind: wmt\n"),
            "x.yaml:2:9: data.kind: expected one of copy, parallel, found 'wmt'");
}

TEST(ConfigErrorTest, ClassWeightsMustBeAListOfNumbers) {
  EXPECT_EQ(parse_error("train:\n  class_weights: 3\n"),
            "x.yaml:2:18: train.class_weights: expected a list of numbers, found '3'");
  EXPECT_EQ(parse_error("train:\n  class_weights: {a: 1}\n"),
            "x.yaml:2:18: train.class_weights: expected a list of numbers, found a mapping");
  EXPECT_EQ(parse_error("train:\n  class_weights: [1, x, 2]\n"),
            "x.yaml:2:22: train.class_weights[1]: expected a number, found 'x'");
}

TEST(ConfigErrorTest, MalformedOverride) {
  for (const std::string bad : {"xyz", "model.layers", "layers=2", ".layers=2", "model.=2"}) {
    EXPECT_EQ(parse_error("", {bad}), "--set '" + bad + "': expected section.key=value");
  }
}

TEST(ConfigErrorTest, OverrideErrorsNameTheOverride) {
  EXPECT_EQ(parse_error("", {"model.d_model=abc"}),
            "--set model.d_model=abc: model.d_model: expected an integer, found 'abc'");
  EXPECT_EQ(parse_error("", {"model.d_modl=3"}),
            "--set model.d_modl=3: unknown key 'model.d_modl' (did you mean 'd_model'?)");
  EXPECT_EQ(parse_error("", {"modle.layers=3"}),
            "--set modle.layers=3: unknown section 'modle' (expected one of model, data, train, "
            "decode)");
  EXPECT_EQ(parse_error("", {"train.class_weights=[1,2"}),
            "--set train.class_weights=[1,2: invalid YAML: end of sequence flow not found");
}

TEST(ConfigErrorTest, RangeErrorsArePrefixedWithTheOrigin) {
  EXPECT_EQ(parse_error("model:\n  dropout: 1.5\n"), "x.yaml: model.dropout must be in [0, 1), got 1.5");
  EXPECT_EQ(parse_error("data:\n  vocab_size: 2\n"), "x.yaml: data.vocab_size must be >= 3, got 2");
  EXPECT_EQ(parse_error("", {"decode.max_len_a=-1"}), "x.yaml: decode.max_len_a must be >= 0, got -1");
  const std::string path = write_temp("range.yaml", "train:\n  warmup_updates: 0\n");
  EXPECT_EQ(error_of([&] { load_config(path); }),
            path + ": train.warmup_updates must be >= 1, got 0");
}

// --- Section and cross-section validation ---------------------------------------------------

TEST(ConfigValidateTest, DefaultsAreValid) { EXPECT_NO_THROW(validate(Config{})); }

TEST(ConfigValidateTest, DataRules) {
  const auto data_error = [](auto change) {
    DataConfig d;
    change(d);
    return error_of([&] { d.validate(); });
  };
  EXPECT_EQ(data_error([](DataConfig& d) { d.vocab_size = 2; }), "data.vocab_size must be >= 3, got 2");
  EXPECT_EQ(data_error([](DataConfig& d) { d.seq_len = 1; }), "data.seq_len must be >= 2, got 1");
  EXPECT_EQ(data_error([](DataConfig& d) { d.batch_size = 0; }), "data.batch_size must be >= 1, got 0");
  EXPECT_EQ(data_error([](DataConfig& d) { d.valid_size = 0; }), "data.valid_size must be >= 1, got 0");
  EXPECT_STREQ(to_string(DataKind::copy), "copy");
}

TEST(ConfigValidateTest, DecodeAllowsNegativeMaxLenB) {
  DecodeConfig d;
  d.max_len_a = 1.0;
  d.max_len_b = -1;
  EXPECT_NO_THROW(d.validate());
  d.max_len_a = -1.0;
  EXPECT_EQ(error_of([&] { d.validate(); }), "decode.max_len_a must be >= 0, got -1");
}

TEST(ConfigValidateTest, TrainingNeedsSumOrMeanReduction) {
  Config c;
  c.train.criterion.reduction = LossReduction::none;
  EXPECT_EQ(error_of([&] { validate(c); }),
            "train.loss_reduction 'none' gives one loss per token; training needs 'sum' or 'mean'");
}

TEST(ConfigValidateTest, ClassWeightsNeedOnePerVocabularyEntry) {
  EXPECT_EQ(parse_error("train:\n  class_weights: [1, 1, 1]\n"),
            "x.yaml: train.class_weights has 3 entries, expected data.vocab_size (11)");
  Config c;
  c.train.criterion.class_weights.assign(11, 1.0);
  EXPECT_NO_THROW(validate(c));
}

TEST(ConfigValidateTest, PositionTableCoversTheSequence) {
  Config c;
  c.model.max_positions = 8;
  EXPECT_EQ(error_of([&] { validate(c); }),
            "model.max_positions (8) must be >= data.seq_len (10): the position table has no "
            "row for later tokens");
}

// --- The shipped configs --------------------------------------------------------------------

TEST(ConfigFilesTest, EveryShippedConfigLoadsAndListsEveryKey) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(TMT_SOURCE_DIR "/configs")) {
    if (entry.path().extension() != ".yaml") continue;
    ++count;
    const std::string path = entry.path().string();
    SCOPED_TRACE(path);
    EXPECT_NO_THROW(load_config(path));
    std::ifstream file(path);
    const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    for (const std::string& key : kAllKeys) {
      const std::string name = key.substr(key.find('.') + 1);
      EXPECT_NE(text.find("\n  " + name + ":"), std::string::npos) << "missing key " << key;
    }
  }
  EXPECT_GE(count, 3);
}

TEST(ConfigFilesTest, CopyTaskValues) {
  const Config c = load_config(TMT_SOURCE_DIR "/configs/copy_task.yaml");
  EXPECT_EQ(c.model.layers, 2);
  EXPECT_EQ(c.model.d_model, 128);
  EXPECT_EQ(c.model.d_ff, 512);
  EXPECT_EQ(c.model.heads, 4);
  EXPECT_EQ(c.model.dropout, 0.1);
  EXPECT_EQ(c.model.attention_dropout, 0.0);
  EXPECT_TRUE(c.model.share_embeddings);
  EXPECT_FALSE(c.model.pre_norm);
  EXPECT_EQ(c.model.max_positions, 64);
  EXPECT_EQ(c.data.kind, DataKind::copy);
  EXPECT_EQ(c.data.vocab_size, 11);
  EXPECT_EQ(c.data.seq_len, 10);
  EXPECT_EQ(c.data.batch_size, 80);
  EXPECT_EQ(c.data.valid_size, 100);
  EXPECT_EQ(c.train.seed, 1u);
  EXPECT_EQ(c.train.max_updates, 1200);
  EXPECT_EQ(c.train.lr_factor, 1.0);
  EXPECT_EQ(c.train.warmup_updates, 400);
  EXPECT_EQ(c.train.adam_beta1, 0.9);
  EXPECT_EQ(c.train.adam_beta2, 0.98);
  EXPECT_EQ(c.train.adam_eps, 1e-9);
  EXPECT_EQ(c.train.log_every, 100);
  EXPECT_EQ(c.train.threads, 0);
  EXPECT_EQ(c.train.criterion.label_smoothing, 0.0);
  EXPECT_EQ(c.train.criterion.variant, SmoothingVariant::annotated);
  EXPECT_EQ(c.train.criterion.form, LossForm::kl);
  EXPECT_EQ(c.train.criterion.reduction, LossReduction::mean);
  EXPECT_TRUE(c.train.criterion.class_weights.empty());
  EXPECT_EQ(c.train.criterion.class_weight_mode, ClassWeightMode::per_class);
  EXPECT_EQ(c.decode.max_len_a, 1.0);
  EXPECT_EQ(c.decode.max_len_b, -1);
}

TEST(ConfigFilesTest, TransformerConfigsFollowThePaper) {
  const Config base = load_config(TMT_SOURCE_DIR "/configs/transformer_base.yaml");
  EXPECT_EQ(base.model.layers, 6);
  EXPECT_EQ(base.model.d_model, 512);
  EXPECT_EQ(base.model.d_ff, 2048);
  EXPECT_EQ(base.model.heads, 8);
  EXPECT_EQ(base.model.dropout, 0.1);
  EXPECT_EQ(base.train.criterion.label_smoothing, 0.1);
  EXPECT_EQ(base.train.warmup_updates, 4000);
  EXPECT_EQ(base.train.max_updates, 100000);
  EXPECT_EQ(base.decode.max_len_b, 50);
  const Config big = load_config(TMT_SOURCE_DIR "/configs/transformer_big.yaml");
  EXPECT_EQ(big.model.d_model, 1024);
  EXPECT_EQ(big.model.d_ff, 4096);
  EXPECT_EQ(big.model.heads, 16);
  EXPECT_EQ(big.model.dropout, 0.3);
  EXPECT_EQ(big.train.max_updates, 300000);
}

}  // namespace
}  // namespace tmt
