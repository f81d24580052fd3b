#!/usr/bin/env bash
# What label smoothing does to a model: trains one config at several smoothing settings for the
# same number of updates, then measures each on the test set (BLEU and chrF with
# scripts/evaluate.sh; tmt calibrate: teacher-forced and inference ECE, entropy, the temperature
# fitted on the valid set and the valid NLL), and writes one table and one reliability PNG.
#
#   scripts/sweep_smoothing.sh [--corpus multi30k|tatoeba] [--from DIR] [--updates N]
#                              [--settings LIST] [--out DIR] [--tmt BIN]
#
#   --corpus     multi30k (default; configs/multi30k_en_de.yaml, test 2016) or tatoeba
#   --from DIR   a local copy of the corpus (see scripts/get_data.sh)
#   --updates N  training updates of each model (default 2000): a budget in updates, not minutes,
#                so that the models compare fairly whatever else the machine does
#   --settings   comma-separated VARIANT:EPSILON (default
#                annotated:0,annotated:0.1,annotated:0.2,uniform:0.1); VARIANT as
#                train.smoothing_variant: annotated (eps/(K-2), the Annotated Transformer),
#                others (eps/(K-1)), uniform (eps/K)
#   --out DIR    default runs/sweep_<corpus>; one run directory a setting, data prepared once;
#                a setting whose run has finished is not trained again
#   --tmt BIN    default build/tmt
#
# Writes OUT/sweep.md (the table), OUT/sweep.json (every figure), OUT/reliability.png (the
# reliability curves of all settings overlaid) and, per run, calibration.json and reliability.png.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
tmt="$root/build/tmt"
corpus=multi30k
from=""
updates=2000
settings="annotated:0,annotated:0.1,annotated:0.2,uniform:0.1"
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --corpus) corpus="$2"; shift ;;
    --from) from="$2"; shift ;;
    --updates) updates="$2"; shift ;;
    --settings) settings="$2"; shift ;;
    --out) out="$2"; shift ;;
    --tmt) tmt="$2"; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "sweep_smoothing.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ "$updates" =~ ^[1-9][0-9]*$ ]] || { echo "sweep_smoothing.sh: --updates must be a positive integer, got '$updates'" >&2; exit 2; }
case "$corpus" in
  multi30k) config="$root/configs/multi30k_en_de.yaml"; name=multi30k; src=en; tgt=de; test=test_2016_flickr; valid=val ;;
  tatoeba) config="$root/configs/tatoeba_de_en.yaml"; name=tatoeba-de-en; src=de; tgt=en; test=test; valid=valid ;;
  *) echo "sweep_smoothing.sh: --corpus must be multi30k or tatoeba, got '$corpus'" >&2; exit 2 ;;
esac
IFS=',' read -r -a list <<< "$settings"
for s in "${list[@]}"; do
  [[ "$s" =~ ^(annotated|others|uniform):[0-9]*\.?[0-9]+$ ]] ||
    { echo "sweep_smoothing.sh: a setting must be VARIANT:EPSILON (annotated|others|uniform), got '$s'" >&2; exit 2; }
done
[ -x "$tmt" ] || { echo "sweep_smoothing.sh: $tmt not found; run scripts/setup.sh first" >&2; exit 1; }
out="${out:-$root/runs/sweep_$corpus}"
data="$root/data/$name"
mkdir -p "$out"
if [ ! -f "$data/train.$src.gz" ] && [ ! -f "$data/train.$src" ]; then
  "$here/get_data.sh" "$name" "$data" ${from:+--from "$from"}
fi
file_of() { ls "$data/$1.$2"* | head -1; }

# One prepared data folder for every setting: the same SentencePiece model and batches.
shared="$out/data"
if [ ! -f "$shared/spm.model" ]; then
  "$tmt" prepare -c "$config" --run-dir "$out/prepare" --set data.dir="$data"
  rm -rf "$shared"
  mv "$out/prepare/data" "$shared"
  rm -rf "$out/prepare"
fi

rows=()
for s in "${list[@]}"; do
  variant="${s%%:*}"
  eps="${s#*:}"
  run="$out/${variant}_$eps"
  mkdir -p "$run"
  [ -e "$run/data" ] || ln -s ../data "$run/data"
  "$tmt" train -c "$config" --run-dir "$run" --set data.dir="$data" --set train.max_minutes=0 \
    --set train.max_updates="$updates" --set train.label_smoothing="$eps" --set train.smoothing_variant="$variant"
  "$here/average_recent.sh" --tmt "$tmt" "$run"
  "$here/evaluate.sh" --tmt "$tmt" --checkpoint "$run/checkpoint_avg.pt" "$run" "$(file_of "$test" "$src")" \
    "$(file_of "$test" "$tgt")" | tee "$run/evaluate.txt"
  zcat -f "$(file_of "$test" "$src")" > "$run/test.src"
  zcat -f "$(file_of "$test" "$tgt")" > "$run/test.ref"
  zcat -f "$(file_of "$valid" "$src")" > "$run/valid.src"
  zcat -f "$(file_of "$valid" "$tgt")" > "$run/valid.ref"
  "$tmt" calibrate --checkpoint "$run/checkpoint_avg.pt" --beam 4 --alpha 0.6 -s "$run/test.src" -t "$run/test.ref" \
    --valid-source "$run/valid.src" --valid-target "$run/valid.ref" --json "$run/calibration.json" | tee "$run/calibration.txt"
  rm -f "$run/test.src" "$run/test.ref" "$run/valid.src" "$run/valid.ref"
  rows+=("$s")
done

# The table and the overlay, from the runs' reports.
python3 - "$out" "${rows[@]}" <<'EOF'
import json, os, re, sys
out, settings = sys.argv[1], sys.argv[2:]
def score(text, metric):
    for line in text.splitlines():
        if line.lstrip().startswith(metric + "|"):
            return float(re.search(r"= ([0-9.]+)", line).group(1))
    return None
rows = []
for s in settings:
    variant, eps = s.split(":")
    run = os.path.join(out, "%s_%s" % (variant, eps))
    evaluation = open(os.path.join(run, "evaluate.txt")).read()
    report = json.load(open(os.path.join(run, "calibration.json")))
    tf, inf, t = report["teacher_forced"]["all"], report["inference"], report["temperature"]
    rows.append({"variant": variant, "epsilon": float(eps), "bleu": score(evaluation, "BLEU"),
                 "chrf": score(evaluation, "chrF2"), "valid_nll": t["valid_nll_at_1"],
                 "tf_ece": tf["ece"], "tf_ece_eos": report["teacher_forced"]["eos"]["ece"],
                 "inference_ece": inf["ece"], "entropy": tf["entropy"], "confidence": tf["confidence"],
                 "accuracy": tf["accuracy"], "temperature": t["value"],
                 "tf_ece_scaled": t["teacher_forced"]["all"]["ece"]})
json.dump(rows, open(os.path.join(out, "sweep.json"), "w"), indent=1)
head = ("| setting | BLEU | chrF2 | valid NLL | TF ECE | TF ECE (EOS) | inference ECE | entropy "
        "| confidence | accuracy | best T | TF ECE at T |\n|" + " --- |" * 12 + "\n")
fmt = lambda v, p: "-" if v is None else "%.*f" % (p, v)
with open(os.path.join(out, "sweep.md"), "w") as f:
    f.write(head)
    for r in rows:
        f.write("| %s eps %g | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" % (
            r["variant"], r["epsilon"], fmt(r["bleu"], 1), fmt(r["chrf"], 1), fmt(r["valid_nll"], 3),
            fmt(r["tf_ece"], 4), fmt(r["tf_ece_eos"], 4), fmt(r["inference_ece"], 4), fmt(r["entropy"], 3),
            fmt(r["confidence"], 3), fmt(r["accuracy"], 3), fmt(r["temperature"], 3), fmt(r["tf_ece_scaled"], 4)))
print(open(os.path.join(out, "sweep.md")).read())
EOF
reports=()
labels=()
for s in "${rows[@]}"; do
  run="$out/${s%%:*}_${s#*:}"
  reports+=("$run/calibration.json")
  labels+=("${s/:/ eps }")
done
for python in python3 /usr/bin/python3; do
  if "$python" -c 'import matplotlib' 2>/dev/null; then
    for s in "${rows[@]}"; do
      run="$out/${s%%:*}_${s#*:}"
      "$python" "$here/plot_calibration.py" "$run/calibration.json" --out "$run/reliability.png" --title "${s/:/ eps }"
    done
    "$python" "$here/plot_calibration.py" "${reports[@]}" --labels "$(IFS=,; echo "${labels[*]}")" \
      --out "$out/reliability.png" --title "Label smoothing and calibration ($corpus, $updates updates)"
    exit 0
  fi
done
echo "sweep_smoothing.sh: no python3 with matplotlib (apt-get install python3-matplotlib); no plots" >&2
