#include "data/prefetcher.h"

#include <stdexcept>

namespace tmt {

BatchPrefetcher::BatchPrefetcher(std::function<std::optional<Batch>()> produce, size_t depth)
    : produce_(std::move(produce)), depth_(depth) {
  if (depth_ < 1) throw std::invalid_argument("prefetch depth must be >= 1, got 0");
  worker_ = std::thread([this] { run(); });
}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

void BatchPrefetcher::run() {
  try {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return stop_ || ready_.size() < depth_; });
        if (stop_) return;
      }
      std::optional<Batch> batch = produce_();
      std::lock_guard<std::mutex> lock(mutex_);
      if (!batch) {
        done_ = true;
        changed_.notify_all();
        return;
      }
      ready_.push_back(std::move(*batch));
      changed_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
    done_ = true;
    changed_.notify_all();
  }
}

std::optional<Batch> BatchPrefetcher::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !ready_.empty() || done_; });
  if (!ready_.empty()) {
    Batch batch = std::move(ready_.front());
    ready_.pop_front();
    changed_.notify_all();
    return batch;
  }
  if (error_) std::rethrow_exception(error_);
  return std::nullopt;
}

}  // namespace tmt
