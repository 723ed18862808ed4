#!/usr/bin/env python3
"""Writes bench/results/http.md from the CSV files of bench/http_load.sh.

Usage (the driver calls it): report.py --csv http.csv --rss http_rss.csv
  --inprocess http_inprocess.csv --out http.md [--duration 60] [--threads 2]
  [--connections 16] [--kind HNSW] [--rows 100000] [--dim 768]
  [--demo-create S] [--synth-create S]
Goals (issue #5 "Load"): zero errors; p99 < 10 x p50 at saturation; RSS
flat over the run (here: max - before <= 5% of before and <= 64 MiB);
HTTP overhead (wrk p50 at 1 connection - in-process p50) < 0.3 ms for the
768-d workloads.
"""
import argparse
import csv
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def machine():
    model, cores = "unknown", str(os.cpu_count())
    for line in sh("lscpu").splitlines():
        k, _, v = line.partition(":")
        if k.strip() == "Model name":
            model = v.strip()
        if k.strip() == "CPU(s)":
            cores = v.strip()
    mem = "unknown"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    commit = sh("git", "-C", ROOT, "rev-parse", "--short", "HEAD")
    # Changes outside bench/ (this benchmark's own files may be uncommitted).
    dirty = [l for l in sh("git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no").splitlines()
             if not l[3:].startswith("bench/")]
    wrk = sh("sh", "-c", "wrk --version 2>&1 | head -1")
    cxx = sh("sh", "-c", "c++ --version | head -1")
    return [
        ("CPU (lscpu)", model),
        ("cores (online)", cores),
        ("RAM", mem),
        ("kernel", sh("uname", "-r")),
        ("commit", commit + (" (with uncommitted changes outside bench/)" if dirty else "")),
        ("compiler", cxx + ", Release (-O3)"),
        ("wrk", wrk.split(" Copyright")[0]),
    ]


def f(x, nd=3):
    return f"{float(x):.{nd}f}"


def main():
    ap = argparse.ArgumentParser()
    for a in ("csv", "rss", "inprocess", "out"):
        ap.add_argument("--" + a, required=True)
    ap.add_argument("--duration", default="60")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--connections", default="16")
    ap.add_argument("--kind", default="HNSW")
    ap.add_argument("--variants", default="plain")
    ap.add_argument("--rows", default="100000")
    ap.add_argument("--dim", default="768")
    ap.add_argument("--demo-create", default="")
    ap.add_argument("--synth-create", default="")
    o = ap.parse_args()

    runs = list(csv.DictReader(open(o.csv)))
    rss = list(csv.DictReader(open(o.rss)))
    inproc = {r["label"]: r for r in csv.DictReader(open(o.inprocess))}
    sat_c = o.connections
    out = []
    w = out.append
    w("# HTTP load: wrk against `vesta serve` on 127.0.0.1")
    w("")
    w("Written by `bench/http_load.sh` (workloads and method at the top of the script; wrk script "
      "`bench/http_load/query.lua`; data, bodies and in-process baseline `bench/http_setup.cc`). Raw: "
      "[http.csv](http.csv) (one line per wrk run), [http_rss.csv](http_rss.csv) (server VmRSS every 5 s), "
      "[http_inprocess.csv](http_inprocess.csv) (baseline).")
    w("")
    w(f"Command: `bench/http_load.sh --build build --duration {o.duration} --threads {o.threads} "
      f"--connections {o.connections} --kind {o.kind} --rows {o.rows} --dim {o.dim} "
      f"--variants \"{o.variants}\"`")
    w("")
    w("## Machine and settings")
    w("")
    w("| | |")
    w("|---|---|")
    for k, v in machine():
        w(f"| {k} | {v} |")
    loads = sorted(float(r["load_before"]) for r in runs)
    w(f"| load average (1 min) before the runs | {loads[0]:.2f} to {loads[-1]:.2f} (the machine otherwise idle: "
      "the load is this benchmark's own previous run) |")
    w("| server | `vesta serve --listen 127.0.0.1:PORT` with defaults: 2 HTTP worker threads (one per core), "
      "queue 128, search_threads 1 (OpenMP / OpenBLAS), keep-alive at most 5 requests per connection "
      "(cpp-httplib), access log on (to a file), request time limit 30 s |")
    w(f"| wrk | latency: `-t1 -c1`; saturation: `-t{o.threads} -c{sat_c}`; {o.duration} s each, after a 5 s "
      "warm-up at saturation; between them short runs at other connection counts (the sweep; duration in "
      "the table); `--timeout 10s`; wrk and the server share the 2 cores |")
    w(f"| synthetic index | main.bench.synth_idx: {o.kind}, L2, M 16, ef_construction 100, ef_search 128 "
      f"(defaults), {o.rows} x {o.dim}"
      + (f"; built over HTTP in {o.synth_create} s (1 thread)" if o.synth_create else "") + " |")
    w("| demo index | main.imaging.radiomics_idx: HNSW, L2, 167 x 724"
      + (f"; built over HTTP in {o.demo_create} s" if o.demo_create else "") + " |")
    w("| queries | num_results 10, 3 columns, admin token (no row filter), POST, 256 bodies rotating per "
      "workload (demo: studies of the table; synthetic: fresh points of the generator) |")
    w("")
    w("Workloads: **demo**: filters rotating `cohort = 'LGG'` (65 rows), "
      "`cohort = 'GBM' AND tissue_source_site IN ('02', '06', '76')` (70 rows), filters_json "
      "`{\"cohort\": \"GBM\"}` (102 rows) (167 rows in all: exact plans, the HTTP + governance path); "
      "**synth50**: `site IN (5 of 10 sites)` (~50%); **synth5**: `site = 'Sx' AND age < 55` (~5%).")
    w("")
    w("Method: latency is wrk's (send of the request to the end of the response; connects not included), "
      "`server p50` the access log's duration_ms for the same requests (from the request's queueing or "
      "head-read to the response being ready). Errors: non-2xx answers, 2xx answers without rows, "
      "and wrk socket errors (connect, read, write, timeout), all counted by the wrk script. RSS: VmRSS "
      "of the server from /proc/<pid>/status before the run, every 5 s, and at the end. In-process: "
      "`http_setup inprocess`, the same bodies through `service::IndexManager::Query` (privilege checks, "
      "policy resolution, filtered search, masking, audit append; no HTTP, JSON or token check), one "
      "thread, server stopped. HTTP overhead = wrk p50 at 1 connection - in-process p50.")
    w("")
    present = []
    for r in runs:
        if r["variant"] not in present:
            present.append(r["variant"])
    described = {
        "plain": "`vesta serve` as built",
        "nodelay": "the same binary with `LD_PRELOAD` of `bench/http_load/nodelay_shim.c`, which sets "
                   "TCP_NODELAY on accepted sockets (cpp-httplib leaves Nagle's algorithm on unless "
                   "`set_tcp_nodelay(true)` is called; the response head and body are separate writes, so "
                   "the body waits for the client's delayed ACK, ~40 ms)",
        "fixed": "`vesta serve` built with TCP_NODELAY set on every served socket in the server itself "
                 "(service/internal/http_stream.cc)",
    }
    w("Server variants: " + "; ".join(f"**{v}** = {described.get(v, v)}" for v in present) + ".")
    w("")
    w("## Results")
    w("")
    w("| workload | server | connections | s | req/s | p50 ms | p90 ms | p99 ms | p99/p50 | errors | server p50 ms "
      "| RSS before MiB | RSS after MiB | RSS max MiB |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        errors = int(r["non2xx"]) + int(r["bad_body"]) + int(r["socket_errors"])
        ratio = float(r["p99_ms"]) / float(r["p50_ms"]) if float(r["p50_ms"]) > 0 else 0
        conns = f"{r['connections']} ({r['wrk_threads']} wrk thread{'s' if r['wrk_threads'] != '1' else ''})"
        w(f"| {r['workload']} | {r['variant']} | {conns} | {float(r['duration_s']):.0f} | {f(r['rps'], 0)} | {f(r['p50_ms'])} | {f(r['p90_ms'])} | "
          f"{f(r['p99_ms'])} | {ratio:.1f} | {errors} | {f(r['server_p50_ms'])} | "
          f"{int(r['rss_before_kib']) / 1024:.1f} | {int(r['rss_after_kib']) / 1024:.1f} | "
          f"{int(r['rss_max_kib']) / 1024:.1f} |")
    w("")
    w("In-process baseline and HTTP overhead (1 connection):")
    w("")
    w("| workload | server | in-process p50 ms | in-process p99 ms | plans | HTTP p50 ms (wrk, 1 conn) | "
      "HTTP overhead ms | part, in-process: body JSON parse p50 ms | part, in-process: Authenticate p50 ms |")
    w("|---|---|---|---|---|---|---|---|---|")
    overhead = {}
    for r in runs:
        if r["connections"] != "1" or r["workload"] not in inproc:
            continue
        b = inproc[r["workload"]]
        ov = float(r["p50_ms"]) - float(b["p50_ms"])
        overhead[(r["workload"], r["variant"])] = (ov, r["dim"])
        w(f"| {r['workload']} | {r['variant']} | {f(b['p50_ms'])} | {f(b['p99_ms'])} | {b['plans']} | {f(r['p50_ms'])} | "
          f"{ov:.3f} | {f(b['parse_p50_ms'])} | {f(b['auth_p50_ms'])} |")
    w("")
    w("Server VmRSS (MiB) during the saturation runs, every 5 s:")
    w("")
    names = []
    for r in rss:
        if r["connections"] == sat_c and (r["workload"], r["variant"]) not in names:
            names.append((r["workload"], r["variant"]))
    times = sorted({int(r["t_s"]) for r in rss if r["connections"] == sat_c})
    w("| t s | " + " | ".join(f"{n} ({v})" for n, v in names) + " |")
    w("|---|" + "---|" * len(names))
    for t in times:
        cells = []
        for n in names:
            v = [x for x in rss if (x["workload"], x["variant"]) == n and x["connections"] == sat_c
                 and int(x["t_s"]) == t]
            cells.append(f"{int(v[0]['rss_kib']) / 1024:.1f}" if v else "")
        w(f"| {t} | " + " | ".join(cells) + " |")
    w("")
    w("## Goals (issue #5 \"Load\")")
    w("")
    total_err = sum(int(r["non2xx"]) + int(r["bad_body"]) + int(r["socket_errors"]) for r in runs)
    w(f"- Zero errors: {'met' if total_err == 0 else 'NOT met'} ({total_err} errors in "
      f"{sum(int(r['requests']) for r in runs)} requests).")
    for r in runs:
        if r["connections"] != sat_c:
            continue
        ratio = float(r["p99_ms"]) / float(r["p50_ms"])
        before, mx = int(r["rss_before_kib"]), int(r["rss_max_kib"])
        growth = mx - before
        flat = growth <= 0.05 * before and growth <= 64 * 1024
        w(f"- {r['workload']} ({r['variant']}) at saturation: p99/p50 = {ratio:.1f} ({'met' if ratio < 10 else 'NOT met'}: < 10); "
          f"RSS {before / 1024:.1f} -> {int(r['rss_after_kib']) / 1024:.1f} MiB, max {mx / 1024:.1f} "
          f"(growth {growth / 1024:.1f} MiB: {'flat' if flat else 'NOT flat'}; flat = max - before <= 5% "
          "and <= 64 MiB).")
    for (wl, variant), (ov, dim) in overhead.items():
        goal = "met" if ov < 0.3 else "NOT met"
        scope = "" if dim == "768" else f" ({dim}-d; the goal is stated for 768-d)"
        w(f"- HTTP overhead {wl} ({variant}): {ov:.3f} ms ({goal}: < 0.3 ms){scope}.")
    w("")
    with open(o.out, "w") as fh:
        fh.write("\n".join(out))


if __name__ == "__main__":
    main()
