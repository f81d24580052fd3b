#pragma once
// Tensors by dotted name: how checkpoints, averaging and the optimizer pass state around.

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace tmt {

/// Tensors by dotted name, in a fixed order.
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

}  // namespace tmt
