#!/usr/bin/env bash
# Fuzzes one reader of user files with libFuzzer (clang from Debian) for a fixed time.
#
#   scripts/fuzz.sh TARGET SECONDS [--build DIR] [--jobs N]
#
#   TARGET     config | text_file | corpus | checkpoint | bleu   (fuzz/fuzz_targets.h)
#   SECONDS    fuzzing time
#   --build    the gcc build tree whose libraries the target links (default build; it needs
#              compile_commands.json, which every configure since it was added writes)
#
# Only the target and the reader it tests are compiled with clang, instrumented for coverage
# and AddressSanitizer; everything else links from the build tree as it is. Builds into
# build-fuzz/ (ignored), starts from the target's seeds (written by the binary) plus the
# corpus of earlier runs in build-fuzz/corpus/TARGET/, and stops at the first finding, kept in
# build-fuzz/findings/TARGET/. A finding becomes a regression test when copied into
# fuzz/regressions/TARGET/ (tests/fuzz replays those on every test run).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 2 ] || usage
target="$1"
seconds="$2"
shift 2
build="$root/build"
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift ;;
    *) echo "fuzz.sh: unknown option '$1'" >&2; usage ;;
  esac
  shift
done
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -ge 1 ] || { echo "fuzz.sh: SECONDS must be a positive integer, got '$seconds'" >&2; exit 2; }

# The reader each target tests: compiled with the target, instrumented.
case "$target" in
  config) sources=(app/config.cpp) ;;
  text_file) sources=(data/text_file.cpp base/utf8.cpp) ;;
  corpus) sources=(data/corpus.cpp) ;;
  checkpoint) sources=(model/checkpoint.cpp) ;;
  bleu) sources=(metrics/tokenizers.cpp metrics/bleu.cpp metrics/chrf.cpp metrics/corpus_metric.cpp metrics/unicode.cpp) ;;
  *) echo "fuzz.sh: TARGET must be config, text_file, corpus, checkpoint or bleu, got '$target'" >&2; exit 2 ;;
esac
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (apt-get install clang)" >&2; exit 1; }
commands="$build/compile_commands.json"
[ -f "$commands" ] || { echo "fuzz.sh: $commands not found: configure and build $build first (scripts/setup.sh)" >&2; exit 1; }

# Include paths and definitions as the build tree compiles the reader (LibTorch's, yaml-cpp's).
mapfile -t flags < <(python3 - "$commands" "$root/${sources[0]}" <<'EOF'
import json, shlex, sys
for entry in json.load(open(sys.argv[1])):
    if entry["file"] == sys.argv[2]:
        args = shlex.split(entry["command"])
        keep = []
        for i, a in enumerate(args):
            if a in ("-isystem", "-I", "-include") and i + 1 < len(args):
                if a != "-include":
                    keep += [a, args[i + 1]]
            elif a.startswith(("-I", "-D")) and a != "-DNDEBUG":
                keep.append(a)
        print("\n".join(keep))
        break
else:
    sys.exit("no compile command for " + sys.argv[2])
EOF
)

out="$root/build-fuzz"
mkdir -p "$out/corpus/$target" "$out/findings/$target"
binary="$out/fuzz_$target"
instrument=(-fsanitize=fuzzer-no-link,address -g -O1 -std=c++17 -fno-omit-frame-pointer)
objects=()
for src in fuzz/${target}_target.cpp fuzz/scratch.cpp "${sources[@]}"; do
  obj="$out/obj/$target/${src//\//_}.o"
  mkdir -p "$(dirname "$obj")"
  if [ ! -f "$obj" ] || [ "$root/$src" -nt "$obj" ]; then
    echo "fuzz.sh: compiling $src" >&2
    clang++ "${instrument[@]}" "${flags[@]}" -I"$root" -DTMT_SOURCE_DIR="\"$root\"" -c "$root/$src" -o "$obj"
  fi
  objects+=("$obj")
done
clang++ "${instrument[@]}" -I"$root" -DTMT_FUZZ_TARGET="$target" -c "$root/fuzz/libfuzzer_main.cpp" \
  -o "$out/obj/$target/main.o"

# Everything else from the build tree; shared LibTorch and the Debian libraries as the build
# links them.
libs=("$build"/app/libtmt_app.a "$build"/train/libtmt_train.a "$build"/decode/libtmt_decode.a
      "$build"/data/libtmt_data.a "$build"/model/libtmt_model.a "$build"/metrics/libtmt_metrics.a
      "$build"/base/libtmt_base.a "$build"/_deps/sentencepiece-build/src/libsentencepiece_train.a
      "$build"/_deps/sentencepiece-build/src/libsentencepiece.a)
torch_lib="$(python3 - "$build/CMakeCache.txt" <<'EOF'
import re, sys, os
for line in open(sys.argv[1]):
    m = re.match(r"TORCH_LIBRARY:\w+=(.*)", line.strip())
    if m:
        print(os.path.dirname(m.group(1)))
EOF
)"
clang++ -fsanitize=fuzzer,address "$out/obj/$target/main.o" "${objects[@]}" -Wl,--allow-multiple-definition \
  -Wl,--start-group "${libs[@]}" -Wl,--end-group \
  -L"$torch_lib" -Wl,-rpath,"$torch_lib" -ltorch -ltorch_cpu -lc10 \
  -lyaml-cpp -lspdlog -lfmt -lutf8proc -lz -ldl -lpthread -o "$binary"

seeds="$out/seeds/$target"
rm -rf "$seeds"
mkdir -p "$seeds"
# LibTorch's allocations at exit are not ours to report; nor are ODR warnings between the
# instrumented reader and its uninstrumented copy in the build tree's library.
export ASAN_OPTIONS="detect_leaks=0:detect_odr_violation=0:${ASAN_OPTIONS:-}"
TMT_FUZZ_SEED_DIR="$seeds" "$binary" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix="$out/findings/$target/" -print_final_stats=1 "$out/corpus/$target" "$seeds"
