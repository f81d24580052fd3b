#include "app/validation.h"

#include <chrono>
#include <string>

#include "decode/beam_search.h"
#include "metrics/bleu.h"

namespace tmt {
namespace {

std::vector<int32_t> target_ids(const ParallelCorpus& corpus, int64_t i) {
  std::vector<int64_t> ids(static_cast<size_t>(corpus.tgt_length(i)));
  corpus.copy_tgt(i, ids.data());
  return std::vector<int32_t>(ids.begin(), ids.end());
}

// Translations of one batch's sources, as piece ids without start and end symbols. Beam 1 with
// alpha 0 is greedy decoding.
std::vector<std::vector<int32_t>> translate_batch(Transformer& model, const torch::Tensor& src,
                                                  const TrainConfig& config, const DecodeConfig& decode) {
  DecodeConfig options = decode;
  options.beam_size = config.valid_beam_size;
  options.nbest = 1;
  if (config.valid_beam_size == 1) options.alpha = 0.0;
  std::vector<std::vector<int32_t>> out;
  for (const auto& hyps : beam_search(model, src, kBosId, kEosId, options)) {
    out.emplace_back(hyps.front().tokens.begin(), hyps.front().tokens.end());
  }
  return out;
}

}  // namespace

ValidationResult validate(Trainer& trainer, const ValidSet& valid, const TrainConfig& config,
                          const DecodeConfig& decode) {
  const auto start = std::chrono::steady_clock::now();
  IntervalStats totals;
  std::vector<std::string> hyps;
  std::vector<std::string> refs;
  for (const BatchIndices& indices : valid.batches) {
    const Batch batch = make_batch(*valid.corpus, indices);
    totals.add(trainer.evaluate(batch));
    if (!config.valid_bleu) continue;
    torch::NoGradGuard no_grad;
    const auto translations = translate_batch(trainer.model(), batch.src.to(trainer.device()), config, decode);
    for (size_t i = 0; i < indices.size(); ++i) {
      hyps.push_back(valid.vocab->decode(translations[i]));
      refs.push_back(valid.vocab->decode(target_ids(*valid.corpus, indices[i])));
    }
  }
  ValidationResult r;
  r.update = trainer.updates();
  r.loss = totals.loss();
  r.nll = totals.nll();
  r.perplexity = totals.perplexity();
  r.accuracy = totals.accuracy();
  if (config.valid_bleu) r.bleu = corpus_bleu(hyps, {refs}).score;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace tmt
