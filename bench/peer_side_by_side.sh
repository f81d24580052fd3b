#!/usr/bin/env bash
# tmt and JoeyNMT side by side on the same work and the same machine, one core each, at the same
# time: the Multi30k config (architecture, batch, smoothing, schedule, seed, SentencePiece
# pieces), validation every 500 updates, the same wall-clock budget; then both translate test
# 2016 (beam 4, alpha 0.6) with their last checkpoint and are scored by tmt bleu.
#
#   bench/peer_side_by_side.sh [--minutes M] [--curve-updates U] [--run-dir DIR] [--config YAML]
#                              [--tmt BIN] [--match-tmt]
#
#   --minutes M    training wall time of each (default 20)
#   --curve-updates U  JoeyNMT, slower, goes on training after M minutes up to update U, on both
#                  cores once tmt is done, for the per-update curve; its model at M minutes is the
#                  one translated (bench/peer_joeynmt.sh --snapshot-minutes). tmt is not extended.
#   --run-dir DIR  default runs/peer_side_by_side (DIR/tmt, DIR/joeynmt; started afresh)
#   --config YAML  default configs/multi30k_en_de.yaml
#   --tmt BIN      default build/tmt
#   --match-tmt    passed to bench/peer_joeynmt.sh (JoeyNMT's hard-wired differences patched)
#
# Needs runs/m30k/data (tmt prepare -c CONFIG --run-dir runs/m30k --set data.dir=data/multi30k),
# whose SentencePiece model both use. Prints a markdown table: valid NLL per target token at each
# validation, target tokens/s, updates, test BLEU (13a cased, and tokenised-lowercased).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
minutes=20
run="$root/runs/peer_side_by_side"
config="$root/configs/multi30k_en_de.yaml"
tmt="$root/build/tmt"
match=()
curve_updates=""
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift ;;
    --curve-updates) curve_updates="$2"; shift ;;
    --run-dir) run="$2"; shift ;;
    --config) config="$2"; shift ;;
    --tmt) tmt="$2"; shift ;;
    --match-tmt) match=(--match-tmt) ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "peer_side_by_side.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
joey_budget=(--minutes "$minutes")
if [ -n "$curve_updates" ]; then
  joey_budget=(--minutes 0 --max-updates "$curve_updates" --snapshot-minutes "$minutes" --snapshot-threads "$(nproc)")
fi
prepared="$root/runs/m30k/data"
[ -f "$prepared/spm.model" ] || { echo "peer_side_by_side.sh: no $prepared/spm.model (see --help)" >&2; exit 2; }
data="$root/data/multi30k"
rm -rf "$run"
mkdir -p "$run/tmt"
cp -r "$prepared" "$run/tmt/data"

# Both on one core: one intra-op thread, one BLAS thread. JoeyNMT's noam schedule has no
# cool-down, so tmt trains without its own.
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$tmt" train -c "$config" --run-dir "$run/tmt" --set data.dir="$data" \
  --set train.threads=1 --set train.max_minutes="$minutes" --set train.valid_every=500 --set train.cooldown=0 \
  --set train.valid_bleu=false --set train.best_metric=nll > "$run/tmt.log" 2>&1 &
tmt_pid=$!
"$root/bench/peer_joeynmt.sh" --run-dir "$run/joeynmt" --config "$config" --spm "$prepared/spm.model" \
  --data "$data" "${joey_budget[@]}" --valid-every 500 --set train.valid_bleu=false --threads 1 "${match[@]}" \
  > "$run/joeynmt.log" 2>&1 &
joey_pid=$!
if ! wait $tmt_pid; then
  kill $joey_pid 2>/dev/null || true
  echo "peer_side_by_side.sh: tmt failed (log: $run/tmt.log)" >&2; exit 1
fi

# tmt's test translation and scores (JoeyNMT's are in its RESULT line).
zcat -f "$data/test_2016_flickr.en.gz" > "$run/test.en"
zcat -f "$data/test_2016_flickr.de.gz" > "$run/test.de"
zcat -f "$data/tok/test_2016_flickr.lc.norm.tok.de.gz" > "$run/test.tok.de"
OPENBLAS_NUM_THREADS=1 "$tmt" translate --checkpoint "$run/tmt/checkpoint_last.pt" --beam 4 --alpha 0.6 --device cpu \
  -i "$run/test.en" -o "$run/tmt.hyp" 2> "$run/tmt_translate.log"
"$tmt" bleu "$run/test.de" -i "$run/tmt.hyp" -m bleu,chrf -f json > "$run/tmt_bleu.json"
"$tmt" bleu "$run/test.tok.de" -i "$run/tmt.hyp" --tokenize 13a --lowercase -f json > "$run/tmt_bleu_tok_lc.json"
wait $joey_pid || { echo "peer_side_by_side.sh: JoeyNMT failed (log: $run/joeynmt.log)" >&2; exit 1; }

python3 - "$run" "$minutes" <<'PY'
import json, sys
run, minutes = sys.argv[1], sys.argv[2]
tmt = [json.loads(l) for l in open(run + "/tmt/metrics.jsonl")]
valid_tmt = {v["update"]: v["nll"] for v in tmt if v["kind"] == "valid"}
train_tmt = [v for v in tmt if v["kind"] == "train"]
tok_s_tmt = sum(v["tokens_per_s"] for v in train_tmt[1:]) / max(len(train_tmt) - 1, 1)
joey = json.loads([l for l in open(run + "/joeynmt.log") if l.startswith("RESULT ")][-1][7:])
valid_joey = {int(k): v for k, v in joey["valid_nll"].items()}
def score(path):
    m = json.load(open(path))
    return (m if isinstance(m, list) else [m])[0]["score"]
print("| | tmt | JoeyNMT 2.3.0 |")
print("| --- | --- | --- |")
for u in sorted(set(valid_tmt) | set(valid_joey)):
    f = lambda d: "%.4f" % d[u] if u in d else ""
    print("| valid NLL/token @%d | %s | %s |" % (u, f(valid_tmt), f(valid_joey)))
print("| target tokens/s (one core) | %.0f | %.0f |" % (tok_s_tmt, joey["tokens_per_s"]))
print("| updates in %s min | %d | %s |" % (minutes, train_tmt[-1]["update"] if train_tmt else 0, joey.get("updates")))
print("| test 2016 BLEU 13a cased | %.2f | %s |" % (score(run + "/tmt_bleu.json"), joey.get("bleu")))
print("| test 2016 BLEU tok-lc | %.2f | %s |" % (score(run + "/tmt_bleu_tok_lc.json"), joey.get("bleu_tok_lc")))
PY
