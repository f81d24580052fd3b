#!/usr/bin/env bash
# Trains JoeyNMT 2.3.0 (PyPI) on the work of tmt's Multi30k main job (en->de, same SentencePiece
# model and ids, architecture, label smoothing, Adam + noam, target tokens per batch, seed),
# translates test_2016_flickr with beam 4 / alpha 0.6 and scores it with tmt bleu.
#
#   bench/peer_joeynmt.sh --run-dir DIR [options]
#
#   --run-dir DIR        everything goes here (DIR/model is JoeyNMT's model_dir; started afresh)
#   --config YAML        tmt config giving every default (default configs/multi30k_en_de.yaml)
#   --spm MODEL          tmt's SentencePiece model (default runs/m30k/data/spm.model); the
#                        train.bin beside it, when there, checks JoeyNMT's ids pair by pair
#   --data DIR           raw corpus, PREFIX.LANG[.gz] (default: the config's data.dir)
#   --minutes N          train.max_minutes: wall-clock budget of the training loop, validation
#                        included (0: none); JoeyNMT then saves a checkpoint, the one translated
#   --max-updates N      train.max_updates       --valid-every N   train.valid_every
#   --lr-factor X        train.lr_factor         --warmup N        train.warmup_updates
#   --max-tokens N       data.max_tokens: tmt's padded source + target positions per batch;
#                        JoeyNMT's token batch_size is chosen to give the same mean target tokens
#   --batch-size N       JoeyNMT's batch_size as it is (skips that choice)
#   --set KEY=VALUE      any other tmt config key, e.g. --set model.dropout=0.2
#   --init fairseq|annotated   tmt's model.init (default: the config's, else fairseq)
#   --match-tmt          also change at run time what no JoeyNMT key reaches: Adam eps, attention
#                        dropout, no dropout inside the feed-forward, LayerNorm eps 1e-5, noam
#                        step k (not k - 1), q/k/v init gain (see bench/peer_joeynmt.py)
#   --threads N          torch CPU threads (default: torch's default)
#   --snapshot-minutes M  translate the model as it was after M minutes of training, while
#                        training goes on (to --max-updates, or --minutes), for a per-update curve
#                        longer than the time compared; its updates and tokens/s are the RESULT's
#   --snapshot-threads N  torch CPU threads after the snapshot (e.g. once a peer beside it is done)
#   --device cpu|cuda    (default cpu)
#   --valid-size N, --test-size N   only the first N valid / test pairs (smoke tests)
#
# Creates the ignored virtual environment .venv-peers once (PYTHON: the python3 to make it from).
# Prints `RESULT {json}`: valid NLL per target token at each validation, target tokens/s of
# training (validation excluded), wall seconds, updates, BLEU (13a, cased), BLEU tokenised and
# lowercased against data/multi30k/tok (as scripts/evaluate.sh --tok-lc), chrF2, versions.
# Environment: TMT (default build/tmt).
set -euo pipefail

start=$(date +%s)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
usage() { sed -n '2,/^set -e/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "peer_joeynmt.sh: $*" >&2; exit 2; }

run="" config="$root/configs/multi30k_en_de.yaml" spm="$root/runs/m30k/data/spm.model" data=""
threads="" match=() prep=() snap=()
while [ $# -gt 0 ]; do
  case "$1" in
    --run-dir) run="$2"; shift ;;
    --config) config="$2"; shift ;;
    --spm) spm="$2"; shift ;;
    --data) data="$2"; shift ;;
    --minutes) prep+=(--set "train.max_minutes=$2"); shift ;;
    --max-updates) prep+=(--set "train.max_updates=$2"); shift ;;
    --valid-every) prep+=(--set "train.valid_every=$2"); shift ;;
    --lr-factor) prep+=(--set "train.lr_factor=$2"); shift ;;
    --warmup) prep+=(--set "train.warmup_updates=$2"); shift ;;
    --max-tokens) prep+=(--set "data.max_tokens=$2"); shift ;;
    --set) prep+=(--set "$2"); shift ;;
    --batch-size|--init|--device|--valid-size|--test-size) prep+=("$1" "$2"); shift ;;
    --match-tmt) match=(--match-tmt) ;;
    --snapshot-minutes|--snapshot-threads) snap+=("$1" "$2"); shift ;;
    --threads) threads="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
[ -n "$run" ] || { usage >&2; exit 2; }
[ -f "$config" ] || die "config '$config' not found"
[ -f "$spm" ] || die "SentencePiece model '$spm' not found (run: build/tmt prepare -c $config --run-dir runs/m30k)"
tmt="${TMT:-$root/build/tmt}"
[ -x "$tmt" ] || die "no tmt binary '$tmt' (build it, or set TMT)"
if [ -n "$threads" ]; then export OMP_NUM_THREADS="$threads"; fi

# The virtual environment, once.
venv="$root/.venv-peers"
py="$venv/bin/python"
if ! "$py" -c 'import joeynmt.training, sentencepiece as s; s.SentencePieceProcessor.SetVocabulary' 2>/dev/null; then
  "${PYTHON:-python3}" -m venv "$venv"
  # joeynmt 2.3.0 imports importlib_metadata without declaring it, and calls SetVocabulary,
  # which sentencepiece 0.2.x no longer has; 0.1.99 is the nearest to tmt's 0.1.97 with a wheel.
  "$py" -m pip install -q joeynmt==2.3.0 torch==2.11.0 importlib-metadata sentencepiece==0.1.99
  "$py" -m pip check
fi
if [ -z "$data" ]; then  # the config's data.dir, relative to the repository root
  data=$(cd "$root" && "$py" -c 'import sys, yaml, os; print(os.path.abspath(yaml.safe_load(open(sys.argv[1]))["data"]["dir"]))' "$config")
fi
tok_ref="$data/tok/test_2016_flickr.lc.norm.tok.de.gz"
for f in "$data/test_2016_flickr.en.gz" "$data/test_2016_flickr.de.gz" "$tok_ref"; do
  [ -f "$f" ] || die "'$f' not found"
done

mkdir -p "$run"
run=$(cd "$run" && pwd)
"$py" -m pip freeze > "$run/pip-freeze.txt"
helper="$root/bench/peer_joeynmt.py"
"$py" "$helper" prepare "$run" --config "$config" --spm "$spm" --data "$data" "${prep[@]}"
joey_cfg="$run/joey.yaml"
if [ ${#snap[@]} -eq 0 ]; then
  "$py" "$helper" train "$run" "${match[@]}"
else  # translate the snapshot as soon as it is there; the last checkpoint is not translated
  "$py" "$helper" train "$run" "${match[@]}" "${snap[@]}" &
  train_pid=$!
  trap 'kill $train_pid 2>/dev/null || true' EXIT
  while [ ! -f "$run/snapshot.json" ] && kill -0 $train_pid 2>/dev/null; do sleep 5; done
  [ -f "$run/snapshot.json" ] || { wait $train_pid || true; die "training ended before the snapshot"; }
  joey_cfg="$run/joey_snapshot.yaml"
  sed "s#^\(  load_model: \).*#\1$run/model/snapshot.ckpt#" "$run/joey.yaml" > "$joey_cfg"
  grep -q "load_model: $run/model/snapshot.ckpt\$" "$joey_cfg" || die "could not point $joey_cfg at the snapshot"
fi

# Translate test 2016 with the last checkpoint or the snapshot (beam and alpha from the tmt
# config) and score it.
t0=$(date +%s%N)
# (to stdout: with -o, JoeyNMT 2.3.0 fails on args.n_best, prediction.py line 630)
"$py" -m joeynmt translate "$joey_cfg" < "$run/data/test.en" > "$run/test.hyp" 2> "$run/translate.log" ||
  { tail -n 20 "$run/translate.log" >&2; die "JoeyNMT translate failed (log: $run/translate.log)"; }
echo "{\"ms\": $(( ($(date +%s%N) - t0) / 1000000 ))}" > "$run/translate.json"
n=$(wc -l < "$run/data/test.en")
zcat -f "$tok_ref" | sed -n "1,${n}p" > "$run/test.ref.tok.lc"
"$tmt" bleu "$run/data/test.de" -i "$run/test.hyp" --metrics bleu,chrf -f json > "$run/bleu.json"
"$tmt" bleu "$run/test.ref.tok.lc" -i "$run/test.hyp" --tokenize 13a --lowercase --metrics bleu,chrf \
  -f json > "$run/bleu_tok_lc.json"
if [ ${#snap[@]} -gt 0 ]; then
  wait $train_pid || die "JoeyNMT training failed after the snapshot (log: $run/model/train.log)"
fi
"$py" "$helper" result "$run" --start "$start" | tee "$run/result.txt"
