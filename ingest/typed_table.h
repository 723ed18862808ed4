// The common output of every ingest reader: a schema, typed rows, where each
// row came from, and (in quarantine mode) the records that were turned away.
//
// Readers live next to this header: delimited.h (CSV/TSV, cBioPortal),
// vecs.h (fvecs/ivecs/bvecs), npy.h (.npy/.npz), vcf.h (VCF/BCF through
// htslib), maf.h (mutation annotation format). None of them writes anywhere:
// storing a TypedTable is the job of the store-writing ingest code.
//
// Thread-safety: every type here is a plain value (thread-compatible). Every
// function is thread-safe (no shared mutable state).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace vesta::ingest {

// What a reader does with a record that does not convert.
enum class ErrorMode {
  // The first bad record fails the whole read; the Status names the file,
  // the line (or record number), the column, the value and the expected
  // type, e.g. "data.csv:12: column 'AGE': expected BIGINT, got 'abc'".
  // Nothing is returned.
  kStrict,
  // Good records become rows; each bad record is listed once in
  // TypedTable::rejected (with the first problem found in it) and skipped.
  // Problems that make the rest of the input unreadable (an unterminated
  // quote at end of file, a corrupt header, a missing required column)
  // still fail the read.
  kQuarantine,
};

// A record turned away in quarantine mode.
struct Rejected {
  std::string source;      // display name of the input, e.g. "data.csv"
  int64_t line = 0;        // 1-based line of the record's first line (text) or record number (binary)
  std::string column;      // column as named in the input ("" for record-level problems)
  std::string value;       // the offending cell text ("" for record-level problems)
  std::string reason;      // the full message, as strict mode would have returned it
  std::string raw_record;  // the record's text without its line terminator (at most 4 KiB)
};

// How many missing cells a vector assembly filled in (see delimited.h).
struct VectorAssemblyReport {
  std::string column;                   // the VECTOR(d) column
  std::vector<std::string> components;  // d source column names, in component order
  std::vector<double> fill_values;      // per component: the value used for a missing cell (mean or 0)
  std::vector<int64_t> imputed;         // per component: cells filled in, over the returned rows
  int64_t imputed_total = 0;            // sum of `imputed`
  // Components without a single number in the file (kImputeMean fills them
  // with 0, as there is no mean), by source column name.
  std::vector<std::string> empty_components;
};

// Counters a reader fills in; zero where they do not apply.
struct ReadStats {
  int64_t records_read = 0;        // data records seen (header and comment lines excluded)
  int64_t rows_rejected = 0;       // == rejected.size()
  int64_t duplicates_dropped = 0;  // records identical to an earlier one, dropped (MAF)
  int64_t keys_disambiguated = 0;  // primary keys given a "#n" suffix to stay unique (MAF, VCF)
};

// A reader's result.
// Invariants: rows.size() == source_lines.size(); every row has exactly
// schema.columns.size() values and passes schema.ValidateRow();
// source_columns.size() == schema.columns.size(). The schema has a primary
// key when the reader makes one (fvecs, npz, VCF, MAF) or the caller named
// one (delimited); otherwise schema.primary_key is empty and
// schema.Validate() reports that until the caller sets one.
struct TypedTable {
  std::string source;                       // display name of the input, as used in messages
  Schema schema;
  std::vector<std::string> source_columns;  // per schema column: the input's name for it ("" if synthesised)
  std::vector<Row> rows;
  std::vector<int64_t> source_lines;  // per row: 1-based line of its record (text) or record number (binary)
  std::vector<Rejected> rejected;     // quarantine mode only, in input order
  std::vector<VectorAssemblyReport> vectors;  // one per assembled vector column (delimited only)
  ReadStats stats;

  // Index of the column named `name` (case-insensitive) or -1; same as schema.FindColumn.
  int FindColumn(std::string_view name) const { return schema.FindColumn(name); }
};

// The default NA tokens: cells equal to one of these (after trimming spaces
// and tabs; case-sensitive) are NULL in every column type, STRING included:
//   "" (empty), "NA", "N/A", "NaN", "null", "[Not Available]",
//   "[Not Applicable]", "[Unknown]", "[Not Evaluated]", "[Discrepancy]", "."
// The bracketed forms are TCGA / cBioPortal missing-value markers; "." is
// VCF/MAF's.
const std::vector<std::string>& DefaultNaTokens();

// Turns an input column name into an identifier ([A-Za-z_][A-Za-z0-9_]*, at
// most 128 bytes, not starting with "__"): every run of other characters
// becomes one '_' ("CDR_OS.time" -> "CDR_OS_time", "Overall Survival
// (Months)" -> "Overall_Survival_Months"; such underscores at either end are
// dropped), a leading digit gets a '_' prefix ("2nd" -> "_2nd"), an empty
// result becomes "column_<position>" (1-based `position`). With
// `lower_case`, ASCII letters are lowered ("Hugo_Symbol" -> "hugo_symbol").
// Collisions are resolved by the caller (see UniqueNames).
std::string SanitizeIdentifier(std::string_view name, int position, bool lower_case = false);

// Makes `names` unique ignoring case (as Schema requires) by suffixing later
// duplicates with "_2", "_3", ... in order. The first occurrence keeps its name.
void MakeNamesUnique(std::vector<std::string>* names);

}  // namespace vesta::ingest
