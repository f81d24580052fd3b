#!/usr/bin/env python3
"""Draw reliability diagrams from `tmt calibrate --json` reports.

Usage:
    scripts/plot_calibration.py REPORT.json [REPORT.json ...] --out PNG [--labels A,B,...]

One report: two panels, teacher-forced (all target tokens) and inference (the model's beam
output); in each, the accuracy of every confidence bin as a bar, the diagonal of perfect
calibration, the gap from it, and the bins' token counts below. Several reports (an epsilon
sweep, say): the reliability curves (accuracy against mean confidence of each non-empty bin)
overlaid in the same two panels, one colour a report, ECE in the legend.

The PNG is written under a temporary name and renamed into place. A missing or malformed
report is an error naming the file (exit 1). Needs python3-matplotlib (Agg backend).
"""

import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

PANELS = (("teacher_forced", "teacher-forced (all tokens)"), ("inference", "inference (beam output)"))


def fail(message):
    print("plot_calibration.py: " + message, file=sys.stderr)
    sys.exit(1)


def read_report(path):
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    except OSError as e:
        fail("cannot read '%s': %s" % (path, e.strerror))
    except json.JSONDecodeError as e:
        fail("'%s' is not JSON: %s" % (path, e))
    try:
        for key, _ in PANELS:
            part = report[key]["all"] if key == "teacher_forced" else report[key]
            for b in part["bins"]:
                b["lower"], b["upper"], b["count"]  # noqa: B018  (presence check)
            part["ece"]
    except (KeyError, TypeError) as e:
        fail("'%s' is not a tmt calibrate report: missing %s" % (path, e))
    return report


def panel_of(report, key):
    return report[key]["all"] if key == "teacher_forced" else report[key]


def ece_text(part):
    return "ECE %.4f" % part["ece"] if part["ece"] is not None else "ECE -"


def draw_single(report, title):
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.5), gridspec_kw={"height_ratios": [3, 1]}, sharex="col")
    for column, (key, name) in enumerate(PANELS):
        part = panel_of(report, key)
        top, bottom = axes[0][column], axes[1][column]
        bins = part["bins"]
        width = bins[0]["upper"] - bins[0]["lower"]
        centres = [(b["lower"] + b["upper"]) / 2 for b in bins]
        accuracy = [b["accuracy"] if b["accuracy"] is not None else 0.0 for b in bins]
        confidence = [b["confidence"] if b["confidence"] is not None else c for b, c in zip(bins, centres)]
        top.bar(centres, accuracy, width=width * 0.95, color="tab:blue", edgecolor="black", label="accuracy")
        gaps = [(c, a) for b, c, a in zip(bins, confidence, accuracy) if b["count"] > 0]
        top.bar([c for c, _ in gaps], [c - a for c, a in gaps], bottom=[a for _, a in gaps], width=width * 0.4,
                color="tab:red", alpha=0.5, label="gap to mean confidence")
        top.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect calibration")
        top.set_xlim(0, 1)
        top.set_ylim(0, 1)
        top.set_ylabel("accuracy")
        top.set_title("%s: %s, %d tokens" % (name, ece_text(part), part["tokens"]))
        top.legend(loc="upper left", fontsize=8)
        bottom.bar(centres, [b["count"] for b in bins], width=width * 0.95, color="gray")
        bottom.set_yscale("symlog")
        bottom.set_xlabel("confidence")
        bottom.set_ylabel("tokens")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def draw_overlay(reports, labels, title):
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    for column, (key, name) in enumerate(PANELS):
        ax = axes[column]
        ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect calibration")
        for report, label in zip(reports, labels):
            part = panel_of(report, key)
            points = [(b["confidence"], b["accuracy"]) for b in part["bins"] if b["count"] > 0]
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=3,
                    label="%s (%s)" % (label, ece_text(part)))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
        ax.set_title(name)
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def save(fig, path):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    try:
        fig.savefig(tmp, format="png", dpi=100)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description="Reliability diagrams of tmt calibrate reports.")
    parser.add_argument("reports", nargs="+", help="JSON reports of tmt calibrate --json")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("--labels", help="comma-separated labels, one a report (default: the file names)")
    parser.add_argument("--title", default="Reliability", help="figure title")
    args = parser.parse_args()
    labels = args.labels.split(",") if args.labels else [os.path.basename(r) for r in args.reports]
    if len(labels) != len(args.reports):
        fail("--labels has %d labels for %d reports" % (len(labels), len(args.reports)))
    reports = [read_report(r) for r in args.reports]
    fig = draw_single(reports[0], args.title) if len(reports) == 1 else draw_overlay(reports, labels, args.title)
    save(fig, args.out)


if __name__ == "__main__":
    main()
