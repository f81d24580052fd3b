#!/usr/bin/env bash
# Picks the length penalty on a validation set: scripts/evaluate.sh at each alpha (beam 4), the
# BLEU (13a, cased) of each and the best, for scripts/evaluate.sh --alpha. Tuning on
# the test set would make its score an overestimate.
#
#   scripts/tune_alpha.sh [--checkpoint CKPT] [--alphas LIST] [--tmt BIN] RUN_DIR VALID_SRC VALID_REF
#
#   --checkpoint   default as scripts/evaluate.sh's: RUN_DIR/checkpoint_avg.pt if present, else
#                  RUN_DIR/checkpoint_last.pt
#   --alphas       comma-separated (default 0.6,0.8,1.0,1.2,1.4; 0.6 is the paper's)
#
# The last line of the output is "best alpha A (BLEU B)".
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmt="$here/../build/tmt"
checkpoint=""
alphas="0.6,0.8,1.0,1.2,1.4"
while [ $# -gt 0 ]; do
  case "$1" in
    --checkpoint) checkpoint="$2"; shift ;;
    --alphas) alphas="$2"; shift ;;
    --tmt) tmt="$2"; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d'; exit 0 ;;
    -*) echo "tune_alpha.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
[ $# -eq 3 ] || { sed -n '2,/^set -e/p' "$0" | sed '$d' >&2; exit 2; }
run="$1"; src="$2"; ref="$3"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
best=""
best_bleu=-1
IFS=',' read -r -a list <<< "$alphas"
for alpha in "${list[@]}"; do
  "$here/evaluate.sh" --tmt "$tmt" ${checkpoint:+--checkpoint "$checkpoint"} --alpha "$alpha" "$run" "$src" "$ref" \
    > "$work/out.txt" 2> "$work/log.txt" || { cat "$work/log.txt" >&2; exit 1; }
  bleu=$(sed -n 's/^ *BLEU|[^=]* = \([0-9.]*\) .*/\1/p' "$work/out.txt" | head -1)
  echo "alpha $alpha: BLEU $bleu"
  if python3 -c "import sys; sys.exit(0 if $bleu > $best_bleu else 1)"; then best="$alpha"; best_bleu="$bleu"; fi
done
echo "best alpha $best (BLEU $best_bleu)"
