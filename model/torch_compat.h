#pragma once
// The one place that knows which LibTorch it is built against. Debian's libtorch-dev is 1.13
// (CPU); pip's torch ships 2.x with CUDA. Everything version-dependent goes through here.

#include <torch/torch.h>
#include <torch/version.h>

#include <string>

#define TMT_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace tmt {

/// "1.13.1": the LibTorch the binary was compiled against.
inline std::string torch_version() { return TORCH_VERSION; }

/// True when LibTorch was built with CUDA and a device is visible.
inline bool cuda_available() { return torch::cuda::is_available(); }

}  // namespace tmt
