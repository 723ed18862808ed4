// "Find similar cases" (issue #6): the k cases nearest to an example case or
// a vector, among the cases the caller may see, joined to other tables
// (clinical features, mutations) at pinned versions, with an evidence
// summary comparing the similar cases to the population the caller can see,
// and the provenance of every table and index read.
//
// Everything is read through access::Governed as the caller, so each read is
// privilege-checked, filtered by the caller's row filter and masked, audited
// and recorded in lineage; this file adds no access path of its own:
//   1. each joined table and the feature-statistics table is described first
//      (Governed::DescribeTable: USE CATALOG + USE SCHEMA + SELECT, else
//      PermissionDenied before anything is searched), which pins its
//      version (the current one, or the one the request names) and checks
//      the requested columns;
//   2. the search: the index (IndexManager::Query, the filter inside the
//      search) when it reflects the pinned source version, else an exact
//      scan of the source table at that version (Governed::ReadTable with
//      the filter, then exact distances with index/distance.h kernels), so
//      a repeated request naming the same versions gets the same answer
//      even after the table has moved on;
//   3. joined rows: Governed::ReadTable of each joined table at its pinned
//      version with `on IN (keys)` AND the join's filter;
//   4. the summary's population: Governed::ReadTable of the source table at
//      the searched version with the same filter (the row filter applies),
//      and the joined tables the summary uses for its keys (the others for
//      the cases' keys only).
// Keys are joined as the caller sees them: a join key masked by a keyed hash
// (the same HMAC in every table) still joins; the raw values never leave
// Governed.
//
// Lineage: every governed read records table@version -> its query id; the
// call then records one edge per read from that query to the call's own node
// {kind "query", name "sc-<16 hex>"}, relation "derived_from", so
// Lineage::Upstream(sc node) lists every table and index version used.
//
// Thread-safety: SimilarCases is thread-safe (Governed and IndexManager are).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "access/governed.h"
#include "common/status.h"
#include "common/types.h"
#include "governance/store.h"
#include "service/index_manager.h"

namespace vesta::service {

// The example case: the rows of the index's source table whose `column`
// equals `value` (the primary key by default). Every such row is excluded
// from the answer and the population; the first (in key order) gives the
// query vector.
struct CaseExample {
  std::string column;  // "" = the primary key
  Value value;
};

// Another table joined to the cases.
struct CaseJoin {
  std::string name;                  // the key in the answer ("clinical"); unique per request
  governance::TableName table;       // e.g. main.clinical.patients
  std::string on;                    // the joined table's column matched to the join key; "" = the same name
  std::vector<std::string> columns;  // returned per case; empty = every column
  std::string filter;                // filter_string over the joined table; "" = every row
  // Only cases with at least one row of this join (after its filter): the
  // qualifying keys are pushed into the search filter (`join_key IN (...)`),
  // so the restriction is inside the search, not a post-filter.
  bool restrict_cases = false;
  std::optional<int64_t> version;  // pinned version; nullopt = current when the call starts
};

// A feature of the evidence summary: a column of one join.
struct SummaryFeature {
  std::string join;    // CaseJoin::name
  std::string column;  // in that join's table
};

struct SummaryRequest {
  std::vector<SummaryFeature> categorical;  // counts, proportions, odds ratio, Fisher's exact test
  std::vector<SummaryFeature> numeric;      // median and IQR
  // Mutation status of genes: a patient is "mutated" for G when the join
  // holds a row (after the join's filter) whose `gene_column` is G, "profiled"
  // when the join's table holds any row for them (without the filter).
  std::string gene_join;  // "" = no gene summary
  std::string gene_column = "hugo_symbol";
  std::vector<std::string> genes;
  // Overall survival: Kaplan-Meier curves, medians and the log-rank test.
  std::string survival_join;  // "" = none
  std::string survival_time_column = "os_months";
  std::string survival_event_column = "os_event";  // BOOLEAN, or a number (1 = event)

  bool empty() const {
    return categorical.empty() && numeric.empty() && genes.empty() && survival_join.empty();
  }
};

struct SimilarCasesRequest {
  governance::TableName index;
  // Exactly one of example, vector, raw_features.
  std::optional<CaseExample> example;
  std::vector<float> vector;         // in the index's space (standardised features)
  std::vector<double> raw_features;  // raw; standardised with the feature statistics table
  // Table of per-feature mean and sd (columns feature_index, mean, sd), as
  // ingest/demo_cohort.h writes; default "<source table>_feature_stats".
  std::optional<governance::TableName> feature_stats_table;
  std::optional<int64_t> feature_stats_version;
  size_t k = 10;                        // 1..1000
  std::vector<std::string> columns;     // index columns per case; empty = every synced column
  std::string filter;                   // filter_string over the index's columns; "" = none
  std::string join_key = "patient_id";  // the index column the joins match
  std::vector<CaseJoin> joins;
  std::optional<int64_t> source_version;  // the source table version to search; nullopt = the index's
  std::optional<int> ef_search;
  SummaryRequest summary;
};

// One table or index read, for the provenance.
struct ReadProvenance {
  std::string role;  // "search", "example", "feature_stats", "join:<name>", "population", "profiled:<name>"
  std::string kind;  // "index" or "table"
  governance::TableName name;
  int64_t version = -1;
  std::string query_id;  // the governed call's lineage node
};

struct JoinedRows {
  std::string name;
  governance::TableName table;
  int64_t version = -1;
  std::vector<std::string> columns;
  std::vector<std::vector<Row>> per_case;  // per_case[i]: the rows joined to case i
};

struct SimilarCasesAnswer {
  std::vector<std::string>
      columns;                 // the primary key, then the requested columns (masked as the caller sees them)
  std::vector<Row> rows;       // best first, at most k
  std::vector<double> scores;  // Mosaic's score (L2: 1 / (1 + d^2); else the similarity)
  std::vector<double> distances;  // the metric's raw value (L2: squared distance)
  std::vector<JoinedRows> joins;
  nlohmann::json
      summary;  // null when none was requested; shape in service/openapi.json (SimilarCasesSummary)
  // Versions.
  int64_t source_version = -1;  // the source table version searched
  int64_t index_version = -1;   // the index snapshot, -1 when the exact table scan answered
  std::string plan;             // the index's plan ("exact", "graph", ...) or "table_scan"
  governance::TableName source_table;
  std::vector<ReadProvenance> reads;
  std::string similar_cases_id;  // "sc-" + 16 hex: this call's lineage node
};

class SimilarCases {
 public:
  // Borrows both; they must outlive this.
  SimilarCases(access::Governed& governed, IndexManager& indexes);

  // Runs the request for `caller` (see the file comment).
  // Errors: InvalidArgument naming the field (no or several query forms, a
  // vector of the wrong length, k outside 1..1000, an unknown column or
  // join, a feature statistics table without feature_index / mean / sd or of
  // the wrong length, an example that matches no row the caller can see,
  // source_version newer than the table); PermissionDenied from Governed
  // (before any search when it concerns a joined table); NotFound for an
  // unknown index or table; FailedPrecondition from Governed (e.g. a filter
  // the index cannot enforce).
  Result<SimilarCasesAnswer> Run(const access::Caller& caller, const SimilarCasesRequest& request);

 private:
  access::Governed& governed_;
  IndexManager& indexes_;
};

}  // namespace vesta::service
