#pragma once
// Which device to run on, as configs and command lines spell it: auto, cpu, cuda or cuda:N.
// Parsed once into a DeviceSpec; resolved to a torch::Device when the run starts.

#include <c10/core/Device.h>

#include <cstdint>
#include <optional>
#include <string>

namespace tmt {

struct DeviceSpec {
  enum class Kind { automatic, cpu, cuda };
  Kind kind = Kind::automatic;
  std::optional<int64_t> index;  // cuda:N; nullopt for plain cuda (and auto, cpu)

  /// Parses auto, cpu, cuda or cuda:N; throws std::invalid_argument "device must be auto, cpu,
  /// cuda or cuda:N, got 'TEXT'" otherwise.
  static DeviceSpec parse(const std::string& text);
  /// The spelling parse() reads back.
  std::string str() const;

  bool operator==(const DeviceSpec& other) const { return kind == other.kind && index == other.index; }
  bool operator!=(const DeviceSpec& other) const { return !(*this == other); }
};

/// The device `spec` names: auto is cuda when LibTorch sees a GPU, else cpu; cuda and auto
/// without an index take `default_cuda_index` (a multi-process job's local rank). Throws
/// std::invalid_argument for a CUDA device that is not there.
c10::Device resolve_device(const DeviceSpec& spec, int64_t default_cuda_index = 0);

}  // namespace tmt
