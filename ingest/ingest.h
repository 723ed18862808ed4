// Ingest: read a file with one of the readers and commit its rows to a
// versioned table, all or nothing.
//
//   IngestOptions opts;
//   opts.format = FileFormat::kAuto;   // from the extension
//   opts.delimited.primary_key = "patient_id";
//   auto report = IngestFile(store, TableName::Parse("main.clinical.patients").value(), "patients.tsv", opts);
//
// Guarantees: a failed ingest commits nothing (not even the table it would
// have created); in quarantine mode the good rows and the rejected records
// (in <table>_quarantine, same schema) commit in one transaction; upserting
// the same file twice makes no second commit.
//
// Thread-safety: functions are thread-safe (the Store is).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "governance/store.h"
#include "ingest/delimited.h"
#include "ingest/maf.h"
#include "ingest/npy.h"
#include "ingest/typed_table.h"
#include "ingest/vcf.h"

namespace vesta::ingest {

enum class FileFormat { kAuto, kCsv, kTsv, kMaf, kVcf, kFvecs, kNpz };

// Parses "auto", "csv", "tsv", "maf", "vcf", "fvecs", "npz" (any case).
// Errors: InvalidArgument listing the accepted names.
Result<FileFormat> ParseFileFormat(std::string_view name);
// The format for a path by extension (.csv[.gz], .tsv/.txt[.gz], .maf[.gz],
// .vcf[.gz]/.bcf, .fvecs, .npz). Errors: InvalidArgument for others.
Result<FileFormat> FormatForPath(const std::string& path);

enum class WriteMode {
  kAppend,  // every primary key must be new
  kUpsert,  // insert new keys, replace changed rows, leave identical rows
};

// Progress of a long ingest: a phase name ("read", "commit") and counts.
using ProgressFn = std::function<void(std::string_view phase, int64_t done, int64_t total)>;

struct IngestOptions {
  FileFormat format = FileFormat::kAuto;
  WriteMode mode = WriteMode::kUpsert;
  // Create the table from the file's schema if it does not exist (needs a
  // primary key: from the reader or delimited.primary_key).
  bool create_table = true;
  // Quarantine: commit the good rows and record each rejected record, with
  // its reason, in the side table <table>_quarantine. Default: strict (the
  // first bad record fails the ingest and nothing is committed).
  bool quarantine = false;
  std::string principal = "vesta";
  DelimitedOptions delimited;  // CSV/TSV
  MafOptions maf;
  VcfOptions vcf;
  NpzImageTableOptions npz;
  ProgressFn progress;  // optional
};

struct IngestReport {
  governance::TableName table;
  std::string source;
  bool created_table = false;
  int64_t rows_read = 0;       // rows the reader produced
  int64_t rows_rejected = 0;   // quarantine mode
  std::string quarantine_table;  // "" when nothing was rejected
  std::vector<governance::CommitInfo> commits;  // empty: nothing changed
};

// Reads `path` with the reader for `options.format` (ErrorMode from
// options.quarantine). Errors: as the reader's (file, line, column, value,
// expected type).
Result<TypedTable> ReadFile(const std::string& path, const IngestOptions& options);

// Commits `table` (a reader's output) to `name`. If the table exists, the
// file's columns are matched to the table's by name (case-insensitive):
// every file column must exist in the table with a compatible type (BIGINT
// values widen to DOUBLE); table columns missing from the file must be
// nullable and read NULL. Errors: NotFound (no table and !create_table),
// InvalidArgument (schema mismatch naming the column and both types; no
// primary key), AlreadyExists (append of an existing key), Aborted (a
// concurrent commit conflicted: retry).
Result<IngestReport> CommitTable(governance::Store& store, const governance::TableName& name, TypedTable table,
                                 const IngestOptions& options);

// ReadFile then CommitTable.
Result<IngestReport> IngestFile(governance::Store& store, const governance::TableName& name, const std::string& path,
                                const IngestOptions& options);

// The quarantine side table's name for `name`: <table>_quarantine.
governance::TableName QuarantineTableName(const governance::TableName& name);

}  // namespace vesta::ingest
