"""Helper of bench/peer_joeynmt.sh: JoeyNMT 2.3.0 on the work of a tmt config.

  peer_joeynmt.py prepare RUN --config YAML --spm MODEL --data DIR [--set KEY=VALUE ...] [options]
  peer_joeynmt.py train RUN [--match-tmt] [--snapshot-minutes M] [--snapshot-threads N]
  peer_joeynmt.py result RUN

prepare  reads the tmt config (with --set overrides), writes RUN/data (the training pairs tmt
         keeps, val, test and JoeyNMT's vocabulary file = the SentencePiece pieces in id order),
         checks that JoeyNMT's tokenizer and vocabulary give tmt's ids (against tmt's train.bin
         beside the model, when there), measures tmt's batches and picks JoeyNMT's token
         batch_size with the same mean target tokens per batch, and writes RUN/joey.yaml and
         RUN/prepare.json.
train    runs JoeyNMT's own training loop on RUN/joey.yaml, adding per validation the NLL per
         target token (JoeyNMT logs only the label-smoothed loss), a wall-clock budget (SIGALRM
         -> KeyboardInterrupt, which JoeyNMT answers with a final checkpoint) and timing; writes
         RUN/train.json (and each validation, as it comes, to RUN/valid_nll.jsonl). --match-tmt
         also changes, at run time, what no JoeyNMT key reaches. --snapshot-minutes M saves the
         model as it is after M minutes of training (RUN/model/snapshot.ckpt, with its updates,
         tokens and timing in RUN/snapshot.json) and goes on training, on --snapshot-threads
         threads from then on when given: one run gives both the model at equal wall time and
         the per-update curve beyond it.
result   prints the RESULT line from RUN/{prepare,train,translate}.json and RUN/bleu*.json.
"""
import argparse
import gzip
import json
import math
import signal
import sys
import time
from importlib.metadata import version
from pathlib import Path

import yaml

SWAP = {0: 1, 1: 0}  # tmt ids pad 0, unk 1; JoeyNMT always puts unk at 0 and pad at 1


def noam(step, d_model, warmup, factor):
    return factor * d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)


def read_lines(path):
    with (gzip.open(path, "rt", encoding="utf-8") if str(path).endswith(".gz")
          else open(path, encoding="utf-8")) as f:
        lines = f.read().split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def find(data_dir, prefix, lang):
    for p in (Path(data_dir) / f"{prefix}.{lang}.gz", Path(data_dir) / f"{prefix}.{lang}"):
        if p.is_file():
            return p
    sys.exit(f"peer_joeynmt.py: no {prefix}.{lang}[.gz] in {data_dir}")


def apply_set(cfg, assignment):
    key, _, value = assignment.partition("=")
    section, _, name = key.partition(".")
    if section not in cfg or name not in cfg[section]:
        sys.exit(f"peer_joeynmt.py: --set {assignment}: no key {key} in the tmt config")
    cfg[section][name] = yaml.safe_load(value)


def tmt_bin(path):
    """Source and target id lists of a tmt corpus file (data/corpus.cpp's format)."""
    import numpy as np
    raw = Path(path).read_bytes()
    if raw[:8] != b"TMTCORP\0":
        sys.exit(f"peer_joeynmt.py: {path} is not a tmt corpus")
    token_bytes, pairs, src_tokens, tgt_tokens = (np.frombuffer(raw, np.uint32, 1, 12)[0],
                                                  *np.frombuffer(raw, np.int64, 3, 32))
    offsets = np.frombuffer(raw, np.uint64, 2 * (pairs + 1), 64).astype(np.int64)
    tokens = np.frombuffer(raw, np.uint16 if token_bytes == 2 else np.uint32,
                           src_tokens + tgt_tokens, 64 + 16 * (pairs + 1))
    so, to = offsets[:pairs + 1], offsets[pairs + 1:]
    tgt = tokens[src_tokens:]
    return ([tokens[so[i]:so[i + 1]].tolist() for i in range(pairs)],
            [tgt[to[i]:to[i + 1]].tolist() for i in range(pairs)])


def tmt_batches(src_len, tgt_len, max_tokens):
    """data/batcher.cpp: pairs sorted by (source, target) length, each with eos; a batch grows
    while rows * (max source + max target) <= max_tokens. Ties do not change the batches."""
    batches, cur, ms, mt = [], [], 0, 0
    for i in sorted(range(len(src_len)), key=lambda i: (src_len[i], tgt_len[i])):
        s, t = max(ms, src_len[i]), max(mt, tgt_len[i])
        if cur and (len(cur) + 1) * (s + t) > max_tokens:
            batches.append(cur)
            cur, ms, mt = [], src_len[i], tgt_len[i]
        else:
            ms, mt = s, t
        cur.append(i)
    return batches + [cur] if cur else batches


def joey_batches(src, tgt, batch_size, seed):
    """JoeyNMT's TokenBatchSampler over RandomSubsetSampler: a torch.randperm of the pairs, a
    batch closes once rows * max(max(src + 1, tgt + 1)) >= batch_size (src, tgt in pieces)."""
    import torch
    g = torch.Generator()
    g.manual_seed(seed)
    batches, cur, m = [], [], 0
    for i in torch.randperm(len(src), generator=g).tolist():
        cur.append(i)
        m = max(m, src[i] + 1, tgt[i] + 1)
        if m * len(cur) >= batch_size:
            batches.append(cur)
            cur, m = [], 0
    return batches + [cur] if cur else batches


def stats(batches, src_len, tgt_len):
    """Mean target tokens (eos counted) and padded source + target positions per batch."""
    tgt = sum(tgt_len[i] for b in batches for i in b)
    padded = sum(len(b) * (max(src_len[i] for i in b) + max(tgt_len[i] for i in b)) for b in batches)
    real = tgt + sum(src_len[i] for b in batches for i in b)
    return {"batches": len(batches), "mean_tgt_tokens": tgt / len(batches),
            "mean_padded_positions": padded / len(batches), "padding": 1 - real / padded}


def calibrate(src, tgt, target, seed, epochs=3):
    """The JoeyNMT batch_size whose mean target tokens per batch (first epochs) is nearest target."""
    def mean(b):
        bs = [x for e in range(1, epochs + 1) for x in joey_batches(src, tgt, b, seed + e)]
        return sum(tgt[i] + 1 for x in bs for i in x) / len(bs), bs
    lo, hi = 1, 64 * int(target) + 64
    while hi - lo > 1:  # mean is non-decreasing in batch_size up to sampling noise
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if mean(mid)[0] < target else (lo, mid)
    best = min((lo, hi), key=lambda b: abs(mean(b)[0] - target))
    return best, mean(best)[1]


def prepare(a):
    run = Path(a.run).resolve()
    cfg = yaml.safe_load(Path(a.config).read_text())
    for s in a.set or []:
        apply_set(cfg, s)
    m, d, t = cfg["model"], cfg["data"], cfg["train"]
    if float(t.get("cooldown", 0)) > 0:
        print(f"peer_joeynmt.py: train.cooldown {t['cooldown']} has no JoeyNMT equivalent: its noam schedule "
              "runs to the end (give tmt --set train.cooldown=0 to compare like with like)", file=sys.stderr)
    for sec, key in (("model", "dropout"), ("model", "attention_dropout"), ("train", "lr_factor"),
                     ("train", "adam_beta1"), ("train", "adam_beta2"), ("train", "adam_eps"),
                     ("train", "clip_norm"), ("train", "label_smoothing"), ("decode", "alpha")):
        cfg[sec][key] = float(cfg[sec][key])  # YAML 1.1 reads 1e-9 as a string
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=a.spm)
    specials = [sp.id_to_piece(i) for i in range(4)]
    if (sp.pad_id(), sp.unk_id(), sp.bos_id(), sp.eos_id()) != (0, 1, 2, 3):
        sys.exit(f"peer_joeynmt.py: {a.spm} is not a tmt model (special ids pad/unk/bos/eos 0/1/2/3)")

    # Data: the training pairs tmt keeps (data/prepare.cpp's filters), val and test unfiltered.
    out = run / "data"
    out.mkdir(parents=True, exist_ok=True)
    src_l, tgt_l = d["src_lang"], d["tgt_lang"]
    splits = {"train": d["train_prefix"], "dev": d["valid_prefix"], "test": a.test_prefix}
    lengths = {}
    for split, prefix in splits.items():
        src, tgt = read_lines(find(a.data, prefix, src_l)), read_lines(find(a.data, prefix, tgt_l))
        if len(src) != len(tgt):
            sys.exit(f"peer_joeynmt.py: {prefix}: {len(src)} {src_l} and {len(tgt)} {tgt_l} lines")
        s_ids, t_ids = sp.encode(src), sp.encode(tgt)
        keep = range(len(src))
        if split == "train":
            keep = [i for i in keep if s_ids[i] and t_ids[i]
                    and max(len(s_ids[i]), len(t_ids[i])) <= d["max_len"]
                    and max(len(s_ids[i]), len(t_ids[i])) / min(len(s_ids[i]), len(t_ids[i])) <= d["max_ratio"]]
        n = {"dev": a.valid_size, "test": a.test_size}.get(split, 0)
        keep = list(keep)[:n] if n > 0 else list(keep)
        for lang, lines in ((src_l, src), (tgt_l, tgt)):
            (out / f"{split}.{lang}").write_text("".join(lines[i] + "\n" for i in keep), encoding="utf-8")
        lengths[split] = ([len(s_ids[i]) for i in keep], [len(t_ids[i]) for i in keep])
    (out / "vocab.txt").write_text("".join(sp.id_to_piece(i) + "\n" for i in range(sp.get_piece_size())),
                                   encoding="utf-8")

    # Batches: tmt's exactly; JoeyNMT's batch_size chosen for the same mean target tokens.
    src, tgt = lengths["train"]
    tmt = stats(tmt_batches([x + 1 for x in src], [x + 1 for x in tgt], d["max_tokens"]),
                [x + 1 for x in src], [x + 1 for x in tgt])
    if a.batch_size > 0:
        joey_bs = a.batch_size
        jb = [x for e in (1, 2, 3) for x in joey_batches(src, tgt, joey_bs, t["seed"] + e)]
    else:
        joey_bs, jb = calibrate(src, tgt, tmt["mean_tgt_tokens"], t["seed"])
    joey = stats(jb, [x + 1 for x in src], [x + 1 for x in tgt])  # JoeyNMT pads src+eos, bos/tgt+eos
    joey["batch_size"] = joey_bs

    # The JoeyNMT config.
    d_model = m["d_model"]
    init = a.init or m.get("init", "fairseq")
    side = lambda lang: {"lang": lang, "level": "bpe", "tokenizer_type": "sentencepiece",
                         "tokenizer_cfg": {"model_file": str(Path(a.spm).resolve())},
                         "voc_file": str(out / "vocab.txt"), "lowercase": False, "normalize": False,
                         "max_length": d["max_len"]}
    coder = {"type": "transformer", "num_layers": m["layers"], "num_heads": m["heads"],
             "hidden_size": d_model, "ff_size": m["d_ff"], "dropout": m["dropout"],
             "embeddings": {"embedding_dim": d_model, "scale": True, "dropout": m["dropout"]},
             "layer_norm": "pre" if m["pre_norm"] else "post", "activation": "relu"}
    valid_every, log_every = t["valid_every"], math.gcd(t["log_every"], t["valid_every"])
    # Only picks best.ckpt; JoeyNMT's ppl is exp(label-smoothed loss), the nearest to tmt's nll.
    metric = {"bleu": "bleu" if t["valid_bleu"] else "loss", "loss": "loss", "nll": "ppl"}[t["best_metric"]]
    training = {
        "optimizer": "adam", "adam_betas": [t["adam_beta1"], t["adam_beta2"]],
        "scheduling": "noam", "learning_rate_factor": t["lr_factor"],
        "learning_rate_warmup": t["warmup_updates"],
        # JoeyNMT's first update runs at learning_rate, update k > 1 at noam(k - 1): start at noam(1).
        "learning_rate": noam(1, d_model, t["warmup_updates"], t["lr_factor"]),
        "learning_rate_min": 0.0,  # default 1e-4 would stop training in the warm-up
        "weight_decay": 0.0, "loss": "crossentropy", "label_smoothing": t["label_smoothing"],
        "normalization": "tokens", "batch_type": "token", "batch_size": joey_bs,
        "batch_multiplier": t["update_freq"], "shuffle": True,
        "epochs": t["max_epochs"] if t["max_epochs"] > 0 else 1000000,
        "logging_freq": log_every, "validation_freq": valid_every,
        "early_stopping_metric": metric, "keep_best_ckpts": 1, "overwrite": True,
        "print_valid_sents": [0],
    }
    if t["max_updates"] > 0:
        training["updates"] = t["max_updates"]
    if t["clip_norm"] > 0:
        training["clip_grad_norm"] = t["clip_norm"]
    joey_cfg = {
        "name": "peer_joeynmt", "joeynmt_version": "2.3.0", "model_dir": str(run / "model"),
        "use_cuda": a.device == "cuda", "fp16": False, "random_seed": t["seed"], "num_workers": 0,
        "data": {
            "train": str(out / "train"), "dev": str(out / "dev"), "test": str(out / "test"),
            "dataset_type": "plain", "src": side(src_l), "trg": side(tgt_l),
            "special_symbols": {"unk_token": specials[1], "unk_id": 0, "pad_token": specials[0],
                                "pad_id": 1, "bos_token": specials[2], "bos_id": 2,
                                "eos_token": specials[3], "eos_id": 3},
        },
        "testing": {
            "load_model": str(run / "model" / "latest.ckpt"),
            "batch_size": cfg["decode"]["max_tokens"], "batch_type": "token",
            "beam_size": cfg["decode"]["beam_size"], "beam_alpha": cfg["decode"]["alpha"],
            "n_best": 1, "max_output_length": -1, "min_output_length": 1,
            "eval_metrics": ["bleu"] if t["valid_bleu"] else [],
            "sacrebleu_cfg": {"tokenize": "13a"},
        },
        "training": training,
        "model": {
            "initializer": "xavier_uniform", "init_gain": 1.0, "bias_initializer": "zeros",
            "embed_initializer": "normal" if init == "fairseq" else "xavier_uniform",
            "embed_init_weight": d_model ** -0.5, "embed_init_gain": 1.0,
            "tied_embeddings": m["share_embeddings"], "tied_softmax": m["share_embeddings"],
            "encoder": coder, "decoder": json.loads(json.dumps(coder)),
        },
    }
    (run / "joey.yaml").write_text(yaml.safe_dump(joey_cfg, sort_keys=False))

    # JoeyNMT's own tokenizer and vocabulary must give tmt's ids (pad/unk swapped).
    check = {}
    bin_path = Path(a.spm).parent / "train.bin"
    if bin_path.is_file():
        from joeynmt.config import _check_special_symbols
        from joeynmt.tokenizers import build_tokenizer
        from joeynmt.vocabulary import build_vocab
        from types import SimpleNamespace
        dcfg = json.loads(json.dumps(joey_cfg["data"]))
        dcfg["special_symbols"] = SimpleNamespace(**_check_special_symbols(dcfg["special_symbols"]))
        tok = build_tokenizer(dcfg)
        vocab, _ = build_vocab(dcfg)
        tok[src_l].set_vocab(vocab)
        tmt_src, tmt_tgt = tmt_bin(bin_path)
        texts = {lang: (out / f"train.{lang}").read_text(encoding="utf-8").split("\n")[:-1]
                 for lang in (src_l, tgt_l)}
        if len(tmt_src) != len(texts[src_l]):
            sys.exit(f"peer_joeynmt.py: {bin_path} holds {len(tmt_src)} pairs, the filtered corpus "
                     f"{len(texts[src_l])}: tmt prepared other data or other filters")
        bad = [i for i in range(len(tmt_src)) for lang, ids in ((src_l, tmt_src[i]), (tgt_l, tmt_tgt[i]))
               if [vocab.lookup(p) for p in tok[lang](texts[lang][i])] != [SWAP.get(x, x) for x in ids]]
        check = {"pairs": len(tmt_src), "mismatched": len(bad), "vocab_size": len(vocab)}
        if bad or len(vocab) != sp.get_piece_size():
            sys.exit(f"peer_joeynmt.py: JoeyNMT's ids differ from {bin_path}'s in {len(bad)} "
                     f"sentences (first pair {bad[:1]}), vocabulary {len(vocab)}")
    prep = {"tmt": tmt, "joey": joey, "id_check": check, "init": init,
            "train_pairs": len(src), "dev_pairs": len(lengths["dev"][0]),
            "test_pairs": len(lengths["test"][0]), "adam_eps": t["adam_eps"],
            "attention_dropout": m["attention_dropout"], "d_model": d_model,
            "warmup": t["warmup_updates"], "lr_factor": t["lr_factor"], "max_minutes": t["max_minutes"],
            "smoothing_variant": t["smoothing_variant"]}
    (run / "prepare.json").write_text(json.dumps(prep, indent=1))
    print(f"[peer] tmt batches: {tmt['batches']} per epoch, {tmt['mean_tgt_tokens']:.1f} target tokens "
          f"each (padding {tmt['padding']:.3f}); JoeyNMT batch_size {joey_bs}: {joey['mean_tgt_tokens']:.1f} "
          f"(padding {joey['padding']:.3f}); ids checked: {check or 'no train.bin'}", file=sys.stderr)


def match_tmt(prep):
    """Run-time changes for what JoeyNMT's config cannot express (--match-tmt)."""
    import torch
    from joeynmt import builders, prediction, transformer_layers as tl

    class Adam(torch.optim.Adam):  # JoeyNMT passes no eps: torch's 1e-8
        def __init__(self, params, **kw):
            kw.setdefault("eps", prep["adam_eps"])
            super().__init__(params, **kw)
    torch.optim.Adam = Adam
    # Update k at noam(k) as in tmt, not noam(k - 1).
    builders.NoamScheduler._compute_rate = lambda self: self.factor * self.hidden_size ** -0.5 * min(
        (self._step + 1) ** -0.5, (self._step + 1) * self.warmup ** -1.5)
    build = prediction.build_model

    def build_model(*args, **kw):
        model = build(*args, **kw)
        for mod in model.modules():
            if isinstance(mod, tl.MultiHeadedAttention):
                mod.dropout.p = prep["attention_dropout"]
                if prep["init"] == "fairseq":
                    for lin in (mod.q_layer, mod.k_layer, mod.v_layer):
                        torch.nn.init.xavier_uniform_(lin.weight, gain=2 ** -0.5)
            elif isinstance(mod, tl.PositionwiseFeedForward):
                mod.pwff_layer[2].p = 0.0  # tmt: no dropout between the two linear layers
            elif isinstance(mod, torch.nn.LayerNorm):
                mod.eps = 1e-5  # LibTorch's default
        if prep["init"] == "annotated":  # JoeyNMT zeroes the padding row; the annotated init does not
            with torch.no_grad():
                torch.nn.init.xavier_uniform_(model.src_embed.lut.weight)
        return model
    prediction.build_model = build_model


def train(a):
    run = Path(a.run).resolve()
    prep = json.loads((run / "prepare.json").read_text())
    import shutil
    import torch
    from joeynmt import training
    from joeynmt.config import load_config
    from joeynmt.helpers import make_model_dir
    from joeynmt.helpers_for_ddp import get_logger
    from joeynmt.loss import XentLoss

    cfg = load_config(run / "joey.yaml")
    model_dir = Path(cfg["model_dir"])
    make_model_dir(model_dir, overwrite=True)
    for name in ("valid_nll.jsonl", "snapshot.json"):
        (run / name).unlink(missing_ok=True)
    shutil.copy2(run / "joey.yaml", model_dir / "config.yaml")
    get_logger("", log_file=str(model_dir / "train.log"))
    if a.match_tmt:
        match_tmt(prep)
    rec = {"valid_nll": {}, "valid_s": 0.0, "match_tmt": a.match_tmt, "threads": torch.get_num_threads()}
    minutes = prep["max_minutes"]
    clock = {"start": None, "snapshot": a.snapshot_minutes * 60 if a.snapshot_minutes > 0 else None}

    def valid_nll(model, data, args):
        loss_function = model._loss_function
        model._loss_function = XentLoss(pad_index=model.pad_index, smoothing=0.0)  # plain NLL, sum
        total, tokens = 0.0, 0
        model.eval()
        with torch.no_grad():
            for batch in data.make_iter(batch_size=args.batch_size, batch_type=args.batch_type,
                                        seed=data.seed, shuffle=False, pad_index=model.pad_index,
                                        eos_index=model.eos_index, device=next(model.parameters()).device):
                total += model(return_type="loss", **vars(batch))[0].item()
                tokens += batch.ntokens
        model._loss_function = loss_function
        return total / tokens

    validate, train_and_validate = training.TrainManager._validate, training.TrainManager.train_and_validate

    def _validate(self, valid_data):
        start = time.time()
        validate(self, valid_data)
        nll = valid_nll(self.model, valid_data, self.dev_cfg)
        rec["valid_nll"][str(self.stats.steps)] = nll
        rec["valid_s"] += time.time() - start
        with open(run / "valid_nll.jsonl", "a") as f:
            f.write(json.dumps({"update": self.stats.steps, "nll": nll,
                                "elapsed_s": round(time.time() - clock["start"], 1)}) + "\n")

    train_step = training.TrainManager._train_step

    def _train_step(self, batch):
        # Runs before the optimizer step: the model is that of self.stats.steps updates.
        if clock["snapshot"] is not None and time.time() - clock["start"] >= clock["snapshot"]:
            clock["snapshot"] = None
            wall = time.time() - clock["start"]
            tmp = model_dir / "snapshot.ckpt.tmp"
            torch.save({"model_state": self.model.state_dict()}, tmp)
            tmp.rename(model_dir / "snapshot.ckpt")
            snap = {"updates": self.stats.steps, "tgt_tokens": self.stats.total_tokens,
                    "train_wall_s": wall, "valid_s": rec["valid_s"], "threads": torch.get_num_threads(),
                    "tokens_per_s": self.stats.total_tokens / (wall - rec["valid_s"])}
            (run / "snapshot.json.tmp").write_text(json.dumps(snap, indent=1))
            (run / "snapshot.json.tmp").rename(run / "snapshot.json")
            if a.snapshot_threads > 0:
                torch.set_num_threads(a.snapshot_threads)
        return train_step(self, batch)

    def budget(*_):
        raise KeyboardInterrupt  # JoeyNMT stops and saves a checkpoint

    def _train_and_validate(self, train_data, valid_data):
        if minutes > 0:
            signal.signal(signal.SIGALRM, budget)
            signal.setitimer(signal.ITIMER_REAL, minutes * 60)
        start = clock["start"] = time.time()
        try:
            train_and_validate(self, train_data, valid_data)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            rec.update(train_wall_s=time.time() - start, updates=self.stats.steps,
                       epochs=self.stats.epochs, tgt_tokens=self.stats.total_tokens)

    training.TrainManager._validate = _validate
    training.TrainManager.train_and_validate = _train_and_validate
    training.TrainManager._train_step = _train_step
    training.train(rank=0, world_size=None, cfg=cfg, skip_test=True)
    train_s = rec["train_wall_s"] - rec["valid_s"]
    rec["tokens_per_s"] = rec["tgt_tokens"] / train_s if train_s > 0 else None
    bleu = {}
    validations = model_dir / "validations.txt"  # absent when the budget ended before the first validation
    for line in (validations.read_text().splitlines() if validations.is_file() else []):
        f = dict(x.split(": ", 1) for x in line.split("\t") if ": " in x)
        if "bleu" in f:
            bleu[f["Steps"]] = float(f["bleu"])
    rec["valid_bleu_greedy"] = bleu
    (run / "train.json").write_text(json.dumps(rec, indent=1))


def result(a):
    run = Path(a.run)
    prep, tr, tl = (json.loads((run / f"{n}.json").read_text()) for n in ("prepare", "train", "translate"))
    score = lambda name: {r["name"]: r["score"] for r in json.loads((run / name).read_text())}
    cased, lc = score("bleu.json"), score("bleu_tok_lc.json")
    # With a snapshot, the translated model, its updates and its speed are those of the snapshot.
    at = json.loads((run / "snapshot.json").read_text()) if (run / "snapshot.json").is_file() else tr
    r = {"valid_nll": {k: round(v, 4) for k, v in tr["valid_nll"].items()},
         "valid_bleu_greedy": tr["valid_bleu_greedy"],
         "tokens_per_s": round(at["tokens_per_s"], 1), "train_wall_s": round(at["train_wall_s"], 1),
         "valid_s": round(at["valid_s"], 1), "wall_s": round(time.time() - a.start, 1),
         "updates": at["updates"], "final_updates": tr["updates"], "epochs": tr["epochs"],
         "bleu": cased["BLEU"], "bleu_tok_lc": lc["BLEU"], "chrf2": cased["chrF2"],
         "chrf2_tok_lc": lc["chrF2"], "test_lines": prep["test_pairs"], "translate_s": tl["ms"] / 1000,
         "tmt_mean_tgt_per_batch": round(prep["tmt"]["mean_tgt_tokens"], 1),
         "joey_batch_size": prep["joey"]["batch_size"],
         "joey_mean_tgt_per_batch": round(prep["joey"]["mean_tgt_tokens"], 1),
         "match_tmt": tr["match_tmt"], "threads": at["threads"],
         "versions": {p: version(p) for p in ("joeynmt", "torch", "sentencepiece", "protobuf", "numpy")}}
    print("RESULT " + json.dumps(r))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("run")
    p.add_argument("--config", required=True)
    p.add_argument("--spm", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--test-prefix", default="test_2016_flickr")
    p.add_argument("--set", action="append")
    p.add_argument("--batch-size", type=int, default=0)
    p.add_argument("--valid-size", type=int, default=0)
    p.add_argument("--test-size", type=int, default=0)
    p.add_argument("--init", choices=["fairseq", "annotated"])
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p = sub.add_parser("train")
    p.add_argument("run")
    p.add_argument("--match-tmt", action="store_true")
    p.add_argument("--snapshot-minutes", type=float, default=0.0)
    p.add_argument("--snapshot-threads", type=int, default=0)
    p = sub.add_parser("result")
    p.add_argument("run")
    p.add_argument("--start", type=float, required=True)
    a = ap.parse_args()
    {"prepare": prepare, "train": train, "result": result}[a.cmd](a)


if __name__ == "__main__":
    main()
