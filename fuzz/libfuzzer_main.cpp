// One libFuzzer binary per target: scripts/fuzz.sh compiles this file with
// -DTMT_FUZZ_TARGET=<name>. With TMT_FUZZ_SEED_DIR set, the target's seeds are written there
// first, so the run starts from valid inputs.

#include <cstdlib>
#include <fstream>
#include <string>

#include "fuzz/fuzz_targets.h"

#define TMT_PASTE(a, b) a##b
#define TMT_SEEDS_OF(target) TMT_PASTE(target, _seeds)

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  if (const char* dir = std::getenv("TMT_FUZZ_SEED_DIR")) {
    int i = 0;
    for (const std::string& seed : tmt::fuzz::TMT_SEEDS_OF(TMT_FUZZ_TARGET)()) {
      std::ofstream(std::string(dir) + "/seed_" + std::to_string(i++), std::ios::binary) << seed;
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tmt::fuzz::TMT_FUZZ_TARGET(data, size);
  return 0;
}
