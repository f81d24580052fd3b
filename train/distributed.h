#pragma once
// Data-parallel training across processes on PyTorch's c10d: one process per device, a
// TCPStore rendezvous, Gloo on CPU (NCCL on CUDA where built in). c10d types stay in the .cpp.

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tmt {

/// Where this process stands in a job, as torchrun or Slurm describe it.
struct DistributedEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;                  // the device index on this machine
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  int launcher_pid = 0;                // scripts/launch.sh's pid (TMT_LAUNCHER_PID); 0: none

  bool is_main() const { return rank == 0; }
};

/// Reads RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (torchrun, scripts/launch.sh),
/// falling back to SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID under srun, and TMT_LAUNCHER_PID
/// (scripts/launch.sh). Nothing set: a single process. Throws std::invalid_argument naming the
/// variable for malformed values.
DistributedEnv distributed_env(const std::function<const char*(const char*)>& getenv = [](const char* name) {
  return std::getenv(name);
});

/// True when this tmt was built with c10d's NCCL backend (-DTMT_WITH_NCCL=ON, CUDA LibTorch).
bool nccl_built();

/// A process group over all ranks of the job.
class Communicator {
 public:
  /// Joins the job's rendezvous at env.master_addr:master_port (rank 0 hosts it). Collectives
  /// that wait longer than `timeout` for a peer fail with std::runtime_error.
  Communicator(const DistributedEnv& env, const torch::Device& device, std::chrono::seconds timeout);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  /// "gloo" or "nccl".
  const std::string& backend() const { return backend_; }

  /// Sums every tensor over all ranks, in place; tensors of one dtype are flattened into
  /// buckets of about `bucket_bytes`, each reduced by one collective.
  void sum(const std::vector<torch::Tensor>& tensors, int64_t bucket_bytes = 25 << 20);
  /// Elementwise maximum over all ranks, in place (small tensors: flags).
  void max(torch::Tensor& tensor);
  /// Waits for every rank.
  void barrier();

 private:
  struct Impl;
  DistributedEnv env_;
  std::string backend_;
  std::chrono::seconds timeout_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tmt
