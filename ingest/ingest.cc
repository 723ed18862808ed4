#include "ingest/ingest.h"

#include <algorithm>
#include <filesystem>

#include "ingest/vecs.h"

namespace vesta::ingest {

using governance::CommitInfo;
using governance::Store;
using governance::TableInfo;
using governance::TableName;

namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Schema QuarantineSchema() {
  Schema s;
  s.columns = {{"quarantine_id", DataType::String(), false, "<source>:<line>"},
               {"target_table", DataType::String(), true, "the table the record was meant for"},
               {"source", DataType::String(), true, "input file"},
               {"line", DataType::Bigint(), true, "1-based line (text) or record number (binary)"},
               {"column_name", DataType::String(), true, "offending column, empty for record-level problems"},
               {"value", DataType::String(), true, "offending cell text"},
               {"reason", DataType::String(), true, "why the record was rejected"},
               {"raw_record", DataType::String(), true, "the record's text (at most 4 KiB)"}};
  s.primary_key = "quarantine_id";
  return s;
}

std::string ColumnList(const Schema& s) {
  std::string out;
  for (size_t i = 0; i < s.columns.size() && i < 20; ++i) out += (i ? ", " : "") + s.columns[i].name;
  if (s.columns.size() > 20) out += ", ...";
  return out;
}

// Reorders and widens `table`'s rows into `target`'s column order.
Status ConformToTable(TypedTable& table, const Schema& target, const std::string& table_name) {
  const Schema& file = table.schema;
  std::vector<int> from(target.columns.size(), -1);  // target column -> file column
  for (size_t i = 0; i < file.columns.size(); ++i) {
    int j = target.FindColumn(file.columns[i].name);
    if (j < 0) {
      return Status::InvalidArgument("column '" + file.columns[i].name + "' of " + table.source + " is not in " +
                                     table_name + " (columns: " + ColumnList(target) + ")");
    }
    const DataType& ft = file.columns[i].type;
    const DataType& tt = target.columns[static_cast<size_t>(j)].type;
    if (!(ft == tt) && !(ft.id == TypeId::kBigint && tt.id == TypeId::kDouble)) {
      return Status::InvalidArgument("column '" + file.columns[i].name + "' of " + table.source + " is " +
                                     ft.ToString() + " but " + table_name + " has it as " + tt.ToString());
    }
    from[static_cast<size_t>(j)] = static_cast<int>(i);
  }
  for (size_t j = 0; j < target.columns.size(); ++j) {
    if (from[j] < 0 && !target.columns[j].nullable) {
      return Status::InvalidArgument("column '" + target.columns[j].name + "' of " + table_name +
                                     " is NOT NULL but " + table.source + " has no such column");
    }
  }
  for (size_t r = 0; r < table.rows.size(); ++r) {
    Row out(target.columns.size());
    for (size_t j = 0; j < target.columns.size(); ++j) {
      if (from[j] < 0) continue;
      Value& v = table.rows[r][static_cast<size_t>(from[j])];
      if (v.is_int() && target.columns[j].type.id == TypeId::kDouble) v = Value::Real(static_cast<double>(v.as_int()));
      out[j] = std::move(v);
    }
    Status st = target.ValidateRow(out);
    if (!st.ok()) {
      return st.WithContext(table.source + ":" + std::to_string(table.source_lines[r]));
    }
    table.rows[r] = std::move(out);
  }
  table.schema = target;
  return Status::OK();
}

}  // namespace

Result<FileFormat> ParseFileFormat(std::string_view name) {
  std::string n = AsciiLower(std::string(name));
  if (n == "auto") return FileFormat::kAuto;
  if (n == "csv") return FileFormat::kCsv;
  if (n == "tsv") return FileFormat::kTsv;
  if (n == "maf") return FileFormat::kMaf;
  if (n == "vcf" || n == "bcf") return FileFormat::kVcf;
  if (n == "fvecs") return FileFormat::kFvecs;
  if (n == "npz") return FileFormat::kNpz;
  return Status::InvalidArgument("unknown format '" + std::string(name) +
                                 "': expected auto, csv, tsv, maf, vcf, fvecs or npz");
}

Result<FileFormat> FormatForPath(const std::string& path) {
  std::string p = AsciiLower(std::filesystem::path(path).filename().string());
  if (EndsWith(p, ".vcf.gz") || EndsWith(p, ".vcf.bgz") || EndsWith(p, ".vcf") || EndsWith(p, ".bcf")) {
    return FileFormat::kVcf;
  }
  if (EndsWith(p, ".gz")) p.resize(p.size() - 3);
  if (EndsWith(p, ".csv")) return FileFormat::kCsv;
  if (EndsWith(p, ".tsv") || EndsWith(p, ".txt") || EndsWith(p, ".tab")) return FileFormat::kTsv;
  if (EndsWith(p, ".maf")) return FileFormat::kMaf;
  if (EndsWith(p, ".fvecs")) return FileFormat::kFvecs;
  if (EndsWith(p, ".npz")) return FileFormat::kNpz;
  return Status::InvalidArgument("cannot tell the format of '" + path +
                                 "' from its name: give one of csv, tsv, maf, vcf, fvecs, npz");
}

TableName QuarantineTableName(const TableName& name) {
  return TableName{name.catalog, name.schema, name.table + "_quarantine"};
}

Result<TypedTable> ReadFile(const std::string& path, const IngestOptions& options) {
  FileFormat format = options.format;
  if (format == FileFormat::kAuto) {
    VESTA_ASSIGN_OR_RETURN(format, FormatForPath(path));
  }
  const ErrorMode mode = options.quarantine ? ErrorMode::kQuarantine : ErrorMode::kStrict;
  Result<TypedTable> table = Status::Internal("unreachable");
  switch (format) {
    case FileFormat::kCsv:
    case FileFormat::kTsv: {
      DelimitedOptions d = options.delimited;
      if (d.delimiter == '\0' && options.format != FileFormat::kAuto) d.delimiter = format == FileFormat::kCsv ? ',' : '\t';
      d.mode = mode;
      table = ReadDelimited(path, d);
      break;
    }
    case FileFormat::kMaf: {
      MafOptions m = options.maf;
      m.mode = mode;
      table = ReadMaf(path, m);
      break;
    }
    case FileFormat::kVcf: {
      VcfOptions v = options.vcf;
      v.mode = mode;
      table = ReadVcf(path, v);
      break;
    }
    case FileFormat::kFvecs: {
      VESTA_ASSIGN_OR_RETURN(FloatVectors vecs, ReadFvecs(path));
      table = VectorsToTable(vecs, {.source = std::filesystem::path(path).filename().string()});
      break;
    }
    case FileFormat::kNpz: table = ReadNpzImageTable(path, options.npz); break;
    case FileFormat::kAuto: break;
  }
  if (table.ok() && options.progress) {
    options.progress("read", static_cast<int64_t>(table->rows.size()), static_cast<int64_t>(table->rows.size()));
  }
  return table;
}

Result<IngestReport> CommitTable(Store& store, const TableName& name, TypedTable table, const IngestOptions& options) {
  IngestReport report;
  report.table = name;
  report.source = table.source;
  report.rows_read = static_cast<int64_t>(table.rows.size());
  report.rows_rejected = static_cast<int64_t>(table.rejected.size());

  auto existing = store.DescribeTable(name);
  if (existing.ok()) {
    VESTA_RETURN_IF_ERROR(ConformToTable(table, existing->schema, name.ToString()));
  } else if (existing.status().IsNotFound() && existing.status().message().find("table ") == 0) {
    if (!options.create_table) {
      return Status::NotFound("table " + name.ToString() + " does not exist (create it first, or allow the ingest " +
                              "to create it)");
    }
    if (table.schema.primary_key.empty()) {
      return Status::InvalidArgument(table.source + " has no primary key: name the column that identifies a row " +
                                     "(e.g. --primary-key patient_id)");
    }
    VESTA_RETURN_IF_ERROR(
        store.CreateTable(name, table.schema, {.comment = "ingested from " + table.source}, options.principal)
            .status());
    report.created_table = true;
  } else {
    return existing.status();
  }

  // From here on, a failure drops what this call created.
  TableName qname = QuarantineTableName(name);
  bool created_quarantine = false;
  auto undo = [&](Status st) -> Status {
    if (report.created_table) (void)store.DropTable(name);
    if (created_quarantine) (void)store.DropTable(qname);
    return st;
  };
  std::vector<Row> qrows;
  for (const Rejected& r : table.rejected) {
    qrows.push_back({Value::Str(r.source + ":" + std::to_string(r.line)), Value::Str(name.ToString()),
                     Value::Str(r.source), Value::Int(r.line), Value::Str(r.column), Value::Str(r.value),
                     Value::Str(r.reason), Value::Str(r.raw_record)});
  }
  if (!qrows.empty()) {
    auto q = store.DescribeTable(qname);
    if (!q.ok()) {
      auto created = store.CreateTable(qname, QuarantineSchema(),
                                       {.comment = "records rejected while ingesting into " + name.ToString()},
                                       options.principal);
      if (!created.ok()) return undo(created.status());
      created_quarantine = true;
    }
    report.quarantine_table = qname.ToString();
  }
  auto txn = store.Begin(options.principal);
  if (options.progress) {
    const ProgressFn& p = options.progress;
    txn->SetProgress([&p](int64_t done, int64_t total) { p("commit", done, total); });
  }
  Status st = options.mode == WriteMode::kAppend ? txn->Append(name, std::move(table.rows), table.source)
                                                 : txn->Upsert(name, std::move(table.rows), table.source);
  if (st.ok() && !qrows.empty()) st = txn->Upsert(qname, std::move(qrows), table.source);
  if (!st.ok()) return undo(st);
  auto commits = txn->Commit();
  if (!commits.ok()) return undo(commits.status());
  report.commits = std::move(commits).value();
  return report;
}

Result<IngestReport> IngestFile(Store& store, const TableName& name, const std::string& path,
                                const IngestOptions& options) {
  IngestOptions opts = options;
  // Reading into an existing table: its column types win over inference, so
  // that e.g. site codes "02" stay strings.
  auto existing = store.DescribeTable(name);
  if (existing.ok()) {
    for (const Column& c : existing->schema.columns) {
      if (c.type.id == TypeId::kVector) continue;  // assembled or typed by the reader
      bool user_set = false;
      for (const auto& [k, v] : opts.delimited.type_overrides) user_set |= EqualsIgnoreCase(k, c.name);
      if (!user_set) opts.delimited.type_overrides[c.name] = c.type;
    }
    if (opts.delimited.primary_key.empty()) opts.delimited.primary_key = existing->schema.primary_key;
  } else if (!existing.status().IsNotFound()) {
    return existing.status();
  }
  VESTA_ASSIGN_OR_RETURN(TypedTable table, ReadFile(path, opts));
  return CommitTable(store, name, std::move(table), opts);
}

}  // namespace vesta::ingest
