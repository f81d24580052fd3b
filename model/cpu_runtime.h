#pragma once
// What the CPU side of a run depends on besides tmt's own code, and the settings that make it
// fast, applied by restarting the program once with the right environment (both are read only
// when the program is loaded):
// - The BLAS LibTorch multiplies with. OpenBLAS (Debian's LibTorch calls it) picks its kernels
//   from the CPU model; a release that does not know a new CPU falls back to Prescott's SSE3
//   kernels, six times slower than the AVX-512 ones on the same chip. OPENBLAS_CORETYPE fixes it.
// - The threads' idle policy. LibTorch's intra-op threads (OpenMP) and OpenBLAS's own threads
//   share the cores, and both spin for a while after each piece of work: with train.threads 2 on
//   two cores each pool spins on the core the other needs, and training runs at half speed.
//   OMP_WAIT_POLICY=PASSIVE makes the OpenMP threads sleep instead (no effect with one intra-op
//   thread, Debian LibTorch's default; docs/RESULTS.md, "thread layouts"). Decoding then runs
//   one thread per CPU.
// - glibc's allocator. A training update allocates and frees tensors of tens of megabytes, which
//   glibc maps and unmaps each time: every page is faulted in and zeroed again, a fifth of an
//   update on a 2-core VM. GLIBC_TUNABLES keeps freed memory for reuse and backs it with
//   transparent huge pages.

#include <cstdint>
#include <string>

namespace tmt {

/// The instruction sets that decide which OpenBLAS kernels a CPU can run.
struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool avx512 = false;  // F, BW, VL, DQ and CD: what OpenBLAS's SkylakeX kernels use
  bool amd = false;
};

/// This CPU's features (the OS's support for the wider registers included).
CpuFeatures cpu_features();

/// What the process multiplies with. Read through dlsym, so it also works (and says so) when
/// LibTorch brings another BLAS (pip's LibTorch links MKL statically).
struct BlasInfo {
  bool openblas = false;
  std::string config;  // openblas_get_config(): version, build options and the chosen core
  std::string core;    // openblas_get_corename(): "Zen", "SkylakeX", "Prescott"...
  int threads = -1;    // OpenBLAS's own worker threads (not LibTorch's intra-op threads)
  std::string origin;  // who chose the core: "detected", "OPENBLAS_CORETYPE=...", "set by tmt..."

  /// One line for logs: "OpenBLAS 0.3.21 core Zen (detected), 2 threads", with a warning when the
  /// core leaves the kernels `cpu` can run unused (better_openblas_core, wider_openblas_core).
  std::string describe(const CpuFeatures& cpu) const;
  std::string describe() const { return describe(cpu_features()); }
};

BlasInfo blas_info();

/// One line for logs: "LibTorch 1.13.0, 1 intra-op thread (OMP_WAIT_POLICY=PASSIVE, set by tmt);
/// BLAS: OpenBLAS 0.3.21 core Zen (detected), 2 threads; malloc: glibc defaults".
std::string cpu_engine_description();

/// The OpenBLAS core to ask for instead of `detected`, or "" to keep it: a core without AVX2
/// kernels (Prescott, Nehalem, Sandybridge...) on a CPU that has AVX2 and FMA gets SkylakeX
/// (with AVX-512), Zen (AMD) or Haswell. Unknown names are kept.
std::string better_openblas_core(const std::string& detected, const CpuFeatures& cpu);

/// "SkylakeX" when `core` has AVX2 kernels only (Haswell, Zen) on a CPU with AVX-512, else "". Not
/// a generic fallback, so tmt does not restart for it (a core someone set stands); it only says so:
/// on a Zen 5 SkylakeX multiplies 1.8 times faster than Haswell and trains 1.35 times faster
/// (docs/RESULTS.md, dev-zen5).
std::string wider_openblas_core(const std::string& core, const CpuFeatures& cpu);

/// CPUs this process may run on (its affinity mask).
int available_cpus();
/// The intra-op threads of `tmt translate`, `score` and `calibrate` for --threads `requested`:
/// `requested` when above 0, else available_cpus() when the OpenMP threads wait passively or the
/// BLAS is not OpenBLAS, else 0 (keep LibTorch's default). On two cores two passive threads decode
/// 15-28 % faster than LibTorch 1.13's one; spinning ones half as fast (docs/RESULTS.md, "thread
/// layouts").
int decoding_threads(int64_t requested);
/// The OMP_WAIT_POLICY a training or decoding process runs with when OpenBLAS multiplies.
inline constexpr const char* kWaitPolicy = "PASSIVE";
/// The GLIBC_TUNABLES a training process runs with: freed memory stays in the heap (no mmap for
/// large blocks, no trimming) and is backed by transparent huge pages.
inline constexpr const char* kTrainingMallocTunables =
    "glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736";

/// Called first thing in main(). Restarts the program once (execv of /proc/self/exe, same
/// arguments) when
/// - OpenBLAS fell back to a generic core on a CPU that can do better, and neither
///   OPENBLAS_CORETYPE nor TMT_OPENBLAS_CORETYPE=keep says otherwise: with OPENBLAS_CORETYPE set;
///   the restarted process checks a matrix product against double precision before it trusts
///   the new core and throws std::runtime_error if it is wrong;
/// - `training` and GLIBC_TUNABLES is unset: with kTrainingMallocTunables;
/// - `training` or `decoding` (translate, score, calibrate), OMP_WAIT_POLICY is unset and the BLAS
///   is OpenBLAS: with kWaitPolicy.
/// Returns normally when nothing needs doing. TMT_OPENBLAS_PRETEND_CORE=NAME makes the check see
/// NAME as detected (for tests).
void ensure_fast_cpu_runtime(char** argv, bool training, bool decoding = false);

/// How glibc's allocator is tuned: "glibc defaults", "GLIBC_TUNABLES=... (set by tmt)", or the
/// user's GLIBC_TUNABLES.
std::string malloc_description();

/// Largest relative error of float matrix products (odd sizes, so the kernels' edge code runs
/// too) against the same products accumulated in double. About 1e-6 for a working kernel.
double sgemm_relative_error();

}  // namespace tmt
