// MAF (mutation annotation format): tab-separated, a header row of standard
// column names (matched ignoring case: LAML's "End_position" is
// End_Position), optional leading '#' lines ("#version 2.4"), optionally
// gzip-compressed. No quoting: every character of a field is literal.
// See ingest/README.md, "MAF mapping".
//
// Output columns, in this order (snake_case):
//   mutation_id STRING NOT NULL primary key
//       "<tumor_sample_barcode>:<chromosome>:<start_position>:<ref>><alt>",
//       e.g. "TCGA-02-0003-01A-01D-1490-08:10:123810032:C>T" (alt is
//       Tumor_Seq_Allele2);
//   patient_id STRING (first 12 characters of a TCGA barcode "TCGA-XX-XXXX...",
//       else NULL), sample_barcode STRING (Tumor_Sample_Barcode),
//   hugo_symbol, chromosome STRING, start_position, end_position BIGINT,
//   variant_classification, variant_type, reference_allele,
//   tumor_seq_allele2, hgvsc, hgvsp_short STRING (hgvsp_short falls back to
//       Protein_Change when HGVSp_Short is absent),
//   t_ref_count, t_alt_count BIGINT, vaf DOUBLE (t_alt / (t_ref + t_alt);
//       NULL when either count is NULL or the depth is 0), impact STRING,
//   then every other input column under its sanitised snake_case name with
//   an inferred type (as InferColumnType).
// Optional standard columns absent from the file are NULL columns. NA tokens
// (DefaultNaTokens) are NULL.
//
// Duplicates: a record identical to an earlier one in every field is dropped
// (stats.duplicates_dropped); a record whose mutation_id equals an earlier
// kept record's but differs in some field keeps its row with "#2", "#3", ...
// appended to its mutation_id in file order (stats.keys_disambiguated).
//
// Thread-safety: thread-safe.
#pragma once

#include <string>

#include "common/status.h"
#include "ingest/typed_table.h"

namespace vesta::ingest {

struct MafOptions {
  ErrorMode mode = ErrorMode::kStrict;
  // Keep the non-standard columns (sanitised snake_case names, inferred types).
  bool keep_other_columns = true;
  std::string source_name;  // default: the file's base name
};

// The columns ReadMaf requires (matched ignoring case).
const std::vector<std::string>& MafRequiredColumns();

// Reads a MAF file. Errors (InvalidArgument unless noted; all name the file):
//   NotFound "x.maf: cannot open: No such file or directory";
//   "x.maf: missing required MAF column(s): Variant_Type, Tumor_Sample_Barcode";
//   "x.maf:12: expected 22 fields, got 21";
//   "x.maf:40: column 'Start_Position': expected BIGINT, got '12x'";
//   "x.maf:41: column 'Tumor_Sample_Barcode': missing value" (also Chromosome, Start_Position);
//   "x.maf:42: column 't_alt_count': expected a non-negative count, got '-3'".
// In quarantine mode such records are listed in TypedTable::rejected.
Result<TypedTable> ReadMaf(const std::string& path, const MafOptions& options = {});

}  // namespace vesta::ingest
