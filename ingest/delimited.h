// Delimited text (CSV, TSV, cBioPortal clinical files) to typed rows.
//
// Two stages, both public:
//   1. ReadDelimitedRaw / ParseDelimitedRaw: an RFC 4180 state machine turns
//      the bytes into a RawTable of text cells (header, records, 1-based line
//      numbers). Quoted fields may hold delimiters, doubled quotes and
//      newlines; records end in LF or CRLF, the last one may lack it; a
//      UTF-8 BOM at the start is skipped; blank lines are skipped; ".gz"
//      input (detected from the gzip magic, whatever the name) is inflated
//      with zlib. The whole file is held in memory (about the file size plus
//      16 bytes per cell).
//   2. ConvertRawTable: schema inference (or overrides), column-name
//      sanitisation, NA tokens, primary-key checks and vector assembly, then
//      typed rows. ReadDelimited / ParseDelimited do both.
//
// Thread-safety: all functions are thread-safe; RawTable is immutable after
// construction and may be read from several threads.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "ingest/typed_table.h"

namespace vesta::ingest {

// What to do with a missing (NA) cell in a column assembled into a vector.
enum class MissingCellPolicy {
  kError,       // the row is bad: strict mode fails, quarantine rejects it
  kImputeMean,  // use the column's mean over every record of the file where the
                // cell is a number (rows later rejected for other reasons
                // included); a column with no number at all has no mean and is
                // filled with 0, listed in VectorAssemblyReport::empty_components
  kZero,        // use 0
};

// Assembles many numeric columns into one VECTOR(d) column, e.g. 724
// radiomic features per MRI study. Exactly one of `columns`, `prefixes` and
// `after_column` selects the components:
//   columns:      an explicit list, in component order;
//   prefixes:     every column whose input name starts with one of these
//                 (case-sensitive), in file order;
//   after_column: every column after this one, in file order.
// Column references use the input header name or the final (sanitised or
// renamed) name. Every component cell must be NA or a finite number that fits
// a float32 (else the row is bad: "expected DOUBLE (component 3 of
// VECTOR(724) column 'features'), got 'abc'"). The vector column takes the
// place of its first component in file order; the components are dropped
// unless `keep_source_columns`.
struct VectorAssembly {
  std::string column;                 // output column name (an identifier)
  std::vector<std::string> columns;   // explicit component list
  std::vector<std::string> prefixes;  // or: components by name prefix
  std::string after_column;           // or: components after this column
  MissingCellPolicy missing = MissingCellPolicy::kError;
  bool keep_source_columns = false;
};

struct DelimitedOptions {
  // Field separator. '\0': from the file name (".csv" -> ',', ".tsv", ".txt",
  // ".tab", ".maf" -> tab; a trailing ".gz" is ignored); for other names,
  // tab if the first line has a tab, else ','.
  char delimiter = '\0';
  // Quote character; '\0' disables quoting (every character is literal).
  char quote = '"';
  // False: there is no header row; columns are named by `column_names`
  // (which must match the field count) or "column_1", "column_2", ...
  bool has_header = true;
  std::vector<std::string> column_names;
  // Skip the lines starting with '#' before the header (cBioPortal's four
  // header lines, MAF's "#version 2.4"). They are kept in
  // RawTable::comment_lines().
  bool skip_comment_lines = false;
  // With skip_comment_lines: if the third '#' line is a cBioPortal datatype
  // line (STRING / NUMBER / BOOLEAN per column), use it as type hints:
  // STRING -> STRING, NUMBER -> BIGINT if every cell is an integer else
  // DOUBLE, BOOLEAN -> BOOLEAN. Overrides still win.
  bool use_cbioportal_types = false;
  // Cells equal to one of these after trimming spaces/tabs are NULL in every
  // column (STRING included). See DefaultNaTokens().
  std::vector<std::string> na_tokens = DefaultNaTokens();
  // Column type overrides, by input or final name; win over inference and
  // hints. VECTOR(d) columns take "[a, b, ...]" (or "a,b,...") cells.
  std::map<std::string, DataType> type_overrides;
  // Input header name -> column name (must be an identifier); other names
  // are sanitised (SanitizeIdentifier), then made unique (MakeNamesUnique).
  std::map<std::string, std::string> renames;
  // Optional primary key (input or final name). It must exist; it becomes
  // NOT NULL; a NULL or repeated key makes the row bad. An inferred type other
  // than BIGINT/STRING becomes STRING; an override to another type is an error.
  std::string primary_key;
  std::vector<VectorAssembly> vectors;
  ErrorMode mode = ErrorMode::kStrict;
  // Name used in messages and TypedTable::source; default: the file's base name.
  std::string source_name;

  // Options for cBioPortal data_clinical_*.txt files: tab, skip '#' lines,
  // datatype hints.
  static DelimitedOptions CbioportalClinical();

  // Errors: InvalidArgument for a newline or the quote as delimiter, an
  // assembly without exactly one selector or with a bad column name.
  Status Validate() const;
};

// The text cells of a delimited file. Every record has num_columns() cells
// (records with another field count are rejected while parsing).
// Thread-safety: immutable after construction; movable, not copyable (cells
// are views into its own buffer).
class RawTable {
 public:
  RawTable() = default;
  RawTable(RawTable&&) = default;
  RawTable& operator=(RawTable&&) = default;
  RawTable(const RawTable&) = delete;
  RawTable& operator=(const RawTable&) = delete;

  const std::string& source() const { return source_; }
  char delimiter() const { return delimiter_; }
  // Column names as written in the header (trimmed), or the names given / generated.
  const std::vector<std::string>& header() const { return header_; }
  // 1-based line of the header row (0 without a header).
  int64_t header_line() const { return header_line_; }
  size_t num_columns() const { return header_.size(); }
  size_t num_records() const { return lines_.size(); }
  // The cell text, unquoted and unescaped. REQUIRES: record < num_records(), column < num_columns().
  std::string_view cell(size_t record, size_t column) const { return cells_[record * header_.size() + column]; }
  // 1-based line on which the record starts.
  int64_t line(size_t record) const { return lines_[record]; }
  // The record as written, without its line terminator.
  std::string_view raw_record(size_t record) const { return records_[record]; }
  // The skipped leading '#' lines, '#' and line terminator removed.
  const std::vector<std::string>& comment_lines() const { return comment_lines_; }
  // cBioPortal datatypes (STRING/NUMBER/BOOLEAN) per column, or empty if
  // the comment lines do not carry them.
  const std::vector<std::string>& cbioportal_types() const { return cbioportal_types_; }
  // Records rejected while parsing (quarantine mode): wrong field count,
  // text after a closing quote.
  const std::vector<Rejected>& rejected() const { return rejected_; }
  // Data records seen, rejected ones included.
  int64_t records_read() const { return records_read_; }

 private:
  friend class RawTableBuilder;
  std::string source_;
  char delimiter_ = ',';
  std::vector<char> text_;          // the decompressed input; cells view into it
  std::deque<std::string> arena_;  // unescaped cells (those with doubled quotes)
  std::vector<std::string> header_;
  int64_t header_line_ = 0;
  std::vector<std::string_view> cells_;  // num_records * num_columns, row-major
  std::vector<int64_t> lines_;
  std::vector<std::string_view> records_;
  std::vector<std::string> comment_lines_;
  std::vector<std::string> cbioportal_types_;
  std::vector<Rejected> rejected_;
  int64_t records_read_ = 0;
};

// The delimiter for a file name per DelimitedOptions::delimiter, or '\0'
// when the name does not decide it.
char DelimiterForPath(std::string_view path);

// Reads and tokenises `path` (uses options.delimiter, quote, has_header,
// column_names, skip_comment_lines, mode, source_name).
// Errors (InvalidArgument unless noted; all name the file, most the line):
//   NotFound "x.csv: cannot open: No such file or directory";
//   "x.csv: empty input: no header line";
//   "x.csv:1: duplicate column name 'AGE' (columns 3 and 7)";
//   "x.csv:7: expected 5 fields, got 4" (strict; quarantine rejects the record);
//   "x.csv:3: field 2: unexpected character 'x' after closing quote" (idem);
//   "x.csv:7: field 3: unterminated quote at end of file" (always fatal);
//   corrupt gzip data.
Result<RawTable> ReadDelimitedRaw(const std::string& path, const DelimitedOptions& options);

// As ReadDelimitedRaw over bytes already in memory; `source_name` is used in
// messages and to choose the delimiter when options.delimiter is '\0'.
Result<RawTable> ParseDelimitedRaw(std::vector<char> text, std::string source_name, const DelimitedOptions& options);

// The inferred type of a column: BIGINT if every non-NA cell is an integer
// (no leading zeros: "007" keeps the column STRING), else DOUBLE if every one
// is a finite number, else BOOLEAN (true/false, any case), else DATE
// (YYYY-MM-DD, also YYYY.MM.DD and YYYY/MM/DD), else TIMESTAMP
// ("YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z]"), else STRING. A column with no
// non-NA cell is STRING. REQUIRES: column < raw.num_columns().
DataType InferColumnType(const RawTable& raw, size_t column, const std::vector<std::string>& na_tokens);

// Types the cells of `raw` (uses every option but the tokenising ones).
// Returns the table; in quarantine mode, raw.rejected() and the rows turned
// away here are merged into TypedTable::rejected in line order. In strict
// mode the first bad record (by line) fails the read: "data.csv:12: column
// 'AGE': expected BIGINT, got 'abc'", "data.csv:4: column 'ID': NULL primary
// key", "data.csv:9: column 'ID': duplicate primary key 'P1' (first at line
// 4)", "data.csv:5: column 'F2': missing value for VECTOR(3) column
// 'features' (missing-cell policy kError)". Option errors (unknown column in
// an override, rename, primary key or assembly; an invalid rename) are
// InvalidArgument naming the column.
Result<TypedTable> ConvertRawTable(const RawTable& raw, const DelimitedOptions& options);

// ReadDelimitedRaw (collecting field-count problems) + ConvertRawTable.
// Strict mode reports the earliest problem of either stage.
Result<TypedTable> ReadDelimited(const std::string& path, const DelimitedOptions& options);

// As ReadDelimited over text in memory.
Result<TypedTable> ParseDelimited(std::string_view text, std::string source_name, const DelimitedOptions& options);

}  // namespace vesta::ingest
