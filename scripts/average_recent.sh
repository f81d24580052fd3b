#!/usr/bin/env bash
# Averages the newest checkpoints of a run as the paper does (up to 5), but only those of the
# last quarter of training: in a short run, early checkpoints are far worse and pull the average
# down. A run with a cool-down (train.cooldown > 0 in RUN_DIR/config.yaml) keeps its last
# checkpoint alone: it ends on a rate near zero, and averaging it with earlier ones was worse
# (valid BLEU 38.4 against 38.8, docs/RESULTS.md).
#
#   scripts/average_recent.sh [--tmt BIN] RUN_DIR     writes RUN_DIR/checkpoint_avg.pt
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmt="$here/../build/tmt"
if [ "${1:-}" = "--tmt" ]; then tmt="$2"; shift 2; fi
[ $# -eq 1 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
run="$1"
mapfile -t updates < <(find "$run" -maxdepth 1 -name 'checkpoint_[0-9]*.pt' | sed 's/.*checkpoint_\([0-9]*\)\.pt$/\1/' | sort -n)
[ ${#updates[@]} -gt 0 ] || { echo "average_recent.sh: no checkpoint_<update>.pt in '$run'" >&2; exit 2; }
recent=()
for u in "${updates[@]}"; do
  (( 10#$u * 4 >= 3 * 10#${updates[-1]} )) && recent+=("$run/checkpoint_$u.pt")
done
(( ${#recent[@]} > 5 )) && recent=("${recent[@]: -5}")  # "${a[@]: -5}" of a shorter array is empty
cooldown=0
[ -f "$run/config.yaml" ] && cooldown=$(awk '/^[^ #]/ { s = $1 } s == "train:" && $1 == "cooldown:" { print $2 }' "$run/config.yaml")
if awk -v c="${cooldown:-0}" 'BEGIN { exit !(c + 0 > 0) }'; then
  echo "average_recent.sh: train.cooldown $cooldown: the last checkpoint alone, ${recent[-1]}" >&2
  recent=("${recent[-1]}")
fi
"$tmt" average "${recent[@]}" -o "$run/checkpoint_avg.pt"
