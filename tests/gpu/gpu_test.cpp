// What the GPU path must show on a CUDA device: agreement with the CPU, bf16 autocast that
// tracks fp32, the fused attention, beam search, checkpoints that move between devices, NCCL.
// Every test reports SKIPPED (ctest: "Skipped") where LibTorch sees no CUDA device, never passed.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "data/copy_stream.h"
#include "decode/beam_search.h"
#include "model/attention.h"
#include "model/torch_compat.h"
#include "model/transformer.h"
#include "tests/app/run_tmt.h"
#include "tests/tiny_model.h"
#include "train/distributed.h"
#include "train/label_smoothing.h"
#include "train/trainer.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;
using tests::Result;
using tests::run_tmt;
using tests::scratch;
using tests::slurp;

#define REQUIRE_CUDA()                                                                                 \
  if (!cuda_available())                                                                               \
  GTEST_SKIP() << "no CUDA device visible to this tmt (LibTorch " << torch_version()                   \
               << (cuda_built() ? ", built with CUDA)" : ", built without CUDA)")

const torch::Device kCuda(torch::kCUDA, 0);

// Full fp32 products on the GPU while a test compares against the CPU: no TF32.
class NoTf32 {
 public:
  NoTf32() { disallow_tf32(); }
  ~NoTf32() { allow_tf32(); }
};

ModelConfig small_model(double dropout) {
  ModelConfig m = tests::tiny_model(/*layers=*/2, /*d_model=*/64, /*heads=*/4, dropout, 64);
  m.attention_dropout = dropout;
  return m;
}

constexpr int64_t kVocab = 40;
constexpr int64_t kPad = 0;

// Eight sentences of random ids (3..kVocab-1) of lengths 5..12, padded.
torch::Tensor padded_ids(int64_t seed, int64_t width = 12) {
  torch::manual_seed(seed);
  torch::Tensor ids = torch::randint(3, kVocab, {8, width}, torch::kLong);
  for (int64_t row = 0; row < 8; ++row) ids[row].slice(0, 5 + row % (width - 4)).fill_(kPad);
  return ids;
}

double max_abs(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kCPU).to(torch::kDouble) - b.to(torch::kCPU).to(torch::kDouble)).abs().max().item<double>();
}

// fp32 forward, loss and gradients on CPU and CUDA from the same weights and batch: logits agree
// to 1e-4 absolute (values of order 1), the loss to 1e-5 relative, every gradient to 1e-4.
TEST(Gpu, CpuAndCudaAgreeOnForwardLossAndGradients) {
  REQUIRE_CUDA();
  NoTf32 exact;
  torch::manual_seed(5);
  Transformer model(small_model(/*dropout=*/0.0), VocabInfo{kVocab, kVocab, kPad});
  const torch::Tensor src = padded_ids(1);
  const torch::Tensor tgt = padded_ids(2);
  const torch::Tensor tgt_in = tgt.slice(1, 0, 11);
  const torch::Tensor tgt_out = tgt.slice(1, 1, 12);
  const LabelSmoothingLoss criterion(CriterionConfig{}, kVocab, kPad);

  auto run = [&](const torch::Device& device) {
    model->to(device);
    model->zero_grad();
    const torch::Tensor logits = model->forward(src.to(device), tgt_in.to(device));
    const LossResult loss = criterion(logits.reshape({-1, kVocab}), tgt_out.reshape({-1}).to(device));
    loss.loss.backward();
    std::vector<torch::Tensor> grads;
    for (const auto& p : model->parameters()) grads.push_back(p.grad().to(torch::kCPU).clone());
    return std::make_tuple(logits.detach().to(torch::kCPU), loss.loss.item<double>(), grads);
  };
  const auto [cpu_logits, cpu_loss, cpu_grads] = run(torch::kCPU);
  const auto [cuda_logits, cuda_loss, cuda_grads] = run(kCuda);
  EXPECT_LT(max_abs(cpu_logits, cuda_logits), 1e-4);
  EXPECT_LT(std::abs(cpu_loss - cuda_loss) / cpu_loss, 1e-5) << cpu_loss << " vs " << cuda_loss;
  for (size_t i = 0; i < cpu_grads.size(); ++i) EXPECT_LT(max_abs(cpu_grads[i], cuda_grads[i]), 1e-4) << "parameter " << i;
}

// Training with bf16 autocast follows fp32 training from the same start on the same batches:
// over 20 updates of the copy task, each update's loss within 3 % of fp32's. (bf16 keeps 8
// significant bits, a relative rounding of 0.4 % per product; the loss is an average over
// hundreds of tokens.)
TEST(Gpu, Bf16AutocastLossTracksFp32Over20Updates) {
  REQUIRE_CUDA();
  auto losses = [](Precision precision) {
    torch::manual_seed(11);
    DataConfig data;
    data.batch_size = 64;
    Transformer model(small_model(/*dropout=*/0.0), VocabInfo{data.vocab_size, data.vocab_size, CopyStream::kPadId});
    TrainConfig train;
    train.warmup_updates = 10;
    train.precision = precision;
    Trainer trainer(model, train, kCuda);
    CopyStream stream(data, /*seed=*/3);
    std::vector<double> per_token;
    for (int i = 0; i < 20; ++i) {
      const UpdateStats s = trainer.step(stream.next());
      per_token.push_back(s.loss_sum / static_cast<double>(s.tokens));
    }
    return per_token;
  };
  const std::vector<double> fp32 = losses(Precision::fp32);
  const std::vector<double> bf16 = losses(Precision::bf16);
  double worst = 0.0;
  for (size_t i = 0; i < fp32.size(); ++i) worst = std::max(worst, std::abs(bf16[i] - fp32[i]) / fp32[i]);
  std::printf("bf16 vs fp32 loss over 20 updates: worst relative difference %.4f (first %.4f/%.4f, last %.4f/%.4f)\n",
              worst, bf16.front(), fp32.front(), bf16.back(), fp32.back());
  EXPECT_LT(worst, 0.03);
  EXPECT_LT(fp32.back(), fp32.front());  // it trained
}

// The fused kernel (flash / memory-efficient attention) against the explicit softmax formula on
// CUDA in fp32, forward and backward, with padding and a query whose keys are all masked.
TEST(Gpu, FusedAttentionMatchesTheExplicitFormula) {
  REQUIRE_CUDA();
  if (!fused_attention_available()) GTEST_SKIP() << "scaled_dot_product_attention needs LibTorch >= 2.0";
  NoTf32 exact;
  torch::manual_seed(7);
  MultiHeadAttention attention(64, 4, /*dropout=*/0.0);
  attention->to(kCuda);
  const torch::Tensor x = torch::randn({3, 10, 64}, kCuda);
  torch::Tensor mask = torch::ones({3, 1, 1, 10}, torch::TensorOptions(torch::kBool).device(kCuda));
  mask[1].slice(-1, 6).fill_(false);  // padding
  mask[2].fill_(false);               // nothing to attend to: zero weights
  auto run = [&](AttentionKernel kernel) {
    attention->set_kernel(kernel);
    attention->zero_grad();
    torch::Tensor input = x.clone().requires_grad_(true);
    const torch::Tensor out = attention->forward(input, input, input, mask);
    (out * out).sum().backward();
    std::vector<torch::Tensor> grads{input.grad().clone()};
    for (const auto& p : attention->parameters()) grads.push_back(p.grad().clone());
    return std::make_pair(out.detach(), grads);
  };
  const auto [fused, fused_grads] = run(AttentionKernel::sdpa);
  const auto [formula, formula_grads] = run(AttentionKernel::explicit_formula);
  EXPECT_LT(max_abs(fused, formula), 1e-5);
  for (size_t i = 0; i < fused_grads.size(); ++i) EXPECT_LT(max_abs(fused_grads[i], formula_grads[i]), 1e-4) << i;
  EXPECT_LT(max_abs(fused[2][0], attention->out_proj->bias.detach()), 1e-6);
}

// Cached beam search on CUDA returns the CPU's hypotheses for a fixed model: the same tokens,
// scores within 1e-4.
TEST(Gpu, CachedBeamSearchOnCudaEqualsCpu) {
  REQUIRE_CUDA();
  NoTf32 exact;
  torch::manual_seed(9);
  Transformer model(small_model(/*dropout=*/0.0), VocabInfo{kVocab, kVocab, kPad});
  model->eval();
  const torch::Tensor src = padded_ids(4);
  DecodeConfig options;
  options.nbest = 2;
  options.max_len_b = 10;
  const auto cpu = beam_search(model, src, /*bos_id=*/1, /*eos_id=*/2, options);
  model->to(kCuda);
  const auto cuda = beam_search(model, src, /*bos_id=*/1, /*eos_id=*/2, options);
  ASSERT_EQ(cpu.size(), cuda.size());
  for (size_t s = 0; s < cpu.size(); ++s) {
    ASSERT_EQ(cpu[s].size(), cuda[s].size()) << "sentence " << s;
    for (size_t k = 0; k < cpu[s].size(); ++k) {
      EXPECT_EQ(cpu[s][k].tokens, cuda[s][k].tokens) << "sentence " << s << ", hypothesis " << k;
      EXPECT_NEAR(cpu[s][k].score, cuda[s][k].score, 1e-4) << "sentence " << s << ", hypothesis " << k;
    }
  }
}

// A run trained on CUDA resumes on the CPU and then on CUDA again (the tmt binary, copy task);
// each leg starts where the last one stopped.
TEST(Gpu, CheckpointWrittenOnCudaResumesOnCpuAndBack) {
  REQUIRE_CUDA();
  const fs::path dir = scratch("gpu_resume");
  const std::string train = "train -c '" + tests::kCopyConfig + "' --run-dir run --set train.save_every=10";
  const Result first = run_tmt(dir, train + " --set train.device=cuda --set train.max_updates=20");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const Result second = run_tmt(dir, train + " --set train.device=cpu --set train.max_updates=40");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const Result third = run_tmt(dir, train + " --set train.device=cuda --set train.max_updates=60");
  ASSERT_EQ(third.exit_code, 0) << third.err;
  const std::string log = slurp(dir / "run" / "train.log");
  EXPECT_NE(log.find("at update 20"), std::string::npos) << log;
  EXPECT_NE(log.find("at update 40"), std::string::npos) << log;
  EXPECT_NE(log.find("update 60 |"), std::string::npos) << log;
  const Result out = run_tmt(dir, "translate --checkpoint run/checkpoint_last.pt --device cuda", "1 2 3 4 5\n");
  EXPECT_EQ(out.exit_code, 0) << out.err;
  const Result on_cpu = run_tmt(dir, "translate --checkpoint run/checkpoint_last.pt --device cpu", "1 2 3 4 5\n");
  EXPECT_EQ(out.out, on_cpu.out);
}

// NCCL in a job of one process: the group forms, and sum/max/barrier leave the values as they are.
TEST(Gpu, NcclWithOneProcess) {
  REQUIRE_CUDA();
  if (!nccl_built()) GTEST_SKIP() << "this tmt was built without NCCL (-DTMT_WITH_NCCL=ON)";
  DistributedEnv env;
  env.master_port = 29400 + static_cast<int>(std::chrono::steady_clock::now().time_since_epoch().count() % 500);
  Communicator communicator(env, kCuda, std::chrono::seconds(60));
  EXPECT_EQ(communicator.backend(), "nccl");
  const torch::Tensor values = torch::arange(10, torch::TensorOptions(torch::kFloat).device(kCuda));
  torch::Tensor summed = values.clone();
  communicator.sum({summed});
  EXPECT_TRUE(torch::equal(summed, values));
  torch::Tensor flag = torch::tensor({3}, torch::TensorOptions(torch::kLong).device(kCuda));
  communicator.max(flag);
  EXPECT_EQ(flag.item<int64_t>(), 3);
  communicator.barrier();
}

}  // namespace
}  // namespace tmt
