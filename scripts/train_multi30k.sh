#!/usr/bin/env bash
# The newcomer's job: Multi30k from data to BLEU in one command.
#
#   scripts/train_multi30k.sh [--from DIR] [--minutes N] [--direction en_de|de_en] [--tok] [--data DIR]
#                             [--run-dir DIR] [--tmt BIN] [--processes N|auto] [--set KEY=VALUE]...
#
# scripts/train_job.sh --corpus multi30k with the same options (see its --help): prepare, train
# for --minutes (default 60; resumes when the run directory has checkpoints; without a GPU, one
# process per CPU core, --processes), average the last quarter's checkpoints (the last alone
# after a cool-down), BLEU and chrF on test 2016 (13a cased and tokenised-lowercased), plots;
# --tok trains and scores on the literature's tokenised, lowercased text (configs/multi30k_en_de_tok.yaml).
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d'; exit 0 ;; esac
exec "$(dirname "${BASH_SOURCE[0]}")/train_job.sh" --corpus multi30k "$@"
