#!/usr/bin/env python3
"""Plot the training curves of a tmt run.

Usage:
    scripts/plot_metrics.py RUN_DIR [--out DIR]

Reads RUN_DIR/metrics.jsonl, which `tmt train` writes one JSON object per line
("kind": "train" for a training interval, "valid" for a validation), and writes
into DIR (default RUN_DIR/plots/):

    loss.png   training and validation loss against the update number
    ppl.png    training and validation perplexity, log scale
    bleu.png   validation BLEU (skipped when the run scored none)
    lr.png     learning rate

Each PNG is written under a temporary name and renamed into place. A missing
file or a malformed line is an error naming the file and line (exit 1); a
partial last line, as a killed run leaves behind, is skipped with a warning.
Needs python3-matplotlib; draws with the Agg backend, so no display is used.
"""

import argparse
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

# Fields each record kind must carry, with the types they must have.
NUMBER = (int, float)
REQUIRED = {
    "train": {"update": int, "lr": NUMBER, "loss": NUMBER, "ppl": NUMBER},
    "valid": {"update": int, "loss": NUMBER, "ppl": NUMBER, "bleu": NUMBER + (type(None),)},
}


class MetricsError(Exception):
    """A metrics file that cannot be read or parsed."""


def check_record(record):
    """Returns what is wrong with one parsed line, or None when it is a usable record."""
    if not isinstance(record, dict):
        return "expected a JSON object, got %s" % type(record).__name__
    kind = record.get("kind")
    if kind not in REQUIRED:
        return 'expected "kind" "train" or "valid", got %s' % json.dumps(kind)
    for key, types in REQUIRED[kind].items():
        if key not in record:
            return '%s record has no "%s"' % (kind, key)
        value = record[key]
        if isinstance(value, bool) or not isinstance(value, types):
            return '%s record: "%s" has the wrong type (%s)' % (kind, key, json.dumps(value))
    return None


def read_metrics(path):
    """Returns (train records, valid records) from a metrics.jsonl file."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise MetricsError("%s: cannot be read: %s" % (path, e)) from e
    lines = text.split("\n")
    complete = text.endswith("\n") or not text
    if complete:
        lines.pop()  # the empty string after the final newline
    train, valid = [], []
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
            problem = check_record(record)
        except json.JSONDecodeError as e:
            problem = "invalid JSON at column %d: %s" % (e.colno, e.msg)
        if problem is None:
            (train if record["kind"] == "train" else valid).append(record)
        elif number == len(lines) and not complete:
            print("warning: %s:%d: ignoring the partial last line (an interrupted run?)"
                  % (path, number), file=sys.stderr)
        else:
            raise MetricsError("%s:%d: %s" % (path, number, problem))
    if not train and not valid:
        raise MetricsError("%s: no training or validation records yet" % path)
    return train, valid


def series(records, key):
    """(updates, values) of one field, leaving out records where it is null."""
    points = [(r["update"], r[key]) for r in records if r[key] is not None]
    return [u for u, _ in points], [v for _, v in points]


def save(fig, path):
    """Writes the figure to a temporary PNG beside path, then renames it into place."""
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, ".%s.%d.tmp" % (name, os.getpid()))
    try:
        fig.savefig(tmp, format="png", dpi=100)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    finally:
        plt.close(fig)
    print(path)


def plot(out_dir, name, title, ylabel, curves, log_y=False):
    """One PNG of curves [(label, records, key, style)] against the update number."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, records, key, style in curves:
        updates, values = series(records, key)
        if updates:
            ax.plot(updates, values, style, label=label)
    if log_y:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel("update")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if len(ax.get_lines()) > 1:
        ax.legend()
    fig.tight_layout()
    save(fig, os.path.join(out_dir, name))


def main():
    parser = argparse.ArgumentParser(
        description="Plot loss, perplexity, BLEU and learning rate from RUN_DIR/metrics.jsonl.")
    parser.add_argument("run_dir", metavar="RUN_DIR", help="run directory of `tmt train`")
    parser.add_argument("--out", metavar="DIR", help="where to write the PNGs (RUN_DIR/plots/)")
    args = parser.parse_args()

    try:
        if not os.path.isdir(args.run_dir):
            raise MetricsError("%s: no such run directory" % args.run_dir)
        metrics = os.path.join(args.run_dir, "metrics.jsonl")
        if not os.path.isfile(metrics):
            raise MetricsError("%s: not found (has `tmt train` run there?)" % metrics)
        train, valid = read_metrics(metrics)
    except MetricsError as e:
        print("plot_metrics: error: %s" % e, file=sys.stderr)
        return 1

    out_dir = args.out or os.path.join(args.run_dir, "plots")
    os.makedirs(out_dir, exist_ok=True)
    plot(out_dir, "loss.png", "Loss", "loss",
         [("train", train, "loss", "-"), ("valid", valid, "loss", "o-")])
    plot(out_dir, "ppl.png", "Perplexity", "perplexity",
         [("train", train, "ppl", "-"), ("valid", valid, "ppl", "o-")], log_y=True)
    if any(r["bleu"] is not None and math.isfinite(r["bleu"]) for r in valid):
        plot(out_dir, "bleu.png", "Validation BLEU", "BLEU", [("valid", valid, "bleu", "o-")])
    else:
        print("no BLEU scores in %s: skipping bleu.png" % metrics, file=sys.stderr)
    if train:
        plot(out_dir, "lr.png", "Learning rate", "learning rate", [("train", train, "lr", "-")])
    else:
        print("no training records in %s: skipping lr.png" % metrics, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
