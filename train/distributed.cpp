#include "train/distributed.h"

#include <stdexcept>
#include <string>

#include "model/torch_compat.h"

#ifdef TMT_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef TMT_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace tmt {
namespace {

int parse_int(const char* name, const char* text, int min, int max) {
  const std::string value(text);
  size_t used = 0;
  int parsed = 0;
  try {
    parsed = std::stoi(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || value.empty() || parsed < min || parsed > max) {
    throw std::invalid_argument(std::string("environment variable ") + name + " must be an integer in [" +
                                std::to_string(min) + ", " + std::to_string(max) + "], got '" + value + "'");
  }
  return parsed;
}

}  // namespace

bool nccl_built() {
#ifdef TMT_WITH_NCCL
  return true;
#else
  return false;
#endif
}

DistributedEnv distributed_env(const std::function<const char*(const char*)>& getenv) {
  DistributedEnv env;
  const auto first = [&](const char* a, const char* b) -> std::pair<const char*, const char*> {
    if (const char* v = getenv(a)) return {a, v};
    if (const char* v = getenv(b)) return {b, v};
    return {a, nullptr};
  };
  const auto [world_name, world] = first("WORLD_SIZE", "SLURM_NTASKS");
  if (world == nullptr) return env;
  env.world_size = parse_int(world_name, world, 1, 1 << 20);
  const auto [rank_name, rank] = first("RANK", "SLURM_PROCID");
  if (rank == nullptr) {
    throw std::invalid_argument(std::string(world_name) + " is set but RANK (or SLURM_PROCID) is not");
  }
  env.rank = parse_int(rank_name, rank, 0, env.world_size - 1);
  const auto [local_name, local] = first("LOCAL_RANK", "SLURM_LOCALID");
  env.local_rank = local != nullptr ? parse_int(local_name, local, 0, 1 << 20) : 0;
  if (const char* addr = getenv("MASTER_ADDR")) env.master_addr = addr;
  if (const char* port = getenv("MASTER_PORT")) env.master_port = parse_int("MASTER_PORT", port, 1, 65535);
  if (const char* pid = getenv("TMT_LAUNCHER_PID")) env.launcher_pid = parse_int("TMT_LAUNCHER_PID", pid, 1, 1 << 30);
  return env;
}

#ifdef TMT_WITH_GLOO

// LibTorch 2.0 split ProcessGroup into a front end and per-device Backends; Gloo and NCCL are
// Backends there and ProcessGroups before. Both offer the collectives used here.
#if TMT_TORCH_AT_LEAST(2, 0)
using GroupBase = c10d::Backend;
#else
using GroupBase = c10d::ProcessGroup;
#endif

struct Communicator::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<GroupBase> group;
};

namespace {

// Runs one collective and turns whatever c10d throws into an error that says what to look at.
template <typename F>
void collective(const DistributedEnv& env, std::chrono::seconds timeout, const char* what, F&& run) {
  try {
    run();
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + ": " +
                             what + " failed: another rank exited or did not answer within train.dist_timeout_s (" +
                             std::to_string(timeout.count()) + " s); its own log says why. (" + e.what() + ")");
  }
}

// The network device Gloo binds to: loopback for a single-machine job, GLOO_SOCKET_IFNAME where
// set (as torchrun users know it), else the address this machine's hostname resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master_addr) {
  if (master_addr == "localhost" || master_addr.rfind("127.", 0) == 0) {
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  }
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME")) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace

Communicator::Communicator(const DistributedEnv& env, const torch::Device& device, std::chrono::seconds timeout)
    : env_(env), timeout_(timeout), impl_(std::make_unique<Impl>()) {
  const std::string rendezvous = "joining the rendezvous at " + env_.master_addr + ":" + std::to_string(env_.master_port);
  collective(env_, timeout_, rendezvous.c_str(), [&] {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(env_.master_port);
    options.isServer = env_.rank == 0;
    options.numWorkers = env_.world_size;
    options.timeout = timeout_;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env_.master_addr, options);
  });
#ifdef TMT_WITH_NCCL
  if (device.is_cuda()) {
    backend_ = "nccl";
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout_;
    impl_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, env_.rank, env_.world_size, options);
    return;
  }
#endif
  if (device.is_cuda()) {
    throw std::invalid_argument("multi-process training on CUDA needs NCCL, and this tmt was built without it "
                                "(configure with -DTMT_WITH_NCCL=ON against a CUDA LibTorch)");
  }
  backend_ = "gloo";
  collective(env_, timeout_, "creating the Gloo process group", [&] {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout_);
    options->devices.push_back(gloo_device(env_.master_addr));
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, env_.rank, env_.world_size, options);
  });
}

Communicator::~Communicator() = default;

void Communicator::sum(const std::vector<torch::Tensor>& tensors, int64_t bucket_bytes) {
  torch::NoGradGuard no_grad;
  size_t begin = 0;
  while (begin < tensors.size()) {
    // A bucket: consecutive tensors of one dtype and device up to bucket_bytes.
    size_t end = begin;
    int64_t bytes = 0;
    while (end < tensors.size() && tensors[end].scalar_type() == tensors[begin].scalar_type() &&
           (end == begin || bytes + static_cast<int64_t>(tensors[end].nbytes()) <= bucket_bytes)) {
      bytes += static_cast<int64_t>(tensors[end].nbytes());
      ++end;
    }
    std::vector<torch::Tensor> flat_parts;
    for (size_t i = begin; i < end; ++i) flat_parts.push_back(tensors[i].reshape({-1}));
    std::vector<torch::Tensor> bucket{torch::cat(flat_parts)};
    collective(env_, timeout_, "summing gradients", [&] { impl_->group->allreduce(bucket)->wait(); });
    int64_t offset = 0;
    for (size_t i = begin; i < end; ++i) {
      const int64_t n = tensors[i].numel();
      tensors[i].copy_(bucket[0].narrow(0, offset, n).view_as(tensors[i]));
      offset += n;
    }
    begin = end;
  }
}

void Communicator::max(torch::Tensor& tensor) {
  std::vector<torch::Tensor> one{tensor};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::MAX;
  collective(env_, timeout_, "agreeing on when to stop", [&] { impl_->group->allreduce(one, options)->wait(); });
}

void Communicator::barrier() {
  collective(env_, timeout_, "waiting for every rank", [&] { impl_->group->barrier()->wait(); });
}

#else  // !TMT_WITH_GLOO

struct Communicator::Impl {};

Communicator::Communicator(const DistributedEnv& env, const torch::Device&, std::chrono::seconds timeout)
    : env_(env), timeout_(timeout) {
  throw std::invalid_argument("WORLD_SIZE " + std::to_string(env.world_size) +
                              ": this tmt was built without Gloo (install libgloo-dev and rebuild)");
}
Communicator::~Communicator() = default;
void Communicator::sum(const std::vector<torch::Tensor>&, int64_t) {}
void Communicator::max(torch::Tensor&) {}
void Communicator::barrier() {}

#endif

}  // namespace tmt
