#include "app/config.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <sstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/input_file.h"

namespace tmt {
namespace {

constexpr const char* kSections[] = {"model", "data", "train", "decode"};
constexpr const char* kSectionList = "model, data, train, decode";

[[noreturn]] void fail(const std::string& message) { throw std::invalid_argument(message); }

// Where YAML came from: a file (positions are meaningful) or a `--set` value (they are not).
struct Source {
  std::string origin;
  bool has_positions;

  // "origin:line:column" (1-based) where the position is known, else "origin".
  std::string at(const YAML::Mark& mark) const {
    if (!has_positions || mark.is_null()) return origin;
    return origin + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }
  std::string at(const YAML::Node& node) const { return at(node.Mark()); }
};

// What a node holds, for "found ..." in messages.
std::string found(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: return "'" + node.Scalar() + "'";
    case YAML::NodeType::Sequence: return "a sequence";
    case YAML::NodeType::Map: return "a mapping";
    default: return "null";
  }
}

// The key being read and where it came from; rejects a node that does not fit.
struct Reading {
  const Source& source;
  std::string key;  // "section.key"

  [[noreturn]] void reject(const YAML::Node& node, const std::string& expected,
                           const std::string& key_suffix = "") const {
    fail(source.at(node) + ": " + key + key_suffix + ": expected " + expected + ", found " +
         found(node));
  }
};

// --- Strict scalar parsing: the whole text must be consumed; nothing is coerced. -----------

// Skips a '+' sign that yaml-cpp keeps in the text but std::from_chars does not accept.
const char* skip_plus(const char* begin, const char* end) {
  return (end - begin > 1 && begin[0] == '+' && begin[1] != '-') ? begin + 1 : begin;
}

template <typename T>
bool parse_integral(const std::string& text, T& value) {
  const char* end = text.data() + text.size();
  const char* begin = skip_plus(text.data(), end);
  T parsed{};
  const auto [stop, error] = std::from_chars(begin, end, parsed);
  if (begin == end || error != std::errc() || stop != end) return false;
  value = parsed;
  return true;
}

bool parse(const std::string& text, int64_t& value) { return parse_integral(text, value); }
bool parse(const std::string& text, uint64_t& value) { return parse_integral(text, value); }

bool parse(const std::string& text, double& value) {
  const char* end = text.data() + text.size();
  const char* begin = skip_plus(text.data(), end);
  const char* digits = (begin != end && *begin == '-') ? begin + 1 : begin;
  // A digit or '.' first: keeps out inf and nan, which no setting here wants.
  if (digits == end || !(std::isdigit(static_cast<unsigned char>(*digits)) || *digits == '.')) {
    return false;
  }
  double parsed = 0.0;
  const auto [stop, error] = std::from_chars(begin, end, parsed);
  if (error != std::errc() || stop != end) return false;
  value = parsed;
  return true;
}

bool parse(const std::string& text, DeviceSpec& value) {
  try {
    value = DeviceSpec::parse(text);
  } catch (const std::invalid_argument&) {
    return false;
  }
  return true;
}

bool parse(const std::string& text, std::string& value) {
  value = text;
  return true;
}

// YAML 1.2's spellings only: yes/no/on/off are strings there, so they are rejected here.
bool parse(const std::string& text, bool& value) {
  const bool is_true = text == "true" || text == "True" || text == "TRUE";
  const bool is_false = text == "false" || text == "False" || text == "FALSE";
  if (is_true || is_false) value = is_true;
  return is_true || is_false;
}

// Every value of each enum read from YAML, in the order messages list them.
std::vector<InitScheme> all(InitScheme) { return {InitScheme::annotated, InitScheme::fairseq}; }
std::vector<DataKind> all(DataKind) { return {DataKind::copy, DataKind::parallel}; }
std::vector<SubwordModel> all(SubwordModel) { return {SubwordModel::bpe, SubwordModel::unigram}; }
std::vector<Batching> all(Batching) { return {Batching::fixed, Batching::pool, Batching::random}; }
std::vector<SmoothingVariant> all(SmoothingVariant) {
  return {SmoothingVariant::annotated, SmoothingVariant::others, SmoothingVariant::uniform};
}
std::vector<LossForm> all(LossForm) { return {LossForm::kl, LossForm::ce}; }
std::vector<LossReduction> all(LossReduction) {
  return {LossReduction::sum, LossReduction::mean, LossReduction::none};
}
std::vector<BestMetric> all(BestMetric) { return {BestMetric::loss, BestMetric::nll, BestMetric::bleu}; }
std::vector<Precision> all(Precision) { return {Precision::fp32, Precision::bf16}; }
std::vector<ClassWeightMode> all(ClassWeightMode) {
  return {ClassWeightMode::per_class, ClassWeightMode::gold_nll};
}

template <typename E, typename = std::enable_if_t<std::is_enum_v<E>>>
bool parse(const std::string& text, E& value) {
  for (E candidate : all(E{})) {
    if (text == to_string(candidate)) {
      value = candidate;
      return true;
    }
  }
  return false;
}

// "expected ..." for each kind of value.
std::string expected(int64_t) { return "an integer"; }
std::string expected(uint64_t) { return "a non-negative integer"; }
std::string expected(double) { return "a number"; }
std::string expected(bool) { return "true or false"; }
std::string expected(const std::string&) { return "a string"; }
std::string expected(const DeviceSpec&) { return "auto, cpu, cuda or cuda:N"; }
template <typename E, typename = std::enable_if_t<std::is_enum_v<E>>>
std::string expected(E) {
  std::string names;
  for (E candidate : all(E{})) names += (names.empty() ? "" : ", ") + std::string(to_string(candidate));
  return "one of " + names;
}

// The shortest text that reads back as the same double; "1.0" rather than "1" for legibility.
std::string text(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string out(buffer, result.ptr);
  if (out.find_first_not_of("-0123456789") == std::string::npos) out += ".0";
  return out;
}

void emit(YAML::Emitter& out, int64_t value) { out << value; }
void emit(YAML::Emitter& out, uint64_t value) { out << value; }
void emit(YAML::Emitter& out, bool value) { out << value; }
void emit(YAML::Emitter& out, double value) { out << text(value); }
void emit(YAML::Emitter& out, const std::string& value) { out << YAML::DoubleQuoted << value; }
void emit(YAML::Emitter& out, const DeviceSpec& value) { out << YAML::DoubleQuoted << value.str(); }
template <typename E, typename = std::enable_if_t<std::is_enum_v<E>>>
void emit(YAML::Emitter& out, E value) {
  out << to_string(value);
}

// --- The one table of keys, shared by reading and writing so they cannot drift apart. -----

// One YAML key bound to one member of a Config, with its one-line help.
struct Field {
  std::string_view section;
  std::string_view key;
  std::function<void(const YAML::Node&, const Reading&)> read;
  std::function<void(YAML::Emitter&)> write;
  std::string_view help;
  const void* member;  // the bound member, so that tests can check each key has its own
};

template <typename T>
Field scalar(const char* section, const char* key, T& value, const char* help) {
  return {section, key,
          [&value](const YAML::Node& node, const Reading& reading) {
            if (!node.IsScalar() || !parse(node.Scalar(), value)) {
              reading.reject(node, expected(value));
            }
          },
          [&value](YAML::Emitter& out) { emit(out, value); }, help, &value};
}

Field numbers(const char* section, const char* key, std::vector<double>& values, const char* help) {
  return {section, key,
          [&values](const YAML::Node& node, const Reading& reading) {
            if (!node.IsSequence()) reading.reject(node, "a list of numbers");
            std::vector<double> parsed(node.size());
            for (std::size_t i = 0; i < node.size(); ++i) {
              if (!node[i].IsScalar() || !parse(node[i].Scalar(), parsed[i])) {
                reading.reject(node[i], "a number", "[" + std::to_string(i) + "]");
              }
            }
            values = std::move(parsed);
          },
          [&values](YAML::Emitter& out) {
            out << YAML::Flow << YAML::BeginSeq;
            for (double value : values) out << text(value);
            out << YAML::EndSeq;
          },
          help, &values};
}

Field strings(const char* section, const char* key, std::vector<std::string>& values, const char* help) {
  return {section, key,
          [&values](const YAML::Node& node, const Reading& reading) {
            if (!node.IsSequence()) reading.reject(node, "a list of strings");
            std::vector<std::string> parsed(node.size());
            for (std::size_t i = 0; i < node.size(); ++i) {
              if (!node[i].IsScalar()) reading.reject(node[i], "a string", "[" + std::to_string(i) + "]");
              parsed[i] = node[i].Scalar();
            }
            values = std::move(parsed);
          },
          [&values](YAML::Emitter& out) {
            out << YAML::Flow << YAML::BeginSeq;
            for (const std::string& value : values) out << YAML::DoubleQuoted << value;
            out << YAML::EndSeq;
          },
          help, &values};
}

// Every key, bound to `c`, sections in the order model, data, train, decode and keys in the
// structs' declaration order (the order of to_yaml and of "known keys" in messages).
std::vector<Field> fields(Config& c) {
  ModelConfig& m = c.model;
  DataConfig& d = c.data;
  TrainConfig& t = c.train;
  CriterionConfig& k = c.train.criterion;
  return {
      scalar("model", "layers", m.layers, "N encoder and N decoder layers (paper: 6)"),
      scalar("model", "d_model", m.d_model, "width of embeddings and residual stream (paper: 512)"),
      scalar("model", "d_ff", m.d_ff, "inner width of the position-wise feed-forward layers (paper: 2048)"),
      scalar("model", "heads", m.heads, "attention heads; d_model must be divisible by it (paper: 8)"),
      scalar("model", "dropout", m.dropout, "P_drop on sublayer outputs and embedding sums (paper: 0.1)"),
      scalar("model", "attention_dropout", m.attention_dropout, "on the attention weights; the paper uses none"),
      scalar("model", "share_embeddings", m.share_embeddings,
             "three-way tying of embeddings and output projection (paper section 3.4)"),
      scalar("model", "pre_norm", m.pre_norm,
             "post-norm as in the paper; true gives pre-norm, steadier for deep models"),
      scalar("model", "max_positions", m.max_positions, "rows of the sinusoidal position table; >= data.max_len + 1"),
      scalar("model", "init", m.init,
             "fairseq: embeddings N(0, d_model^-1/2), padding row 0; annotated: Xavier-uniform embeddings"),
      scalar("data", "kind", d.kind, "copy: the copy task; parallel: a corpus prepared by `tmt prepare`"),
      scalar("data", "vocab_size", d.vocab_size,
             "copy task: symbols; parallel: the joint SentencePiece vocabulary to train"),
      scalar("data", "seq_len", d.seq_len, "copy task only: sequence length, start symbol included"),
      scalar("data", "batch_size", d.batch_size, "copy task only: sequences per batch"),
      scalar("data", "valid_size", d.valid_size, "copy task only: held-out sequences for the final copy check"),
      scalar("data", "dir", d.dir, "folder with PREFIX.LANG[.gz] files; --set data.dir=DIR"),
      scalar("data", "src_lang", d.src_lang, "source side: DIR/PREFIX.SRC_LANG[.gz]"),
      scalar("data", "tgt_lang", d.tgt_lang, "target side: DIR/PREFIX.TGT_LANG[.gz]"),
      scalar("data", "train_prefix", d.train_prefix, "training files: DIR/TRAIN_PREFIX.LANG[.gz]"),
      scalar("data", "valid_prefix", d.valid_prefix, "validation files (losses, BLEU, model selection)"),
      strings("data", "test_prefixes", d.test_prefixes, "test files, encoded too, for evaluation"),
      scalar("data", "subword_model", d.subword_model, "bpe (byte-pair encoding, as in the paper) or unigram"),
      scalar("data", "character_coverage", d.character_coverage,
             "share of characters SentencePiece covers; 1.0 keeps every character of Latin scripts"),
      scalar("data", "spm_sentences", d.spm_sentences, "sentences sampled to train SentencePiece; 0: all of them"),
      scalar("data", "max_len", d.max_len, "training pairs longer than this (in pieces) are dropped and counted"),
      scalar("data", "max_ratio", d.max_ratio, "... and those whose length ratio exceeds this"),
      scalar("data", "skip_invalid", d.skip_invalid, "invalid UTF-8 is an error; true: skip such pairs and count them"),
      scalar("data", "max_tokens", d.max_tokens, "padded source + target positions per batch"),
      scalar("data", "batching", d.batching,
             "fixed: batches planned once over the length-sorted corpus, their order shuffled each epoch "
             "(fairseq); pool: each epoch, shuffled pairs length-sorted in pools of pool_batches batches "
             "(Marian's maxi-batch); random: each epoch, shuffled pairs unsorted (JoeyNMT; much padding)"),
      scalar("data", "pool_batches", d.pool_batches, "batching pool: the batches' worth of tokens a pool holds"),
      scalar("data", "prefetch", d.prefetch, "batches assembled ahead on a background thread"),
      scalar("train", "seed", t.seed, "seeds parameters, dropout, SentencePiece and batch order"),
      scalar("train", "max_updates", t.max_updates, "stop after this many updates (paper base: 100k)"),
      scalar("train", "max_epochs", t.max_epochs, "0: stop on max_updates only"),
      scalar("train", "max_minutes", t.max_minutes,
             "also stop after this much training wall time (resumed runs add up), with a checkpoint; 0: no limit"),
      scalar("train", "update_freq", t.update_freq,
             "batches accumulated into one update; the loss is normalised by the whole update's tokens"),
      scalar("train", "lr_factor", t.lr_factor,
             "lr = lr_factor * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5), as in the paper"),
      scalar("train", "warmup_updates", t.warmup_updates, "paper: 4000"),
      scalar("train", "cooldown", t.cooldown,
             "the last fraction of the budget (max_updates, or max_minutes when it ends first) brings "
             "the lr linearly down to 0; 0: off (paper)"),
      scalar("train", "adam_beta1", t.adam_beta1, "paper: 0.9"),
      scalar("train", "adam_beta2", t.adam_beta2, "paper: 0.98"),
      scalar("train", "adam_eps", t.adam_eps, "paper: 1e-9"),
      scalar("train", "clip_norm", t.clip_norm,
             "rescale gradients whose global L2 norm exceeds this; 0: off (paper: off)"),
      scalar("train", "max_bad_updates", t.max_bad_updates,
             "NaN/Inf updates in a row (each skipped) before training stops with a checkpoint"),
      scalar("train", "log_every", t.log_every, "updates between training log lines"),
      scalar("train", "save_every", t.save_every,
             "updates between checkpoints checkpoint_<update>.pt; 0: only at the end (and every save_minutes)"),
      scalar("train", "save_minutes", t.save_minutes,
             "also save after this many minutes since the last save (paper: every 10 minutes); 0: off"),
      scalar("train", "keep_last", t.keep_last,
             "numbered checkpoints kept, older ones deleted (paper: averages the last 5); 0: keep all"),
      scalar("train", "valid_every", t.valid_every, "updates between validation passes"),
      scalar("train", "valid_bleu", t.valid_bleu,
             "also translate the valid set and score BLEU (sacreBLEU defaults, detokenised pieces)"),
      scalar("train", "valid_beam_size", t.valid_beam_size, "beam width of that translation; 1: greedy, fast"),
      scalar("train", "best_metric", t.best_metric,
             "picks checkpoint_best.pt and drives early stopping: loss, nll or bleu"),
      scalar("train", "patience", t.patience, "stop after this many validations without a new best; 0: never"),
      scalar("train", "device", t.device,
             "auto: cuda:0 when LibTorch has CUDA and sees a GPU, else cpu; or cpu, cuda, cuda:N"),
      scalar("train", "precision", t.precision,
             "bf16: autocast on CUDA, fp32 master weights and Adam state (ignored on CPU); fp32"),
      scalar("train", "threads", t.threads, "intra-op CPU threads; 0 keeps LibTorch's default"),
      scalar("train", "dist_timeout_s", t.dist_timeout_s,
             "multi-process jobs (scripts/launch.sh, torchrun, srun): seconds a rank waits for the others"),
      scalar("train", "label_smoothing", k.label_smoothing,
             "eps (paper section 5.4: 0.1; hurts perplexity, helps BLEU)"),
      scalar("train", "smoothing_variant", k.variant,
             "annotated: eps/(K-2) off-gold, 0 on padding; others: eps/(K-1); uniform: eps/K everywhere"),
      scalar("train", "loss_form", k.form,
             "kl: KL(q || p); ce: soft-target cross-entropy (same gradient, offset by H(q))"),
      scalar("train", "loss_reduction", k.reduction,
             "mean over non-padding target tokens, or sum; training needs one of the two"),
      numbers("train", "class_weights", k.class_weights,
             "per-class loss weights, one per vocabulary id; empty: unweighted"),
      scalar("train", "class_weight_mode", k.class_weight_mode,
             "per_class: weight every term q_j*l_j by w_j; gold_nll: PyTorch-style, needs loss_form ce"),
      scalar("decode", "beam_size", c.decode.beam_size, "beam width (paper: 4); 1 is greedy decoding"),
      scalar("decode", "alpha", c.decode.alpha, "length penalty ((5 + |Y|) / 6)^alpha (paper: 0.6)"),
      scalar("decode", "nbest", c.decode.nbest, "translations printed per input line (at most beam_size)"),
      scalar("decode", "max_tokens", c.decode.max_tokens, "source tokens translated together in one batch"),
      scalar("decode", "truncate_long", c.decode.truncate_long,
             "sources over model.max_positions are truncated with a warning (false: refused)"),
      scalar("decode", "max_len_a", c.decode.max_len_a, "output length limit = max_len_a * source_len + max_len_b"),
      scalar("decode", "max_len_b", c.decode.max_len_b, "paper section 6.1: input length + 50"),
  };
}

// --- Looking keys up, with a hint for misspellings. --------------------------------------

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

bool is_section(const std::string& name) {
  return std::find(std::begin(kSections), std::end(kSections), name) != std::end(kSections);
}

void require_section(const std::string& name, const std::string& where) {
  if (!is_section(name)) {
    fail(where + ": unknown section '" + name + "' (expected one of " + kSectionList + ")");
  }
}

// The field for section.key, or an error that suggests the nearest known key.
Field& find_field(std::vector<Field>& table, const std::string& section, const std::string& key,
                  const std::string& where) {
  const Field* nearest = nullptr;
  std::size_t nearest_distance = 3;  // suggest only within edit distance 2
  const Field* elsewhere = nullptr;  // the same key in another section
  std::string known;
  for (Field& field : table) {
    if (field.section != section) {
      if (field.key == key) elsewhere = &field;
      continue;
    }
    if (field.key == key) return field;
    known += (known.empty() ? "" : ", ") + std::string(field.key);
    const std::size_t distance = edit_distance(key, field.key);
    if (distance < nearest_distance) nearest = &field, nearest_distance = distance;
  }
  std::string hint;
  if (elsewhere != nullptr) {
    hint = "did you mean '" + std::string(elsewhere->section) + "." + std::string(key) + "'?";
  } else if (nearest != nullptr) {
    hint = "did you mean '" + std::string(nearest->key) + "'?";
  } else {
    hint = "known keys: " + known;
  }
  fail(where + ": unknown key '" + section + "." + key + "' (" + hint + ")");
}

// --- Applying YAML to the table. ---------------------------------------------------------

void apply_document(const YAML::Node& root, const Source& source, std::vector<Field>& table) {
  if (root.IsNull()) return;  // an empty file keeps every default
  if (!root.IsMap()) {
    fail(source.origin + ": the top level must be a mapping of sections (" + kSectionList + ")");
  }
  std::map<std::string, int> section_lines;  // yaml-cpp keeps duplicate keys; reject them
  for (const auto& section_entry : root) {
    const std::string section = section_entry.first.Scalar();
    require_section(section, source.at(section_entry.first));
    const int line = section_entry.first.Mark().line + 1;
    if (!section_lines.emplace(section, line).second) {
      fail(source.at(section_entry.first) + ": duplicate section '" + section + "' (first at line " +
           std::to_string(section_lines[section]) + ")");
    }
    const YAML::Node& body = section_entry.second;
    if (body.IsNull()) continue;  // every key commented out: keep the defaults
    if (!body.IsMap()) {
      fail(source.at(body) + ": section '" + section + "' must be a mapping of keys, found " +
           found(body));
    }
    std::map<std::string, int> key_lines;
    for (const auto& entry : body) {
      const std::string key = entry.first.Scalar();
      Field& field = find_field(table, section, key, source.at(entry.first));
      if (!key_lines.emplace(key, entry.first.Mark().line + 1).second) {
        fail(source.at(entry.first) + ": duplicate key '" + section + "." + key +
             "' (first at line " + std::to_string(key_lines[key]) + ")");
      }
      field.read(entry.second, Reading{source, section + "." + key});
    }
  }
}

// Applies one `--set section.key=value`; the value is YAML, so lists work too.
void apply_override(const std::string& assignment, std::vector<Field>& table) {
  const Source source{"--set " + assignment, /*has_positions=*/false};
  const std::size_t equals = assignment.find('=');
  const std::size_t dot = assignment.find('.');
  if (equals == std::string::npos || dot == 0 || dot == std::string::npos || dot + 1 >= equals) {
    fail("--set '" + assignment + "': expected section.key=value");
  }
  const std::string section = assignment.substr(0, dot);
  const std::string key = assignment.substr(dot + 1, equals - dot - 1);
  require_section(section, source.origin);
  Field& field = find_field(table, section, key, source.origin);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(equals + 1));
  } catch (const YAML::Exception& e) {
    fail(source.origin + ": invalid YAML: " + e.msg);
  }
  field.read(value, Reading{source, section + "." + key});
}

// Where the root of each document of a YAML text starts. yaml-cpp 0.7's LoadAll never returns
// on some invalid input (a lone ",": jbeder/yaml-cpp#1040, fixed upstream by #1319): it parses
// the same empty document again and again, allocating until the process dies. Here a document
// whose root starts where the previous one did, or more parser passes than the text has bytes,
// is an error instead.
class DocumentRoots : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> roots;

  void OnDocumentStart(const YAML::Mark&) override { seen_ = false; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { root(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { root(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
    root(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    root(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    root(mark);
  }
  void OnMapEnd() override {}

 private:
  void root(const YAML::Mark& mark) {
    if (!seen_) roots.push_back(mark);
    seen_ = true;
  }
  bool seen_ = false;
};

std::vector<YAML::Mark> document_roots(const std::string& text, const Source& source) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentRoots handler;
  for (size_t passes = 0; parser.HandleNextDocument(handler); ++passes) {
    const std::vector<YAML::Mark>& r = handler.roots;
    if (passes > text.size() || (r.size() >= 2 && r[r.size() - 1].pos == r[r.size() - 2].pos)) {
      fail(source.at(r.empty() ? YAML::Mark::null_mark() : r.back()) + ": invalid YAML: cannot parse from here");
    }
  }
  return handler.roots;
}

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::vector<std::string>& overrides) {
  Config config;
  std::vector<Field> table = fields(config);
  const Source source{origin, /*has_positions=*/true};
  YAML::Node document;
  try {
    const std::vector<YAML::Mark> roots = document_roots(yaml_text, source);
    if (roots.size() > 1) {
      fail(source.at(roots[1]) + ": expected one YAML document, found " + std::to_string(roots.size()));
    }
    if (!roots.empty()) document = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    fail(source.at(e.mark) + ": invalid YAML: " + e.msg);
  }
  if (document.IsDefined() && !document.IsNull()) apply_document(document, source, table);
  for (const std::string& assignment : overrides) apply_override(assignment, table);
  try {
    validate(config);
  } catch (const std::invalid_argument& e) {
    fail(origin + ": " + e.what());
  }
  return config;
}

std::vector<ConfigKey> config_keys() {
  Config config;
  std::vector<ConfigKey> keys;
  for (const Field& field : fields(config)) {
    const auto offset = static_cast<size_t>(static_cast<const char*>(field.member) -
                                            reinterpret_cast<const char*>(&config));
    keys.push_back({std::string(field.section) + "." + std::string(field.key), std::string(field.help), offset});
  }
  return keys;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  require_readable_file(path, "config file");
  const auto unreadable = [&path](int error) {
    fail("cannot read config file '" + path + "': " + std::strerror(error));
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) unreadable(errno);
  std::string text;
  char buffer[4096];
  std::size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, count);
  if (std::ferror(file.get())) unreadable(errno);  // e.g. EISDIR for a directory
  Config config = parse_config(text, path, overrides);
  // An empty file (or one of comments) would train the 44M-parameter base model on the copy
  // task's defaults: surely not what was meant.
  const YAML::Node root = YAML::Load(text);
  if (root.IsNull() || (root.IsMap() && root.size() == 0)) {
    fail("config file '" + path + "' has no section: expected at least one of " + kSectionList);
  }
  return config;
}

std::string to_yaml(const Config& config) {
  Config copy = config;
  const std::vector<Field> table = fields(copy);
  YAML::Emitter out;
  out << YAML::BeginMap;
  for (const char* section : kSections) {
    out << YAML::Key << section << YAML::Value << YAML::BeginMap;
    for (const Field& field : table) {
      if (field.section != section) continue;
      out << YAML::Key << std::string(field.key) << YAML::Value;
      field.write(out);
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  if (!out.good()) throw std::logic_error("to_yaml: " + out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

void validate(const Config& config) {
  config.model.validate();
  config.data.validate();
  config.train.validate();
  config.decode.validate();
  const CriterionConfig& criterion = config.train.criterion;
  if (criterion.reduction == LossReduction::none) {
    fail("train.loss_reduction 'none' gives one loss per token; training needs 'sum' or 'mean'");
  }
  if (config.data.kind == DataKind::copy && !criterion.class_weights.empty() &&
      static_cast<int64_t>(criterion.class_weights.size()) != config.data.vocab_size) {
    fail("train.class_weights has " + std::to_string(criterion.class_weights.size()) +
         " entries, expected data.vocab_size (" + std::to_string(config.data.vocab_size) + ")");
  }
  if (config.data.kind == DataKind::parallel && config.model.max_positions < config.data.max_len + 1) {
    fail("model.max_positions (" + std::to_string(config.model.max_positions) +
         ") must be >= data.max_len + 1 (" + std::to_string(config.data.max_len + 1) +
         "): a sentence of data.max_len tokens plus its end symbol needs that many positions");
  }
  if (config.data.kind == DataKind::copy && config.model.max_positions < config.data.seq_len) {
    fail("model.max_positions (" + std::to_string(config.model.max_positions) +
         ") must be >= data.seq_len (" + std::to_string(config.data.seq_len) +
         "): the position table has no row for later tokens");
  }
}

}  // namespace tmt
