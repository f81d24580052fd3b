#!/usr/bin/env bash
# Data-parallel scaling: the same global batch trained by 1 process (update_freq N) and by N
# processes (update_freq 1, scripts/launch.sh), on whatever device train.device picks.
#
#   bench/dist_bench.sh RUN_DIR CONFIG [N [UPDATES]]
#
#   RUN_DIR   a run directory holding prepared data (RUN_DIR/data, from tmt prepare -c CONFIG)
#   N         processes (default 2); UPDATES per measurement (default 100)
#
# Prints target tokens/s of both and the scaling efficiency tokens/s(N) / (N x tokens/s(1)).
# Timing starts at the first logged update (start-up and the first update's allocations are
# excluded) and validation is switched off.
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
prepared="$1"; config="$2"; n="${3:-2}"; updates="${4:-100}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmt="${TMT:-$here/../build/tmt}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

common=(--set train.max_updates="$updates" --set train.log_every=1 --set train.valid_every=0
        --set train.valid_bleu=false --set train.best_metric=loss --set train.save_every=0 --no-resume)

# Target tokens per second from the second logged update to the last.
throughput() {
  python3 - "$1/metrics.jsonl" <<'PY'
import json, sys
rows = [r for r in map(json.loads, open(sys.argv[1])) if r["kind"] == "train"]
tokens = sum(r["tokens_per_s"] * (r["elapsed_s"] - p["elapsed_s"]) for p, r in zip(rows, rows[1:]))
print(f"{tokens / (rows[-1]['elapsed_s'] - rows[0]['elapsed_s']):.1f}")
PY
}

setup_run() {
  mkdir -p "$work/$1"
  ln -s "$(cd "$prepared" && pwd)/data" "$work/$1/data"
}

setup_run one
"$tmt" train -c "$config" --run-dir "$work/one" "${common[@]}" --set train.update_freq="$n" 2> "$work/one.log"
one=$(throughput "$work/one")
setup_run many
TMT="$tmt" "$here/../scripts/launch.sh" "$n" "$config" --run-dir "$work/many" "${common[@]}" \
  --set train.update_freq=1 2> "$work/many.log"
many=$(throughput "$work/many")
python3 - "$one" "$many" "$n" <<'PY'
import sys
one, many, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
print(f"1 process, update_freq {n}: {one:9.1f} target tokens/s")
print(f"{n} processes, update_freq 1: {many:9.1f} target tokens/s")
print(f"speed-up {many / one:.2f}x, scaling efficiency {100 * many / (n * one):.1f}%")
PY
