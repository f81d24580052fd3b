#pragma once
// Small helpers shared by the train tests.

#include <functional>
#include <stdexcept>
#include <string>

#include "model/model_config.h"

namespace tmt::tests {

/// A 1-layer, d_model 32 Transformer: fast enough for many updates in a test.
inline ModelConfig tiny_model() {
  ModelConfig m;
  m.layers = 1;
  m.d_model = 32;
  m.d_ff = 64;
  m.heads = 4;
  m.max_positions = 16;
  return m;
}

/// The message of the std::runtime_error `f` throws, or "no std::runtime_error".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no std::runtime_error";
}

}  // namespace tmt::tests
