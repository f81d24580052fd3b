#!/usr/bin/env bash
# Installs the build dependencies from Debian's registry, fetches the SentencePiece source,
# and configures and builds tmt into build/ (Release). Idempotent; runs as root or via sudo.
#
#   scripts/setup.sh [--debug] [--no-install] [--jobs N] [--torch debian|pip]
#
#   --debug        also configure and build a Debug tree in build-debug/
#   --no-install   skip apt-get (dependencies already present)
#   --jobs N       parallel build jobs (default: number of cores)
#   --torch pip    instead of build/, the GPU-ready tree build-torch2/: torch==2.11.0 from PyPI
#                  (LibTorch 2.x with CUDA 13, MKL and oneDNN) into the ignored virtual environment
#                  .venv-torch2/ (pip's download cache is reused between runs), then tmt built
#                  against it with TMT_WITH_CUDA and TMT_WITH_NCCL. Needs the CUDA toolkit
#                  (nvcc; /usr/local/cuda or CUDAToolkit_ROOT) to configure, not a GPU to run the
#                  tests. Any other LibTorch 2.x: cmake -DCMAKE_PREFIX_PATH="TORCH;TORCH/share/cmake"
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
debug=0
install=1
jobs=$(nproc)
torch=debian
torch_version=2.11.0
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) debug=1 ;;
    --no-install) install=0 ;;
    --jobs) jobs="$2"; shift ;;
    --torch) torch="$2"; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$torch" in
  debian|pip) ;;
  *) echo "setup.sh: --torch must be debian or pip, got '$torch'" >&2; exit 2 ;;
esac

packages=(
  build-essential cmake ninja-build pkg-config dpkg-dev
  libtorch-dev libopenblas0-pthread
  libyaml-cpp-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libcli11-dev
  nlohmann-json3-dev zlib1g-dev libutf8proc-dev libgloo-dev
  python3 python3-matplotlib
)
[ "$torch" = pip ] && packages+=(python3-venv python3-pip)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup.sh: run as root or install sudo" >&2; exit 1; }
  sudo_cmd=(sudo)
fi

# SentencePiece's source comes from Debian's registry, which needs a deb-src entry.
ensure_deb_src() {
  if grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return
  fi
  echo "setup.sh: adding a deb-src entry for bookworm" >&2
  "${sudo_cmd[@]}" tee /etc/apt/sources.list.d/tmt-deb-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
}

if [ "$install" -eq 1 ]; then
  ensure_deb_src
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ] || [ ! -d "$root/third_party/sentencepiece" ]; then
    "${sudo_cmd[@]}" apt-get update -q
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

# SentencePiece 0.1.97 source, unpacked once into third_party/ (ignored by git). Debian's
# patches disable the static library, so the upstream tarball (the .orig.tar.gz) is used as is.
spm_dir="$root/third_party/sentencepiece"
if [ ! -f "$spm_dir/CMakeLists.txt" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get source -q --download-only sentencepiece >/dev/null)
  mkdir -p "$tmp/src"
  tar -xzf "$tmp"/sentencepiece_*.orig.tar.gz -C "$tmp/src" --strip-components=1
  mkdir -p "$root/third_party"
  rm -rf "$spm_dir"
  mv "$tmp/src" "$spm_dir"
  rm -rf "$tmp"
fi

configure_and_build() {
  local dir="$1" type="$2"
  shift 2
  cmake -S "$root" -B "$root/$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" \
        -DTMT_SENTENCEPIECE_SOURCE="$spm_dir" "$@"
  cmake --build "$root/$dir" -j "$jobs"
}

if [ "$torch" = pip ]; then
  venv="$root/.venv-torch2"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  if ! "$venv/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$torch_version')" 2>/dev/null; then
    "$venv/bin/python" -m pip install -q "torch==$torch_version"
  fi
  torch_dir=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)
  cuda_args=()
  if [ -z "${CUDAToolkit_ROOT:-}" ] && [ -x /usr/local/cuda/bin/nvcc ]; then
    cuda_args=(-DCUDAToolkit_ROOT=/usr/local/cuda -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
  fi
  # torch/ first: its lib/ must win over a Debian libtorch in /usr/lib.
  configure_and_build build-torch2 Release "-DCMAKE_PREFIX_PATH=$torch_dir;$torch_dir/share/cmake" \
    -DTMT_WITH_NCCL=ON "${cuda_args[@]}"
  echo "setup.sh: built $root/build-torch2/tmt against LibTorch $torch_version (pip)"
  exit 0
fi

configure_and_build build Release
[ "$debug" -eq 1 ] && configure_and_build build-debug Debug
echo "setup.sh: built $root/build/tmt"
