// Device names are parsed once into a DeviceSpec and resolved when a run starts.

#include "model/device.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>
#include <string>

#include "model/torch_compat.h"
#include "tests/test_support.h"

namespace tmt {
namespace {

using tests::error_of;

TEST(DeviceSpec, ParsesEverySpellingAndWritesItBack) {
  for (const std::string text : {"auto", "cpu", "cuda", "cuda:0", "cuda:12"}) {
    EXPECT_EQ(DeviceSpec::parse(text).str(), text);
  }
  EXPECT_EQ(DeviceSpec::parse("auto").kind, DeviceSpec::Kind::automatic);
  EXPECT_EQ(DeviceSpec::parse("cuda").index, std::nullopt);
  EXPECT_EQ(DeviceSpec::parse("cuda:3").index, 3);
  EXPECT_EQ(DeviceSpec::parse("cuda:3"), DeviceSpec::parse("cuda:3"));
  EXPECT_NE(DeviceSpec::parse("cuda:3"), DeviceSpec::parse("cuda"));
  for (const std::string text : {"", "tpu", "CPU", "cuda:", "cuda:-1", "cuda:1x", "cuda:1234567890", " cpu"}) {
    EXPECT_EQ(error_of([&] { DeviceSpec::parse(text); }),
              "device must be auto, cpu, cuda or cuda:N, got '" + text + "'");
  }
}

TEST(DeviceSpec, ResolvesOnTheDevicesLibTorchSees) {
  EXPECT_EQ(resolve_device(DeviceSpec::parse("cpu")), torch::Device(torch::kCPU));
  if (cuda_available()) {
    EXPECT_EQ(resolve_device(DeviceSpec::parse("auto")), torch::Device(torch::kCUDA, 0));
    EXPECT_EQ(resolve_device(DeviceSpec::parse("cuda:0"), /*default_cuda_index=*/5), torch::Device(torch::kCUDA, 0));
    return;
  }
  EXPECT_EQ(resolve_device(DeviceSpec::parse("auto"), /*default_cuda_index=*/1), torch::Device(torch::kCPU));
  EXPECT_EQ(error_of([] { resolve_device(DeviceSpec::parse("cuda:1")); }),
            "device 'cuda:1' requested, but this tmt (LibTorch " + torch_version() +
                ") sees no CUDA device; use device: cpu or auto");
}

}  // namespace
}  // namespace tmt
