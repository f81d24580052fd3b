// Times full training updates (forward, label-smoothed loss, backward, Adam with the noam rate)
// of a config's model on fixed-size synthetic batches, on CPU or GPU.
//
//   bench_train --config CONFIG [--device auto|cpu|cuda|cuda:N] [--batch-sentences 128]
//               [--src-len 16] [--tgt-len 16] [--warmup 3] [--iters 10] [--peak-tflops X]
//               [--bf16] [--save-batches FILE [--save-weights]] [--profile TRACE]
//               [--set section.key=value ...]
//
// Protocol: `--warmup` untimed updates, then `--iters` updates each timed on its own, the
// device synchronised before every clock reading. An update is one tmt::Trainer::step on one
// batch (train.update_freq is not applied): forward, criterion, backward, the gradient-norm
// NaN/Inf guard, Adam. Every update gets its own batch, seeded by train.seed: random ids in
// [4, vocab) laid out like data/batcher.cpp's make_batch (source ending in eos, tgt_in starting
// with bos, tgt_out = tgt_in shifted left and ending in eos; no padding), already on the device
// when the clock starts. --device defaults to the config's train.device; --bf16 sets
// train.precision: bf16. Prints a table and one final line `RESULT {json}` for scripts.
//
// --save-batches writes the batches and the model/criterion/optimiser settings with
// torch::pickle_save, a file Python's torch.load reads: a tuple (settings as a JSON string,
// tuple of (src, tgt_in, tgt_out) tuples[, tuple of (name, tensor) initial parameters]).
// bench/reference_transformer.py times the same architecture in plain PyTorch on it;
// bench/compare_train.sh runs both. --save-weights adds the initial parameters and tmt's loss of
// the first batch in eval mode (no dropout), so the reference can check that it computes the
// same function before it times anything.

#include <torch/csrc/autograd/profiler_legacy.h>  // torch::autograd::profiler::RecordProfile
#include <torch/csrc/jit/serialization/pickle.h>      // torch::pickle_save
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/config.h"
#include "base/atomic_file.h"
#include "data/batch.h"
#include "data/vocabulary.h"
#include "model/attention.h"
#include "model/cpu_runtime.h"
#include "model/device.h"
#include "model/torch_compat.h"
#include "model/transformer.h"
#include "train/trainer.h"

namespace {

struct Args {
  std::string config;
  std::vector<std::string> overrides;
  std::string device;  // empty: the config's train.device
  int64_t batch_sentences = 128;
  int64_t src_len = 16;
  int64_t tgt_len = 16;
  int64_t warmup = 3;
  int64_t iters = 10;
  double peak_tflops = 0.0;
  bool bf16 = false;
  std::string save_batches;
  bool save_weights = false;
  std::string profile;  // chrome trace of the timed updates (bench/profile_summary.py reads it)
};

// Batch shape and model dimensions that the FLOP count needs.
struct Shape {
  int64_t batch, src_len, tgt_len, layers, d_model, d_ff, vocab;
};

// Matrix-multiply FLOPs of one training update, counted analytically (2 FLOPs per
// multiply-add; B sentences, S source and T target positions, d = d_model, f = d_ff, L layers,
// V target vocabulary). Per-head products are summed over heads, so heads * head_dim = d.
//
//   encoder layer:  q,k,v,out projections   4 * 2*B*S*d*d
//                   Q K^T and A V           2 * 2*B*S*S*d
//                   feed-forward            2 * 2*B*S*d*f
//   decoder layer:  self q,k,v,out          4 * 2*B*T*d*d
//                   self Q K^T and A V      2 * 2*B*T*T*d   (full matrix: the causal mask
//                                                             does not skip work)
//                   cross q,out (targets)   2 * 2*B*T*d*d
//                   cross k,v (memory)      2 * 2*B*S*d*d   (each layer projects the memory)
//                   cross Q K^T and A V     2 * 2*B*T*S*d
//                   feed-forward            2 * 2*B*T*d*f
//   output projection over the vocabulary   2*B*T*d*V
//
//   forward = L * (encoder layer + decoder layer) + output projection
//   update  = 3 * forward (the backward pass computes two products per forward product: the
//             gradients of the input and of the weight)
//
// Not counted: embeddings (gathers), softmax, LayerNorm, dropout, the criterion, the optimiser.
double update_flops(const Shape& s) {
  const double b = s.batch, src = s.src_len, tgt = s.tgt_len, d = s.d_model, f = s.d_ff;
  const double encoder = 8 * b * src * d * d + 4 * b * src * src * d + 4 * b * src * d * f;
  const double decoder = 8 * b * tgt * d * d + 4 * b * tgt * tgt * d  // self-attention
                         + 4 * b * tgt * d * d + 4 * b * src * d * d + 4 * b * tgt * src * d  // cross
                         + 4 * b * tgt * d * f;
  const double output = 2 * b * tgt * d * static_cast<double>(s.vocab);
  return 3.0 * (static_cast<double>(s.layers) * (encoder + decoder) + output);
}

// One update's batch: random ids in [kEosId + 1, vocab), laid out as make_batch lays them out.
tmt::Batch synthetic_batch(int64_t sentences, int64_t src_len, int64_t tgt_len, int64_t vocab) {
  const int64_t first = tmt::kEosId + 1;
  torch::Tensor src = torch::randint(first, vocab, {sentences, src_len}, torch::kLong);  // [B, S]
  src.select(1, src_len - 1).fill_(tmt::kEosId);
  torch::Tensor words = torch::randint(first, vocab, {sentences, tgt_len - 1}, torch::kLong);  // [B, T-1]
  torch::Tensor bos = torch::full({sentences, 1}, tmt::kBosId, torch::kLong);                 // [B, 1]
  torch::Tensor eos = torch::full({sentences, 1}, tmt::kEosId, torch::kLong);                 // [B, 1]
  return tmt::Batch{src, torch::cat({bos, words}, 1),  // tgt_in  [B, T]
                    torch::cat({words, eos}, 1)};      // tgt_out [B, T]
}

// One update on one batch; the one call into the trainer, so that a change of its signature
// touches one line.
tmt::UpdateStats train_update(tmt::Trainer& trainer, const tmt::Batch& batch) { return trainer.step({batch}); }

// OpenBLAS's own thread count (its pthreads are not LibTorch's intra-op threads); -1 when the
// process multiplies with another BLAS.
int openblas_threads() {
  using Getter = int (*)();
  const auto get = reinterpret_cast<Getter>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get != nullptr ? get() : -1;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The settings the Python reference needs to build the same model, criterion and optimiser.
std::string settings_json(const tmt::Config& c, const tmt::VocabInfo& vocab, const Args& a, int64_t params,
                          double flops, double init_eval_loss) {
  const auto& m = c.model;
  const auto& t = c.train;
  std::ostringstream j;
  j.precision(17);
  j << "{\"config\": " << json_string(a.config) << ", \"layers\": " << m.layers << ", \"d_model\": " << m.d_model
    << ", \"d_ff\": " << m.d_ff << ", \"heads\": " << m.heads << ", \"dropout\": " << m.dropout
    << ", \"attention_dropout\": " << m.attention_dropout
    << ", \"share_embeddings\": " << (m.share_embeddings ? "true" : "false")
    << ", \"pre_norm\": " << (m.pre_norm ? "true" : "false") << ", \"max_positions\": " << m.max_positions
    << ", \"src_vocab\": " << vocab.src_size << ", \"tgt_vocab\": " << vocab.tgt_size
    << ", \"pad_id\": " << vocab.pad_id << ", \"label_smoothing\": " << t.criterion.label_smoothing
    << ", \"smoothing_variant\": " << json_string(tmt::to_string(t.criterion.variant))
    << ", \"loss_form\": " << json_string(tmt::to_string(t.criterion.form))
    << ", \"loss_reduction\": " << json_string(tmt::to_string(t.criterion.reduction))
    << ", \"class_weights\": " << t.criterion.class_weights.size() << ", \"lr_factor\": " << t.lr_factor
    << ", \"warmup_updates\": " << t.warmup_updates << ", \"adam_beta1\": " << t.adam_beta1
    << ", \"adam_beta2\": " << t.adam_beta2 << ", \"adam_eps\": " << t.adam_eps << ", \"seed\": " << t.seed
    << ", \"fused_attention\": " << (tmt::fused_attention_available() ? "true" : "false")
    << ", \"warmup\": " << a.warmup << ", \"iters\": " << a.iters << ", \"threads\": " << torch::get_num_threads()
    << ", \"parameters\": " << params << ", \"flops_per_update\": " << flops;
  if (a.save_weights) j << ", \"init_eval_loss\": " << init_eval_loss;
  j << "}";
  return j.str();
}

// `model` is null unless its parameters go into the file too.
void save_batches(const std::string& path, const std::string& settings, const std::vector<tmt::Batch>& batches,
                  const tmt::TransformerImpl* model) {
  std::vector<c10::IValue> items;
  for (const auto& b : batches) {
    items.emplace_back(c10::ivalue::Tuple::create({b.src.cpu(), b.tgt_in.cpu(), b.tgt_out.cpu()}));
  }
  std::vector<c10::IValue> contents{c10::IValue(settings), c10::ivalue::Tuple::create(items)};
  if (model != nullptr) {
    std::vector<c10::IValue> weights;
    for (const auto& p : model->named_parameters()) {
      weights.emplace_back(c10::ivalue::Tuple::create({c10::IValue(p.key()), p.value().detach().cpu()}));
    }
    contents.emplace_back(c10::ivalue::Tuple::create(weights));
  }
  const c10::IValue file = c10::ivalue::Tuple::create(contents);
  const std::vector<char> bytes = torch::pickle_save(file);
  tmt::write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + tmp);
  });
}

double percentile_sorted(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

int run(const Args& a) {
  tmt::Config config = tmt::load_config(a.config, a.overrides);
  if (a.bf16) config.train.precision = tmt::Precision::bf16;
  if (a.save_weights && a.save_batches.empty()) throw std::invalid_argument("--save-weights needs --save-batches");
  if (a.src_len < 1 || a.tgt_len < 1 || a.batch_sentences < 1 || a.warmup < 0 || a.iters < 1) {
    throw std::invalid_argument("--batch-sentences, --src-len, --tgt-len and --iters must be >= 1 and --warmup >= 0");
  }
  if (std::max(a.src_len, a.tgt_len) > config.model.max_positions) {
    throw std::invalid_argument("--src-len/--tgt-len exceed model.max_positions " +
                                std::to_string(config.model.max_positions));
  }
  const int64_t vocab_size = config.data.vocab_size;
  if (vocab_size <= tmt::kEosId + 1) {
    throw std::invalid_argument("data.vocab_size must exceed " + std::to_string(tmt::kEosId + 1) +
                                " for synthetic ids, got " + std::to_string(vocab_size));
  }
  const torch::Device device =
      tmt::resolve_device(a.device.empty() ? config.train.device : tmt::DeviceSpec::parse(a.device));
  const bool bf16 = config.train.precision == tmt::Precision::bf16 && device.is_cuda();
  if (config.train.precision == tmt::Precision::bf16 && !bf16) {
    std::fprintf(stderr, "bench_train: bf16 applies to CUDA only; timing fp32 on CPU\n");
  }
  if (config.train.update_freq != 1) {
    std::fprintf(stderr, "bench_train: train.update_freq %lld not applied: one batch per update\n",
                 static_cast<long long>(config.train.update_freq));
  }
  if (config.train.threads > 0) torch::set_num_threads(static_cast<int>(config.train.threads));
  tmt::configure_cuda_kernels();
  torch::manual_seed(config.train.seed);

  const tmt::VocabInfo vocab{vocab_size, vocab_size, tmt::kPadId};
  tmt::Transformer model(config.model, vocab);
  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  tmt::Trainer trainer(model, config.train, device);  // moves the model to the device

  std::vector<tmt::Batch> batches;
  for (int64_t i = 0; i < a.warmup + a.iters; ++i) {
    batches.push_back(synthetic_batch(a.batch_sentences, a.src_len, a.tgt_len, vocab_size));
  }
  const Shape shape{a.batch_sentences, a.src_len, a.tgt_len, config.model.layers, config.model.d_model,
                    config.model.d_ff, vocab.tgt_size};
  const double flops = update_flops(shape);
  if (!a.save_batches.empty()) {
    double init_eval_loss = 0.0;
    if (a.save_weights) {
      const tmt::UpdateStats e = trainer.evaluate(batches.front());
      init_eval_loss = e.loss_sum / static_cast<double>(e.tokens);
    }
    save_batches(a.save_batches, settings_json(config, vocab, a, params, flops, init_eval_loss), batches,
                 a.save_weights ? trainer.model().get() : nullptr);
  }
  for (auto& b : batches) {
    b.src = b.src.to(device);
    b.tgt_in = b.tgt_in.to(device);
    b.tgt_out = b.tgt_out.to(device);
  }

  tmt::reset_peak_memory(device);
  double loss = 0.0;
  int64_t skipped = 0;  // NaN/Inf updates the trainer refused; timings then mean little
  for (int64_t i = 0; i < a.warmup; ++i) train_update(trainer, batches[i]);
  tmt::synchronize(device);
  std::vector<double> ms;
  // The profiler adds overhead per op: its timings and the printed ones are not comparable.
  std::unique_ptr<torch::autograd::profiler::RecordProfile> profiler;
  if (!a.profile.empty()) profiler = std::make_unique<torch::autograd::profiler::RecordProfile>(a.profile);
  for (int64_t i = a.warmup; i < a.warmup + a.iters; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const tmt::UpdateStats s = train_update(trainer, batches[i]);
    tmt::synchronize(device);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    loss = s.tokens > 0 ? s.loss_sum / static_cast<double>(s.tokens) : 0.0;
    skipped += s.skipped ? 1 : 0;
  }
  profiler.reset();  // writes the trace
  const int64_t peak = tmt::peak_memory_bytes(device);

  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const double median = percentile_sorted(sorted, 0.5);
  const double mean = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());
  const double tgt_tokens = static_cast<double>(a.batch_sentences * a.tgt_len);  // no padding
  const double all_tokens = static_cast<double>(a.batch_sentences * (a.src_len + a.tgt_len));
  const double tgt_per_s = tgt_tokens / (median / 1e3);
  const double all_per_s = all_tokens / (median / 1e3);
  const double tflops = flops / (median / 1e3) / 1e12;
  const double mfu = a.peak_tflops > 0 ? tflops / a.peak_tflops : 0.0;
  const auto& m = config.model;

  std::printf("bench_train: %s on %s; %s\n", a.config.c_str(), device.str().c_str(),
              tmt::cpu_engine_description().c_str());
  std::printf("  model          %lld layers, d_model %lld, d_ff %lld, %lld heads, vocab %lld, %s, %s, %lld parameters\n",
              static_cast<long long>(m.layers), static_cast<long long>(m.d_model), static_cast<long long>(m.d_ff),
              static_cast<long long>(m.heads), static_cast<long long>(vocab.tgt_size),
              m.share_embeddings ? "tied embeddings" : "untied embeddings", m.pre_norm ? "pre-norm" : "post-norm",
              static_cast<long long>(params));
  std::printf("  batch          %lld sentences x %lld source x %lld target tokens, %s, %s attention, %lld warm-up + "
              "%lld timed updates\n",
              static_cast<long long>(a.batch_sentences), static_cast<long long>(a.src_len),
              static_cast<long long>(a.tgt_len), bf16 ? "bf16 autocast" : "fp32",
              tmt::automatic_attention_kernel(device), static_cast<long long>(a.warmup),
              static_cast<long long>(a.iters));
  std::printf("  ms/update      median %.2f, mean %.2f, min %.2f, max %.2f\n", median, mean, sorted.front(),
              sorted.back());
  std::printf("  tokens/s       %.0f target, %.0f source+target (at the median)\n", tgt_per_s, all_per_s);
  std::printf("  matmul FLOPs   %.3f GFLOP/update, %.4f TFLOP/s", flops / 1e9, tflops);
  if (a.peak_tflops > 0) {
    std::printf(", MFU %.2f%% of %g TFLOP/s\n", 100.0 * mfu, a.peak_tflops);
  } else {
    std::printf(" (MFU: give --peak-tflops)\n");
  }
  std::printf("  peak memory    %.1f MiB (%s)\n", static_cast<double>(peak) / 1048576.0,
              device.is_cuda() ? "CUDA allocator peak" : "process peak resident set");
  std::printf("  last loss      %.4f per target token%s\n", loss,
              skipped > 0 ? " (WARNING: the trainer skipped non-finite updates)" : "");

  std::printf("RESULT {\"impl\": \"tmt\", \"config\": %s, \"device\": %s, \"torch\": %s, \"threads\": %d, "
              "\"openblas_threads\": %d, \"dtype\": %s, \"attention\": %s, \"batch_sentences\": %lld, \"src_len\": %lld, \"tgt_len\": %lld, \"warmup\": %lld, "
              "\"iters\": %lld, \"parameters\": %lld, \"ms_median\": %.4f, \"ms_mean\": %.4f, \"ms_min\": %.4f, "
              "\"ms_max\": %.4f, \"tgt_tokens_per_s\": %.2f, \"tokens_per_s\": %.2f, \"flops_per_update\": %.6e, "
              "\"tflops\": %.6f, \"peak_tflops\": %g, \"mfu\": %s, \"peak_memory_bytes\": %lld, \"loss\": %.6f, "
              "\"skipped\": %lld}\n",
              json_string(a.config).c_str(), json_string(device.str()).c_str(),
              json_string(tmt::torch_version()).c_str(), torch::get_num_threads(), openblas_threads(), bf16 ? "\"bf16\"" : "\"fp32\"",
              json_string(tmt::automatic_attention_kernel(device)).c_str(),
              static_cast<long long>(a.batch_sentences), static_cast<long long>(a.src_len),
              static_cast<long long>(a.tgt_len), static_cast<long long>(a.warmup), static_cast<long long>(a.iters),
              static_cast<long long>(params), median, mean, sorted.front(), sorted.back(), tgt_per_s, all_per_s,
              flops, tflops, a.peak_tflops, a.peak_tflops > 0 ? std::to_string(mfu).c_str() : "null",
              static_cast<long long>(peak), loss, static_cast<long long>(skipped));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Times training updates of a tmt config on synthetic batches"};
  Args a;
  app.add_option("-c,--config", a.config, "tmt YAML config")->required();
  app.add_option("--set", a.overrides, "Override a config key: section.key=value (repeatable)");
  app.add_option("--device", a.device, "auto, cpu, cuda or cuda:N (default: the config's train.device)");
  app.add_option("--batch-sentences", a.batch_sentences, "Sentences per update");
  app.add_option("--src-len", a.src_len, "Source positions per sentence (eos included)");
  app.add_option("--tgt-len", a.tgt_len, "Target positions per sentence (bos/eos included)");
  app.add_option("--warmup", a.warmup, "Untimed updates first");
  app.add_option("--iters", a.iters, "Timed updates");
  app.add_option("--peak-tflops", a.peak_tflops, "Device peak TFLOP/s for model FLOP utilisation (0: not printed)");
  app.add_flag("--bf16", a.bf16, "bf16 autocast (CUDA only)");
  app.add_option("--save-batches", a.save_batches, "Write batches and settings for bench/reference_transformer.py");
  app.add_flag("--save-weights", a.save_weights,
               "Add the initial parameters and the first batch's eval-mode loss, for an equivalence check");
  app.add_option("--profile", a.profile,
                 "Write a chrome trace of the timed updates (LibTorch's profiler; summarise with "
                 "bench/profile_summary.py). Timings printed with it include the profiler's overhead");
  CLI11_PARSE(app, argc, argv);
  try {
    tmt::ensure_fast_cpu_runtime(argv, /*training=*/true);  // as `tmt train` runs
    return run(a);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "bench_train: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train: error: %s\n", e.what());
    return 1;
  }
}
