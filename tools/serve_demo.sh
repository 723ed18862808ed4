#!/usr/bin/env bash
# Serves a store loaded with the demo cohort (tools/quickstart.sh runs this
# last) on 127.0.0.1: makes sure there is an admin token (saved next to the
# store in admin.token, mode 600), starts `vesta serve`, creates a CONTINUOUS
# HNSW index over the radiomic feature vectors if it does not exist, runs one
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

token_file="$(dirname "$VESTA_STORE")/admin.token"
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

# One similarity query: the studies nearest to the first study in key order, among GBM studies.
first="$(curl -sf "${auth[@]}" -X POST "$base/api/2.0/vector-search/indexes/$index/scan" -d '{"num_results": 1}')"
study="$(printf '%s' "$first" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["fields"][0]["value"]["string_value"])')"
vector="$(printf '%s' "$first" | python3 -c '
import json, sys
fields = json.load(sys.stdin)["data"][0]["fields"]
vec = [f for f in fields if f["key"] == "features"][0]["value"]["list_value"]["values"]
print(json.dumps([v["number_value"] for v in vec]))')"
echo
echo "serve_demo: the 5 GBM studies most similar to $study:"
curl -sf "${auth[@]}" -X GET "$base/api/2.0/vector-search/indexes/$index/query" -d '{
  "columns": ["study_id", "patient_id", "cohort", "tissue_source_site"], "num_results": 5,
  "filters_json": "{\"cohort\": \"GBM\"}", "query_vector": '"$vector"'}' | python3 -m json.tool
cat <<EOF

serve_demo: serving $VESTA_STORE on $base until Ctrl-C (access log: $log).
The admin token is in $token_file:
  token=\$(cat $token_file)
  curl -s -H "Authorization: Bearer \$token" $base/api/2.0/vector-search/indexes/$index
  curl -s -H "Authorization: Bearer \$token" $base/api/2.1/unity-catalog/tables/main.clinical.patients
  curl -s -H "Authorization: Bearer \$token" $base/metrics
The API: $base/openapi.json (OpenAPI 3.1)
EOF
wait $server
