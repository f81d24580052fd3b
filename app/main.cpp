// tmt: train, use and score Transformer translation models. All work happens in app/commands.

#include <exception>
#include <iostream>

#include "app/commands.h"
#include "model/cpu_blas.h"

int main(int argc, char** argv) {
  try {
    tmt::ensure_fast_blas(argv);  // may restart the program with OPENBLAS_CORETYPE set
  } catch (const std::exception& e) {
    std::cerr << "tmt: error: " << e.what() << '\n';
    return 1;
  }
  return tmt::run_cli(argc, argv);
}
