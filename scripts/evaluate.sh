#!/usr/bin/env bash
# Translates a source file with a trained run and scores it against a reference.
#
#   scripts/evaluate.sh [--tok-lc] [--tok-lc-ref REF2] [--checkpoint CKPT] [--alpha A] [--tmt BIN]
#                       RUN_DIR SRC REF
#
#   RUN_DIR          a run directory of tmt train (its data/spm.model is used)
#   SRC, REF         plain or .gz text, one sentence a line
#   --checkpoint     checkpoint to use (default: RUN_DIR/checkpoint_avg.pt if present, else
#                    RUN_DIR/checkpoint_last.pt)
#   --tok-lc         REF is tokenised and lowercased (e.g. Multi30k's tok/*.lc.norm.tok.*):
#                    the hypothesis is tokenised (13a) and lowercased before scoring, the way
#                    the Multi30k literature reports BLEU (multi-bleu on Moses-tokenised,
#                    lowercased text; 13a and Moses differ on a few apostrophes)
#   --tok-lc-ref REF2  also score the same translation against REF2 as --tok-lc does (one
#                    decoding for both figures)
#   --alpha A        length penalty (default 0.6, the paper's; scripts/tune_alpha.sh picks one on
#                    a validation set)
#   --tmt BIN        the tmt binary (default: build/tmt beside this script)
#
# Decodes with beam 4 (the paper's) and length penalty alpha, and prints BLEU (13a,
# cased, unless --tok-lc) and chrF2 with sacreBLEU's signatures.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmt="$here/../build/tmt"
tok_lc=0
checkpoint=""
tok_lc_ref=""
alpha=0.6
while [ $# -gt 0 ]; do
  case "$1" in
    --tok-lc) tok_lc=1 ;;
    --checkpoint) checkpoint="$2"; shift ;;
    --tok-lc-ref) tok_lc_ref="$2"; shift ;;
    --alpha) alpha="$2"; shift ;;
    --tmt) tmt="$2"; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d'; exit 0 ;;
    -*) echo "evaluate.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
[ $# -eq 3 ] || { sed -n '2,/^set -e/p' "$0" | sed '$d' >&2; exit 2; }
run="$1"; src="$2"; ref="$3"
for f in "$src" "$ref" ${tok_lc_ref:+"$tok_lc_ref"}; do [ -f "$f" ] || { echo "evaluate.sh: '$f' not found" >&2; exit 2; }; done
if [ -z "$checkpoint" ]; then
  checkpoint="$run/checkpoint_last.pt"
  [ -f "$run/checkpoint_avg.pt" ] && checkpoint="$run/checkpoint_avg.pt"
fi
[ -f "$checkpoint" ] || { echo "evaluate.sh: checkpoint '$checkpoint' not found" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
zcat -f "$src" > "$work/src.txt"
zcat -f "$ref" > "$work/ref.txt"
"$tmt" translate --checkpoint "$checkpoint" --vocab "$run/data/spm.model" --beam 4 --alpha "$alpha" \
  -i "$work/src.txt" -o "$work/hyp.txt"
if [ "$tok_lc" -eq 1 ]; then
  "$tmt" bleu "$work/ref.txt" -i "$work/hyp.txt" --tokenize 13a --lowercase --metrics bleu,chrf
else
  "$tmt" bleu "$work/ref.txt" -i "$work/hyp.txt" --metrics bleu,chrf
fi
if [ -n "$tok_lc_ref" ]; then
  zcat -f "$tok_lc_ref" > "$work/tok_lc_ref.txt"
  "$tmt" bleu "$work/tok_lc_ref.txt" -i "$work/hyp.txt" --tokenize 13a --lowercase --metrics bleu,chrf
fi
