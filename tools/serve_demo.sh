#!/usr/bin/env bash
# Serves a store loaded with the demo cohort (tools/quickstart.sh runs this
# last) on 127.0.0.1: makes sure there is an admin token (saved next to the
# store in admin.token, mode 600), sets up the demo principals (`vesta demo
# principals`: an oncologist restricted to four tissue source sites and a
# researcher who sees masked identifiers, their tokens saved next to the
# store as oncologist.token and researcher.token, mode 600), starts `vesta
# serve`, creates a CONTINUOUS HNSW index over the radiomic feature vectors
# if it does not exist (and grants the demo groups SELECT on it), runs one
# governed similarity query the way Mosaic's Python client sends it (GET with
# a JSON body), then keeps serving until Ctrl-C.
#
#   VESTA_STORE=vesta-data/store.vesta VESTA_PORT=8080 tools/serve_demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

export VESTA_STORE="${VESTA_STORE:-$PWD/vesta-data/store.vesta}"
port="${VESTA_PORT:-8080}"
base="http://127.0.0.1:$port"
vesta=build/tools/vesta
index=main.imaging.radiomics_idx

store_dir="$(dirname "$VESTA_STORE")"
token_file="$store_dir/admin.token"
if [ ! -s "$token_file" ]; then
  out="$($vesta admin bootstrap admin)" || {
    echo "serve_demo: principals exist but $token_file is missing: issue a token for an admin yourself" >&2
    exit 1
  }
  (umask 077 && printf '%s\n' "$out" | sed -n 's/^token [^:]*: //p' > "$token_file")
  echo "serve_demo: created user admin (metastore admin); its token is in $token_file"
fi
token="$(cat "$token_file")"
auth=(-H "Authorization: Bearer $token" -H "Content-Type: application/json")

# The demo principals, as the admin (idempotent: a second run changes nothing).
echo "serve_demo: demo principals:"
$vesta --as admin demo principals --token-dir "$store_dir"

log="$(dirname "$VESTA_STORE")/server.log"
$vesta serve --listen "127.0.0.1:$port" 2>> "$log" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; exit 0' INT TERM
for _ in $(seq 1 300); do
  curl -sf "$base/readyz" > /dev/null && break
  kill -0 $server 2>/dev/null || { echo "serve_demo: the server did not start:" >&2; tail -5 "$log" >&2; exit 1; }
  sleep 0.1
done

code="$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$base/api/2.0/vector-search/indexes/$index")"
if [ "$code" = 404 ]; then
  curl -sf "${auth[@]}" -X POST "$base/api/2.0/vector-search/indexes" -d '{
    "name": "'"$index"'", "endpoint_name": "vesta", "primary_key": "study_id", "index_type": "DELTA_SYNC",
    "delta_sync_index_spec": {"source_table": "main.imaging.radiomics", "pipeline_type": "CONTINUOUS",
      "embedding_vector_columns": [{"name": "features", "embedding_dimension": 724}],
      "columns_to_sync": ["patient_id", "cohort", "tissue_source_site"]}}' > /dev/null
  echo "serve_demo: created index $index (HNSW, L2, CONTINUOUS sync from main.imaging.radiomics)"
fi
# Again, now that the index exists: grants the demo groups SELECT on it (an
# index is a securable of its own); its output is the summary printed below.
principals="$($vesta --as admin demo principals --token-dir "$store_dir")" || {
  kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; exit 1
}

# One query the way Mosaic's Python client sends it (GET with a JSON body):
# the 3 GBM studies nearest to the first study in key order.
first="$(curl -sf "${auth[@]}" -X POST "$base/api/2.0/vector-search/indexes/$index/scan" -d '{"num_results": 1}')"
study="$(printf '%s' "$first" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["fields"][0]["value"]["string_value"])')"
vector="$(printf '%s' "$first" | python3 -c '
import json, sys
fields = json.load(sys.stdin)["data"][0]["fields"]
vec = [f for f in fields if f["key"] == "features"][0]["value"]["list_value"]["values"]
print(json.dumps([v["number_value"] for v in vec]))')"
echo
echo "serve_demo: a Mosaic-style query (GET with a JSON body): the 3 GBM studies nearest to $study:"
curl -sf "${auth[@]}" -X GET "$base/api/2.0/vector-search/indexes/$index/query" -d '{
  "columns": ["study_id", "cohort", "tissue_source_site"], "num_results": 3,
  "filters_json": "{\"cohort\": \"GBM\"}", "query_vector": '"$vector"'}' |
  python3 -c 'import json,sys; [print("  ", r) for r in json.load(sys.stdin)["result"]["data_array"]]'

# The main job: similar cases with joined clinical rows and mutations, a summary and the versions read.
echo
echo "serve_demo: cases similar to patient TCGA-06-0139 (GBM), as the admin:"
$vesta similar --like TCGA-06-0139 --filter "cohort = 'GBM'" --genes IDH1,EGFR,TP53,PTEN,ATRX \
  --server "$base" --token-file "$token_file" || true

# A patient id as the researcher sees it (a keyed hash), for the example below.
hashed="$(curl -sf -H "Authorization: Bearer $(cat "$store_dir/researcher.token" 2>/dev/null)" \
  -H "Content-Type: application/json" -X POST "$base/api/2.0/vesta/tables/main.imaging.radiomics/read" \
  -d "{\"columns\": [\"patient_id\"], \"filter\": \"cohort = 'LGG'\", \"limit\": 1}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data_array"][0][0])' 2>/dev/null || echo '<hash>')"

cat <<EOF

serve_demo: serving $VESTA_STORE on $base until Ctrl-C (access log: $log).
The demo principals, each with a token file (mode 600) to send as "Authorization: Bearer <token>":
$(printf '%s\n' "$principals" | sed 's/^/  /')
Their tokens (demo store only; the same as in the token files):
$(for u in admin oncologist researcher; do [ -s "$store_dir/$u.token" ] && printf '  %-11s %s\n' "$u" "$(cat "$store_dir/$u.token")"; done)

Try (in another shell, from $(pwd)):
  # the admin: GBM cases like TCGA-06-0139 among patients aged 40-70, with a gene panel
  build/tools/vesta similar --like TCGA-06-0139 --filter "cohort = 'GBM'" \\
      --clinical-filter "age_at_diagnosis BETWEEN 40 AND 70" --genes IDH1,EGFR,TP53 \\
      --server $base --token-file $token_file
  # the oncologist: the same kind of request sees only sites 19, 76, CS and HT
  build/tools/vesta similar --like TCGA-76-6285 --server $base --token-file $store_dir/oncologist.token
  # the researcher: every site, identifiers as keyed hashes (joins still work)
  build/tools/vesta similar --like $hashed --server $base --token-file $store_dir/researcher.token
  # the same over HTTP (service/openapi.json, operation similarCases)
  curl -s -H "Authorization: Bearer \$(cat $token_file)" -H 'Content-Type: application/json' \\
    $base/api/2.0/vector-search/indexes/$index/similar-cases -d '{"example": {"column": "patient_id",
    "value": "TCGA-06-0139"}, "num_results": 5, "joins": [{"name": "clinical", "table": "main.clinical.patients",
    "columns": ["age_at_diagnosis", "subtype", "os_months"]}], "summary": {"numeric": [{"join": "clinical",
    "column": "age_at_diagnosis"}], "survival": {"join": "clinical"}}}'
The API: $base/openapi.json (OpenAPI 3.1); metrics: $base/metrics (with a token).
EOF
wait $server
