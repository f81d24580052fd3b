#include "app/validation.h"

#include <chrono>
#include <string>

#include "decode/beam_search.h"
#include "metrics/bleu.h"

namespace tmt {

ValidationResult validate(Trainer& trainer, const Task& task, const ValidationSet& valid, const TrainConfig& config,
                          const DecodeConfig& decode) {
  const auto start = std::chrono::steady_clock::now();
  // Beam 1 with alpha 0 is greedy decoding.
  DecodeConfig options = decode;
  options.beam_size = config.valid_beam_size;
  options.nbest = 1;
  if (config.valid_beam_size == 1) options.alpha = 0.0;
  IntervalStats totals;
  std::vector<std::string> hyps;
  for (const Batch& batch : valid.batches) {
    totals.add(trainer.evaluate(batch));
    if (!config.valid_bleu) continue;
    torch::NoGradGuard no_grad;
    for (const auto& best : beam_search(trainer.model(), batch.src.to(trainer.device()), task.start_id(),
                                        task.end_id(), options)) {
      hyps.push_back(task.format(best.front().tokens));
    }
  }
  ValidationResult r;
  r.update = trainer.updates();
  r.loss = totals.loss();
  r.nll = totals.nll();
  r.perplexity = totals.perplexity();
  r.accuracy = totals.accuracy();
  if (config.valid_bleu) r.bleu = corpus_bleu(hyps, {valid.references}).score;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace tmt
