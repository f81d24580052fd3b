#!/usr/bin/env python3
"""Plain-PyTorch reference of tmt's Transformer training update, timed like bench_train.

    python3 bench/reference_transformer.py BATCHES [--device cpu|cuda|cuda:N|auto]
        [--criterion materialised|rowwise|fused] [--attention auto|explicit|fused]
        [--adam-foreach default|on|off] [--threads N] [--bf16] [--compile] [--peak-tflops X]

BATCHES is the file `bench_train --save-batches` writes: a tuple (settings as JSON, tuple of
(src, tgt_in, tgt_out) int64 tensors[, tuple of (name, tensor) initial parameters]). The
settings give the architecture (model/transformer.cpp, model/attention.cpp,
model/embeddings.cpp: post-norm by default or pre-norm with final LayerNorms, sinusoidal
positions, embeddings scaled by sqrt(d_model) and tied three ways when shared, biased q/k/v/out
projections, ReLU feed-forward, dropout on embedding sums, sublayer outputs and attention
weights), the criterion (label smoothing of ../shared/LABEL_SMOOTHING.md, the Annotated
Transformer's variant by default) and Adam with the paper's noam rate. With the parameters
(`bench_train --save-weights`) the reference loads them and first checks that its eval-mode
loss on the first batch equals tmt's: the same function, not only the same shapes.

Protocol, as bench_train: the first `warmup` batches are untimed updates, then each of the
`iters` remaining batches is one update timed on its own, the device synchronised before every
clock reading. An update does what tmt's Trainer::step does: zero_grad (grads set to None),
forward, criterion (summed, scaled by 1 / target tokens), backward, the global gradient norm
with a NaN/Inf check, Adam; it reads back the loss, NLL, accuracy and token count (.item()).
Attention follows tmt's choice by default: the fused F.scaled_dot_product_attention where tmt
was built against LibTorch >= 2.0 (and this torch has it), the explicit formula otherwise.
Intra-op threads default to bench_train's count. Prints a table and one final line
`RESULT {json}`.

Runs with Debian's python3-torch 1.13 (CPU) and with any pip torch 2.x (CPU or CUDA).
"""

import argparse
import ctypes
import json
import math
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


def sinusoidal_table(max_positions, d_model):
    """[max_positions, d_model]: sin at even, cos at odd columns; computed in double, as tmt."""
    position = torch.arange(max_positions, dtype=torch.float64).unsqueeze(1)
    inverse_frequency = torch.exp(
        torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
    angle = position * inverse_frequency  # [max_positions, d_model / 2]
    return torch.stack([torch.sin(angle), torch.cos(angle)], dim=2).view(max_positions, d_model).float()


class ScaledEmbedding(nn.Module):
    """Embedding multiplied by sqrt(d_model); its weight doubles as the tied output projection."""

    def __init__(self, vocab, d_model):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(vocab, d_model))
        self.scale = math.sqrt(d_model)

    def forward(self, ids):
        return F.embedding(ids, self.weight) * self.scale  # [batch, len, d_model]


class MultiHeadAttention(nn.Module):
    """model/attention.cpp: the explicit formula with masked weights zeroed, or fused SDPA."""

    def __init__(self, d_model, heads, dropout, fused):
        super().__init__()
        self.heads, self.head_dim, self.fused = heads, d_model // heads, fused
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.attention_dropout = nn.Dropout(dropout)

    def split(self, x):
        return x.view(x.size(0), x.size(1), self.heads, self.head_dim).transpose(1, 2)  # [b, h, len, hd]

    def forward(self, query, key, value, mask):
        q, k, v = self.split(self.q_proj(query)), self.split(self.k_proj(key)), self.split(self.v_proj(value))
        if self.fused:  # rows without any key attend to all of them, then are zeroed, as tmt does
            no_key = mask.any(dim=-1, keepdim=True).logical_not()
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask.logical_or(no_key),
                dropout_p=self.attention_dropout.p if self.training else 0.0).masked_fill(no_key, 0.0)
            return self.out_proj(out.transpose(1, 2).contiguous().view(query.size(0), query.size(1), -1))
        scores = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))  # [b, h, tq, tk]
        blocked = mask.logical_not()
        weights = torch.softmax(scores.masked_fill(blocked, float("-inf")), dim=-1).masked_fill(blocked, 0.0)
        out = torch.matmul(self.attention_dropout(weights), v)  # [b, h, tq, hd]
        return self.out_proj(out.transpose(1, 2).contiguous().view(query.size(0), query.size(1), -1))


class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff):
        super().__init__()
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)

    def forward(self, x):
        return self.linear2(torch.relu(self.linear1(x)))


def residual(x, norm, dropout, pre_norm, sublayer):
    return x + dropout(sublayer(norm(x))) if pre_norm else norm(x + dropout(sublayer(x)))


class EncoderLayer(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.pre_norm = s["pre_norm"]
        self.self_attn = MultiHeadAttention(s["d_model"], s["heads"], s["attention_dropout"], s["fused"])
        self.self_attn_norm = nn.LayerNorm(s["d_model"])
        self.ffn = FeedForward(s["d_model"], s["d_ff"])
        self.ffn_norm = nn.LayerNorm(s["d_model"])
        self.dropout = nn.Dropout(s["dropout"])

    def forward(self, x, mask):
        x = residual(x, self.self_attn_norm, self.dropout, self.pre_norm, lambda h: self.self_attn(h, h, h, mask))
        return residual(x, self.ffn_norm, self.dropout, self.pre_norm, self.ffn)


class DecoderLayer(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.pre_norm = s["pre_norm"]
        self.self_attn = MultiHeadAttention(s["d_model"], s["heads"], s["attention_dropout"], s["fused"])
        self.self_attn_norm = nn.LayerNorm(s["d_model"])
        self.cross_attn = MultiHeadAttention(s["d_model"], s["heads"], s["attention_dropout"], s["fused"])
        self.cross_attn_norm = nn.LayerNorm(s["d_model"])
        self.ffn = FeedForward(s["d_model"], s["d_ff"])
        self.ffn_norm = nn.LayerNorm(s["d_model"])
        self.dropout = nn.Dropout(s["dropout"])

    def forward(self, x, memory, self_mask, src_mask):
        x = residual(x, self.self_attn_norm, self.dropout, self.pre_norm,
                     lambda h: self.self_attn(h, h, h, self_mask))
        x = residual(x, self.cross_attn_norm, self.dropout, self.pre_norm,
                     lambda h: self.cross_attn(h, memory, memory, src_mask))
        return residual(x, self.ffn_norm, self.dropout, self.pre_norm, self.ffn)


class Transformer(nn.Module):
    """Encoder-decoder Transformer with the layout and initialisation of model/transformer.cpp."""

    def __init__(self, s):
        super().__init__()
        self.s = s
        d = s["d_model"]
        if s["share_embeddings"]:
            self.embed = ScaledEmbedding(s["src_vocab"], d)
        else:
            self.src_embed = ScaledEmbedding(s["src_vocab"], d)
            self.tgt_embed = ScaledEmbedding(s["tgt_vocab"], d)
            self.output_proj = nn.Linear(d, s["tgt_vocab"], bias=False)
        self.register_buffer("positions", sinusoidal_table(s["max_positions"], d))
        self.embed_dropout = nn.Dropout(s["dropout"])
        self.encoder_layers = nn.ModuleList([EncoderLayer(s) for _ in range(s["layers"])])
        self.decoder_layers = nn.ModuleList([DecoderLayer(s) for _ in range(s["layers"])])
        if s["pre_norm"]:
            self.encoder_norm = nn.LayerNorm(d)
            self.decoder_norm = nn.LayerNorm(d)
        with torch.no_grad():  # Xavier-uniform matrices, zero biases, unit LayerNorm gains
            for name, p in self.named_parameters():
                if p.dim() > 1:
                    nn.init.xavier_uniform_(p)
                elif name.endswith("bias"):
                    p.zero_()
                else:
                    p.fill_(1.0)

    def embed_tokens(self, ids, is_source):
        table = self.embed if self.s["share_embeddings"] else (self.src_embed if is_source else self.tgt_embed)
        return self.embed_dropout(table(ids) + self.positions[: ids.size(1)])

    def forward(self, src, tgt_in):
        pad = self.s["pad_id"]
        src_mask = src.ne(pad).unsqueeze(1).unsqueeze(1)  # [b, 1, 1, src_len]
        x = self.embed_tokens(src, True)
        for layer in self.encoder_layers:
            x = layer(x, src_mask)
        memory = self.encoder_norm(x) if self.s["pre_norm"] else x
        t = tgt_in.size(1)
        self_mask = torch.ones(t, t, dtype=torch.bool, device=tgt_in.device).tril().view(1, 1, t, t)
        y = self.embed_tokens(tgt_in, False)
        for layer in self.decoder_layers:
            y = layer(y, memory, self_mask, src_mask)
        if self.s["pre_norm"]:
            y = self.decoder_norm(y)
        weight = self.embed.weight if self.s["share_embeddings"] else self.output_proj.weight
        return F.linear(y, weight)  # [b, tgt_len, vocab]


def smoothed_target(logits, target, s):
    """The materialised target distribution q [N, K] of LABEL_SMOOTHING.md's variants."""
    eps, pad, k, variant = s["label_smoothing"], s["pad_id"], logits.size(1), s["smoothing_variant"]
    if variant == "annotated":
        q = torch.full_like(logits, eps / (k - 2))
        q.scatter_(1, target.unsqueeze(1), 1.0 - eps)
        q[:, pad] = 0.0
    elif variant == "others":
        q = torch.full_like(logits, eps / (k - 1))
        q.scatter_(1, target.unsqueeze(1), 1.0 - eps)
    else:  # uniform
        q = torch.full_like(logits, eps / k)
        q.scatter_(1, target.unsqueeze(1), 1.0 - eps + eps / k)
    return q.masked_fill_(target.eq(pad).unsqueeze(1), 0.0)  # rows whose gold is padding count for nothing


def negative_entropy(eps, k):
    """sum_j q_j log q_j of the annotated target (0 log 0 = 0): KL = cross-entropy + this."""
    smooth = eps / (k - 2)
    return ((1.0 - eps) * math.log(1.0 - eps) if eps < 1.0 else 0.0) + (
        (k - 2) * smooth * math.log(smooth) if smooth > 0.0 else 0.0)


# Every criterion maps logits [N, K] and gold ids [N] to (loss summed over the counted rows,
# log p of the gold class [N] for the NLL statistic).

def materialised_loss(logits, target, s):
    """KLDivLoss(sum) / cross-entropy against the full N x K target, as the Annotated Transformer."""
    logp = F.log_softmax(logits, dim=-1)
    q = smoothed_target(logp.detach(), target, s)
    loss = F.kl_div(logp, q, reduction="sum") if s["loss_form"] == "kl" else -(q * logp).sum()
    return loss, logp.gather(1, target.unsqueeze(1)).squeeze(1)


def rowwise_loss(logits, target, s):
    """The annotated loss from per-row sums of log p (no N x K target); autograd does the rest."""
    eps, pad, k = s["label_smoothing"], s["pad_id"], logits.size(1)
    logp = F.log_softmax(logits, dim=-1)
    gold = logp.gather(1, target.unsqueeze(1)).squeeze(1)
    others = logp.sum(1) - gold - logp[:, pad]
    row = -(1.0 - eps) * gold - eps / (k - 2) * others  # cross-entropy -sum_j q_j log p_j
    if s["loss_form"] == "kl":
        row = row + negative_entropy(eps, k)
    return row.masked_fill(target.eq(pad), 0.0).sum(), gold


class _FusedAnnotated(torch.autograd.Function):
    """tmt's algorithm (train/label_smoothing.cpp) in PyTorch: the annotated loss from row
    statistics, and a backward pass that builds softmax - q in one gradient buffer."""

    @staticmethod
    def forward(ctx, logits, target, eps, pad, kl):
        k = logits.size(1)
        lse = torch.logsumexp(logits, 1)                                              # [N]
        gold = logits.gather(1, target.unsqueeze(1)).squeeze(1) - lse                 # [N] log p(gold)
        others = logits.sum(1) - logits[:, pad] - (k - 1) * lse - gold                # [N] sum of the other log p
        row = -(1.0 - eps) * gold - eps / (k - 2) * others
        if kl:
            row = row + negative_entropy(eps, k)
        counted = target.ne(pad)
        ctx.save_for_backward(logits, lse, target, counted)
        ctx.eps, ctx.pad = eps, pad
        ctx.mark_non_differentiable(gold)
        return row.masked_fill(~counted, 0.0).sum(), gold

    @staticmethod
    def backward(ctx, grad_loss, _grad_gold):
        logits, lse, target, counted = ctx.saved_tensors
        eps, pad = ctx.eps, ctx.pad
        smooth = eps / (logits.size(1) - 2)
        grad = torch.sub(logits, lse.unsqueeze(1)).exp_().sub_(smooth)  # softmax - smooth, [N, K]
        grad.scatter_add_(1, target.unsqueeze(1), grad.new_full((logits.size(0), 1), smooth - (1.0 - eps)))
        grad[:, pad] += smooth  # q is 0 on the padding column
        grad.mul_((counted.to(grad.dtype) * grad_loss).unsqueeze(1))  # padding rows: no gradient
        return grad, None, None, None, None


def fused_loss(logits, target, s):
    """tmt's algorithm; the annotated variant only."""
    return _FusedAnnotated.apply(logits, target, s["label_smoothing"], s["pad_id"], s["loss_form"] == "kl")


CRITERIA = {"materialised": materialised_loss, "rowwise": rowwise_loss, "fused": fused_loss}


def openblas_threads():
    """OpenBLAS's own thread count (not torch's intra-op threads); None under another BLAS."""
    try:
        return ctypes.CDLL("libopenblas.so.0").openblas_get_num_threads()
    except (OSError, AttributeError):
        return None


def noam_rate(step, d_model, warmup, factor):
    return factor * d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_memory(device):
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device), "CUDA allocator peak"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "process peak resident set"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("batches", help="file written by bench_train --save-batches")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")
    parser.add_argument("--criterion", choices=sorted(CRITERIA), default="materialised",
                        help="materialised: the full N x K target (the Annotated Transformer's); rowwise: "
                             "per-row sums of log p through autograd; fused: tmt's algorithm, a custom "
                             "autograd function writing softmax - q (both annotated only)")
    parser.add_argument("--attention", choices=["auto", "explicit", "fused"], default="auto",
                        help="auto: fused exactly when tmt's build uses it (LibTorch >= 2.0)")
    parser.add_argument("--threads", type=int, default=0,
                        help="intra-op threads (default: bench_train's count, from the batches file)")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (CUDA only)")
    parser.add_argument("--peak-tflops", type=float, default=0.0, help="for model FLOP utilisation")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the model's forward (torch >= 2.0; compiled during the warm-up updates)")
    parser.add_argument("--adam-foreach", choices=["default", "on", "off"], default="default",
                        help="torch.optim.Adam's foreach (multi-tensor) path; tmt's Adam is a per-tensor loop, "
                             "like 'off'; 'default' is this torch's choice (on for CUDA in torch 2.x)")
    args = parser.parse_args()

    load_options = {"map_location": "cpu"}
    if tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (1, 13):
        load_options["weights_only"] = True  # the file holds only strings, tuples and tensors
    contents = torch.load(args.batches, **load_options)
    settings_json, batches = contents[0], contents[1]
    weights = dict(contents[2]) if len(contents) > 2 else None
    s = json.loads(settings_json)
    if s["class_weights"]:
        sys.exit("reference_transformer.py: train.class_weights is not supported by the reference")
    if args.criterion != "materialised" and s["smoothing_variant"] != "annotated":
        sys.exit("reference_transformer.py: --criterion %s implements the annotated variant only" % args.criterion)
    if s["loss_reduction"] not in ("sum", "mean"):
        sys.exit("reference_transformer.py: loss_reduction must be sum or mean, got " + s["loss_reduction"])

    has_sdpa = hasattr(F, "scaled_dot_product_attention")
    if args.attention == "fused" and not has_sdpa:
        sys.exit("reference_transformer.py: --attention fused needs torch >= 2.0, this is " + torch.__version__)
    s["fused"] = args.attention == "fused" or (args.attention == "auto" and s["fused_attention"] and has_sdpa)

    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(args.device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    bf16 = args.bf16 and device.type == "cuda"
    if args.bf16 and not bf16:
        print("reference_transformer.py: --bf16 applies to CUDA only; timing fp32 on CPU", file=sys.stderr)
    default_threads = torch.get_num_threads()
    torch.set_num_threads(args.threads if args.threads > 0 else s["threads"])
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # as tmt::allow_tf32
        torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(s["seed"])

    model = Transformer(s)
    if weights is not None:
        differ = set(n for n, _ in model.named_parameters()) ^ set(weights)
        if differ:
            sys.exit("reference_transformer.py: parameter names differ from tmt's: " + ", ".join(sorted(differ)))
        model.load_state_dict(weights, strict=False)  # strict would want the position table, a buffer
    model = model.to(device)
    if args.compile and not hasattr(torch, "compile"):
        sys.exit("reference_transformer.py: --compile needs torch >= 2.0, this is " + torch.__version__)
    forward = torch.compile(model) if args.compile else model
    params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.Adam(model.parameters(), lr=0.0, betas=(s["adam_beta1"], s["adam_beta2"]),
                                 eps=s["adam_eps"], foreach={"default": None, "on": True, "off": False}[args.adam_foreach])
    criterion = CRITERIA[args.criterion]
    batches = [tuple(t.to(device) for t in b) for b in batches]
    warmup, iters = s["warmup"], s["iters"]
    assert len(batches) == warmup + iters, "batches file holds %d batches, settings say %d" % (
        len(batches), warmup + iters)
    pad, updates = s["pad_id"], 0

    def update(src, tgt_in, tgt_out):
        nonlocal updates
        lr = noam_rate(updates + 1, s["d_model"], s["warmup_updates"], s["lr_factor"])
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = forward(src, tgt_in)
        logits = logits.reshape(-1, logits.size(-1)).float()
        target = tgt_out.reshape(-1)
        loss_sum, gold_logp = criterion(logits, target, s)
        counted = target.ne(pad)
        tokens = counted.sum()
        loss = loss_sum / tokens if s["loss_reduction"] == "mean" else loss_sum
        loss.backward()
        grads = [p.grad.detach().float().norm() for p in model.parameters() if p.grad is not None]
        grad_norm = torch.stack(grads).norm().item() if grads else 0.0
        if math.isfinite(loss_sum.item()) and math.isfinite(grad_norm):
            optimizer.step()
            updates += 1
        with torch.no_grad():  # the statistics tmt's Trainer reads back every update
            nll = -gold_logp.detach().masked_fill(~counted, 0.0).sum()
            correct = (logits.argmax(1).eq(target) & counted).sum()
        n = tokens.item()
        return loss_sum.item() / max(n, 1), nll.item(), correct.item(), n

    check = None
    if weights is not None:  # tmt's loss at the same weights, eval mode, criterion mean per token
        model.eval()
        with torch.no_grad():
            src, tgt_in, tgt_out = batches[0]
            logits = model(src, tgt_in).float()
            target = tgt_out.reshape(-1)
            eval_loss = (criterion(logits.reshape(-1, logits.size(-1)), target, s)[0] / target.ne(pad).sum()).item()
        check = {"tmt": s["init_eval_loss"], "pytorch": eval_loss,
                 "rel_diff": abs(eval_loss - s["init_eval_loss"]) / max(abs(s["init_eval_loss"]), 1e-30)}
    model.train()

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for b in batches[:warmup]:
        update(*b)
    synchronize(device)
    ms, loss = [], 0.0
    for b in batches[warmup:]:
        start = time.perf_counter()
        loss = update(*b)[0]
        synchronize(device)
        ms.append((time.perf_counter() - start) * 1e3)
    peak, peak_kind = peak_memory(device)

    batch, src_len = batches[0][0].shape
    tgt_len = batches[0][1].size(1)
    median, mean = statistics.median(ms), statistics.fmean(ms)
    tgt_per_s = batch * tgt_len / (median / 1e3)
    all_per_s = batch * (src_len + tgt_len) / (median / 1e3)
    tflops = s["flops_per_update"] / (median / 1e3) / 1e12
    mfu = tflops / args.peak_tflops if args.peak_tflops > 0 else None
    foreach = optimizer.param_groups[0].get("foreach")
    print("reference_transformer.py: %s on %s, PyTorch %s, %d intra-op threads (this PyTorch's default: %d), "
          "OpenBLAS threads %s" % (s["config"], device, torch.__version__, torch.get_num_threads(), default_threads,
                                   openblas_threads()))
    print("  model          %d layers, d_model %d, d_ff %d, %d heads, vocab %d, %s, %s, %d parameters (tmt: %d, %s)"
          % (s["layers"], s["d_model"], s["d_ff"], s["heads"], s["tgt_vocab"],
             "tied embeddings" if s["share_embeddings"] else "untied embeddings",
             "pre-norm" if s["pre_norm"] else "post-norm", params, s["parameters"],
             "same" if params == s["parameters"] else "DIFFERENT"))
    print("  batch          %d sentences x %d source x %d target tokens, %s, %s attention, %d warm-up + %d timed updates%s"
          % (batch, src_len, tgt_len, "bf16 autocast" if bf16 else "fp32", "fused" if s["fused"] else "explicit",
             warmup, iters, ", torch.compile" if args.compile else ""))
    print("  criterion      %s %s %s, eps %g, %s target; Adam foreach=%s"
          % (s["smoothing_variant"], s["loss_form"], s["loss_reduction"], s["label_smoothing"], args.criterion,
             foreach))
    print("  ms/update      median %.2f, mean %.2f, min %.2f, max %.2f" % (median, mean, min(ms), max(ms)))
    print("  tokens/s       %.0f target, %.0f source+target (at the median)" % (tgt_per_s, all_per_s))
    print("  matmul FLOPs   %.3f GFLOP/update, %.4f TFLOP/s%s" % (
        s["flops_per_update"] / 1e9, tflops,
        ", MFU %.2f%% of %g TFLOP/s" % (100 * mfu, args.peak_tflops) if mfu is not None
        else " (MFU: give --peak-tflops)"))
    print("  peak memory    %.1f MiB (%s)" % (peak / 1048576, peak_kind))
    print("  last loss      %.4f per target token" % loss)
    if check is not None:
        print("  same function  first batch, initial weights, eval mode: loss %.8f (tmt %.8f), relative difference %.2e: %s"
              % (check["pytorch"], check["tmt"], check["rel_diff"], "ok" if check["rel_diff"] < 1e-4 else "DIFFERENT"))
    result = {
        "impl": "pytorch-compile" if args.compile else "pytorch", "criterion": args.criterion, "config": s["config"],
        "device": str(device),
        "torch": torch.__version__, "threads": torch.get_num_threads(), "default_threads": default_threads,
        "openblas_threads": openblas_threads(),
        "dtype": "bf16" if bf16 else "fp32",
        "attention": "fused" if s["fused"] else "explicit", "batch_sentences": batch, "src_len": src_len, "tgt_len": tgt_len,
        "warmup": warmup, "iters": iters, "parameters": params, "parameters_tmt": s["parameters"],
        "ms_median": median, "ms_mean": mean, "ms_min": min(ms), "ms_max": max(ms),
        "tgt_tokens_per_s": tgt_per_s, "tokens_per_s": all_per_s, "flops_per_update": s["flops_per_update"],
        "tflops": tflops, "peak_tflops": args.peak_tflops, "mfu": mfu, "peak_memory_bytes": peak, "loss": loss,
        "equivalence": check,
    }
    print("RESULT " + json.dumps(result))
    same = params == s["parameters"] and (check is None or check["rel_diff"] < 1e-4)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
