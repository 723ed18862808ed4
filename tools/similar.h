// `vesta similar`: "find similar cases" from the command line, as a client
// of a running `vesta serve` (POST .../indexes/{index}/similar-cases,
// service/routes_similar.cc), printing the cases with their joined clinical
// rows and mutations, the evidence summary and the provenance as text
// tables.
//
//   vesta similar --like TCGA-06-0139 --filter "cohort = 'GBM'"
//       --clinical-filter "age_at_diagnosis BETWEEN 40 AND 70"
//       --join clinical,mutations --genes IDH1,EGFR,TP53
//
// Thread-safety: pure functions (RunSimilar does one HTTP exchange).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace vesta::tools {

struct SimilarOptions {
  std::string server = "http://127.0.0.1:8080";  // only http://127.0.0.1 or localhost
  std::string token;                             // bearer token
  std::string index = "main.imaging.radiomics_idx";
  std::string like;  // the example's key value
  std::string like_column = "patient_id";
  int k = 10;
  std::string filter;           // filter_string over the index's columns
  std::string clinical_filter;  // restricts the cases (a filter over main.clinical.patients)
  std::vector<std::string> joins = {"clinical", "mutations"};  // of: clinical, mutations
  std::vector<std::string> genes = {"IDH1", "EGFR", "TP53", "PTEN", "ATRX"};
  bool summary = true;
  bool json_output = false;  // print the server's JSON answer as is
};

// The request body for `o` (the demo cohort's tables: clinical =
// main.clinical.patients, mutations = main.genomics.somatic_mutations
// restricted to the gene panel; the summary asks for cohort, sex and
// subtype, age and OS months, the genes' mutation status and overall
// survival). Errors: InvalidArgument naming the flag (no --like, an unknown
// join name, --k outside 1..1000, --genes empty while mutations are joined).
Result<nlohmann::json> SimilarRequestBody(const SimilarOptions& o);

// Writes the answer as text: the cases (rank, key columns, score, then the
// clinical columns and the panel's mutations as "GENE p.X (VAF)"), the
// summary tables, the versions and query ids. Unknown or missing parts of
// the answer are skipped, never an error.
void PrintSimilarAnswer(std::ostream& out, const nlohmann::json& answer);

// Sends the request to o.server and prints the answer (text, or JSON with
// json_output). Errors: InvalidArgument for a server that is not
// http://127.0.0.1 / localhost; Unavailable when it cannot be reached; the
// server's error (its HTTP status mapped back to a code, its message) for a
// non-2xx answer.
Status RunSimilar(const SimilarOptions& o, std::ostream& out);

}  // namespace vesta::tools
