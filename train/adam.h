#pragma once
// Adam (Kingma & Ba) as the paper uses it, written out so that its state is plain named tensors:
// checkpoints store and check them like weights, on every LibTorch version.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "model/named_tensors.h"

namespace tmt {

/// Adam with bias correction; the same arithmetic as torch::optim::Adam without weight decay.
class Adam {
 public:
  /// `params` are updated in place from their .grad(); the moments start at zero.
  Adam(NamedTensors params, double beta1, double beta2, double eps);

  /// One update with learning rate `lr`; parameters without a gradient are left alone. On CUDA
  /// it is step_multi_tensor.
  void step(double lr);
  /// The same update as multi-tensor (foreach) kernels, a few launches for all parameters; equal
  /// to step's per-tensor loop (a test checks it on CPU).
  void step_multi_tensor(double lr);
  void zero_grad();

  /// Updates applied so far (the bias-correction step count).
  int64_t steps() const { return steps_; }

  /// The moments as "exp_avg.<param>" and "exp_avg_sq.<param>", for checkpoints.
  NamedTensors state() const;

  /// Restores moments saved by state() and the step count; every name and shape must match.
  /// `origin` names the checkpoint in errors.
  void load_state(const NamedTensors& state, int64_t steps, const std::string& origin);

 private:
  struct StepSizes {
    double step_size;         // lr / (1 - beta1^t)
    double sqrt_correction2;  // sqrt(1 - beta2^t)
  };
  /// Counts the step and returns its bias-corrected sizes.
  StepSizes next_step(double lr);

  NamedTensors params_;
  std::vector<torch::Tensor> exp_avg_;
  std::vector<torch::Tensor> exp_avg_sq_;
  double beta1_;
  double beta2_;
  double eps_;
  int64_t steps_ = 0;
};

}  // namespace tmt
