#!/usr/bin/env bash
# HTTP load benchmark (issue #5 "Load"): wrk against `vesta serve` on
# 127.0.0.1 for filtered vector queries. Results: bench/results/http.md
# (+ http.csv, http_rss.csv, http_inprocess.csv).
#
#   bench/http_load.sh [--build build] [--work /tmp/vesta-http-load] [--duration 60]
#                      [--port 18080] [--rows 100000] [--dim 768] [--kind HNSW]
#                      [--threads 2] [--connections 16] [--out bench/results/]
#                      [--workloads "demo synth50 synth5"] [--variants "plain"]
#                      [--sweep "2 4 8"] [--sweep-duration 10] [--setup-only]
#
# Needs: wrk (Debian package `wrk`), curl, python3, and a Release build of
# the targets `vesta` and `http_setup`:
#   cmake -S . -B build && make -C build -j2 vesta http_setup
#
# Workloads (each a file of query bodies, rotated by bench/http_load/query.lua):
#   demo     the TCGA glioma demo cohort (`vesta demo load`): index
#            main.imaging.radiomics_idx (HNSW, L2) over
#            main.imaging.radiomics.features VECTOR(724), 167 rows; query
#            vectors are 256 studies of the table (sampled, seeded); filters
#            rotate: cohort = 'LGG' (filter_string, 65 rows), cohort = 'GBM'
#            AND tissue_source_site IN ('02', '06', '76') (70 rows), and
#            {"cohort": "GBM"} (filters_json, as the Python client sends it;
#            102 rows). With 167 rows every plan is an exact scan: this
#            measures the HTTP + governance path.
#   synth50  main.bench.synth (http_setup synth: 100,000 x 768 clustered
#            Gaussian, seeded; site S0..S9 and age 18..90 uniform), index
#            main.bench.synth_idx (--kind, default HNSW M 16 ef_construction
#            100), 256 fresh query vectors; filter site IN (5 of 10 sites),
#            ~50% of rows, 4 different site sets rotating (S0-S4, S5-S9,
#            even, odd).
#   synth5   the same index; filter site = 'Sx' AND age < 55, ~5% of rows,
#            x rotating over the 10 sites.
#   All: num_results 10, columns [key, two attributes], admin token (group
#   admins, no row filter), POST.
#
# Per workload: the in-process baseline first (http_setup inprocess: the
# same bodies through service::IndexManager::Query, 1 thread, 20 s, server
# not running), then one server start (`vesta serve`, default worker
# threads and search threads, access log to a file), a 5 s warm-up at
# saturation (not recorded), a --duration run at 1 connection (wrk -t1 -c1:
# latency) and a --duration run at saturation (wrk -t THREADS -c
# CONNECTIONS), with short runs at the --sweep connection counts in
# between (--sweep-duration s each, wrk threads = min(THREADS, connections))
# to show where throughput saturates. During each measured run the server's VmRSS is read from
# /proc/<pid>/status every 5 s. HTTP overhead = wrk p50 at 1 connection
# minus the in-process p50.
#
# Variants (--variants, each a server start per workload): "plain" runs
# `vesta serve` as built (TCP_NODELAY on every connection since d60f25b);
# "nodelay" adds LD_PRELOAD of bench/http_load/nodelay_shim.c, which sets
# TCP_NODELAY on accepted sockets: it reproduces the before/after
# comparison of bench/results/http.md and is otherwise the same as "plain".
#
# Setup (once per --work folder; reused afterwards: the index files persist
# under <store>.indexes/): the demo store and the synthetic store, each
# with an admin (`vesta admin bootstrap admin`, token kept in
# <work>/<name>/token, mode 600) and its index, created over HTTP with
# POST /api/2.0/vector-search/indexes on a setup server (no request time
# limit). Only 127.0.0.1 is ever contacted.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
WORK=/tmp/vesta-http-load
DURATION=60
PORT=18080
ROWS=100000
DIM=768
KIND=HNSW
THREADS=2
CONNECTIONS=16
OUT=$ROOT/bench/results
WORKLOADS="demo synth50 synth5"
SETUP_ONLY=0
VARIANTS=plain
SWEEP="2 4 8"
SWEEP_DURATION=10
WARMUP=5
BASELINE_SECONDS=20

while [[ $# -gt 0 ]]; do
  case $1 in
    --build) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --dim) DIM=$2; shift 2 ;;
    --kind) KIND=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --workloads) WORKLOADS=$2; shift 2 ;;
    --variants) VARIANTS=$2; shift 2 ;;
    --sweep) SWEEP=$2; shift 2 ;;
    --sweep-duration) SWEEP_DURATION=$2; shift 2 ;;
    --setup-only) SETUP_ONLY=1; shift ;;
    --baseline-seconds) BASELINE_SECONDS=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "http_load.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

VESTA=$BUILD/tools/vesta
SETUP=$BUILD/bench/http_setup
LUA=$ROOT/bench/http_load/query.lua
for f in "$VESTA" "$SETUP"; do
  [[ -x $f ]] || { echo "http_load.sh: $f not built (make -C $BUILD vesta http_setup)" >&2; exit 2; }
done
for t in wrk curl python3; do
  command -v $t >/dev/null || { echo "http_load.sh: $t not found (apt-get install -y $t)" >&2; exit 2; }
done
mkdir -p "$WORK" "$OUT" "$WORK/logs"
export OMP_NUM_THREADS=1  # the CONTINUOUS sync thread keeps OpenMP's default otherwise (server.h)

SERVER_PID=
stop_server() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
trap stop_server EXIT

# start_server STORE LOG [extra serve options...]: starts `vesta serve` on
# 127.0.0.1:$PORT (with LD_PRELOAD=$PRELOAD when set) and waits for its
# "serving ... on http://" line.
PRELOAD=
start_server() {
  local store=$1 log=$2
  shift 2
  LD_PRELOAD=$PRELOAD "$VESTA" --store "$store" serve --listen "127.0.0.1:$PORT" "$@" 2>"$log" &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if grep -q "serving .* on http://127.0.0.1:$PORT" "$log" 2>/dev/null; then return 0; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "http_load.sh: the server exited; its log ($log):" >&2; tail -5 "$log" >&2; exit 1
    fi
    sleep 0.1
  done
  echo "http_load.sh: the server did not start within 60 s ($log)" >&2
  exit 1
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# bootstrap STORE DIR: the admin user and its token (DIR/token).
bootstrap() {
  local store=$1 dir=$2
  [[ -s $dir/token ]] && return 0
  local out
  out=$("$VESTA" --store "$store" admin bootstrap admin)
  (umask 077; sed -n 's/^token [^:]*: //p' <<<"$out" >"$dir/token")
  [[ -s $dir/token ]] || { echo "http_load.sh: no token in: $out" >&2; exit 1; }
}

# create_index STORE DIR BODY_JSON: POST /api/2.0/vector-search/indexes on a
# setup server; prints the seconds it took.
create_index() {
  local store=$1 dir=$2 body=$3
  start_server "$store" "$WORK/logs/setup-$(basename "$dir").log" --request-timeout-ms 0
  local t0 t1 code
  t0=$(date +%s.%N)
  code=$(curl -sS -o "$dir/create.json" -w '%{http_code}' --max-time 7200 \
    -H "Authorization: Bearer $(cat "$dir/token")" -H 'Content-Type: application/json' \
    --data-binary "$body" "http://127.0.0.1:$PORT/api/2.0/vector-search/indexes")
  t1=$(date +%s.%N)
  stop_server
  [[ $code == 200 ]] || { echo "http_load.sh: index create answered $code: $(cat "$dir/create.json")" >&2; exit 1; }
  python3 -c "print(f'{$t1 - $t0:.1f}')" >"$dir/create_seconds"
  echo "created index in $(cat "$dir/create_seconds") s"
}

# --- setup: demo -------------------------------------------------------------
DEMO=$WORK/demo
DEMO_STORE=$DEMO/store.vesta
DEMO_INDEX=main.imaging.radiomics_idx
if [[ ! -s $DEMO/ready ]]; then
  echo "== setup: demo cohort store ($DEMO_STORE)"
  rm -rf "$DEMO"; mkdir -p "$DEMO"
  "$VESTA" --store "$DEMO_STORE" init >/dev/null
  "$VESTA" --store "$DEMO_STORE" --as admin demo load --data "$ROOT/data" >/dev/null
  bootstrap "$DEMO_STORE" "$DEMO"
  create_index "$DEMO_STORE" "$DEMO" '{"name": "main.imaging.radiomics_idx", "endpoint_name": "vesta",
    "primary_key": "study_id", "index_type": "DELTA_SYNC",
    "delta_sync_index_spec": {"source_table": "main.imaging.radiomics", "pipeline_type": "TRIGGERED",
      "embedding_vector_columns": [{"name": "features", "embedding_dimension": 724}],
      "columns_to_sync": ["patient_id", "cohort", "tissue_source_site", "missing_features"]},
    "vesta_index_spec": {"kind": "HNSW", "metric": "L2"}}'
  echo ok >"$DEMO/ready"
fi

# --- setup: synthetic ------------------------------------------------------------
SYN=$WORK/synth-$ROWS-$DIM-$KIND
SYN_STORE=$SYN/store.vesta
SYN_INDEX=main.bench.synth_idx
if [[ ! -s $SYN/ready ]]; then
  echo "== setup: synthetic store $ROWS x $DIM, $KIND ($SYN_STORE)"
  rm -rf "$SYN"; mkdir -p "$SYN"
  "$SETUP" synth --store "$SYN_STORE" --rows "$ROWS" --dim "$DIM" --queries 256 --queries-out "$SYN/queries.fvecs"
  bootstrap "$SYN_STORE" "$SYN"
  create_index "$SYN_STORE" "$SYN" "{\"name\": \"$SYN_INDEX\", \"endpoint_name\": \"vesta\",
    \"primary_key\": \"id\", \"index_type\": \"DELTA_SYNC\",
    \"delta_sync_index_spec\": {\"source_table\": \"main.bench.synth\", \"pipeline_type\": \"TRIGGERED\",
      \"embedding_vector_columns\": [{\"name\": \"embedding\", \"embedding_dimension\": $DIM}],
      \"columns_to_sync\": [\"site\", \"age\"]},
    \"vesta_index_spec\": {\"kind\": \"$KIND\", \"metric\": \"L2\"}}"
  echo ok >"$SYN/ready"
fi

# --- query bodies (deterministic; written on every run) ------------------------------
"$SETUP" bodies --store "$DEMO_STORE" --table main.imaging.radiomics --vector-column features --n 256 \
  --columns study_id,cohort,tissue_source_site --k 10 \
  --filters-json '{"cohort": "GBM"}' \
  --filter-string "cohort = 'LGG'" \
  --filter-string "cohort = 'GBM' AND tissue_source_site IN ('02', '06', '76')" \
  --out "$DEMO/demo.bodies"
args50=()
for set in "'S0', 'S1', 'S2', 'S3', 'S4'" "'S5', 'S6', 'S7', 'S8', 'S9'" "'S0', 'S2', 'S4', 'S6', 'S8'" \
           "'S1', 'S3', 'S5', 'S7', 'S9'"; do
  args50+=(--filter-string "site IN ($set)")
done
"$SETUP" bodies --vectors "$SYN/queries.fvecs" --columns id,site,age --k 10 "${args50[@]}" \
  --out "$SYN/synth50.bodies"
args5=()
for s in S0 S1 S2 S3 S4 S5 S6 S7 S8 S9; do args5+=(--filter-string "site = '$s' AND age < 55"); done
"$SETUP" bodies --vectors "$SYN/queries.fvecs" --columns id,site,age --k 10 "${args5[@]}" \
  --out "$SYN/synth5.bodies"
[[ $SETUP_ONLY == 1 ]] && { echo "setup done in $WORK"; exit 0; }

# --- measured runs -----------------------------------------------------------------
SHIM=
for v in $VARIANTS; do
  case $v in
    plain) ;;
    nodelay)
      SHIM=$WORK/nodelay_shim.so
      cc -O2 -shared -fPIC -o "$SHIM" "$ROOT/bench/http_load/nodelay_shim.c" -ldl ;;
    *) echo "http_load.sh: unknown variant $v (plain, nodelay)" >&2; exit 2 ;;
  esac
done
STAMP=$(date -u +%Y-%m-%dT%H:%M:%SZ)
CSV=$OUT/http.csv
RSS_CSV=$OUT/http_rss.csv
INPROC_CSV=$OUT/http_inprocess.csv
echo "run_at,workload,variant,index,rows,dim,connections,wrk_threads,duration_s,requests,rps,p50_ms,p90_ms,p99_ms,p999_ms,mean_ms,max_ms,non2xx,bad_body,socket_errors,statuses,server_p50_ms,server_p99_ms,rss_before_kib,rss_after_kib,rss_max_kib,load_before" >"$CSV"
echo "run_at,workload,variant,connections,t_s,rss_kib" >"$RSS_CSV"
echo "label,calls,seconds,qps,p50_ms,p90_ms,p99_ms,mean_ms,max_ms,caller_p50_ms,plans,parse_p50_ms,auth_p50_ms" >"$INPROC_CSV"

# server_percentiles LOG FROM_LINE: p50 and p99 of the query route's
# duration_ms in the access log after line FROM_LINE.
server_percentiles() {
  tail -n +"$(( $2 + 1 ))" "$1" | python3 -c '
import json, sys
d = []
for line in sys.stdin:
    if not line.startswith("{"): continue
    try: r = json.loads(line)
    except ValueError: continue
    if str(r.get("route", "")).endswith("/query") and "duration_ms" in r: d.append(r["duration_ms"])
d.sort()
p = lambda q: d[min(len(d) - 1, int(q * len(d)))] if d else 0
print(f"{p(0.5):.3f} {p(0.99):.3f}")'
}

# run_wrk NAME BODIES INDEX TOKEN_FILE WRK_THREADS CONNECTIONS DURATION RECORD(0/1)
run_wrk() {
  local name=$1 bodies=$2 index=$3 token_file=$4 t=$5 c=$6 d=$7 record=$8
  local out=$WORK/logs/$name-$VARIANT-c$c.wrk log=$WORK/logs/$name-$VARIANT-server.log
  local from rss_before load
  from=$(wc -l <"$log")
  rss_before=$(rss_kib "$SERVER_PID")
  load=$(cut -d' ' -f1 /proc/loadavg)
  VESTA_TOKEN=$(cat "$token_file") wrk -t"$t" -c"$c" -d"${d}s" --timeout 10s --latency -s "$LUA" \
    "http://127.0.0.1:$PORT" -- "$bodies" "$index" >"$out" 2>&1 &
  local wrk_pid=$! rss_max=$rss_before
  if [[ $record == 1 ]]; then echo "$STAMP,$name,$VARIANT,$c,0,$rss_before" >>"$RSS_CSV"; fi
  # VmRSS every 5 s while wrk runs (the last sample, at about d s, is "after").
  local elapsed=0 r
  while (( elapsed + 5 < d )) && kill -0 "$wrk_pid" 2>/dev/null; do
    sleep 5; elapsed=$(( elapsed + 5 ))
    r=$(rss_kib "$SERVER_PID")
    (( r > rss_max )) && rss_max=$r
    if [[ $record == 1 ]]; then echo "$STAMP,$name,$VARIANT,$c,$elapsed,$r" >>"$RSS_CSV"; fi
  done
  wait "$wrk_pid" || { echo "http_load.sh: wrk failed:" >&2; cat "$out" >&2; exit 1; }
  local rss_after; rss_after=$(rss_kib "$SERVER_PID")
  (( rss_after > rss_max )) && rss_max=$rss_after
  if [[ $record == 1 ]]; then echo "$STAMP,$name,$VARIANT,$c,$d,$rss_after" >>"$RSS_CSV"; fi
  local line; line=$(grep '^RESULT ' "$out" || true)
  [[ -n $line ]] || { echo "http_load.sh: no RESULT line from wrk:" >&2; cat "$out" >&2; exit 1; }
  grep '^FIRST_ERROR' "$out" >&2 || true
  [[ $record == 1 ]] || return 0
  local srv; srv=$(server_percentiles "$log" "$from")
  python3 - "$line" <<EOF >>"$CSV"
import sys
kv = dict(p.split("=", 1) for p in sys.argv[1].split()[1:])
sock = sum(int(kv[k]) for k in ("socket_connect", "socket_read", "socket_write", "socket_timeout"))
s50, s99 = "$srv".split()
print(",".join(str(x) for x in ["$STAMP", "$name", "$VARIANT", "$index", "$ROWS_OF", "$DIM_OF", $c, $t, kv["duration_s"],
    kv["requests"], kv["rps"], kv["p50_ms"], kv["p90_ms"], kv["p99_ms"], kv["p999_ms"], kv["mean_ms"],
    kv["max_ms"], kv["non2xx"], kv["bad_body"], sock, '"' + kv["statuses"] + '"', s50, s99,
    $rss_before, $rss_after, $rss_max, $load]))
EOF
  echo "  $name $VARIANT c=$c: $(tail -1 "$CSV")"
}

for wl in $WORKLOADS; do
  case $wl in
    demo) store=$DEMO_STORE; dir=$DEMO; index=$DEMO_INDEX; bodies=$DEMO/demo.bodies; ROWS_OF=167; DIM_OF=724 ;;
    synth50|synth5) store=$SYN_STORE; dir=$SYN; index=$SYN_INDEX; bodies=$SYN/$wl.bodies; ROWS_OF=$ROWS; DIM_OF=$DIM ;;
    *) echo "http_load.sh: unknown workload $wl" >&2; exit 2 ;;
  esac
  echo "== $wl: load $(cut -d' ' -f1-3 /proc/loadavg)"
  "$SETUP" inprocess --store "$store" --index "$index" --bodies "$bodies" --seconds "$BASELINE_SECONDS" \
    --label "$wl" --csv "$INPROC_CSV" --token-file "$dir/token"
  for VARIANT in $VARIANTS; do
    PRELOAD=
    [[ $VARIANT == nodelay ]] && PRELOAD=$SHIM
    start_server "$store" "$WORK/logs/$wl-$VARIANT-server.log"
    run_wrk "$wl" "$bodies" "$index" "$dir/token" "$THREADS" "$CONNECTIONS" "$WARMUP" 0
    run_wrk "$wl" "$bodies" "$index" "$dir/token" 1 1 "$DURATION" 1
    for c in $SWEEP; do
      run_wrk "$wl" "$bodies" "$index" "$dir/token" "$(( c < THREADS ? c : THREADS ))" "$c" "$SWEEP_DURATION" 1
    done
    run_wrk "$wl" "$bodies" "$index" "$dir/token" "$THREADS" "$CONNECTIONS" "$DURATION" 1
    stop_server
  done
  PRELOAD=
done

# --- report --------------------------------------------------------------------------
python3 "$ROOT/bench/http_load/report.py" --csv "$CSV" --rss "$RSS_CSV" --inprocess "$INPROC_CSV" \
  --out "$OUT/http.md" --duration "$DURATION" --threads "$THREADS" --connections "$CONNECTIONS" \
  --kind "$KIND" --variants "$VARIANTS" --demo-create "$(cat "$DEMO/create_seconds" 2>/dev/null || echo '')" \
  --synth-create "$(cat "$SYN/create_seconds" 2>/dev/null || echo '')" --rows "$ROWS" --dim "$DIM"
echo "wrote $OUT/http.md"
