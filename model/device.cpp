#include "model/device.h"

#include <torch/torch.h>

#include <stdexcept>

#include "model/torch_compat.h"

namespace tmt {

DeviceSpec DeviceSpec::parse(const std::string& text) {
  DeviceSpec spec;
  if (text == "auto") return spec;
  if (text == "cpu") {
    spec.kind = Kind::cpu;
    return spec;
  }
  if (text == "cuda") {
    spec.kind = Kind::cuda;
    return spec;
  }
  const std::string digits = text.rfind("cuda:", 0) == 0 ? text.substr(5) : "";
  // At most 9 digits: no index that large exists, and std::stoll cannot overflow.
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) {
    throw std::invalid_argument("device must be auto, cpu, cuda or cuda:N, got '" + text + "'");
  }
  spec.kind = Kind::cuda;
  spec.index = std::stoll(digits);
  return spec;
}

std::string DeviceSpec::str() const {
  switch (kind) {
    case Kind::automatic: return "auto";
    case Kind::cpu: return "cpu";
    case Kind::cuda: return index ? "cuda:" + std::to_string(*index) : "cuda";
  }
  return "auto";
}

c10::Device resolve_device(const DeviceSpec& spec, int64_t default_cuda_index) {
  if (spec.kind == DeviceSpec::Kind::cpu) return torch::kCPU;
  if (spec.kind == DeviceSpec::Kind::automatic && !cuda_available()) return torch::kCPU;
  if (!cuda_available()) {
    throw std::invalid_argument("device '" + spec.str() + "' requested, but this tmt (LibTorch " + torch_version() +
                                ") sees no CUDA device; use device: cpu or auto");
  }
  const int64_t index = spec.index.value_or(default_cuda_index);
  if (index >= static_cast<int64_t>(torch::cuda::device_count())) {
    throw std::invalid_argument("device 'cuda:" + std::to_string(index) + "' does not exist: " +
                                std::to_string(torch::cuda::device_count()) + " CUDA device(s) visible");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace tmt
