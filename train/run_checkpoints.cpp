#include "train/run_checkpoints.h"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <stdexcept>
#include <system_error>

namespace tmt {

namespace fs = std::filesystem;

std::string numbered_checkpoint_path(const std::string& run_dir, int64_t update) {
  return (fs::path(run_dir) / ("checkpoint_" + std::to_string(update) + ".pt")).string();
}

std::string last_checkpoint_path(const std::string& run_dir) {
  return (fs::path(run_dir) / "checkpoint_last.pt").string();
}

std::string best_checkpoint_path(const std::string& run_dir) {
  return (fs::path(run_dir) / "checkpoint_best.pt").string();
}

std::vector<std::pair<int64_t, std::string>> numbered_checkpoints(const std::string& run_dir) {
  if (!fs::is_directory(run_dir)) throw std::invalid_argument("run directory '" + run_dir + "' does not exist");
  const std::regex numbered(R"(checkpoint_(\d+)\.pt)");
  std::vector<std::pair<int64_t, std::string>> found;
  for (const auto& entry : fs::directory_iterator(run_dir)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, m, numbered)) found.emplace_back(std::stoll(m[1]), entry.path().string());
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::vector<std::string> prune_checkpoints(const std::string& run_dir, int64_t keep) {
  std::vector<std::string> deleted;
  if (keep <= 0) return deleted;
  const auto found = numbered_checkpoints(run_dir);
  for (size_t i = 0; i + static_cast<size_t>(keep) < found.size(); ++i) {
    fs::remove(found[i].second);
    deleted.push_back(found[i].second);
  }
  return deleted;
}

std::vector<std::string> remove_unfinished_writes(const std::string& run_dir) {
  const std::regex temporary(R"((checkpoint_\w+\.pt|config\.yaml|metrics\.jsonl)\.tmp(\.\d+)?)");
  std::vector<std::string> removed;
  for (const auto& entry : fs::directory_iterator(run_dir)) {
    if (std::regex_match(entry.path().filename().string(), temporary)) removed.push_back(entry.path().string());
  }
  for (const std::string& path : removed) fs::remove(path);
  return removed;
}

void link_checkpoint(const std::string& target, const std::string& link) {
  const std::string tmp = link + ".tmp";
  fs::remove(tmp);
  std::error_code error;
  fs::create_hard_link(target, tmp, error);
  if (error) fs::copy_file(target, tmp, fs::copy_options::overwrite_existing);
  fs::rename(tmp, link);
  fs::remove(tmp);  // rename is a no-op when both names already are the same file
}

std::optional<ResumePoint> newest_valid_checkpoint(const std::string& run_dir, std::vector<std::string>& skipped) {
  if (!fs::is_directory(run_dir)) return std::nullopt;
  const auto found = numbered_checkpoints(run_dir);
  for (auto it = found.rbegin(); it != found.rend(); ++it) {
    try {
      Checkpoint checkpoint = read_checkpoint(it->second);
      if (!checkpoint.training) {
        skipped.push_back(it->second + ": it holds weights only, no training state");
        continue;
      }
      return ResumePoint{it->second, std::move(checkpoint)};
    } catch (const std::exception& e) {
      skipped.push_back(e.what());
    }
  }
  return std::nullopt;
}

}  // namespace tmt
