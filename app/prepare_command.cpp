#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "app/config.h"
#include "app/logging.h"
#include "app/subcommands.h"
#include "data/prepare.h"
#include "data/vocabulary.h"

namespace tmt {

int prepare_command(const RunArgs& args) {
  const Config config = load_config(args.config, args.overrides);
  const std::string run_dir = run_dir_of(args);
  const std::string data_dir = (std::filesystem::path(run_dir) / "data").string();
  std::filesystem::create_directories(run_dir);
  setup_logging((std::filesystem::path(run_dir) / "prepare.log").string());
  spdlog::info("[data] preparing {} -> {} (data.dir {})", args.config, data_dir, config.data.dir);
  const auto start = std::chrono::steady_clock::now();
  const PrepareReport report = prepare_data(config.data, config.train.seed, config.train.threads, data_dir);
  spdlog::info("[data] SentencePiece {} model: {} pieces, hash {}, trained in {:.1f} s -> {}",
               to_string(config.data.subword_model), report.vocab_size, report.vocab_hash,
               report.vocab_seconds, report.vocab_path);
  if (report.vocab_long_sentences > 0) {
    spdlog::warn("[data] {} training sentences over {} bytes were left out of SentencePiece training",
                 report.vocab_long_sentences, kMaxVocabSentenceBytes);
  }
  for (const SplitReport& s : report.splits) {
    spdlog::info("[data] {}: {} pairs read, {} kept ({} source / {} target tokens) -> {}", s.name, s.read,
                 s.kept, s.src_tokens, s.tgt_tokens, s.output);
    const int64_t dropped = s.invalid_utf8 + s.empty + s.too_long + s.bad_ratio;
    if (dropped > 0) {
      spdlog::info("[data] {}: dropped {} pairs: {} invalid UTF-8, {} empty, {} longer than {} tokens, {} with "
                   "length ratio over {}",
                   s.name, dropped, s.invalid_utf8, s.empty, s.too_long, config.data.max_len, s.bad_ratio,
                   config.data.max_ratio);
    }
  }
  spdlog::info("[data] prepared in {:.1f} s",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return 0;
}

}  // namespace tmt
