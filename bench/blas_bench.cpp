// The BLAS LibTorch multiplies with on this CPU: library, core, threads, and float matrix-product
// rates, checked against double precision. The figures the training benchmarks are read against.
//
//   bench_blas [--size 1024] [--iters 10]
//
// Times torch::mm of two size x size float matrices (2 size^3 FLOP each) with OpenBLAS's own
// threads at 1 and at its default, and the products of the Multi30k model's shapes (2048 target
// positions, d_model 128, d_ff 256, 8000 pieces). Runs ensure_fast_cpu_runtime first, as tmt does.

#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <vector>

#include "model/cpu_runtime.h"

namespace {

void set_openblas_threads(int n) {
  using Setter = void (*)(int);
  if (const auto set = reinterpret_cast<Setter>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(n);
}

// Median GFLOP/s of `iters` products [m, k] x [k, n].
double gflops(int64_t m, int64_t k, int64_t n, int iters) {
  const torch::Tensor a = torch::randn({m, k});
  const torch::Tensor b = torch::randn({k, n});
  torch::Tensor c = torch::mm(a, b);
  std::vector<double> rates;
  for (int i = 0; i < iters; ++i) {
    const auto start = std::chrono::steady_clock::now();
    torch::mm_out(c, a, b);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rates.push_back(2.0 * static_cast<double>(m * k * n) / s / 1e9);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Float matrix-product rate and correctness of the BLAS LibTorch uses"};
  int64_t size = 1024;
  int iters = 10;
  app.add_option("--size", size, "Square matrix size");
  app.add_option("--iters", iters, "Timed products per figure");
  CLI11_PARSE(app, argc, argv);
  tmt::ensure_fast_cpu_runtime(argv, /*training=*/false);
  const tmt::BlasInfo info = tmt::blas_info();
  const tmt::CpuFeatures cpu = tmt::cpu_features();
  std::printf("bench_blas: %s\n", tmt::cpu_engine_description().c_str());
  std::printf("  CPU            %s, AVX2 %s, FMA %s, AVX-512 %s\n", cpu.amd ? "AMD" : "not AMD", cpu.avx2 ? "yes" : "no",
              cpu.fma ? "yes" : "no", cpu.avx512 ? "yes" : "no");
  if (info.openblas) std::printf("  OpenBLAS       %s\n", info.config.c_str());
  std::printf("  correctness    max relative error vs double %.3g\n", tmt::sgemm_relative_error());
  torch::set_num_threads(1);
  const int default_threads = info.threads;
  set_openblas_threads(1);
  const double one = gflops(size, size, size, iters);
  set_openblas_threads(std::max(default_threads, 1));
  const double all = gflops(size, size, size, iters);
  std::printf("  sgemm %lld^3    %.1f GFLOP/s on 1 thread, %.1f on %d\n", static_cast<long long>(size), one, all,
              std::max(default_threads, 1));
  std::printf("  model shapes   (GFLOP/s, %d threads)\n", std::max(default_threads, 1));
  const std::array<std::array<int64_t, 3>, 4> shapes{{{2048, 128, 128}, {2048, 128, 256}, {2048, 256, 128}, {2048, 128, 8000}}};
  for (const auto& [m, k, n] : shapes) {
    std::printf("    [%lld x %lld] x [%lld x %lld]  %.1f\n", static_cast<long long>(m), static_cast<long long>(k),
                static_cast<long long>(k), static_cast<long long>(n), gflops(m, k, n, iters));
  }
  std::printf("RESULT {\"core\": \"%s\", \"origin\": \"%s\", \"threads\": %d, \"size\": %lld, \"gflops_1\": %.2f, "
              "\"gflops_all\": %.2f}\n",
              info.core.c_str(), info.origin.c_str(), info.threads, static_cast<long long>(size), one, all);
  return 0;
}
