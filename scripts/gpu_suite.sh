#!/usr/bin/env bash
# Everything a GPU must show, in one command: the GPU tests, Transformer-base training speed
# against PyTorch eager and torch.compile on the same batches, the criterion's memory, and a
# Multi30k model trained in bf16 for a few minutes, translated and scored. Writes summary.md,
# summary.json and logs.txt into the output folder.
#
#   scripts/gpu_suite.sh [--device cuda|cuda:N|cpu] [--quick] [--build DIR] [--out DIR]
#                        [--data DIR] [--minutes M] [--python PY] [--peak-tflops X]
#
#   --device       where to run (default cuda)
#   --quick        the same steps at toy size (a tiny model, a generated toy corpus, a few
#                  updates); with --device cpu it is what CI runs, so that this script cannot rot
#   --build DIR    the tmt build tree (default build-torch2 if it holds tmt, else build)
#   --out DIR      output folder (default $OUT if set, else runs/gpu_suite)
#   --data DIR     Multi30k (default data/multi30k; see scripts/get_data.sh); --quick makes its own
#   --minutes M    Multi30k training wall time (default 3)
#   --python PY    a Python with torch >= 2.0 for the PyTorch baselines (default .venv-torch2/bin/python
#                  if present, else python3)
#   --peak-tflops  the chip's dense bf16 peak for MFU (default 989: H100/H200 SXM datasheet)
#
# Steps (each runs even when an earlier one failed; the exit status is 1 if any failed):
#   a  gpu_tests: CPU/CUDA agreement, bf16 vs fp32, fused attention, beam search, checkpoints
#      across devices, NCCL (skipped, never passed, without a CUDA device)
#   b  bench_train configs/transformer_base.yaml in bf16 at 512 x 48 + 48 tokens (about the
#      paper's 25k target tokens a batch), then bench/reference_transformer.py on the same
#      batches in PyTorch eager and with torch.compile: tokens/s, MFU, peak memory
#   c  bench_criterion at 25,000 tokens x 37,000 classes: fused vs materialised target
#   d  translate Multi30k test 2016 (beam 4) with the model of e: seconds, with the config's
#      batches (decode.max_tokens 4096) and with 16k-token batches
#   e  tmt prepare + train configs/multi30k_en_de.yaml in bf16 for --minutes, average as the main
#      job does (scripts/average_recent.sh: the config's cool-down keeps the last checkpoint alone),
#      BLEU on test 2016: 13a cased and tokenised-lowercased (tok/ references)
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
device=cuda
quick=0
build=""
out="${OUT:-$root/runs/gpu_suite}"
data="$root/data/multi30k"
minutes=3
python=""
peak_tflops=989
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="$2"; shift ;;
    --quick) quick=1 ;;
    --build) build="$2"; shift ;;
    --out) out="$2"; shift ;;
    --data) data="$2"; shift ;;
    --minutes) minutes="$2"; shift ;;
    --python) python="$2"; shift ;;
    --peak-tflops) peak_tflops="$2"; shift ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "gpu_suite.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$build" ]; then
  build="$root/build"
  [ -x "$root/build-torch2/tmt" ] && build="$root/build-torch2"
fi
if [ -z "$python" ]; then
  python=python3
  [ -x "$root/.venv-torch2/bin/python" ] && python="$root/.venv-torch2/bin/python"
fi
[ -d "$build" ] && build=$(cd "$build" && pwd)  # the tests run tmt from their scratch folders
tmt="$build/tmt"
for f in "$tmt" "$build/tests/gpu_tests" "$build/bench/bench_train" "$build/bench/bench_criterion"; do
  [ -x "$f" ] || { echo "gpu_suite.sh: '$f' not found; build the tree with tests and benchmarks first" >&2; exit 2; }
done
case "$minutes" in ''|*[!0-9.]*) echo "gpu_suite.sh: --minutes must be a number, got '$minutes'" >&2; exit 2 ;; esac
"$python" -c 'import torch' 2>/dev/null ||
  { echo "gpu_suite.sh: '$python' cannot import torch (give --python)" >&2; exit 2; }
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
steps="$work/steps.jsonl"
: > "$steps"
logs="$out/logs.txt"
: > "$logs"
failed=0
export PYTHONUNBUFFERED=1

# record STEP STATUS SECONDS LOG: one line of steps.jsonl; the log goes into logs.txt.
record() {
  local step=$1 status=$2 seconds=$3 log=$4
  printf '{"step": "%s", "status": "%s", "seconds": %s}\n' "$step" "$status" "$seconds" >> "$steps"
  { echo "===== $step: $status (${seconds} s)"; cat "$log" 2>/dev/null; echo; } >> "$logs"
  [ "$status" = failed ] && failed=1
  echo "gpu_suite.sh: $step: $status (${seconds} s)" >&2
}

# run STEP LOG COMMAND...: runs the command with its output in LOG and records the outcome.
run() {
  local step=$1 log=$2
  shift 2
  local start=$SECONDS
  if "$@" > "$log" 2>&1; then record "$step" ok $((SECONDS - start)) "$log"
  else record "$step" failed $((SECONDS - start)) "$log"; fi
}

# The RESULT {json} line a benchmark printed last, or {}.
result_of() { grep '^RESULT ' "$1" 2>/dev/null | tail -1 | cut -c8- || true; }

echo "gpu_suite.sh: device $device$([ $quick -eq 1 ] && echo ', quick'), build $build, python $python, out $out" >&2
"$tmt" --version > "$work/version.txt" 2>&1
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader \
  >> "$work/version.txt" 2>&1

# e, first half: the corpus is prepared on the CPU while the GPU tests run.
run_dir="$work/m30k"
if [ $quick -eq 1 ]; then
  data="$work/toy"
  "$python" - "$data" <<'PY'
# A toy translation task: English number words to German ones, 600 training sentences.
import random, sys, os
d = sys.argv[1]
os.makedirs(os.path.join(d, "tok"), exist_ok=True)
en = "zero one two three four five six seven eight nine".split()
de = "null eins zwei drei vier fünf sechs sieben acht neun".split()
rng = random.Random(1)
for split, n in [("train", 600), ("val", 40), ("test_2016_flickr", 40), ("test_2017_flickr", 40)]:
    with open(os.path.join(d, split + ".en"), "w") as e, open(os.path.join(d, split + ".de"), "w") as g, \
         open(os.path.join(d, "tok", split + ".lc.norm.tok.de"), "w") as t:
        for _ in range(n):
            ids = [rng.randrange(10) for _ in range(rng.randint(2, 7))]
            e.write(" ".join(en[i] for i in ids).capitalize() + " .\n")
            g.write(" ".join(de[i] for i in ids).capitalize() + " .\n")
            t.write(" ".join(de[i] for i in ids) + " .\n")
PY
  model_sets=(--set model.layers=1 --set model.d_model=32 --set model.d_ff=64 --set model.heads=2
              --set data.vocab_size=60 --set train.max_updates=40 --set train.warmup_updates=10
              --set train.valid_every=20 --set train.save_every=10 --set train.log_every=10)
else
  model_sets=(--set train.max_minutes="$minutes" --set train.max_updates=1000000 --set train.save_every=250
              --set train.valid_every=1000 --set train.log_every=250)
fi
m30k_config="$root/configs/multi30k_en_de.yaml"
"$tmt" prepare -c "$m30k_config" --run-dir "$run_dir" --set data.dir="$data" "${model_sets[@]}" \
  > "$work/prepare.log" 2>&1 &
prepare_pid=$!

# a: the GPU tests (their scratch folders under $work).
start=$SECONDS
# The binary and source tree by path here, not those compiled in: the tree may have been built elsewhere.
TEST_TMPDIR="$work/tests" TMT_TEST_BINARY="$tmt" TMT_TEST_SOURCE_DIR="$root" "$build/tests/gpu_tests" --gtest_output="json:$work/gpu_tests.json" > "$work/a.log" 2>&1
status=$?
tests_status=$("$python" - "$work/gpu_tests.json" "$status" <<'PY'
import json, sys
try:
    report = json.load(open(sys.argv[1]))
except Exception:
    print("failed"); sys.exit()
cases = [t for s in report["testsuites"] for t in s["testsuite"]]
skipped = sum(1 for t in cases if t.get("result") == "SKIPPED")
failed = sum(1 for t in cases if t.get("failures"))
print("failed" if failed or sys.argv[2] != "0" else "skipped" if skipped == len(cases) else "ok")
PY
)
record a_gpu_tests "$tests_status" $((SECONDS - start)) "$work/a.log"

# b: Transformer-base bf16 training speed, tmt then PyTorch eager and torch.compile.
base_config="$root/configs/transformer_base.yaml"
if [ $quick -eq 1 ]; then
  bench_shape=(--config "$root/configs/copy_task.yaml" --batch-sentences 8 --src-len 8 --tgt-len 8 --warmup 2 --iters 3)
else
  bench_shape=(--config "$base_config" --batch-sentences 512 --src-len 48 --tgt-len 48 --warmup 5 --iters 20)
fi
run b_tmt "$work/b_tmt.log" "$build/bench/bench_train" "${bench_shape[@]}" --device "$device" --bf16 \
  --peak-tflops "$peak_tflops" --save-batches "$work/batches.pt"
for mode in eager compile; do
  flag=()
  [ $mode = compile ] && flag=(--compile)
  run "b_pytorch_$mode" "$work/b_$mode.log" "$python" "$root/bench/reference_transformer.py" "$work/batches.pt" \
    --device "$device" --bf16 --criterion rowwise --peak-tflops "$peak_tflops" "${flag[@]}"
done

# c: the criterion's memory at the paper's batch and vocabulary.
if [ $quick -eq 1 ]; then run c_criterion "$work/c.log" "$build/bench/bench_criterion" 512 1000 2 "$device"
else run c_criterion "$work/c.log" "$build/bench/bench_criterion" 25000 37000 3 "$device"; fi

# e: train (the corpus was prepared in the background), average, then d and the scores.
start=$SECONDS
if wait $prepare_pid; then record e_prepare ok $((SECONDS - start)) "$work/prepare.log"
else record e_prepare failed $((SECONDS - start)) "$work/prepare.log"; fi
run e_train "$work/e_train.log" "$tmt" train -c "$m30k_config" --run-dir "$run_dir" --set data.dir="$data" \
  --set train.device="$device" --set train.precision=bf16 "${model_sets[@]}"
cp "$run_dir/metrics.jsonl" "$out/metrics.jsonl" 2>/dev/null
# As the main job: the recent checkpoints, or the last alone after a cool-down (the config has one).
run e_average "$work/e_average.log" "$root/scripts/average_recent.sh" --tmt "$tmt" "$run_dir"
test_src=$(ls "$data"/test_2016_flickr.en* 2>/dev/null | head -1)
test_ref=$(ls "$data"/test_2016_flickr.de* 2>/dev/null | head -1)
tok_ref=$(ls "$data"/tok/test_2016_flickr.lc.norm.tok.de* 2>/dev/null | head -1)
zcat -f "$test_src" > "$work/test.en" 2>/dev/null
zcat -f "$test_ref" > "$work/test.de" 2>/dev/null
zcat -f "$tok_ref" > "$work/test.tok.de" 2>/dev/null
run d_translate "$work/d.log" "$tmt" translate --checkpoint "$run_dir/checkpoint_avg.pt" --device "$device" \
  --beam 4 --alpha 0.6 -i "$work/test.en" -o "$out/test_2016.hyp.de"
# The same with batches of 16k source tokens (decode.max_tokens is 4096): on a GPU, fewer and
# larger batches mean fewer beam steps; the output must not change.
run d_translate_16k "$work/d16k.log" "$tmt" translate --checkpoint "$run_dir/checkpoint_avg.pt" --device "$device" \
  --beam 4 --alpha 0.6 --max-tokens 16384 -i "$work/test.en" -o "$work/test_2016.16k.hyp.de"
cmp -s "$out/test_2016.hyp.de" "$work/test_2016.16k.hyp.de" && same_output=true || same_output=false
echo "$same_output" > "$work/d16k_same.txt"
run e_bleu_13a "$work/e_bleu_13a.log" "$tmt" bleu "$work/test.de" -i "$out/test_2016.hyp.de" -m bleu,chrf -f json
run e_bleu_tok_lc "$work/e_bleu_tok_lc.log" "$tmt" bleu "$work/test.tok.de" -i "$out/test_2016.hyp.de" \
  --tokenize 13a --lowercase -f json

# The summary: one JSON object and one markdown page.
"$python" - "$work" "$out" "$device" "$quick" "$minutes" "$peak_tflops" <<'PY'
import json, os, re, sys
work, out, device, quick, minutes, peak = sys.argv[1:7]

def text(name):
    try:
        return open(os.path.join(work, name), errors="replace").read()
    except OSError:
        return ""

def result(name):
    lines = [l[7:] for l in text(name).splitlines() if l.startswith("RESULT ")]
    return json.loads(lines[-1]) if lines else None

def bleu(name):  # tmt bleu -f json prints a list of {name, score, signature, ...}
    try:
        metrics = json.loads(text(name))
        metrics = metrics if isinstance(metrics, list) else [metrics]
        return {m["name"] + (" tok-lc" if "case:lc" in m["signature"] else ""): {"score": m["score"], "signature": m["signature"]}
                for m in metrics}
    except (ValueError, KeyError, TypeError):
        return None

steps = [json.loads(l) for l in text("steps.jsonl").splitlines() if l.strip()]
tests = []
try:
    report = json.load(open(os.path.join(work, "gpu_tests.json")))
    for s in report["testsuites"]:
        for t in s["testsuite"]:
            status = "failed" if t.get("failures") else "skipped" if t.get("result") == "SKIPPED" else "passed"
            tests.append({"test": s["name"] + "." + t["name"], "status": status})
except (OSError, ValueError, KeyError):
    pass
bf16_line = re.search(r"bf16 vs fp32 loss over 20 updates: worst relative difference ([0-9.]+)", text("a.log"))
decode = re.search(r"\[decode\] (\d+) lines in ([0-9.]+) s", text("d.log"))
decode16k = re.search(r"\[decode\] (\d+) lines in ([0-9.]+) s", text("d16k.log"))
train_lines = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl"))] if os.path.exists(
    os.path.join(out, "metrics.jsonl")) else []
last_train = [l for l in train_lines if l.get("kind") == "train"]
valids = [l for l in train_lines if l.get("kind") == "valid"]
summary = {
    "device": device, "quick": quick == "1", "minutes": float(minutes), "peak_tflops": float(peak),
    "version": text("version.txt").strip(),
    "steps": steps, "tests": tests,
    "bf16_vs_fp32_worst_relative_loss_difference": float(bf16_line.group(1)) if bf16_line else None,
    "train_speed": {"tmt": result("b_tmt.log"), "pytorch_eager": result("b_eager.log"),
                    "pytorch_compile": result("b_compile.log")},
    "criterion": result("c.log"),
    "multi30k": {
        "updates": last_train[-1]["update"] if last_train else None,
        "train_tokens_per_s": last_train[-1].get("tokens_per_s") if last_train else None,
        "valid": valids,
        "translate_lines": int(decode.group(1)) if decode else None,
        "translate_seconds": float(decode.group(2)) if decode else None,
        "translate_seconds_16k_batches": float(decode16k.group(2)) if decode16k else None,
        "translate_16k_same_output": text("d16k_same.txt").strip() == "true",
        "bleu_13a": bleu("e_bleu_13a.log"), "bleu_tok_lc": bleu("e_bleu_tok_lc.log"),
    },
}
json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=1)

def fmt(x, spec="%.1f"):
    return "n/a" if x is None else spec % x

md = ["# gpu_suite.sh: %s%s" % (device, ", quick" if quick == "1" else ""), "", "```", summary["version"], "```", "",
      "| step | status | seconds |", "| --- | --- | --- |"]
md += ["| %s | %s | %s |" % (s["step"], s["status"], s["seconds"]) for s in steps]
md += ["", "## a. GPU tests", ""] + ["- %s: %s" % (t["test"], t["status"]) for t in tests]
md += ["- bf16 vs fp32, worst relative loss difference over 20 updates: %s" %
       fmt(summary["bf16_vs_fp32_worst_relative_loss_difference"], "%.4f")]
md += ["", "## b. Training speed (same batches, bf16 autocast)", "",
       "| implementation | ms/update (median) | target tokens/s | TFLOP/s | MFU | peak memory MiB |",
       "| --- | --- | --- | --- | --- | --- |"]
for name, r in summary["train_speed"].items():
    if r is None:
        md.append("| %s | failed | | | | |" % name)
        continue
    ms = r.get("ms_median")
    mfu = r.get("mfu")
    peak_bytes = r.get("peak_memory_bytes")
    md.append("| %s | %s | %s | %s | %s | %s |" % (
        name, fmt(ms, "%.2f"), fmt(r.get("tgt_tokens_per_s"), "%.0f"), fmt(r.get("tflops"), "%.1f"),
        fmt(None if mfu is None else 100 * mfu, "%.1f %%"), fmt(None if peak_bytes is None else peak_bytes / 2**20, "%.0f")))
c = summary["criterion"]
md += ["", "## c. Criterion memory", ""]
if c:
    md += ["N=%d K=%d: fused %.1f ms, %.0f MiB beyond the logits; materialised %.1f ms, %.0f MiB; ratio %.3f" % (
        c["n"], c["k"], c["fused_ms"], c["fused_peak_mib"], c["materialised_ms"], c["materialised_peak_mib"],
        c["fused_peak_mib"] / c["materialised_peak_mib"] if c["materialised_peak_mib"] else float("nan"))]
m = summary["multi30k"]
b13, btok = m["bleu_13a"], m["bleu_tok_lc"]
md += ["", "## d, e. Multi30k En-De, bf16, %s" % ("a toy corpus, 40 updates" if quick == "1" else minutes + " minutes"), "",
       "- updates: %s, training tokens/s at the end: %s" % (m["updates"], fmt(m["train_tokens_per_s"], "%.0f")),
       "- valid: " + "; ".join("update %d ppl %.2f%s" % (v["update"], v.get("ppl", float("nan")),
                                                         ", BLEU %.2f" % v["bleu"] if "bleu" in v else "") for v in m["valid"]),
       "- test 2016 translated (beam 4): %s lines in %s s; with 16k-token batches %s s (%s output)" % (
           m["translate_lines"], fmt(m["translate_seconds"], "%.2f"), fmt(m["translate_seconds_16k_batches"], "%.2f"),
           "same" if m["translate_16k_same_output"] else "DIFFERENT"),
       "- test 2016: " + "; ".join("%s %.2f (%s)" % (name, m["score"], m["signature"])
                                   for scores in (b13 or {}, btok or {}) for name, m in scores.items())]
open(os.path.join(out, "summary.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
exit $failed
