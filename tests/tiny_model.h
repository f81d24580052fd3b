#pragma once
// The one shape of small Transformer the tests build: fast enough for exact checks and for many
// updates in a test.

#include <cstdint>

#include "model/model_config.h"

namespace tmt::tests {

/// `layers` encoder and decoder layers of width `d_model` (d_ff twice that) with `heads` heads,
/// sublayer dropout `dropout`, and `max_positions` positions; everything else the defaults.
inline ModelConfig tiny_model(int64_t layers = 1, int64_t d_model = 32, int64_t heads = 4, double dropout = 0.1,
                              int64_t max_positions = 16) {
  ModelConfig m;
  m.layers = layers;
  m.d_model = d_model;
  m.d_ff = 2 * d_model;
  m.heads = heads;
  m.dropout = dropout;
  m.max_positions = max_positions;
  return m;
}

}  // namespace tmt::tests
