#!/usr/bin/env bash
# A corpus from data to BLEU in one command (scripts/train_multi30k.sh is the newcomer's job).
#
#   scripts/train_job.sh --corpus multi30k|tatoeba [--from DIR] [--minutes N] [--direction D]
#                        [--tok] [--data DIR] [--run-dir DIR] [--tmt BIN] [--processes N|auto]
#                        [--set KEY=VALUE]...
#
#   --corpus       multi30k: test 2016 (configs/multi30k_<direction>.yaml);
#                  tatoeba: Tatoeba De->En, its test split (configs/tatoeba_de_en.yaml)
#   --from DIR     a local copy of the corpus (e.g. ../shared/data/multi30k); without it the data
#                  is downloaded (scripts/get_data.sh)
#   --minutes N    total training wall time (default 60); training resumes if the run directory
#                  already holds checkpoints and the minutes of every run add up, so running the
#                  script again with --minutes 180 after 60 trains 120 minutes more
#   --direction    multi30k: en_de (default) or de_en; tatoeba: de_en only
#   --tok          multi30k en_de: train and score on the literature's tokenised, lowercased
#                  text (tok/, configs/multi30k_en_de_tok.yaml), so BLEU compares with its papers
#   --data DIR     where the corpus is, or is put (default data/multi30k, data/tatoeba-de-en)
#   --run-dir DIR  default runs/<corpus>_<direction>, runs/multi30k_en_de_tok with --tok
#   --tmt BIN      the tmt binary (default build/tmt); build-torch2/tmt (scripts/setup.sh --torch
#                  pip: LibTorch 2.11 with MKL and oneDNN) trained 1.14x faster on CPU here in
#                  one process, as fast in two (docs/RESULTS.md), and uses a GPU when there is one
#   --processes N  tmt train processes (data parallel, scripts/launch.sh), each with 1/N of the
#                  CPUs and 1/N of every update's batches (train.update_freq / N each), so an
#                  update is the config's; N must divide train.update_freq. auto (the default):
#                  one per CPU (nproc), as far as update_freq divides, when tmt sees no GPU; 1
#                  with a GPU. Two processes on two cores trained 1.41x faster than one process
#                  with two BLAS threads (docs/RESULTS.md): all the work runs on both cores, not
#                  only the matrix products
#   --set KEY=VALUE  a config key for tmt prepare and tmt train (repeatable), e.g.
#                  --set train.update_freq=2 --set train.cooldown=0.3; give them again when
#                  resuming (a checkpoint keeps its model section, not the rest)
#
# Steps: get the data into data/multi30k, tmt prepare (skipped when already done), tmt train on
# whatever device is present (train.device auto; --processes of them) for the given time, tmt
# average of the last (up to 5) checkpoints of the last quarter of training (the last alone
# after a cool-down; scripts/average_recent.sh), then BLEU and chrF of beam-4 translations of
# the test set with scripts/evaluate.sh (cased 13a; for Multi30k also tokenised-lowercased
# against tok/ as its literature reports it), and PNG curves with scripts/plot_metrics.py.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
tmt="$root/build/tmt"
tok=""
corpus=""
from=""
minutes=60
direction=""
run=""
data=""
processes=auto
sets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --corpus|--from|--minutes|--direction|--data|--run-dir|--tmt|--processes|--set)
      [ $# -ge 2 ] || { echo "train_job.sh: $1 needs a value (see --help)" >&2; exit 2; } ;;
  esac
  case "$1" in
    --corpus) corpus="$2"; shift ;;
    --from) from="$2"; shift ;;
    --minutes) minutes="$2"; shift ;;
    --direction) direction="$2"; shift ;;
    --tok) tok=_tok ;;
    --data) data="$2"; shift ;;
    --run-dir) run="$2"; shift ;;
    --tmt) tmt="$2"; shift ;;
    --processes) processes="$2"; shift ;;
    --set)
      case "$2" in
        *=*) sets+=(--set "$2") ;;
        *) echo "train_job.sh: --set needs KEY=VALUE, got '$2'" >&2; exit 2 ;;
      esac
      shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "train_job.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$corpus" in
  multi30k)
    direction="${direction:-en_de}"
    case "$direction" in
      en_de) src=en; tgt=de ;;
      de_en) src=de; tgt=en ;;
      *) echo "train_job.sh: --direction must be en_de or de_en for multi30k, got '$direction'" >&2; exit 2 ;;
    esac
    corpus_name=multi30k; test_prefix=test_2016_flickr ;;
  tatoeba)
    direction="${direction:-de_en}"
    [ "$direction" = de_en ] || { echo "train_job.sh: tatoeba has only --direction de_en, got '$direction'" >&2; exit 2; }
    [ -z "$tok" ] || { echo "train_job.sh: --tok is for --corpus multi30k --direction en_de" >&2; exit 2; }
    src=de; tgt=en; corpus_name=tatoeba-de-en; test_prefix=test ;;
  *) echo "train_job.sh: --corpus must be multi30k or tatoeba, got '$corpus'" >&2; exit 2 ;;
esac
config="$root/configs/${corpus}_$direction$tok.yaml"
[ -f "$config" ] || { echo "train_job.sh: --tok is for --corpus multi30k --direction en_de (no $config)" >&2; exit 2; }

# An update is world size x update_freq batches: split the config's update_freq (or the one
# --set gives) over the processes.
update_freq=$(awk '/^[^ #]/ { s = $1 } s == "train:" && $1 == "update_freq:" { print $2 }' "$config")
for s in ${sets[@]+"${sets[@]}"}; do
  case "$s" in train.update_freq=*) update_freq="${s#train.update_freq=}" ;; esac
done
update_freq="${update_freq:-1}"
case "$update_freq" in ''|*[!0-9]*|0) echo "train_job.sh: train.update_freq must be a positive integer, got '$update_freq'" >&2; exit 2 ;; esac
case "$processes" in
  auto) ;;
  ''|*[!0-9]*|0) echo "train_job.sh: --processes must be a positive integer or auto, got '$processes'" >&2; exit 2 ;;
  *) if (( update_freq % processes != 0 )); then
       echo "train_job.sh: --processes $processes does not divide train.update_freq $update_freq (each process reads update_freq / N of an update's batches)" >&2
       exit 2
     fi ;;
esac
[ -x "$tmt" ] || { echo "train_job.sh: $tmt not found; run scripts/setup.sh first" >&2; exit 1; }
data="${data:-$root/data/$corpus_name}"
cpus=$(nproc)
if [ "$processes" = auto ]; then
  processes=1
  if ! "$tmt" --version | grep -q 'CUDA available'; then
    for ((p = cpus < update_freq ? cpus : update_freq; p > 1; p--)); do
      (( update_freq % p == 0 )) && { processes=$p; break; }
    done
  fi
fi
run="${run:-$root/runs/${corpus}_$direction$tok}"

if [ ! -f "$data/train.$src.gz" ] && [ ! -f "$data/train.$src" ]; then
  "$here/get_data.sh" "$corpus_name" "$data" ${from:+--from "$from"}
fi
train_data="$data"
[ -n "$tok" ] && train_data="$data/tok"
if [ ! -f "$run/data/spm.model" ]; then
  "$tmt" prepare -c "$config" --run-dir "$run" --set data.dir="$train_data" ${sets[@]+"${sets[@]}"}
fi
train_args=(--run-dir "$run" --set data.dir="$train_data" --set train.max_minutes="$minutes"
            ${sets[@]+"${sets[@]}"})
if [ "$processes" -gt 1 ]; then
  echo "train_job.sh: $processes tmt train processes, train.update_freq $((update_freq / processes)) each (an update: $update_freq batches)" >&2
  threads=$(( cpus / processes > 1 ? cpus / processes : 1 ))
  OMP_NUM_THREADS="${OMP_NUM_THREADS:-$threads}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-$threads}" TMT="$tmt" \
    "$here/launch.sh" "$processes" "$config" "${train_args[@]}" --set train.update_freq=$((update_freq / processes))
else
  "$tmt" train -c "$config" "${train_args[@]}"
fi

"$here/average_recent.sh" --tmt "$tmt" "$run"

if [ -n "$tok" ]; then
  # Its output is tokenised and lowercased: only the literature's figure means anything.
  "$here/evaluate.sh" --tmt "$tmt" --checkpoint "$run/checkpoint_avg.pt" --tok-lc "$run" \
    "$(ls "$data/tok/$test_prefix.lc.norm.tok.$src"* | head -1)" "$(ls "$data/tok/$test_prefix.lc.norm.tok.$tgt"* | head -1)"
else
  test_src=$(ls "$data/$test_prefix.$src"* | head -1)
  test_ref=$(ls "$data/$test_prefix.$tgt"* | head -1)
  tok_ref=$(ls "$data/tok/$test_prefix.lc.norm.tok.$tgt"* 2>/dev/null | head -1 || true)
  "$here/evaluate.sh" --tmt "$tmt" --checkpoint "$run/checkpoint_avg.pt" ${tok_ref:+--tok-lc-ref "$tok_ref"} \
    "$run" "$test_src" "$test_ref"
fi
# Debian's python3-matplotlib serves /usr/bin/python3, which a pyenv or venv python3 may hide.
for python in python3 /usr/bin/python3; do
  if "$python" -c 'import matplotlib' 2>/dev/null; then
    "$python" "$here/plot_metrics.py" "$run"
    exit 0
  fi
done
echo "train_job.sh: no python3 with matplotlib (apt-get install python3-matplotlib); no plots" >&2
