#pragma once
// Prepares batches on a background thread while the current one trains.

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "data/batch.h"

namespace tmt {

/// Runs `produce` on a worker thread, keeping up to `depth` batches ready. `produce` returns
/// nullopt when there are no more batches; an exception it throws is rethrown by next().
class BatchPrefetcher {
 public:
  BatchPrefetcher(std::function<std::optional<Batch>()> produce, size_t depth);
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  /// The next batch in production order, or nullopt once `produce` has run out.
  std::optional<Batch> next();

 private:
  void run();

  std::function<std::optional<Batch>()> produce_;
  size_t depth_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> ready_;
  bool done_ = false;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

}  // namespace tmt
