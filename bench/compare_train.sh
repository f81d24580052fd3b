#!/usr/bin/env bash
# Times training updates of tmt (bench_train) and of the plain-PyTorch reference
# (bench/reference_transformer.py) on the same batches and device, and prints both figures and
# their ratio.
#
#   bench/compare_train.sh CONFIG [bench_train args...]
#   bench/compare_train.sh configs/multi30k_en_de.yaml --batch-sentences 128 --src-len 16 --tgt-len 16
#
# The reference runs on the device, precision and --peak-tflops that bench_train reports using.
# Environment:
#   BENCH_TRAIN          the bench_train binary (default: build/bench/bench_train)
#   PYTHON               a Python with torch (default: python3 if it imports torch, else /usr/bin/python3,
#                        where Debian's python3-torch lives)
#   REFERENCE_CRITERIA   the reference's --criterion values to run, space-separated
#                        (default: "materialised"; "materialised rowwise fused" times all three)
set -euo pipefail

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
  sed -n '2,/^[^#]/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
config=$1
shift
bench_train=${BENCH_TRAIN:-$root/build/bench/bench_train}
criteria=${REFERENCE_CRITERIA:-materialised}
if [[ -z ${PYTHON:-} ]]; then
  PYTHON=python3
  if ! python3 -c 'import torch' 2>/dev/null; then PYTHON=/usr/bin/python3; fi
fi
[[ -x $bench_train ]] || { echo "compare_train.sh: no $bench_train; build it: ninja -C build bench_train" >&2; exit 2; }
"$PYTHON" -c 'import torch' 2>/dev/null || { echo "compare_train.sh: $PYTHON cannot import torch (set PYTHON)" >&2; exit 2; }

if pgrep -x ninja >/dev/null || pgrep -x cc1plus >/dev/null; then
  echo "compare_train.sh: warning: a compiler is running; these timings share the CPU with it" >&2
fi

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
batches=$workdir/batches.pt

"$bench_train" --config "$config" --save-batches "$batches" "$@" | tee "$workdir/tmt.out"
echo
# The device, precision and peak that bench_train used (the config may have chosen them).
mapfile -t reference_args < <("$PYTHON" -c '
import json, sys
r = json.loads([l for l in open(sys.argv[1]) if l.startswith("RESULT ")][-1][7:])
print("--device"); print(r["device"]); print("--peak-tflops"); print(r["peak_tflops"])
if r["dtype"] == "bf16": print("--bf16")
' "$workdir/tmt.out")
for criterion in $criteria; do
  "$PYTHON" "$root/bench/reference_transformer.py" "$batches" --criterion "$criterion" "${reference_args[@]}" |
    tee "$workdir/ref_$criterion.out"
  echo
done

"$PYTHON" - "$workdir" $criteria <<'EOF'
import json, sys

def result(path):
    lines = [l for l in open(path) if l.startswith("RESULT ")]
    return json.loads(lines[-1][len("RESULT "):])

workdir, criteria = sys.argv[1], sys.argv[2:]
tmt = result(workdir + "/tmt.out")
rows = [("tmt (C++)", tmt)] + [("PyTorch, %s criterion" % c, result("%s/ref_%s.out" % (workdir, c))) for c in criteria]
print("%s on %s, %d sentences x (%d + %d) tokens per update, %s, %d intra-op threads, OpenBLAS threads %s" % (
    tmt["config"], tmt["device"], tmt["batch_sentences"], tmt["src_len"], tmt["tgt_len"], tmt["dtype"], tmt["threads"],
    tmt["openblas_threads"] if tmt["openblas_threads"] >= 0 else "n/a"))
print("  %-32s %10s %12s %14s %10s %12s" % ("", "ms/update", "tgt tok/s", "src+tgt tok/s", "peak MiB", "parameters"))
for name, r in rows:
    print("  %-32s %10.2f %12.0f %14.0f %10.1f %12d" % (
        name, r["ms_median"], r["tgt_tokens_per_s"], r["tokens_per_s"], r["peak_memory_bytes"] / 1048576, r["parameters"]))
summary = {"config": tmt["config"], "device": tmt["device"], "tmt_tokens_per_s": tmt["tokens_per_s"]}
for name, r in rows[1:]:
    ratio = tmt["tokens_per_s"] / r["tokens_per_s"]
    print("  ratio tmt / %s: %.3f (tokens/s)" % (name, ratio))
    summary["pytorch_%s_tokens_per_s" % r["criterion"]] = r["tokens_per_s"]
    summary["ratio_vs_%s" % r["criterion"]] = ratio
    if r["parameters"] != tmt["parameters"]:
        print("  WARNING: parameter counts differ: tmt %d, PyTorch %d" % (tmt["parameters"], r["parameters"]))
    if r["threads"] != tmt["threads"]:
        print("  WARNING: intra-op thread counts differ: tmt %d, PyTorch %d" % (tmt["threads"], r["threads"]))
    if (r["openblas_threads"] or -1) != tmt["openblas_threads"]:
        print("  WARNING: OpenBLAS thread counts differ: tmt %s, PyTorch %s" % (tmt["openblas_threads"], r["openblas_threads"]))
print("RESULT " + json.dumps(summary))
EOF
