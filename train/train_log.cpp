#include "train/train_log.h"

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "base/atomic_file.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Keeps the lines of an earlier run that belong to updates up to `update`.
void truncate_metrics(const std::string& path, int64_t update) {
  std::ifstream in(path);
  if (!in) return;
  std::string kept;
  std::string line;
  int64_t dropped = 0;
  while (std::getline(in, line)) {
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("update") && j["update"].is_number_integer() && j["update"].get<int64_t>() <= update) {
      kept += line + "\n";
    } else {
      ++dropped;
    }
  }
  if (dropped > 0) {
    write_text_atomically(path, kept);
    spdlog::info("[train] {}: dropped {} line(s) written after update {} by the interrupted run", path, dropped,
                 update);
  }
}

std::string format_seconds(double s) {
  const auto total = static_cast<int64_t>(s);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%ld:%02ld:%02ld", static_cast<long>(total / 3600),
                static_cast<long>(total / 60 % 60), static_cast<long>(total % 60));
  return buffer;
}

}  // namespace

TrainLog::TrainLog(const std::string& run_dir, int64_t resumed_update, int64_t max_updates, bool enabled)
    : path_((fs::path(run_dir) / "metrics.jsonl").string()),
      max_updates_(max_updates),
      enabled_(enabled),
      terminal_(enabled && isatty(STDERR_FILENO) == 1) {
  if (!enabled_) return;
  if (resumed_update > 0) {
    truncate_metrics(path_, resumed_update);
  } else {
    fs::remove(path_);  // a fresh start (--no-resume) begins a fresh curve
  }
  out_.open(path_, std::ios::app);
  if (!out_) throw std::runtime_error("cannot open '" + path_ + "' for writing");
}

void TrainLog::write(const std::string& json_line) {
  if (!enabled_) return;
  out_ << json_line << '\n';
  out_.flush();
  if (!out_) throw std::runtime_error("cannot write to '" + path_ + "'");
}

void TrainLog::interval(const IntervalReport& r) {
  if (!enabled_) return;
  clear_progress();
  spdlog::info("[train] epoch {} | update {} | lr {:.3e} | loss {:.4f} | nll {:.4f} | ppl {:.3f} | acc {:.2f}% | "
               "gnorm {:.3f} | {:.0f} tok/s | {}",
               r.epoch, r.update, r.lr, r.stats.loss(), r.stats.nll(), r.stats.perplexity(),
               100.0 * r.stats.accuracy(), r.grad_norm, r.tokens_per_s, format_seconds(r.elapsed_s));
  write(json{{"kind", "train"},
             {"update", r.update},
             {"epoch", r.epoch},
             {"lr", r.lr},
             {"loss", r.stats.loss()},
             {"nll", r.stats.nll()},
             {"ppl", r.stats.perplexity()},
             {"acc", r.stats.accuracy()},
             {"tokens_per_s", r.tokens_per_s},
             {"grad_norm", r.grad_norm},
             {"padding", r.padding},
             {"elapsed_s", r.elapsed_s},
             {"peak_mem_mib", r.peak_mem_mib}}
            .dump());
}

void TrainLog::validation(const ValidationResult& v, double elapsed_s, bool best) {
  if (!enabled_) return;
  clear_progress();
  const std::string bleu = v.bleu ? fmt::format(" | bleu {:.2f}", *v.bleu) : "";
  spdlog::info("[train] valid | update {} | loss {:.4f} | nll {:.4f} | ppl {:.3f} | acc {:.2f}%{}{} | {:.1f} s",
               v.update, v.loss, v.nll, v.perplexity, 100.0 * v.accuracy, bleu, best ? " | new best" : "",
               v.seconds);
  write(json{{"kind", "valid"},
             {"update", v.update},
             {"loss", v.loss},
             {"nll", v.nll},
             {"ppl", v.perplexity},
             {"acc", v.accuracy},
             {"bleu", v.bleu ? json(*v.bleu) : json(nullptr)},
             {"elapsed_s", elapsed_s}}
            .dump());
}

void TrainLog::progress(int64_t update, double loss, double tokens_per_s, double elapsed_s) {
  if (!terminal_) return;
  constexpr int kWidth = 30;
  const double done = max_updates_ > 0 ? static_cast<double>(update) / static_cast<double>(max_updates_) : 0.0;
  const int filled = static_cast<int>(done * kWidth);
  const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
  std::fprintf(stderr, "\r\033[K[%s] %ld/%ld | loss %.4f | %.0f tok/s | %s", bar.c_str(), static_cast<long>(update),
               static_cast<long>(max_updates_), loss, tokens_per_s, format_seconds(elapsed_s).c_str());
  std::fflush(stderr);
  progress_shown_ = true;
}

void TrainLog::clear_progress() {
  if (!progress_shown_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  progress_shown_ = false;
}

}  // namespace tmt
