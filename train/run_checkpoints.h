#pragma once
// The checkpoints of a run directory: numbered checkpoint_<update>.pt files (the newest K kept),
// checkpoint_last.pt (the newest) and checkpoint_best.pt (the best validation), and finding
// where to resume.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/checkpoint.h"

namespace tmt {

/// RUN_DIR/checkpoint_<update>.pt.
std::string numbered_checkpoint_path(const std::string& run_dir, int64_t update);
/// RUN_DIR/checkpoint_last.pt: the newest training checkpoint.
std::string last_checkpoint_path(const std::string& run_dir);
/// RUN_DIR/checkpoint_best.pt: the one with the best validation figure.
std::string best_checkpoint_path(const std::string& run_dir);

/// (update, path) of every checkpoint_<update>.pt in `run_dir`, oldest first.
std::vector<std::pair<int64_t, std::string>> numbered_checkpoints(const std::string& run_dir);

/// Deletes all but the newest `keep` numbered checkpoints (0 keeps all); returns what it deleted.
std::vector<std::string> prune_checkpoints(const std::string& run_dir, int64_t keep);

/// Deletes the temporary files of writes a killed run left unfinished (checkpoint_*.pt.tmp.PID,
/// checkpoint_last.pt.tmp, config.yaml.tmp.PID, and metrics.jsonl.tmp.PID of a resume that was
/// cutting the curve back to its checkpoint); returns their paths.
std::vector<std::string> remove_unfinished_writes(const std::string& run_dir);

/// Makes `link` hold the same bytes as `target`: a hard link renamed into place, so readers
/// never see a partial file (a copy, also renamed into place, where hard links fail).
void link_checkpoint(const std::string& target, const std::string& link);

/// A checkpoint to resume from and the file it came from.
struct ResumePoint {
  std::string path;
  Checkpoint checkpoint;
};

/// The newest numbered checkpoint with training state that reads and verifies. Each newer one
/// that does not is described (path and reason) in `skipped`. nullopt when there is none.
std::optional<ResumePoint> newest_valid_checkpoint(const std::string& run_dir, std::vector<std::string>& skipped);

}  // namespace tmt
