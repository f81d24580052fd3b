// tmt: train, use and score Transformer translation models. All work happens in app/commands.

#include <cstring>
#include <exception>
#include <iostream>

#include "app/commands.h"
#include "model/cpu_runtime.h"

int main(int argc, char** argv) {
  try {
    // May restart the program with OPENBLAS_CORETYPE and, for training, GLIBC_TUNABLES and
    // OMP_WAIT_POLICY set.
    tmt::ensure_fast_cpu_runtime(argv, /*training=*/argc > 1 && std::strcmp(argv[1], "train") == 0);
  } catch (const std::exception& e) {
    std::cerr << "tmt: error: " << e.what() << '\n';
    return 1;
  }
  return tmt::run_cli(argc, argv);
}
