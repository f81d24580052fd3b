// `tmt calibrate`: does the model's confidence match its accuracy? Label smoothing exists to
// stop over-confidence; this measures it on the user's own model and data.
//   - teacher-forced, on the references: top-1 confidence against top-1 accuracy, over all
//     target tokens (the end symbol included) and over the end symbol alone (Kumar & Sarawagi
//     2019 found it miscalibrated on its own); ECE and MCE in 20 equal-width bins (Wang et al.
//     2020), NLL, mean entropy, mean probability of the gold token;
//   - inference calibration (Wang et al. 2020) on the model's own beam output: each output
//     token's probability against whether a Levenshtein alignment to the reference (no shifts)
//     matches it;
//   - temperature scaling: the T that minimises NLL on a valid set, and the teacher-forced
//     figures of the test pairs after it.
// Prints a table; --json writes the report with every bin, for scripts/plot_calibration.py.

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/decoding_model.h"
#include "app/logging.h"
#include "app/sentence_pairs.h"
#include "app/subcommands.h"
#include "base/atomic_file.h"
#include "decode/beam_search.h"
#include "decode/forced.h"
#include "metrics/calibration.h"

namespace tmt {
namespace {

using nlohmann::json;

constexpr int kBins = 20;

// Confidence figures of a set of predicted tokens.
struct TokenCalibration {
  ReliabilityDiagram diagram{kBins};
  double nll = 0.0;        // sums over the tokens
  double entropy = 0.0;
  double gold_mass = 0.0;

  // Teacher-forced: the top-1 prediction at each position where `select` is true.
  void add_teacher_forced(const ForcedStats& s, const torch::Tensor& select) {
    const torch::Tensor where = select.logical_and(s.mask);
    const torch::Tensor top = s.top_prob.index({where});
    const torch::Tensor right = s.top_is_gold.index({where});
    const torch::Tensor gold = s.gold_log_prob.index({where});
    const auto* top_p = top.data_ptr<double>();
    const auto* right_p = right.data_ptr<bool>();
    for (int64_t i = 0; i < top.numel(); ++i) diagram.add(top_p[i], right_p[i]);
    nll -= gold.sum().item<double>();
    entropy += s.entropy.index({where}).sum().item<double>();
    gold_mass += gold.exp().sum().item<double>();
  }

  double mean(double sum) const {
    return diagram.count() > 0 ? sum / static_cast<double>(diagram.count()) : std::numeric_limits<double>::quiet_NaN();
  }

  json to_json(bool teacher_forced) const {
    json bins = json::array();
    for (size_t b = 0; b < diagram.bins().size(); ++b) {
      const auto& bin = diagram.bins()[b];
      const double n = static_cast<double>(bin.count);
      bins.push_back({{"lower", static_cast<double>(b) / kBins},
                      {"upper", static_cast<double>(b + 1) / kBins},
                      {"count", bin.count},
                      {"confidence", bin.count > 0 ? json(bin.confidence / n) : json(nullptr)},
                      {"accuracy", bin.count > 0 ? json(bin.correct / n) : json(nullptr)}});
    }
    json j{{"tokens", diagram.count()},     {"accuracy", number(diagram.accuracy())},
           {"confidence", number(diagram.mean_confidence())}, {"ece", number(diagram.ece())},
           {"mce", number(diagram.mce())},  {"bins", bins}};
    if (teacher_forced) {
      j["nll"] = number(mean(nll));
      j["entropy"] = number(mean(entropy));
      j["gold_mass"] = number(mean(gold_mass));
    }
    return j;
  }

  static json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
};

// Teacher-forced figures of every target token and of the end symbol alone.
struct TeacherForced {
  TokenCalibration all;
  TokenCalibration eos;

  void add(const ForcedStats& s, const torch::Tensor& tgt_out, int64_t end_id) {
    all.add_teacher_forced(s, s.mask);
    eos.add_teacher_forced(s, tgt_out.eq(end_id));
  }
  json to_json() const { return {{"all", all.to_json(true)}, {"eos", eos.to_json(true)}}; }
};

// The T that minimises the valid pairs' NLL: a grid over log T in [-1.5, 1.5] (T from 0.22 to
// 4.5) in steps of 0.05, then a grid of step 0.0025 around the best. Also the NLL a token at T = 1
// and at the best T.
struct Temperature {
  double value = 1.0;
  double nll_at_1 = 0.0;
  double nll_at_best = 0.0;
};

std::vector<double> valid_nll(DecodingModel& m, const std::vector<ForcedBatch>& batches,
                              const std::vector<double>& temperatures) {
  std::vector<double> sums(temperatures.size(), 0.0);
  for (const ForcedBatch& batch : batches) {
    const std::vector<double> nll = nll_at_temperatures(forced_logits(m.model, batch.src, batch.tgt_in), batch.tgt_out,
                                                        m.task->vocab().pad_id, temperatures);
    for (size_t k = 0; k < sums.size(); ++k) sums[k] += nll[k];
  }
  return sums;
}

Temperature fit_temperature(DecodingModel& m, const SentencePairs& valid) {
  const std::vector<ForcedBatch> batches = forced_batches(valid, *m.task, m.config.decode.max_tokens);
  int64_t tokens = 0;
  for (const ForcedBatch& b : batches) tokens += b.tgt_out.ne(m.task->vocab().pad_id).sum().item<int64_t>();
  if (tokens == 0) throw std::invalid_argument("the valid pairs for the temperature hold no tokens to score");
  double best_log_t = 0.0;
  double best_nll = 0.0;
  for (const double step : {0.05, 0.0025}) {
    const double centre = best_log_t;
    const int half = step == 0.05 ? 30 : 20;
    std::vector<double> log_ts;
    std::vector<double> ts;
    for (int k = -half; k <= half; ++k) {
      log_ts.push_back(centre + step * k);
      ts.push_back(std::exp(log_ts.back()));
    }
    const std::vector<double> nll = valid_nll(m, batches, ts);
    size_t best = 0;
    for (size_t k = 1; k < nll.size(); ++k) {
      if (nll[k] < nll[best]) best = k;
    }
    best_log_t = log_ts[best];
    best_nll = nll[best];
  }
  Temperature t;
  t.value = std::exp(best_log_t);
  t.nll_at_1 = valid_nll(m, batches, {1.0})[0] / static_cast<double>(tokens);
  t.nll_at_best = best_nll / static_cast<double>(tokens);
  return t;
}

std::string cell(double v, int width, int precision) {
  char buffer[64];
  if (std::isfinite(v)) {
    std::snprintf(buffer, sizeof buffer, "%*.*f", width, precision, v);
  } else {
    std::snprintf(buffer, sizeof buffer, "%*s", width, "-");
  }
  return buffer;
}

std::string row(const std::string& name, const TokenCalibration& c, bool teacher_forced) {
  char head[64];
  std::snprintf(head, sizeof head, "%-24s %8lld", name.c_str(), static_cast<long long>(c.diagram.count()));
  const double none = std::numeric_limits<double>::quiet_NaN();
  return std::string(head) + cell(c.diagram.accuracy(), 10, 4) + cell(c.diagram.mean_confidence(), 12, 4) +
         cell(c.diagram.ece(), 8, 4) + cell(c.diagram.mce(), 8, 4) + cell(teacher_forced ? c.mean(c.nll) : none, 8, 4) +
         cell(teacher_forced ? c.mean(c.entropy) : none, 9, 4) + cell(teacher_forced ? c.mean(c.gold_mass) : none, 11, 4) +
         "\n";
}

}  // namespace

int calibrate_command(const CalibrateArgs& args) {
  setup_logging();
  if (args.valid_source.empty() != args.valid_target.empty()) {
    throw std::invalid_argument("--valid-source and --valid-target go together");
  }
  DecodingModel m = load_for_decoding(args);
  const int64_t max_positions = m.config.model.max_positions;
  const SentencePairs pairs = read_sentence_pairs(*m.task, args.source, args.target, max_positions);
  std::optional<Temperature> temperature;
  if (!args.valid_source.empty()) {
    temperature = fit_temperature(m, read_sentence_pairs(*m.task, args.valid_source, args.valid_target, max_positions));
    spdlog::info("[calibrate] temperature {:.4f} minimises the valid NLL: {:.4f} a token at T = 1, {:.4f} at T",
                 temperature->value, temperature->nll_at_1, temperature->nll_at_best);
  }

  const int64_t end_id = m.task->end_id();
  TeacherForced forced;
  TeacherForced scaled;
  TokenCalibration inference;
  std::vector<std::vector<int64_t>> hyps(pairs.size());
  for (const ForcedBatch& batch : forced_batches(pairs, *m.task, m.config.decode.max_tokens)) {
    const torch::Tensor logits = forced_logits(m.model, batch.src, batch.tgt_in);
    forced.add(forced_stats(logits, batch.tgt_out, m.task->vocab().pad_id), batch.tgt_out, end_id);
    if (temperature) {
      scaled.add(forced_stats(logits, batch.tgt_out, m.task->vocab().pad_id, temperature->value), batch.tgt_out, end_id);
    }
    // The model's own output, then the probability it gave each of its tokens.
    DecodeConfig decode = m.config.decode;
    decode.nbest = 1;
    const auto results = beam_search(m.model, batch.src.to(m.device), m.task->start_id(), end_id, decode);
    for (size_t r = 0; r < batch.rows.size(); ++r) hyps[batch.rows[r]] = results[r].front().tokens;
    const ForcedBatch own = forced_batch(pairs.src, hyps, batch.rows, *m.task);
    const ForcedStats s = forced_stats(forced_logits(m.model, own.src, own.tgt_in), own.tgt_out, m.task->vocab().pad_id);
    for (size_t r = 0; r < batch.rows.size(); ++r) {
      std::vector<int64_t> hyp = hyps[batch.rows[r]];
      std::vector<int64_t> ref = pairs.tgt[batch.rows[r]];
      hyp.push_back(end_id);
      ref.push_back(end_id);
      const std::vector<bool> right = aligned_matches(hyp, ref);
      const torch::Tensor log_probs = s.gold_log_prob[static_cast<int64_t>(r)];
      for (size_t t = 0; t < hyp.size(); ++t) {
        inference.diagram.add(std::exp(log_probs[static_cast<int64_t>(t)].item<double>()), right[t]);
      }
    }
  }

  std::string table = "                           tokens  accuracy  confidence     ECE     MCE     NLL  entropy  gold mass\n";
  table += row("teacher-forced, all", forced.all, true);
  table += row("teacher-forced, EOS", forced.eos, true);
  table += row("inference, beam " + std::to_string(m.config.decode.beam_size), inference, false);
  if (temperature) {
    char name[64];
    std::snprintf(name, sizeof name, "T = %.3f, all", temperature->value);
    table += row(name, scaled.all, true);
    std::snprintf(name, sizeof name, "T = %.3f, EOS", temperature->value);
    table += row(name, scaled.eos, true);
  }
  std::cout << table << std::flush;
  spdlog::info("[calibrate] {} pairs ({} with an empty side not scored); ECE in {} equal-width bins", pairs.size(),
               pairs.empty, kBins);

  if (!args.json.empty()) {
    json report{{"checkpoint", args.checkpoint},
                {"source", args.source},
                {"target", args.target},
                {"pairs", pairs.size()},
                {"bins", kBins},
                {"beam_size", m.config.decode.beam_size},
                {"alpha", m.config.decode.alpha},
                {"teacher_forced", forced.to_json()},
                {"inference", inference.to_json(false)}};
    if (temperature) {
      report["temperature"] = {{"value", temperature->value},
                               {"valid_source", args.valid_source},
                               {"valid_target", args.valid_target},
                               {"valid_nll_at_1", temperature->nll_at_1},
                               {"valid_nll", temperature->nll_at_best},
                               {"teacher_forced", scaled.to_json()}};
    }
    write_text_atomically(args.json, report.dump(1) + "\n");
  }
  return 0;
}

}  // namespace tmt
