#include "ingest/maf.h"

#include <unordered_map>
#include <unordered_set>

#include "ingest/delimited.h"
#include "ingest/internal/cells.h"
#include "ingest/internal/file_io.h"

namespace vesta::ingest {
namespace {

using internal::CellError;
using internal::NaSet;
using internal::TrimSpaces;

constexpr size_t kMaxRawRecordBytes = 4096;

// Input columns the core output columns come from (-1: absent).
struct CoreColumns {
  int hugo = -1, chrom = -1, start = -1, end = -1, vclass = -1, vtype = -1, ref = -1, alt = -1, barcode = -1;
  int hgvsc = -1, hgvsp = -1, t_ref = -1, t_alt = -1, impact = -1;
};

// The names and types of the core output columns, in order.
const std::vector<Column>& CoreSchema() {
  static const std::vector<Column> kColumns = {
      {"mutation_id", DataType::String(), false, ""},
      {"patient_id", DataType::String(), true, ""},
      {"sample_barcode", DataType::String(), true, ""},
      {"hugo_symbol", DataType::String(), true, ""},
      {"chromosome", DataType::String(), true, ""},
      {"start_position", DataType::Bigint(), true, ""},
      {"end_position", DataType::Bigint(), true, ""},
      {"variant_classification", DataType::String(), true, ""},
      {"variant_type", DataType::String(), true, ""},
      {"reference_allele", DataType::String(), true, ""},
      {"tumor_seq_allele2", DataType::String(), true, ""},
      {"hgvsc", DataType::String(), true, ""},
      {"hgvsp_short", DataType::String(), true, ""},
      {"t_ref_count", DataType::Bigint(), true, ""},
      {"t_alt_count", DataType::Bigint(), true, ""},
      {"vaf", DataType::Double(), true, ""},
      {"impact", DataType::String(), true, ""},
  };
  return kColumns;
}

// A problem in one record: the message and what to put in Rejected.
struct RowError {
  std::string message;
  std::string column;
  std::string value;
};

}  // namespace

const std::vector<std::string>& MafRequiredColumns() {
  static const std::vector<std::string> kRequired = {
      "Hugo_Symbol",         "Chromosome",       "Start_Position",    "End_Position",        "Variant_Classification",
      "Variant_Type",        "Reference_Allele", "Tumor_Seq_Allele2", "Tumor_Sample_Barcode"};
  return kRequired;
}

Result<TypedTable> ReadMaf(const std::string& path, const MafOptions& options) {
  DelimitedOptions d;
  d.delimiter = '\t';
  d.quote = '\0';
  d.skip_comment_lines = true;
  d.mode = ErrorMode::kQuarantine;  // field-count problems are ordered with the others below
  d.source_name = options.source_name;
  VESTA_ASSIGN_OR_RETURN(RawTable raw, ReadDelimitedRaw(path, d));
  const std::string& src = raw.source();
  const std::vector<std::string>& header = raw.header();

  auto find = [&](std::string_view name) -> int {
    for (size_t i = 0; i < header.size(); ++i) {
      if (EqualsIgnoreCase(header[i], name)) return static_cast<int>(i);
    }
    return -1;
  };
  std::string missing;
  for (const std::string& name : MafRequiredColumns()) {
    if (find(name) < 0) missing += (missing.empty() ? "" : ", ") + name;
  }
  if (!missing.empty()) return Status::InvalidArgument(src + ": missing required MAF column(s): " + missing);

  CoreColumns c;
  c.hugo = find("Hugo_Symbol");
  c.chrom = find("Chromosome");
  c.start = find("Start_Position");
  c.end = find("End_Position");
  c.vclass = find("Variant_Classification");
  c.vtype = find("Variant_Type");
  c.ref = find("Reference_Allele");
  c.alt = find("Tumor_Seq_Allele2");
  c.barcode = find("Tumor_Sample_Barcode");
  c.hgvsc = find("HGVSc");
  c.hgvsp = find("HGVSp_Short");
  if (c.hgvsp < 0) c.hgvsp = find("Protein_Change");
  c.t_ref = find("t_ref_count");
  c.t_alt = find("t_alt_count");
  c.impact = find("IMPACT");
  std::vector<bool> consumed(header.size(), false);
  for (int i : {c.hugo, c.chrom, c.start, c.end, c.vclass, c.vtype, c.ref, c.alt, c.barcode, c.hgvsc, c.hgvsp, c.t_ref,
                c.t_alt, c.impact}) {
    if (i >= 0) consumed[static_cast<size_t>(i)] = true;
  }

  // Schema: the core columns, then the others (sanitised snake_case, inferred types).
  TypedTable t;
  t.source = src;
  t.schema.columns = CoreSchema();
  t.schema.primary_key = "mutation_id";
  auto source_name = [&](int i) { return i >= 0 ? header[static_cast<size_t>(i)] : std::string(); };
  t.source_columns = {"",
                      source_name(c.barcode),
                      source_name(c.barcode),
                      source_name(c.hugo),
                      source_name(c.chrom),
                      source_name(c.start),
                      source_name(c.end),
                      source_name(c.vclass),
                      source_name(c.vtype),
                      source_name(c.ref),
                      source_name(c.alt),
                      source_name(c.hgvsc),
                      source_name(c.hgvsp),
                      source_name(c.t_ref),
                      source_name(c.t_alt),
                      "",
                      source_name(c.impact)};
  std::vector<int> extras;
  if (options.keep_other_columns) {
    std::vector<std::string> names;
    for (const Column& col : t.schema.columns) names.push_back(col.name);
    for (size_t i = 0; i < header.size(); ++i) {
      if (consumed[i]) continue;
      extras.push_back(static_cast<int>(i));
      names.push_back(SanitizeIdentifier(header[i], static_cast<int>(i) + 1, /*lower_case=*/true));
    }
    MakeNamesUnique(&names);  // core names come first and keep theirs
    for (size_t k = 0; k < extras.size(); ++k) {
      size_t i = static_cast<size_t>(extras[k]);
      t.schema.columns.push_back(
          Column{names[CoreSchema().size() + k], InferColumnType(raw, i, DefaultNaTokens()), true, ""});
      t.source_columns.push_back(header[i]);
    }
  }

  NaSet na(DefaultNaTokens());
  const std::vector<Rejected>& raw_rejected = raw.rejected();
  size_t next_raw_reject = 0;
  std::unordered_map<std::string, std::vector<size_t>> kept_by_base_id;  // base id -> kept records
  std::unordered_set<std::string> all_ids;
  t.rows.reserve(raw.num_records());
  t.source_lines.reserve(raw.num_records());

  for (size_t r = 0; r < raw.num_records(); ++r) {
    const int64_t line = raw.line(r);
    while (next_raw_reject < raw_rejected.size() && raw_rejected[next_raw_reject].line < line) {
      if (options.mode == ErrorMode::kStrict) return Status::InvalidArgument(raw_rejected[next_raw_reject].reason);
      t.rejected.push_back(raw_rejected[next_raw_reject++]);
    }
    RowError err;
    auto fail = [&](int col, std::string message) {
      err.column = header[static_cast<size_t>(col)];
      err.value = std::string(raw.cell(r, static_cast<size_t>(col)));
      err.message = CellError(src, line, err.column, message);
    };
    // Converts column `col` (absent: NULL) to `type`; on failure records the error.
    auto get = [&](int col, const DataType& type) -> Value {
      if (col < 0 || !err.message.empty()) return Value::Null();
      Result<Value> v = internal::ConvertCell(raw.cell(r, static_cast<size_t>(col)), type, na);
      if (!v.ok()) {
        fail(col, v.status().message());
        return Value::Null();
      }
      return std::move(v).value();
    };
    auto require = [&](int col, const Value& v) {
      if (err.message.empty() && v.is_null()) fail(col, "missing value");
    };
    auto count = [&](int col) -> Value {
      Value v = get(col, DataType::Bigint());
      if (err.message.empty() && v.is_int() && v.as_int() < 0) {
        fail(col, "expected a non-negative count, got '" + std::string(raw.cell(r, static_cast<size_t>(col))) + "'");
      }
      return v;
    };

    Value barcode = get(c.barcode, DataType::String());
    require(c.barcode, barcode);
    Value chrom = get(c.chrom, DataType::String());
    require(c.chrom, chrom);
    Value start = get(c.start, DataType::Bigint());
    require(c.start, start);
    Value end = get(c.end, DataType::Bigint());
    Value hugo = get(c.hugo, DataType::String());
    Value vclass = get(c.vclass, DataType::String());
    Value vtype = get(c.vtype, DataType::String());
    Value ref = get(c.ref, DataType::String());
    Value alt = get(c.alt, DataType::String());
    Value hgvsc = get(c.hgvsc, DataType::String());
    Value hgvsp = get(c.hgvsp, DataType::String());
    Value t_ref = count(c.t_ref);
    Value t_alt = count(c.t_alt);
    Value impact = get(c.impact, DataType::String());
    Row row;
    row.reserve(t.schema.columns.size());
    if (err.message.empty()) {
      row.resize(CoreSchema().size());
      for (size_t k = 0; k < extras.size() && err.message.empty(); ++k) {
        row.push_back(get(extras[k], t.schema.columns[CoreSchema().size() + k].type));
      }
    }
    if (!err.message.empty()) {
      if (options.mode == ErrorMode::kStrict) return Status::InvalidArgument(err.message);
      Rejected rej;
      rej.source = src;
      rej.line = line;
      rej.column = std::move(err.column);
      rej.value = std::move(err.value);
      rej.reason = std::move(err.message);
      rej.raw_record = internal::Abbreviate(raw.raw_record(r), kMaxRawRecordBytes);
      t.rejected.push_back(std::move(rej));
      continue;
    }

    // mutation_id, with the duplicate rules of maf.h.
    const std::string& bc = barcode.as_string();
    std::string id;
    id.reserve(bc.size() + 40);
    id.append(bc).append(":").append(chrom.as_string()).append(":").append(std::to_string(start.as_int()));
    id.append(":").append(ref.is_null() ? "" : ref.as_string()).append(">");
    id.append(alt.is_null() ? "" : alt.as_string());
    std::vector<size_t>& same = kept_by_base_id[id];
    bool exact_duplicate = false;
    for (size_t k : same) {
      if (raw.raw_record(k) == raw.raw_record(r)) {
        exact_duplicate = true;
        break;
      }
    }
    if (exact_duplicate) {
      ++t.stats.duplicates_dropped;
      continue;
    }
    std::string final_id = id;
    if (!same.empty() || all_ids.count(final_id)) {
      for (size_t k = same.size() + 1;; ++k) {
        final_id = id + "#" + std::to_string(k);
        if (!all_ids.count(final_id)) break;
      }
      ++t.stats.keys_disambiguated;
    }
    same.push_back(r);
    all_ids.insert(final_id);

    Value vaf = Value::Null();
    if (t_ref.is_int() && t_alt.is_int() && t_ref.as_int() + t_alt.as_int() > 0) {
      vaf = Value::Real(static_cast<double>(t_alt.as_int()) / static_cast<double>(t_ref.as_int() + t_alt.as_int()));
    }
    Value patient = Value::Null();
    if (bc.size() >= 12 && bc.compare(0, 5, "TCGA-") == 0) patient = Value::Str(bc.substr(0, 12));

    row[0] = Value::Str(std::move(final_id));
    row[1] = std::move(patient);
    row[2] = std::move(barcode);
    row[3] = std::move(hugo);
    row[4] = std::move(chrom);
    row[5] = std::move(start);
    row[6] = std::move(end);
    row[7] = std::move(vclass);
    row[8] = std::move(vtype);
    row[9] = std::move(ref);
    row[10] = std::move(alt);
    row[11] = std::move(hgvsc);
    row[12] = std::move(hgvsp);
    row[13] = std::move(t_ref);
    row[14] = std::move(t_alt);
    row[15] = std::move(vaf);
    row[16] = std::move(impact);
    t.rows.push_back(std::move(row));
    t.source_lines.push_back(line);
  }
  while (next_raw_reject < raw_rejected.size()) {
    if (options.mode == ErrorMode::kStrict) return Status::InvalidArgument(raw_rejected[next_raw_reject].reason);
    t.rejected.push_back(raw_rejected[next_raw_reject++]);
  }
  t.stats.records_read = raw.records_read();
  t.stats.rows_rejected = static_cast<int64_t>(t.rejected.size());
  return t;
}

}  // namespace vesta::ingest
