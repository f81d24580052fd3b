#include "app/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/test_support.h"

namespace tmt {
namespace {

using tests::error_of;

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

// Compares every key through to_yaml, which writes doubles exactly: the key table binds each key
// to its own member (ConfigKeyTest), so equal text means equal configurations.
void expect_same(const Config& a, const Config& b) { EXPECT_EQ(to_yaml(a), to_yaml(b)); }

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
  c.model.init = InitScheme::annotated;
  c.data.kind = DataKind::parallel;
  c.data.vocab_size = 13;
  c.data.seq_len = 7;
  c.data.batch_size = 3;
  c.data.valid_size = 9;
  c.data.dir = "corpora/x y";
  c.data.src_lang = "fr";
  c.data.tgt_lang = "it";
  c.data.train_prefix = "tr";
  c.data.valid_prefix = "dev";
  c.data.test_prefixes = {"t1", "t 2"};
  c.data.subword_model = SubwordModel::unigram;
  c.data.character_coverage = 0.9995;
  c.data.spm_sentences = 1000;
  c.data.max_len = 60;
  c.data.max_ratio = 1.5;
  c.data.skip_invalid = true;
  c.data.max_tokens = 1234;
  c.data.batching = Batching::pool;
  c.data.pool_batches = 7;
  c.data.prefetch = 2;
  c.train.seed = std::numeric_limits<uint64_t>::max();
  c.train.max_updates = 1234;
  c.train.max_epochs = 12;
  c.train.lr_factor = 2.0;
  c.train.warmup_updates = 17;
  c.train.cooldown = 1.0 / 3.0;
  c.train.adam_beta1 = 0.85;
  c.train.adam_beta2 = 0.995;
  c.train.adam_eps = 1e-8;
  c.train.log_every = 7;
  c.train.max_minutes = 0.1 + 0.2;
  c.train.update_freq = 8;
  c.train.clip_norm = 1.0 / 3.0;
  c.train.max_bad_updates = 3;
  c.train.save_every = 250;
  c.train.save_minutes = 2.5;
  c.train.keep_last = 0;
  c.train.valid_every = 300;
  c.train.valid_bleu = false;
  c.train.valid_beam_size = 5;
  c.train.best_metric = BestMetric::nll;
  c.train.patience = 4;
  c.train.device = DeviceSpec::parse("cpu");
  c.train.precision = Precision::bf16;
  c.train.threads = 2;
  c.train.dist_timeout_s = 60;
  c.train.criterion.label_smoothing = 2.0 / 7.0;
  c.train.criterion.variant = SmoothingVariant::uniform;
  c.train.criterion.form = LossForm::ce;
  c.train.criterion.reduction = LossReduction::sum;
  c.train.criterion.class_weights = {0.0, 1e-300, 0.1, 2.5, 123456789.125};
  c.train.criterion.class_weight_mode = ClassWeightMode::gold_nll;
  c.decode.beam_size = 6;
  c.decode.alpha = 1.0 / 7.0;
  c.decode.nbest = 3;
  c.decode.max_tokens = 4321;
  c.decode.truncate_long = false;
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

// The lines of to_yaml's output, by "section.key".
std::map<std::string, std::string> lines_by_key(const std::string& yaml) {
  std::map<std::string, std::string> lines;
  std::istringstream in(yaml);
  std::string line, section;
  while (std::getline(in, line)) {
    const std::string name = line.substr(0, line.find(':'));
    if (line.rfind("  ", 0) == 0) {
      lines[section + "." + name.substr(2)] = line;
    } else {
      section = name;
    }
  }
  return lines;
}

std::vector<std::string> key_names() {
  std::vector<std::string> names;
  for (const ConfigKey& key : config_keys()) names.push_back(key.name);
  return names;
}

// --- The key table ---------------------------------------------------------------------------

TEST(ConfigKeyTest, EachKeyHasHelpAndItsOwnMemberInDeclarationOrder) {
  const std::vector<ConfigKey> keys = config_keys();
  ASSERT_EQ(keys.size(), 70u);
  for (size_t i = 0; i < keys.size(); ++i) {
    SCOPED_TRACE(keys[i].name);
    EXPECT_FALSE(keys[i].help.empty());
    EXPECT_LT(keys[i].offset, sizeof(Config));
    // Strictly increasing: no two keys share a member, and none is bound to another's.
    if (i > 0) EXPECT_GT(keys[i].offset, keys[i - 1].offset) << "after " << keys[i - 1].name;
  }
  EXPECT_EQ(keys.front().name, "model.layers");
  EXPECT_EQ(keys.back().name, "decode.max_len_b");
}

// --- Round trip and defaults ---------------------------------------------------------------

TEST(ConfigTest, ToYamlRoundTripsEveryField) {
  const Config original = unusual_config();
  const std::string yaml = to_yaml(original);
  // The unusual config sets every key of the table to something other than its default.
  const auto unusual = lines_by_key(yaml);
  const auto defaults = lines_by_key(to_yaml(Config{}));
  for (const std::string& name : key_names()) {
    ASSERT_EQ(unusual.count(name), 1u) << name;
    EXPECT_NE(unusual.at(name), defaults.at(name)) << name << " keeps its default in unusual_config()";
  }
  const Config parsed = parse_config(yaml, "round trip");
  EXPECT_EQ(to_yaml(parsed), yaml);
}

TEST(ConfigTest, ToYamlWritesEveryKeyInDeclarationOrder) {
  EXPECT_EQ(keys_of(to_yaml(Config{})), key_names());
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
            "cannot read config file '" + path + "': No such file or directory");
}

TEST(ConfigErrorTest, DirectoryInsteadOfFile) {
  const std::string path = ::testing::TempDir();
  EXPECT_EQ(error_of([&] { load_config(path); }),
            "cannot read config file '" + path + "': Is a directory");
}

// Empty text keeps the defaults (checkpoints, --set alone), but an empty config file is a mistake.
TEST(ConfigErrorTest, ConfigFileWithoutASection) {
  const std::string path = ::testing::TempDir() + "tmt_config_test_empty.yaml";
  for (const char* text : {"", "# only a comment\n", "{}\n"}) {
    std::ofstream(path) << text;
    EXPECT_EQ(error_of([&] { load_config(path); }),
              "config file '" + path + "' has no section: expected at least one of model, data, train, decode")
        << text;
  }
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

// Found by tests/fuzz: yaml-cpp 0.7's LoadAll allocates forever on a lone ",".
TEST(ConfigErrorTest, InputThatYamlCppLoopsOnIsAnError) {
  EXPECT_EQ(parse_error(","), "x.yaml:1:1: invalid YAML: cannot parse from here");
  EXPECT_EQ(parse_error("model:\n  layers: 2\n---\n,\n"), "x.yaml:4:1: invalid YAML: cannot parse from here");
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

TEST(ConfigErrorTest, DeviceIsParsedOnceIntoItsSpec) {
  EXPECT_EQ(parse_config("train:\n  device: cuda:1\n", "x.yaml").train.device.str(), "cuda:1");
  EXPECT_EQ(parse_config("", "x.yaml", {"train.device=cuda"}).train.device.str(), "cuda");
  EXPECT_EQ(parse_error("train:\n  device: tpu\n"),
            "x.yaml:2:11: train.device: expected auto, cpu, cuda or cuda:N, found 'tpu'");
  EXPECT_EQ(parse_error("", {"train.device=cuda:x"}),
            "--set train.device=cuda:x: train.device: expected auto, cpu, cuda or cuda:N, found 'cuda:x'");
  EXPECT_EQ(parse_error("train:\n  device: cuda:-1\n"),
            "x.yaml:2:11: train.device: expected auto, cpu, cuda or cuda:N, found 'cuda:-1'");
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
  EXPECT_EQ(parse_error("data:\n  batching: sorted\n"),
            "x.yaml:2:13: data.batching: expected one of fixed, pool, random, found 'sorted'");
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
  EXPECT_EQ(parse_error("train:\n  cooldown: 1.5\n"), "x.yaml: train.cooldown must be in [0, 1] (0: off), got 1.5");
  EXPECT_EQ(parse_error("", {"train.cooldown=-0.1"}), "x.yaml: train.cooldown must be in [0, 1] (0: off), got -0.1");
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

// A key's range does not depend on which task reads it: the copy task ignores data.max_tokens
// and a corpus ignores data.seq_len, yet a bad value of either is refused for both kinds.
TEST(ConfigValidateTest, DataRangesHoldForEveryKind) {
  for (const DataKind kind : {DataKind::copy, DataKind::parallel}) {
    DataConfig d;
    d.kind = kind;
    d.dir = "corpus";
    d.max_tokens = 0;
    EXPECT_EQ(error_of([&] { d.validate(); }), "data.max_tokens must be >= 1, got 0") << to_string(kind);
    d.max_tokens = 4096;
    d.seq_len = 1;
    EXPECT_EQ(error_of([&] { d.validate(); }), "data.seq_len must be >= 2, got 1") << to_string(kind);
    d.seq_len = 10;
    d.max_ratio = 0.5;
    EXPECT_EQ(error_of([&] { d.validate(); }), "data.max_ratio must be a finite number >= 1, got 0.5")
        << to_string(kind);
    d.max_ratio = 3.0;
    d.pool_batches = 0;
    EXPECT_EQ(error_of([&] { d.validate(); }), "data.pool_batches must be >= 1, got 0") << to_string(kind);
    d.pool_batches = 100;
    EXPECT_NO_THROW(d.validate()) << to_string(kind);
  }
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
    for (const std::string& key : key_names()) {
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
