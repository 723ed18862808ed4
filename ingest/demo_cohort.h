// The demo cohort: the TCGA glioma (GBM + LGG) data shipped in data/, loaded
// into governed, versioned tables. See data/SOURCE.md for origins and
// licences, and README.md for what each table holds.
//
//   main.imaging.radiomics                 one row per MRI study, VECTOR(724)
//                                          of standardised radiomic features
//   main.imaging.radiomics_feature_stats   per-feature mean / sd used for the
//                                          standardisation (committed with
//                                          radiomics in one transaction)
//   main.clinical.patients                 GBM (cBioPortal PanCancer Atlas)
//                                          and LGG (MC3 / TCGA-CDR) patients
//   main.genomics.somatic_mutations        MC3 non-silent mutations, GBM + LGG
//
// Loading is an upsert: running it again on the same files commits nothing.
//
// Thread-safety: thread-safe (the Store is).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "governance/store.h"
#include "ingest/ingest.h"

namespace vesta::ingest {

struct DemoOptions {
  std::string data_dir = "data";  // the project's data/ folder
  std::string principal = "vesta";
  ProgressFn progress;            // optional
};

struct DemoTableLoad {
  governance::TableName table;
  int64_t rows = 0;        // live rows after the load
  int64_t version = 0;     // table version after the load
  bool changed = false;    // false: the load committed nothing new
  std::string note;        // what was read and any rule applied
};

struct DemoLoadReport {
  std::vector<DemoTableLoad> tables;
};

// Creates catalog `main`, schemas imaging / clinical / genomics and the
// tables above, then upserts the demo files into them.
// Errors: NotFound naming a missing data file; whatever a reader or commit
// reports (nothing is committed for the table group that failed).
Result<DemoLoadReport> LoadDemoCohort(governance::Store& store, const DemoOptions& options);

// Standardisation of raw radiomic features, shared with query-time code:
// z = (x - mean) / sd; a missing raw value (NaN) and a feature with sd == 0
// map to 0 (the cohort mean).
// REQUIRES: raw.size() == mean.size() == sd.size().
std::vector<float> StandardizeFeatures(const std::vector<double>& raw, const std::vector<double>& mean,
                                       const std::vector<double>& sd);

}  // namespace vesta::ingest
