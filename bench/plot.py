"""Turns the figures bench/run.sh collected (section,label,x,value lines) into PNG charts
under docs/bench/. Run by bench/run.sh with matplotlib from a private virtualenv."""

import csv
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CHARTS = {
    "registrations": ("Service registrations per second", "concurrent clients", "registrations/s", "line"),
    "reads": ("Discovery reads per second (32 clients)", "", "reads/s", "bar"),
    "kv": ("KV operations per second (16 clients)", "", "operations/s", "bar"),
    "fanout-memory": ("Agent RSS growth with idle blocking queries", "watchers", "MiB", "bar"),
    "fanout-p99": ("p99 delay from a write to a watcher's answer", "watchers", "ms", "bar"),
    "memory": ("Agent RSS with registered instances", "instances", "MiB", "line"),
}


def main(source: Path, out_dir: Path) -> None:
    series = defaultdict(lambda: defaultdict(list))
    with source.open() as handle:
        for section, label, x, value in csv.reader(handle):
            series[section][label].append((int(x), float(value)))
    out_dir.mkdir(parents=True, exist_ok=True)
    for section, (title, xlabel, ylabel, kind) in CHARTS.items():
        if section not in series:
            continue
        figure, axes = plt.subplots(figsize=(8, 4.5))
        labels = list(series[section])
        if kind == "line":
            for label in labels:
                points = sorted(series[section][label])
                axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
            axes.set_xscale("symlog")
            if len(labels) > 1:
                axes.legend()
        else:
            names = [f"{label} ({points[0][0]})" if section.startswith("fanout") else label
                     for label, points in series[section].items()]
            values = [points[0][1] for points in series[section].values()]
            axes.barh(names, values)
            axes.invert_yaxis()
        axes.set_title(title)
        axes.set_xlabel(ylabel if kind == "bar" else xlabel)
        if kind == "line":
            axes.set_ylabel(ylabel)
        axes.grid(alpha=0.3)
        figure.tight_layout()
        figure.savefig(out_dir / f"{section}.png", dpi=110)
        plt.close(figure)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
