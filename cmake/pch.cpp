// Compiled once so that its precompiled <torch/torch.h> can be reused by every target.
