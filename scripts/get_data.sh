#!/usr/bin/env bash
# Puts a public corpus into DEST, in the layout the configs expect (PREFIX.LANG.gz files).
#
#   scripts/get_data.sh NAME DEST [--from DIR]
#
#   NAME   multi30k | tatoeba-de-en
#   DEST   folder to create (e.g. data/multi30k); point a config at it with data.dir
#   --from DIR   copy from a local copy of the corpus (e.g. ../shared/data/multi30k) instead of
#                downloading
#
# Downloads need network access: Multi30k from its GitHub repository (task 1, raw files),
# Tatoeba from the manythings.org Anki export (deu-eng.zip), which is then split
# deterministically into train/valid/test by scripts/get_data.sh itself; prefer --from with
# the curated leak-free split where you have it.
set -euo pipefail

usage() { sed -n '2,14p' "$0" >&2; exit 2; }
[ $# -ge 2 ] || usage
name="$1"; dest="$2"; shift 2
from=""
while [ $# -gt 0 ]; do
  case "$1" in
    --from) [ $# -ge 2 ] || usage; from="$2"; shift ;;
    *) echo "get_data.sh: unknown option '$1'" >&2; usage ;;
  esac
  shift
done

case "$name" in
  multi30k)
    files=(train.de.gz train.en.gz val.de.gz val.en.gz test_2016_flickr.de.gz test_2016_flickr.en.gz
           test_2017_flickr.de.gz test_2017_flickr.en.gz)
    url="https://github.com/multi30k/dataset/raw/master/data/task1/raw" ;;
  tatoeba-de-en)
    files=(train.de.gz train.en.gz valid.de.gz valid.en.gz test.de.gz test.en.gz)
    url="" ;;
  *) echo "get_data.sh: unknown corpus '$name' (known: multi30k, tatoeba-de-en)" >&2; exit 2 ;;
esac

tmp="$dest.partial.$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
if [ -n "$from" ]; then
  for f in "${files[@]}"; do
    [ -f "$from/$f" ] || { echo "get_data.sh: '$from/$f' not found (is --from the $name folder?)" >&2; exit 1; }
    cp "$from/$f" "$tmp/$f"
  done
  [ -d "$from/tok" ] && cp -r "$from/tok" "$tmp/tok"
elif [ -n "$url" ]; then
  for f in "${files[@]}"; do
    curl -fsSL --retry 3 -o "$tmp/$f" "$url/$f" || { echo "get_data.sh: cannot download $url/$f" >&2; exit 1; }
  done
else
  command -v python3 >/dev/null || { echo "get_data.sh: downloading Tatoeba needs python3 to split it" >&2; exit 1; }
  curl -fsSL --retry 3 -o "$tmp/deu-eng.zip" "https://www.manythings.org/anki/deu-eng.zip" ||
    { echo "get_data.sh: cannot download the Tatoeba export; use --from DIR" >&2; exit 1; }
  (cd "$tmp" && unzip -q deu-eng.zip deu.txt)
  # Leak-free split: pairs sharing an English or German sentence (case-insensitive) stay in
  # one split; components are assigned by a hash, about 1.6% each to valid and test.
  python3 - "$tmp" <<'PY'
import gzip, hashlib, sys
d = sys.argv[1]
pairs = [l.rstrip("\n").split("\t")[:2] for l in open(f"{d}/deu.txt", encoding="utf-8") if "\t" in l]
parent = {}
def find(x):
    while parent.setdefault(x, x) != x:
        parent[x] = parent[parent[x]]; x = parent[x]
    return x
for en, de in pairs:
    parent[find("en:" + en.lower())] = find("de:" + de.lower())
out = {s: ([], []) for s in ("train", "valid", "test")}
for en, de in pairs:
    h = int(hashlib.sha1(find("en:" + en.lower()).encode()).hexdigest(), 16) % 1000
    split = "valid" if h < 16 else "test" if h < 32 else "train"
    out[split][0].append(de); out[split][1].append(en)
for split, (de, en) in out.items():
    for lang, lines in (("de", de), ("en", en)):
        with gzip.open(f"{d}/{split}.{lang}.gz", "wt", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in lines))
PY
  rm -f "$tmp/deu-eng.zip" "$tmp/deu.txt"
fi

rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$tmp" "$dest"
trap - EXIT
echo "get_data.sh: $name in $dest"
