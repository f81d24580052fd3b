#pragma once
// What a training run tells people: log lines, one JSON object per logging interval and per
// validation in RUN_DIR/metrics.jsonl, and a progress line when stderr is a terminal.

#include <cstdint>
#include <fstream>
#include <string>

#include "train/trainer.h"
#include "train/validation_result.h"

namespace tmt {

/// One logging interval's figures.
struct IntervalReport {
  int64_t update = 0;
  int64_t epoch = 0;          // 1-based, as people count epochs
  double lr = 0.0;
  IntervalStats stats;
  double tokens_per_s = 0.0;  // target tokens per second
  double grad_norm = 0.0;     // mean over the interval's applied updates
  double padding = 0.0;       // padding fraction of the interval's batches
  double elapsed_s = 0.0;     // training wall time, previous runs of a resumed training included
  double peak_mem_mib = 0.0;
};

/// Writes the log lines and metrics of one run.
class TrainLog {
 public:
  /// Opens RUN_DIR/metrics.jsonl for appending; a resumed run first drops the lines written
  /// after `resumed_update` (by the run that was cut off) and a torn last line. A disabled log
  /// (ranks other than 0 of a multi-process job) writes and prints nothing.
  TrainLog(const std::string& run_dir, int64_t resumed_update, int64_t max_updates, bool enabled = true);

  void interval(const IntervalReport& report);
  void validation(const ValidationResult& result, double elapsed_s, bool best);
  /// Redraws the progress line (terminal only) after update `update`.
  void progress(int64_t update, double loss, double tokens_per_s, double elapsed_s);
  /// Clears the progress line so a log line can take its place.
  void clear_progress();

 private:
  void write(const std::string& json_line);

  std::string path_;
  std::ofstream out_;
  int64_t max_updates_;
  bool enabled_;
  bool terminal_;
  bool progress_shown_ = false;
};

}  // namespace tmt
