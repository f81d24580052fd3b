// tmt: train, use and score Transformer translation models. All work happens in app/commands.

#include <cstring>
#include <exception>
#include <iostream>

#include "app/commands.h"
#include "model/cpu_runtime.h"

int main(int argc, char** argv) {
  try {
    // May restart the program with OPENBLAS_CORETYPE and, for training, GLIBC_TUNABLES set, and
    // for training and decoding OMP_WAIT_POLICY.
    const auto command = [&](const char* name) { return argc > 1 && std::strcmp(argv[1], name) == 0; };
    tmt::ensure_fast_cpu_runtime(argv, /*training=*/command("train"),
                                 /*decoding=*/command("translate") || command("score") || command("calibrate"));
  } catch (const std::exception& e) {
    std::cerr << "tmt: error: " << e.what() << '\n';
    return 1;
  }
  return tmt::run_cli(argc, argv);
}
