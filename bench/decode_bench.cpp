// Times batched beam search with cached incremental decoding against recomputing the whole
// prefix every step, on a Multi30k-sized Transformer (random seeded weights, or a checkpoint).
//
//   bench_decode [--sentences 1000] [--batch 64] [--beam 4] [--alpha 0.6]
//                [--max-len-a 1.0] [--max-len-b 0] [--layers 4] [--d-model 128] [--d-ff 256]
//                [--heads 4] [--vocab 8000] [--seed 1] [--checkpoint PATH]
//
// Sources are random token ids with Multi30k-like lengths (about 13 pieces + eos, 3 to 40).
// A random-weight model rarely emits eos, so nearly every hypothesis runs to its length limit;
// the default limit floor(1.0 * source length) + 0 makes outputs as long as real Multi30k
// translations, so the figures compare the two paths at a realistic output length. The mean
// length of the returned best hypotheses is printed with them. With --checkpoint the
// architecture flags must match the checkpoint; its vocabulary replaces --vocab.

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <stdexcept>
#include <optional>
#include <string>
#include <vector>

#include "decode/beam_search.h"
#include "model/checkpoint.h"
#include "model/transformer.h"

namespace {

constexpr int64_t kPad = 0, kBos = 2, kEos = 3;  // the project's SentencePiece ids

struct Args {
  int64_t sentences = 1000;
  int64_t batch = 64;
  int64_t seed = 1;
  int64_t vocab = 8000;
  std::string checkpoint;
  tmt::DecodeConfig beam;
  tmt::ModelConfig model;
};

Args parse(int argc, char** argv) {
  Args a;
  a.beam.max_len_b = 0;
  a.model.layers = 4;
  a.model.d_model = 128;
  a.model.d_ff = 256;
  a.model.heads = 4;
  a.model.dropout = 0.0;
  std::map<std::string, std::function<void(const std::string&)>> flags = {
      {"--sentences", [&](const std::string& v) { a.sentences = std::stoll(v); }},
      {"--batch", [&](const std::string& v) { a.batch = std::stoll(v); }},
      {"--seed", [&](const std::string& v) { a.seed = std::stoll(v); }},
      {"--vocab", [&](const std::string& v) { a.vocab = std::stoll(v); }},
      {"--checkpoint", [&](const std::string& v) { a.checkpoint = v; }},
      {"--beam", [&](const std::string& v) { a.beam.beam_size = std::stoll(v); }},
      {"--alpha", [&](const std::string& v) { a.beam.alpha = std::stod(v); }},
      {"--max-len-a", [&](const std::string& v) { a.beam.max_len_a = std::stod(v); }},
      {"--max-len-b", [&](const std::string& v) { a.beam.max_len_b = std::stoll(v); }},
      {"--layers", [&](const std::string& v) { a.model.layers = std::stoll(v); }},
      {"--d-model", [&](const std::string& v) { a.model.d_model = std::stoll(v); }},
      {"--d-ff", [&](const std::string& v) { a.model.d_ff = std::stoll(v); }},
      {"--heads", [&](const std::string& v) { a.model.heads = std::stoll(v); }},
  };
  for (int i = 1; i < argc; i += 2) {
    const auto flag = flags.find(argv[i]);
    if (flag == flags.end() || i + 1 >= argc) {
      throw std::invalid_argument(std::string("unknown flag or missing value: ") + argv[i]);
    }
    flag->second(argv[i + 1]);
  }
  if (a.sentences < 1 || a.batch < 1) {
    throw std::invalid_argument("--sentences and --batch must be >= 1");
  }
  a.beam.validate();
  return a;
}

// Right-padded batches of random sentences with Multi30k-like lengths, each ending in eos.
std::vector<torch::Tensor> make_batches(const Args& a, int64_t vocab) {
  torch::manual_seed(a.seed);
  const auto lengths =
      (torch::randn({a.sentences}) * 4.0 + 13.0).round().clamp(3, 40).to(torch::kLong);
  std::vector<torch::Tensor> batches;
  for (int64_t start = 0; start < a.sentences; start += a.batch) {
    const int64_t n = std::min(a.batch, a.sentences - start);
    const auto len = lengths.narrow(0, start, n);                         // [n]
    const int64_t width = len.max().item<int64_t>() + 1;
    auto src = torch::randint(kEos + 1, vocab, {n, width}, torch::kLong);  // [n, width]
    const auto position = torch::arange(width).unsqueeze(0);              // [1, width]
    src.masked_fill_(position.eq(len.unsqueeze(1)), kEos);
    src.masked_fill_(position.gt(len.unsqueeze(1)), kPad);
    batches.push_back(src);
  }
  return batches;
}

struct Figures {
  double seconds = 0.0;
  double mean_output = 0.0;
};

Figures run(tmt::Transformer& model, const std::vector<torch::Tensor>& batches,
            const tmt::DecodeConfig& options, tmt::DecoderState state) {
  int64_t tokens = 0;
  int64_t sentences = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& src : batches) {
    for (const auto& hyps : tmt::beam_search(model, src, kBos, kEos, options, state)) {
      tokens += hyps.empty() ? 0 : static_cast<int64_t>(hyps.front().tokens.size());
      ++sentences;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {seconds, static_cast<double>(tokens) / static_cast<double>(sentences)};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Args a = parse(argc, argv);
    tmt::VocabInfo vocab{a.vocab, a.vocab, kPad};
    std::optional<tmt::Checkpoint> checkpoint;
    if (!a.checkpoint.empty()) checkpoint = tmt::read_checkpoint(a.checkpoint);
    if (checkpoint) vocab = checkpoint->header.vocab;
    torch::manual_seed(a.seed);
    tmt::Transformer model(a.model, vocab);
    if (checkpoint) tmt::load_weights(checkpoint->model, *model, a.checkpoint);
    model->eval();
    const auto batches = make_batches(a, vocab.src_size);

    run(model, {batches.front()}, a.beam, tmt::DecoderState::cached);  // warm-up
    const Figures c = run(model, batches, a.beam, tmt::DecoderState::cached);
    const Figures u = run(model, batches, a.beam, tmt::DecoderState::recomputed);

    std::printf("beam search: %lld sentences in batches of %lld, beam %lld, alpha %.2f, "
                "max length floor(%.2f * src) + %lld, CPU, %d threads, LibTorch %s\n",
                static_cast<long long>(a.sentences), static_cast<long long>(a.batch),
                static_cast<long long>(a.beam.beam_size), a.beam.alpha, a.beam.max_len_a,
                static_cast<long long>(a.beam.max_len_b), torch::get_num_threads(),
                TORCH_VERSION);
    std::printf("model: layers %lld, d_model %lld, d_ff %lld, heads %lld, vocab %lld, %s\n",
                static_cast<long long>(a.model.layers), static_cast<long long>(a.model.d_model),
                static_cast<long long>(a.model.d_ff), static_cast<long long>(a.model.heads),
                static_cast<long long>(vocab.tgt_size),
                a.checkpoint.empty() ? "random weights" : a.checkpoint.c_str());
    std::printf("measured: wall time of encode + search for all sentences (mean best output "
                "%.1f tokens cached, %.1f uncached)\n",
                c.mean_output, u.mean_output);
    std::printf("  cached    %8.1f sentences/s  (%.2f s)\n", a.sentences / c.seconds, c.seconds);
    std::printf("  uncached  %8.1f sentences/s  (%.2f s)\n", a.sentences / u.seconds, u.seconds);
    std::printf("  speed-up %.2fx\n", u.seconds / c.seconds);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[bench] %s\n", e.what());
    return 1;
  }
}
