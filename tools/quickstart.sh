#!/usr/bin/env bash
# The main job on a fresh machine: install the Debian packages, build Vesta
# (Release), create a store and load the demo TCGA glioma cohort into it,
# show what was loaded, then serve it on 127.0.0.1 (tools/serve_demo.sh: an
# admin token, the demo principals (an oncologist restricted to some tissue
# source sites, a PHI-masked researcher) with their tokens, a CONTINUOUS
# radiomics index, one similarity query) until Ctrl-C. Safe to run again: the
# load is an upsert and commits nothing when the data are unchanged; the
# tokens, the principals and the index are reused.
#
#   tools/quickstart.sh                      # store in ./vesta-data/store.vesta, port 8080
#   VESTA_STORE=/path/x.vesta VESTA_PORT=8181 tools/quickstart.sh
#   VESTA_NO_SERVE=1 tools/quickstart.sh     # load only
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > build.log 2>&1 || { cat build.log; exit 1; }
cmake --build build -j"$(nproc)" --target vesta >> build.log 2>&1 || { tail -50 build.log; exit 1; }
echo "quickstart: built build/tools/vesta (log: build.log)"

export VESTA_STORE="${VESTA_STORE:-$PWD/vesta-data/store.vesta}"
build/tools/vesta init
build/tools/vesta demo load --data data
echo
build/tools/vesta table list
echo
build/tools/vesta table history main.genomics.somatic_mutations
echo
echo "quickstart: store at $VESTA_STORE. Try:"
echo "  export VESTA_STORE=$VESTA_STORE"
echo "  build/tools/vesta table show main.clinical.patients --where \"cohort = 'GBM' AND age_at_diagnosis > 70\""
echo "  build/tools/vesta table show main.genomics.somatic_mutations --where \"hugo_symbol = 'IDH1'\" --columns patient_id,hgvsp_short,vaf"
[ -n "${VESTA_NO_SERVE:-}" ] && exit 0
echo
exec bash tools/serve_demo.sh
