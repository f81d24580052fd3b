#!/usr/bin/env bash
# Data-parallel training on one machine: N `tmt train` processes, one per device (or CPU share).
#
#   scripts/launch.sh N CONFIG [tmt train options...]
#
#   e.g. scripts/launch.sh 2 configs/multi30k_en_de.yaml --set train.update_freq=1
#
# Sets what torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR=127.0.0.1, MASTER_PORT:
# $MASTER_PORT or a free one, OMP_NUM_THREADS=1 and OPENBLAS_NUM_THREADS=1 unless set) for each
# process. Rank 0 logs and writes the run directory; the
# others print only warnings and errors, prefixed with their rank. When one process fails, the
# others are stopped, and the script exits with the failed process's status. SIGINT or SIGTERM
# is passed on to every process (each saves a checkpoint and stops), and the script waits for
# them all (each in a session of its own) before it exits with the first one's status. Should the
# script itself be killed (SIGKILL), each process gets a TERM from the kernel (TMT_LAUNCHER_PID).
# Across machines use torchrun (--nnodes, --node_rank, --master_addr) or srun, which set the
# same variables: `torchrun --nproc_per_node=G --no_python build/tmt train -c CONFIG`.
set -uo pipefail

[ $# -ge 2 ] || { sed -n '2,15p' "$0" >&2; exit 2; }
n="$1"; config="$2"; shift 2
case "$n" in ''|*[!0-9]*|0) echo "launch.sh: N must be a positive integer, got '$n'" >&2; exit 2 ;; esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmt="${TMT:-$here/../build/tmt}"
port="${MASTER_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 29500)}"

# As torchrun does: one compute thread per process unless told otherwise, so N processes do not
# oversubscribe the cores (OpenBLAS would otherwise start a thread per core in each).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
# Each tmt asks the kernel for a TERM when this script dies, even of a KILL it cannot pass on.
export TMT_LAUNCHER_PID=$$

# Each process runs in a session of its own, so that a signal to this script's process group
# (Ctrl-C, kill -- -PGID) reaches it once, from here: tmt saves on the first INT or TERM and
# dies at once on a second.
pids=()
signalled=""
stop_all() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done; }
trap 'signalled=1; stop_all' INT TERM HUP
for ((rank = 0; rank < n; rank++)); do
  if [ "$rank" -eq 0 ]; then
    RANK=$rank LOCAL_RANK=$rank WORLD_SIZE=$n MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      setsid -w "$tmt" train -c "$config" "$@" &
  else
    RANK=$rank LOCAL_RANK=$rank WORLD_SIZE=$n MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      setsid -w "$tmt" train -c "$config" "$@" 2> >(trap '' INT TERM HUP; exec sed -u "s/^/[rank $rank] /" >&2) &
  fi
  pids+=($!)
done

status=0
remaining=("${pids[@]}")
while [ ${#remaining[@]} -gt 0 ]; do
  finished=""
  wait -n -p finished "${remaining[@]}"
  code=$?
  if [ -z "${finished:-}" ]; then
    # The signal trap above interrupted the wait: the processes are saving; wait for them.
    [ -n "$signalled" ] && [ "$code" -gt 128 ] && continue
    break  # nothing left to wait for
  fi
  left=()
  for pid in "${remaining[@]}"; do [ "$pid" = "$finished" ] || left+=("$pid"); done
  remaining=("${left[@]}")
  if [ "$code" -ne 0 ] && [ "$status" -eq 0 ]; then
    status=$code
    if [ -z "$signalled" ]; then  # after a signal the others have their TERM already: a second kills
      echo "launch.sh: a process exited with status $code; stopping the others" >&2
      stop_all
    fi
  fi
done
exit "$status"
