#include "model/cpu_runtime.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace tmt {
namespace {

CpuFeatures avx2(bool amd) { return CpuFeatures{/*avx2=*/true, /*fma=*/true, /*avx512=*/false, amd}; }

TEST(BetterOpenblasCore, GenericFallbackOnAnAvx512CpuGetsSkylakeX) {
  CpuFeatures cpu = avx2(/*amd=*/false);
  cpu.avx512 = true;
  EXPECT_EQ(better_openblas_core("Prescott", cpu), "SkylakeX");
  EXPECT_EQ(better_openblas_core("prescott", cpu), "SkylakeX");  // OpenBLAS compares without case
  EXPECT_EQ(better_openblas_core("Sandybridge", cpu), "SkylakeX");
}

TEST(BetterOpenblasCore, GenericFallbackOnAnAvx2CpuGetsHaswellOrZen) {
  EXPECT_EQ(better_openblas_core("Nehalem", avx2(/*amd=*/false)), "Haswell");
  EXPECT_EQ(better_openblas_core("Barcelona", avx2(/*amd=*/true)), "Zen");
  EXPECT_EQ(better_openblas_core("Unknown", avx2(/*amd=*/true)), "Zen");
}

TEST(BetterOpenblasCore, KeepsAvx2CoresUnknownNamesAndOldCpus) {
  CpuFeatures big = avx2(/*amd=*/false);
  big.avx512 = true;
  for (const char* core : {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", "SomeFutureLake"}) {
    EXPECT_EQ(better_openblas_core(core, big), "") << core;
  }
  CpuFeatures old;  // no AVX2: Prescott's kernels may be the best it can run
  EXPECT_EQ(better_openblas_core("Prescott", old), "");
  CpuFeatures no_fma = avx2(/*amd=*/false);
  no_fma.fma = false;
  EXPECT_EQ(better_openblas_core("Prescott", no_fma), "");
}

TEST(WiderOpenblasCore, Avx2CoresOnAnAvx512CpuCouldRunSkylakeX) {
  CpuFeatures big = avx2(/*amd=*/true);
  big.avx512 = true;
  EXPECT_EQ(wider_openblas_core("Haswell", big), "SkylakeX");
  EXPECT_EQ(wider_openblas_core("zen", big), "SkylakeX");
  for (const char* core : {"SkylakeX", "Cooperlake", "SapphireRapids", "Prescott", "SomeFutureLake"}) {
    EXPECT_EQ(wider_openblas_core(core, big), "") << core;  // already AVX-512, generic, or unknown
  }
  EXPECT_EQ(wider_openblas_core("Haswell", avx2(/*amd=*/false)), "");  // no AVX-512: Haswell is right
}

BlasInfo openblas_with_core(const std::string& core, const std::string& origin) {
  BlasInfo info;
  info.openblas = true;
  info.config = "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY " + core + " MAX_THREADS=64";
  info.core = core;
  info.threads = 2;
  info.origin = origin;
  return info;
}

TEST(CpuBlas, DescriptionWarnsOfUnusedKernelsButNotOfTheRightOnes) {
  CpuFeatures zen5 = avx2(/*amd=*/true);
  zen5.avx512 = true;
  EXPECT_EQ(openblas_with_core("Haswell", "OPENBLAS_CORETYPE=Haswell").describe(zen5),
            "OpenBLAS 0.3.21 core Haswell (OPENBLAS_CORETYPE=Haswell), 2 threads -- AVX2 kernels on a CPU with "
            "AVX-512: OPENBLAS_CORETYPE=SkylakeX may multiply faster (build/bench/bench_blas compares)");
  EXPECT_EQ(openblas_with_core("Prescott", "OPENBLAS_CORETYPE=Prescott").describe(zen5),
            "OpenBLAS 0.3.21 core Prescott (OPENBLAS_CORETYPE=Prescott), 2 threads -- generic kernels on a CPU "
            "that can run SkylakeX's, several times slower");
  EXPECT_EQ(openblas_with_core("Cooperlake", "detected").describe(zen5),
            "OpenBLAS 0.3.21 core Cooperlake (detected), 2 threads");
  EXPECT_EQ(openblas_with_core("Zen", "detected").describe(avx2(/*amd=*/true)),
            "OpenBLAS 0.3.21 core Zen (detected), 2 threads");
  BlasInfo one = openblas_with_core("Zen", "detected");
  one.threads = 1;
  EXPECT_EQ(one.describe(avx2(/*amd=*/true)), "OpenBLAS 0.3.21 core Zen (detected), 1 thread");
}

TEST(CpuBlas, FloatProductsAgreeWithDouble) {
  const double error = sgemm_relative_error();
  EXPECT_LT(error, 1e-5);
  EXPECT_GT(error, 0.0);  // float rounding is there: the check really compares two precisions
}

TEST(CpuBlas, EngineDescriptionNamesLibTorchAndTheBlas) {
  const BlasInfo info = blas_info();
  const std::string text = cpu_engine_description();
  EXPECT_NE(text.find("LibTorch "), std::string::npos) << text;
  if (info.openblas) {
    EXPECT_FALSE(info.core.empty());
    EXPECT_GE(info.threads, 1);
    EXPECT_NE(text.find("OpenBLAS 0."), std::string::npos) << text;
    EXPECT_NE(text.find("core " + info.core), std::string::npos) << text;
  } else {
    EXPECT_NE(text.find("not OpenBLAS"), std::string::npos) << text;
  }
}

TEST(CpuThreads, DecodingTakesEveryCpuOnlyWhenOpenmpThreadsWaitPassively) {
  const char* before = std::getenv("OMP_WAIT_POLICY");
  const std::string saved = before != nullptr ? before : "";
  EXPECT_GE(available_cpus(), 1);
  EXPECT_EQ(decoding_threads(3), 3);
  setenv("OMP_WAIT_POLICY", "Passive", /*overwrite=*/1);
  EXPECT_EQ(decoding_threads(0), available_cpus());
  setenv("OMP_WAIT_POLICY", "active", /*overwrite=*/1);
  EXPECT_EQ(decoding_threads(0), blas_info().openblas ? 0 : available_cpus());
  EXPECT_EQ(decoding_threads(1), 1);
  if (before != nullptr) {
    setenv("OMP_WAIT_POLICY", saved.c_str(), /*overwrite=*/1);
  } else {
    unsetenv("OMP_WAIT_POLICY");
  }
}

}  // namespace
}  // namespace tmt
