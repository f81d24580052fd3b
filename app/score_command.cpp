// `tmt score`: forced decoding of sentence pairs (fairseq's --score-reference, Marian's scorer):
// per pair the summed log-probability of the target given the source, its tokens (pieces plus
// the end symbol) and perplexity; a corpus summary in the log. For ranking or filtering pairs.

#include <spdlog/spdlog.h>

#include <cmath>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/decoding_model.h"
#include "app/logging.h"
#include "app/sentence_pairs.h"
#include "app/subcommands.h"
#include "base/atomic_file.h"
#include "decode/forced.h"

namespace tmt {

int score_command(const ScoreArgs& args) {
  setup_logging();
  if (args.format != "text" && args.format != "jsonl") {
    throw std::invalid_argument("--format must be text or jsonl, got '" + args.format + "'");
  }
  DecodingModel m = load_for_decoding(args);
  const SentencePairs pairs =
      read_sentence_pairs(*m.task, args.source, args.target, m.config.model.max_positions);
  std::vector<double> log_prob(pairs.size(), 0.0);
  std::vector<int64_t> tokens(pairs.size(), 0);
  for (const ForcedBatch& batch : forced_batches(pairs, *m.task, m.config.decode.max_tokens)) {
    const torch::Tensor sums =
        gold_log_probs(forced_logits(m.model, batch.src, batch.tgt_in), batch.tgt_out, m.task->vocab().pad_id)
            .sum(1);                                                         // [rows] float64
    const torch::Tensor counts = batch.tgt_out.ne(m.task->vocab().pad_id).sum(1);  // [rows] int64
    for (size_t r = 0; r < batch.rows.size(); ++r) {
      log_prob[batch.rows[r]] = sums[static_cast<int64_t>(r)].item<double>();
      tokens[batch.rows[r]] = counts[static_cast<int64_t>(r)].item<int64_t>();
    }
  }

  std::ostringstream out;
  out << std::fixed << std::setprecision(4);
  double total_log_prob = 0.0;
  int64_t total_tokens = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const bool scored = pairs.scored(i);
    const double ppl = std::exp(-log_prob[i] / static_cast<double>(std::max<int64_t>(tokens[i], 1)));
    if (args.format == "jsonl") {
      nlohmann::json j{{"line", i + 1}, {"tokens", tokens[i]}};
      j["log_prob"] = scored ? nlohmann::json(log_prob[i]) : nlohmann::json(nullptr);
      j["ppl"] = scored ? nlohmann::json(ppl) : nlohmann::json(nullptr);
      out << j.dump() << '\n';
    } else if (scored) {
      out << log_prob[i] << '\t' << tokens[i] << '\t' << ppl << '\n';
    } else {
      out << "-\t0\t-\n";  // an empty side: nothing to score
    }
    total_log_prob += log_prob[i];
    total_tokens += tokens[i];
  }
  if (args.output.empty() || args.output == "-") {
    std::cout << out.str() << std::flush;
  } else {
    write_text_atomically(args.output, out.str());
  }
  const double nll = -total_log_prob / static_cast<double>(std::max<int64_t>(total_tokens, 1));
  spdlog::info("[score] {} pairs, {} scored ({} with an empty side not), {} target tokens: NLL {:.4f} a token, "
               "perplexity {:.2f}",
               pairs.size(), pairs.size() - static_cast<size_t>(pairs.empty), pairs.empty, total_tokens, nll,
               std::exp(nll));
  return 0;
}

}  // namespace tmt
