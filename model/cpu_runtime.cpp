#include "model/cpu_runtime.h"

#include <dlfcn.h>
#include <sched.h>
#include <unistd.h>

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>
#include <strings.h>

#include "model/torch_compat.h"

namespace tmt {
namespace {

// Set in the restarted process: the core OpenBLAS had chosen on its own.
constexpr const char* kRestartedVar = "TMT_OPENBLAS_RESTARTED";
// Set in the restarted process when tmt chose GLIBC_TUNABLES.
constexpr const char* kMallocVar = "TMT_MALLOC_TUNED";
// Set in the restarted process when tmt chose OMP_WAIT_POLICY.
constexpr const char* kWaitPolicyVar = "TMT_WAIT_POLICY_SET";

template <typename Function>
Function openblas_symbol(const char* name) {
  return reinterpret_cast<Function>(dlsym(RTLD_DEFAULT, name));
}

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

bool same_name(const std::string& a, const char* b) { return strcasecmp(a.c_str(), b) == 0; }

// OpenBLAS's x86-64 cores without AVX2 kernels (openblas_get_corename spellings).
constexpr std::array<const char*, 22> kCoresWithoutAvx2 = {
    "Unknown", "Katmai",    "Coppermine", "Northwood",  "Prescott",    "Banias",
    "Atom",    "Core2",     "Penryn",     "Dunnington", "Nehalem",     "Athlon",
    "Opteron", "Opteron_SSE3", "Barcelona", "Nano",     "Sandybridge", "Bobcat",
    "Bulldozer", "Piledriver", "Steamroller", "Excavator"};

}  // namespace

std::string BlasInfo::describe(const CpuFeatures& cpu) const {
  if (!openblas) return "not OpenBLAS (LibTorch's own BLAS, e.g. MKL)";
  // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..." -> "OpenBLAS 0.3.21"
  std::string name = config.substr(0, config.find(' ', config.find(' ') + 1));
  std::string text = name + " core " + core + " (" + origin + "), " + std::to_string(threads) + (threads == 1 ? " thread" : " threads");
  const std::string better = better_openblas_core(core, cpu);
  if (!better.empty()) text += " -- generic kernels on a CPU that can run " + better + "'s, several times slower";
  const std::string wider = wider_openblas_core(core, cpu);
  if (!wider.empty()) {
    text += " -- AVX2 kernels on a CPU with AVX-512: OPENBLAS_CORETYPE=" + wider +
            " may multiply faster (build/bench/bench_blas compares)";
  }
  return text;
}

BlasInfo blas_info() {
  BlasInfo info;
  const auto corename = openblas_symbol<char* (*)()>("openblas_get_corename");
  const auto config = openblas_symbol<char* (*)()>("openblas_get_config");
  const auto threads = openblas_symbol<int (*)()>("openblas_get_num_threads");
  if (corename == nullptr) return info;
  info.openblas = true;
  info.core = corename();
  info.config = config != nullptr ? config() : "OpenBLAS";
  info.threads = threads != nullptr ? threads() : -1;
  const std::string forced = env_or_empty("OPENBLAS_CORETYPE");
  const std::string restarted = env_or_empty(kRestartedVar);
  if (forced.empty()) {
    info.origin = "detected";
  } else if (!restarted.empty()) {
    info.origin = "set by tmt: OpenBLAS took this CPU for " + restarted;
  } else {
    info.origin = "OPENBLAS_CORETYPE=" + forced;
  }
  return info;
}

std::string cpu_engine_description() {
  const int threads = torch::get_num_threads();
  const std::string wait = env_or_empty("OMP_WAIT_POLICY");
  return "LibTorch " + torch_version() + ", " + std::to_string(threads) + " intra-op thread" + (threads == 1 ? "" : "s") +
         (wait.empty() ? "" : " (OMP_WAIT_POLICY=" + wait + (env_or_empty(kWaitPolicyVar).empty() ? ")" : ", set by tmt)")) +
         "; BLAS: " + blas_info().describe() + "; malloc: " + malloc_description();
}

int available_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
}

int decoding_threads(int64_t requested) {
  if (requested > 0) return static_cast<int>(requested);
  const bool passive = same_name(env_or_empty("OMP_WAIT_POLICY"), "passive");
  return passive || !blas_info().openblas ? available_cpus() : 0;
}

std::string malloc_description() {
  const std::string tunables = env_or_empty("GLIBC_TUNABLES");
  if (tunables.empty()) return "glibc defaults";
  return "GLIBC_TUNABLES=" + tunables + (env_or_empty(kMallocVar).empty() ? "" : " (set by tmt)");
}

CpuFeatures cpu_features() {
  __builtin_cpu_init();
  CpuFeatures f;
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512cd");
  f.amd = __builtin_cpu_is("amd");
  return f;
}

std::string better_openblas_core(const std::string& detected, const CpuFeatures& cpu) {
  if (!cpu.avx2 || !cpu.fma) return "";
  const bool generic = std::any_of(kCoresWithoutAvx2.begin(), kCoresWithoutAvx2.end(),
                                   [&](const char* name) { return same_name(detected, name); });
  if (!generic) return "";
  if (cpu.avx512) return "SkylakeX";
  return cpu.amd ? "Zen" : "Haswell";
}

std::string wider_openblas_core(const std::string& core, const CpuFeatures& cpu) {
  if (!cpu.avx512 || !cpu.fma) return "";
  return same_name(core, "Haswell") || same_name(core, "Zen") ? "SkylakeX" : "";
}

double sgemm_relative_error() {
  torch::NoGradGuard no_grad;
  const auto gen = at::detail::createCPUGenerator(/*seed_val=*/20261130);
  double worst = 0.0;
  // Odd sizes: the kernels' edge code runs as well as their main loops.
  for (const auto& [m, k, n] : {std::array<int64_t, 3>{131, 97, 83}, std::array<int64_t, 3>{257, 193, 135}}) {
    const torch::Tensor a = at::randn({m, k}, gen, torch::kFloat);  // [m, k]
    const torch::Tensor b = at::randn({k, n}, gen, torch::kFloat);  // [k, n]
    const torch::Tensor c = torch::mm(a, b);                         // [m, n] through BLAS
    const float* pa = a.data_ptr<float>();
    const float* pb = b.data_ptr<float>();
    const float* pc = c.data_ptr<float>();
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double exact = 0.0, magnitude = 0.0;
        for (int64_t l = 0; l < k; ++l) {
          const double term = static_cast<double>(pa[i * k + l]) * static_cast<double>(pb[l * n + j]);
          exact += term;
          magnitude += std::abs(term);
        }
        worst = std::max(worst, std::abs(static_cast<double>(pc[i * n + j]) - exact) / magnitude);
      }
    }
  }
  return worst;
}

namespace {

// The core to restart OpenBLAS with, or "" (the user's or OpenBLAS's choice stands).
std::string core_to_force() {
  if (env_or_empty("TMT_OPENBLAS_CORETYPE") == "keep" || !env_or_empty("OPENBLAS_CORETYPE").empty()) return "";
  const BlasInfo info = blas_info();
  if (!info.openblas) return "";
  const std::string pretend = env_or_empty("TMT_OPENBLAS_PRETEND_CORE");
  return better_openblas_core(pretend.empty() ? info.core : pretend, cpu_features());
}

// In a process tmt restarted with OPENBLAS_CORETYPE: the new core must multiply correctly.
void verify_forced_core() {
  const std::string restarted = env_or_empty(kRestartedVar);
  if (restarted.empty() || env_or_empty("OPENBLAS_CORETYPE").empty()) return;
  const double error = sgemm_relative_error();
  if (!(error < 1e-4)) {
    throw std::runtime_error("OpenBLAS core " + env_or_empty("OPENBLAS_CORETYPE") +
                             ", which tmt chose because OpenBLAS took this CPU for " + restarted +
                             ", multiplies wrongly (relative error " + std::to_string(error) +
                             "); set TMT_OPENBLAS_CORETYPE=keep to use OpenBLAS's own choice");
  }
}

}  // namespace

void ensure_fast_cpu_runtime(char** argv, bool training, bool decoding) {
  verify_forced_core();
  const std::string core = core_to_force();
  const bool tune_malloc = training && std::getenv("GLIBC_TUNABLES") == nullptr;
  const bool tune_wait = (training || decoding) && std::getenv("OMP_WAIT_POLICY") == nullptr && blas_info().openblas;
  // What the restarted process is given: each setting with the marker that says tmt chose it.
  std::vector<std::pair<const char*, std::string>> settings;
  if (!core.empty()) {
    const std::string pretend = env_or_empty("TMT_OPENBLAS_PRETEND_CORE");
    settings.emplace_back(kRestartedVar, pretend.empty() ? blas_info().core : pretend);
    settings.emplace_back("OPENBLAS_CORETYPE", core);
  }
  if (tune_malloc) {
    settings.emplace_back("GLIBC_TUNABLES", kTrainingMallocTunables);
    settings.emplace_back(kMallocVar, "1");
  }
  if (tune_wait) {
    settings.emplace_back("OMP_WAIT_POLICY", kWaitPolicy);
    settings.emplace_back(kWaitPolicyVar, "1");
  }
  if (settings.empty()) return;
  for (const auto& [name, value] : settings) setenv(name, value.c_str(), /*overwrite=*/1);
  std::fflush(nullptr);
  execv("/proc/self/exe", argv);
  // Still here: the restart failed. Carry on as we are rather than not at all.
  std::fprintf(stderr, "tmt: warning: restarting with tuned settings failed (%s)%s\n", std::strerror(errno),
               core.empty() ? "" : ("; OpenBLAS runs generic kernels: set OPENBLAS_CORETYPE=" + core +
                                    " for several times faster matrix products").c_str());
  for (const auto& [name, value] : settings) unsetenv(name);
}

}  // namespace tmt
