#!/usr/bin/python3
"""Plots bench/filtered_bench's CSV: recall@10 (x) vs QPS (y, log), one panel
per selectivity, one row of panels per (dataset, filter correlation), one
line per engine (the ef_search sweep; exact engines are single points).

Usage: /usr/bin/python3 bench/plot_filtered.py [bench/results/filtered.csv] [out.png]
(default output: filtered.png next to the CSV). Needs matplotlib
(Debian: python3-matplotlib; use /usr/bin/python3 where a pyenv python
shadows it).
"""
import csv
import os
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STYLE = {
    "vesta": dict(color="tab:blue", marker="o"),
    "faiss_hnsw": dict(color="tab:orange", marker="s"),
    "faiss_flat": dict(color="tab:green", marker="*", markersize=11),
    "hnswlib": dict(color="tab:purple", marker="^"),
    "hnswlib_postfilter": dict(color="tab:gray", marker="x", markersize=9),
}
LABEL = {
    "vesta": "Vesta (planner)",
    "faiss_hnsw": "FAISS HNSW + IDSelector",
    "faiss_flat": "FAISS Flat + IDSelector (exact)",
    "hnswlib": "hnswlib (unfiltered)",
    "hnswlib_postfilter": "hnswlib post-filter (reference)",
}


def pct(s):
    s = float(s)
    return f"{s * 100:g}%"


def main():
    csv_path = sys.argv[1] if len(sys.argv) > 1 else "bench/results/filtered.csv"
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(csv_path) or ".", "filtered.png")
    rows = list(csv.DictReader(open(csv_path, newline="")))
    if not rows:
        sys.exit(f"{csv_path}: no rows")

    # Row groups: (dataset, correlation); 100% ("none") is drawn in each group.
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    sels = sorted({float(r["selectivity"]) for r in rows}, reverse=True)
    groups = []
    for ds in datasets:
        corrs = [c for c in ("uncorrelated", "correlated") if any(r["dataset"] == ds and r["correlation"] == c for r in rows)]
        for c in corrs or ["none"]:
            groups.append((ds, c))

    data = defaultdict(list)  # (ds, corr, sel, engine) -> [(recall, qps, ef)]
    info = {}
    for r in rows:
        sel = float(r["selectivity"])
        corrs = ["uncorrelated", "correlated"] if r["correlation"] == "none" else [r["correlation"]]
        for c in corrs:
            data[(r["dataset"], c, sel, r["engine"])].append((float(r["recall_at_10"]), float(r["qps"]), int(r["ef"])))
            info[(r["dataset"], c, sel)] = (r["passing"], r["n"], r["d"])

    nrows, ncols = len(groups), len(sels)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 2.9 * nrows), squeeze=False)
    handles = {}
    for i, (ds, corr) in enumerate(groups):
        for j, sel in enumerate(sels):
            ax = axes[i][j]
            key = (ds, corr, sel)
            if key not in info:
                ax.set_visible(False)
                continue
            passing, n, d = info[key]
            for engine, style in STYLE.items():
                pts = sorted(data.get((ds, corr, sel, engine), []), key=lambda p: p[2])
                if not pts:
                    continue
                (h,) = ax.plot([p[0] for p in pts], [p[1] for p in pts], linestyle="-" if len(pts) > 1 else "none",
                               linewidth=1.2, markersize=style.get("markersize", 5), color=style["color"],
                               marker=style["marker"], label=LABEL[engine])
                handles[engine] = h
            ax.set_yscale("log")
            ax.set_xlim(-0.02, 1.02)
            ax.axvline(0.95, color="red", linewidth=0.6, linestyle=":")
            ax.grid(True, which="both", linewidth=0.3, alpha=0.5)
            ax.set_title(f"{ds} ({n}x{d})\n{corr if sel < 1 else 'no filter'}, sel {pct(sel)} ({passing} rows)",
                         fontsize=8)
            ax.tick_params(labelsize=7)
            if i == nrows - 1:
                ax.set_xlabel("recall@10", fontsize=8)
            if j == 0:
                ax.set_ylabel("QPS (1 thread, log)", fontsize=8)
    fig.legend([handles[e] for e in STYLE if e in handles], [LABEL[e] for e in STYLE if e in handles],
               loc="upper center", ncol=len(handles), fontsize=9, frameon=False,
               title="Filtered ANN search: recall@10 vs QPS (lines: the ef_search sweep; dotted red: recall 0.95)",
               title_fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.6 / (2.9 * nrows)))
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
