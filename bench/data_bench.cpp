// Times `tmt prepare` end to end and batch assembly from the binarised data.
//
//   bench_data CONFIG RUN_DIR [--set section.key=value ...]
//
// Runs prepare (SentencePiece training included) into RUN_DIR/data, then plans the training
// split's batches at data.max_tokens and assembles one epoch of batch tensors, printing
// tokens per second and the padding fraction.

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "app/config.h"
#include "data/batcher.h"
#include "data/prepare.h"
#include "data/vocabulary.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_data CONFIG RUN_DIR [--set section.key=value ...]\n");
    return 2;
  }
  std::vector<std::string> overrides;
  for (int i = 3; i + 1 < argc; i += 2) overrides.emplace_back(argv[i + 1]);
  const tmt::Config config = tmt::load_config(argv[1], overrides);
  const std::string data_dir = std::string(argv[2]) + "/data";

  auto start = std::chrono::steady_clock::now();
  const tmt::PrepareReport report = tmt::prepare_data(config.data, config.train.seed, config.train.threads, data_dir);
  const double prepare_s = seconds_since(start);
  std::printf("prepare %s: %.2f s end to end (SentencePiece %.2f s), %lld training pairs kept\n", argv[1],
              prepare_s, report.vocab_seconds, static_cast<long long>(report.splits[0].kept));

  const tmt::Vocabulary vocab(tmt::vocab_path(data_dir));
  const tmt::ParallelCorpus corpus(tmt::split_path(data_dir, "train"), vocab.size(), vocab.hash(), vocab.path());
  start = std::chrono::steady_clock::now();
  const tmt::TokenBatcher batcher = tmt::make_batcher(corpus, config.data.max_tokens, config.train.seed);
  const double plan_s = seconds_since(start);

  start = std::chrono::steady_clock::now();
  int64_t tokens = 0;
  for (const tmt::BatchIndices& indices : batcher.epoch_batches(0)) {
    const tmt::Batch b = tmt::make_batch(corpus, indices);
    tokens += b.src.ne(tmt::kPadId).sum().item<int64_t>() + b.tgt_out.ne(tmt::kPadId).sum().item<int64_t>();
  }
  const double epoch_s = seconds_since(start);
  std::printf("batching at max_tokens %lld: %lld batches, padding %.2f%%, plan %.3f s, assembly %.3f s for "
              "%lld tokens = %.2f M tokens/s\n",
              static_cast<long long>(config.data.max_tokens), static_cast<long long>(batcher.num_batches()),
              100.0 * batcher.padding_fraction(), plan_s, epoch_s, static_cast<long long>(tokens),
              tokens / epoch_s / 1e6);
  return 0;
}
