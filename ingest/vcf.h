// VCF / BCF (plain, gzip or bgzip) through htslib, as one row per
// (variant, sample). See ingest/README.md, "VCF row model".
//
// Columns: variant_key STRING NOT NULL primary key
//          ("chrom:pos:ref:alt1,alt2:sample"; sites-only files omit
//          ":sample"; a key seen before gets "#2", "#3", ... in file order),
//          chrom STRING, pos BIGINT (1-based), id STRING (NULL for "."),
//          ref STRING, alt STRING (comma-joined; NULL when there is no ALT),
//          qual DOUBLE (NULL if missing), filter STRING (semicolon-joined,
//          e.g. "PASS"; NULL for "."), sample_id STRING, genotype STRING
//          ("0/1", "1|1", "./.", "1" for haploid; NULL when the record has
//          no GT). source_lines hold the 1-based data record number (all
//          rows of one record share it).
//
// Thread-safety: thread-safe. The first call sets htslib's process-wide log
// level to "off" (its messages would go to stderr); errors come back as Status.
#pragma once

#include <string>

#include "common/status.h"
#include "ingest/typed_table.h"

namespace vesta::ingest {

struct VcfOptions {
  // Leave out rows whose genotype is homozygous reference (all alleles 0)
  // or a no-call (all alleles missing, or no GT). Sites-only files are not
  // affected.
  bool drop_hom_ref_and_no_call = false;
  // kQuarantine: a text VCF record that fails is listed in
  // TypedTable::rejected and reading continues at the next line. A BCF record
  // that fails always ends the read (the binary stream cannot resync).
  ErrorMode mode = ErrorMode::kStrict;
  std::string source_name;  // default: the file's base name
};

// Reads every record of a VCF/BCF file. Text records are checked before
// htslib parses them (htslib accepts some malformed fields silently): the
// column count (8 fixed + FORMAT + one per sample, or at least 8 for a
// sites-only file), CHROM non-empty, POS a positive integer, QUAL '.' or a
// number; then htslib's vcf_parse (bcf_read for BCF) must succeed and set no
// error flag other than "contig/tag not declared in the header".
// Errors (InvalidArgument unless noted; all name the file):
//   NotFound "x.vcf: cannot open: No such file or directory";
//   "x.vcf: not a VCF or BCF file (htslib detects: unknown text)";
//   "x.vcf: cannot parse the VCF header";
//   "x.vcf: record 2: POS 'abc' is not a positive integer";
//   "x.vcf: record 4: expected 10 tab-separated columns (8 fixed, FORMAT, 1 sample), got 4";
//   "x.vcf: record 3: htslib could not parse the record: 20\t300\t...";
//   "x.vcf: record 9: read error (truncated or corrupt compressed data?)".
Result<TypedTable> ReadVcf(const std::string& path, const VcfOptions& options = {});

}  // namespace vesta::ingest
