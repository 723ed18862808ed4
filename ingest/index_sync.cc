// Delta Sync (ingest/index_sync.h): table reads and change feeds turned into
// VectorIndex builds and change sets, and the persisted-index life cycle.
#include "ingest/index_sync.h"

#include <algorithm>
#include <cstdio>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "index/attribute_store.h"

namespace vesta::ingest {

using governance::ChangeFeed;
using governance::ChangeRow;
using governance::ChangeType;
using governance::ReadOptions;
using governance::ReadResult;
using governance::Store;
using governance::TableInfo;
using index::IndexSpec;
using index::RowBatch;
using index::VectorIndex;

namespace {

std::string ColumnList(const std::vector<Column>& columns) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) out += ", ";
    out += columns[i].name + " " + columns[i].type.ToString();
  }
  return out;
}

TableIdentity IdentityOf(const TableInfo& info) {
  return {info.table_id, info.created_at};
}

std::string IdentityString(const TableIdentity& id) {
  return "table id " + std::to_string(id.table_id) + " created " + FormatTimestamp(id.created_at);
}

// Where the index's columns are in a row read from the table (a Read result
// or a change feed), checked against the spec.
struct ColumnPositions {
  size_t key = 0;
  size_t vector = 0;
  std::vector<size_t> attributes;  // one per spec.attributes column
};

// `where` names the table and version for messages.
Result<ColumnPositions> Locate(const std::vector<Column>& columns, const IndexSpec& spec,
                               const std::string& vector_column, const std::string& where) {
  auto find = [&](const std::string& name) -> int {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (EqualsIgnoreCase(columns[i].name, name)) return static_cast<int>(i);
    }
    return -1;
  };
  auto mismatch = [&](const std::string& what) {
    return Status::FailedPrecondition("the index no longer fits " + where + ": " + what +
                                      " (columns: " + ColumnList(columns) + "); create the index again");
  };
  ColumnPositions pos;
  const int key = find(spec.primary_key.name);
  if (key < 0) return mismatch("primary key column '" + spec.primary_key.name + "' is missing");
  if (columns[static_cast<size_t>(key)].type != spec.primary_key.type) {
    return mismatch("primary key column '" + spec.primary_key.name + "' is " +
                    columns[static_cast<size_t>(key)].type.ToString() + ", the index expects " +
                    spec.primary_key.type.ToString());
  }
  pos.key = static_cast<size_t>(key);
  const int vec = find(vector_column);
  if (vec < 0) return mismatch("vector column '" + vector_column + "' is missing");
  const DataType expected_vec = DataType::Vector(static_cast<int>(spec.dimension));
  if (columns[static_cast<size_t>(vec)].type != expected_vec) {
    return mismatch("vector column '" + vector_column + "' is " +
                    columns[static_cast<size_t>(vec)].type.ToString() + ", the index expects " +
                    expected_vec.ToString());
  }
  pos.vector = static_cast<size_t>(vec);
  for (const Column& a : spec.attributes.columns) {
    const int i = find(a.name);
    if (i < 0) return mismatch("attribute column '" + a.name + "' is missing");
    if (columns[static_cast<size_t>(i)].type != a.type) {
      return mismatch("attribute column '" + a.name + "' is " +
                      columns[static_cast<size_t>(i)].type.ToString() + ", the index expects " +
                      a.type.ToString());
    }
    pos.attributes.push_back(static_cast<size_t>(i));
  }
  return pos;
}

// Appends `row` to `batch` unless its vector is NULL (then returns false).
bool AddRow(RowBatch& batch, const Row& row, const ColumnPositions& pos, size_t d) {
  const Value& v = row[pos.vector];
  if (v.is_null()) return false;
  Row attrs;
  attrs.reserve(pos.attributes.size());
  for (size_t i : pos.attributes) attrs.push_back(row[i]);
  batch.Add(row[pos.key], v.as_vector().data(), d, std::move(attrs));
  return true;
}

// A hashable encoding of a BIGINT or STRING primary key.
std::string KeyString(const Value& key) {
  if (key.is_int()) {
    const int64_t k = key.as_int();
    return std::string("i") + std::string(reinterpret_cast<const char*>(&k), sizeof(k));
  }
  if (key.is_string()) return "s" + key.as_string();
  return "?" + key.ToString();
}

// The source identity recorded in IndexSpec::source (and so in the index
// file's fingerprint, under its checksum).
std::string SourceText(const IndexSource& source, const TableIdentity& id) {
  return source.table.ToString() + "." + source.vector_column + " (table_id " + std::to_string(id.table_id) +
         ", created_us " + std::to_string(id.created_at.micros) + ")";
}

}  // namespace

Status SyncOptions::Validate() const {
  if (page_rows < 1 || page_rows > 10'000'000) {
    return Status::InvalidArgument("page_rows: expected an integer in [1, 10000000], got " +
                                   std::to_string(page_rows));
  }
  return Status::OK();
}

Result<IndexSpec> SpecForSource(Store& store, const IndexSource& source, index::IndexKind kind,
                                index::Metric metric, const index::HnswParams& hnsw,
                                const index::IvfParams& ivf, const index::SearchParams& search) {
  VESTA_ASSIGN_OR_RETURN(TableInfo info, store.DescribeTable(source.table));
  const std::string table = info.name.ToString();
  const Schema& schema = info.schema;
  if (source.vector_column.empty()) {
    return Status::InvalidArgument("vector_column: empty; name a VECTOR(d) column of " + table);
  }
  const int vi = schema.FindColumn(source.vector_column);
  if (vi < 0) {
    return Status::InvalidArgument("vector_column: column '" + source.vector_column + "' is not in " + table +
                                   " (columns: " + ColumnList(schema.columns) + ")");
  }
  const Column& vc = schema.columns[static_cast<size_t>(vi)];
  if (vc.type.id != TypeId::kVector) {
    return Status::InvalidArgument("vector_column: column '" + vc.name + "' of " + table + " is " +
                                   vc.type.ToString() + ", not VECTOR(d)");
  }
  const int pi = schema.primary_key_index();
  if (pi < 0) return Status::FailedPrecondition(table + " has no primary key");
  const Column& pk = schema.columns[static_cast<size_t>(pi)];

  std::vector<std::string> sync;
  for (const std::string& c : source.columns_to_sync) {
    if (EqualsIgnoreCase(c, pk.name) || EqualsIgnoreCase(c, vc.name)) continue;
    sync.push_back(c);
  }
  Result<Schema> attrs = index::AttributeSchema(schema, sync);
  if (!attrs.ok()) {
    const std::string& m = attrs.status().message();
    return Status(attrs.status().code(), (m.rfind("columns_to_sync", 0) == 0 ? "" : "columns_to_sync: ") + m +
                                             " (table " + table + ")");
  }

  IndexSpec spec;
  spec.kind = kind;
  spec.metric = metric;
  spec.dimension = static_cast<uint32_t>(vc.type.dim);
  spec.primary_key = pk;
  spec.primary_key.nullable = false;
  spec.attributes = std::move(attrs).value();
  spec.hnsw = hnsw;
  spec.ivf = ivf;
  spec.search = search;
  VESTA_RETURN_IF_ERROR(spec.Validate());
  return spec;
}

Result<SyncReport> BuildFromTable(Store& store, const IndexSource& source, VectorIndex& index,
                                  std::optional<int64_t> version, const SyncOptions& options) {
  VESTA_RETURN_IF_ERROR(options.Validate());
  const IndexSpec& spec = index.spec();
  // Pin the version first so that every page reads the same one.
  VESTA_ASSIGN_OR_RETURN(TableInfo info, store.DescribeTable(source.table, {.version = version}));
  const int64_t v = info.version;
  const std::string where = info.name.ToString() + " at version " + std::to_string(v);

  ReadOptions read;
  read.at.version = v;
  read.columns.push_back(spec.primary_key.name);
  read.columns.push_back(source.vector_column);
  for (const Column& a : spec.attributes.columns) read.columns.push_back(a.name);
  read.order_by_primary_key = true;
  read.limit = options.page_rows;

  SyncReport report;
  report.from_version = index.snapshot()->version();
  report.to_version = v;
  report.rebuilt = true;
  report.table = IdentityOf(info);

  RowBatch batch;
  const size_t d = spec.dimension;
  batch.Reserve(static_cast<size_t>(std::max<int64_t>(info.row_count, 0)), d);
  std::optional<ColumnPositions> pos;
  while (true) {
    Result<ReadResult> page = store.Read(source.table, read);
    if (!page.ok()) {
      if (page.status().IsNotFound()) {
        // A missing column: say it in the index's terms.
        return Status::FailedPrecondition("the index no longer fits " + where + ": " +
                                          page.status().message());
      }
      return page.status();
    }
    if (!pos) {
      VESTA_ASSIGN_OR_RETURN(ColumnPositions p, Locate(page->columns, spec, source.vector_column, where));
      pos = p;
    }
    for (const Row& row : page->rows) {
      if (AddRow(batch, row, *pos, d)) {
        ++report.inserted;
      } else {
        ++report.skipped_null_vectors;
      }
    }
    if (static_cast<int64_t>(page->rows.size()) < options.page_rows) break;
    read.after_primary_key = page->rows.back()[pos->key];
  }
  Status built = index.Build(batch, v);
  if (!built.ok()) return built.WithContext("building index " + source.ToString() + " from " + where);
  return report;
}

Result<SyncReport> SyncIndex(Store& store, const IndexSource& source, VectorIndex& index,
                             std::optional<int64_t> target_version, const SyncOptions& options) {
  VESTA_RETURN_IF_ERROR(options.Validate());
  VESTA_ASSIGN_OR_RETURN(TableInfo current, store.DescribeTable(source.table));
  const std::string table = current.name.ToString();
  const int64_t target = target_version.value_or(current.current_version);
  if (target < 0 || target > current.current_version) {
    return Status::NotFound("version " + std::to_string(target) + " of " + table +
                            " does not exist (current version is " + std::to_string(current.current_version) +
                            ")");
  }
  const std::shared_ptr<const index::IndexSnapshot> before = index.snapshot();
  const int64_t from = before->version();

  auto rebuild = [&](std::string reason) -> Result<SyncReport> {
    VESTA_ASSIGN_OR_RETURN(SyncReport r, BuildFromTable(store, source, index, target, options));
    r.from_version = from;
    r.reason = std::move(reason);
    return r;
  };

  if (from < 0) return rebuild("the index has never been built");
  if (options.expected_table && !(*options.expected_table == IdentityOf(current))) {
    return rebuild("table " + table + " was dropped and re-created (index built from " +
                   IdentityString(*options.expected_table) + ", the table now has " +
                   IdentityString(IdentityOf(current)) + ")");
  }
  if (from > current.current_version) {
    return rebuild("the index reflects version " + std::to_string(from) + " but " + table +
                   " is at version " + std::to_string(current.current_version) +
                   " (dropped and re-created?)");
  }
  if (from > target) {
    return rebuild("the index reflects version " + std::to_string(from) + ", after the target version " +
                   std::to_string(target));
  }

  SyncReport report;
  report.from_version = from;
  report.to_version = target;
  report.table = IdentityOf(current);
  if (from == target) return report;

  Result<ChangeFeed> feed = store.Changes(source.table, from + 1, target);
  if (!feed.ok()) {
    if (feed.status().IsFailedPrecondition()) {
      return rebuild("the change feed from version " + std::to_string(from + 1) +
                     " is not available: " + feed.status().message());
    }
    return feed.status();
  }
  const IndexSpec& spec = index.spec();
  const std::string where = table + " at version " + std::to_string(target);
  VESTA_ASSIGN_OR_RETURN(ColumnPositions pos, Locate(feed->columns, spec, source.vector_column, where));

  // Net effect per key: the index of its last insert/postimage/delete row.
  std::unordered_map<std::string, size_t> last;
  std::vector<std::string> order;  // keys in first-seen order, for a deterministic batch
  for (size_t i = 0; i < feed->changes.size(); ++i) {
    const ChangeRow& c = feed->changes[i];
    if (c.type == ChangeType::kUpdatePreimage) continue;
    std::string k = KeyString(c.row[pos.key]);
    auto [it, inserted] = last.try_emplace(k, i);
    if (inserted) {
      order.push_back(std::move(k));
    } else {
      it->second = i;
    }
  }

  const size_t d = spec.dimension;
  RowBatch upserts;
  std::vector<Value> deletes;
  for (const std::string& k : order) {
    const ChangeRow& c = feed->changes[last[k]];
    const Value& key = c.row[pos.key];
    const bool present = before->Find(key).has_value();
    if (c.type == ChangeType::kDelete) {
      if (present) {
        deletes.push_back(key);
        ++report.deleted;
      }
      continue;
    }
    if (AddRow(upserts, c.row, pos, d)) {
      ++(present ? report.updated : report.inserted);
    } else {
      ++report.skipped_null_vectors;
      if (present) {
        deletes.push_back(key);
        ++report.deleted;
      }
    }
  }
  Status applied = index.Apply(upserts, deletes, target);
  if (!applied.ok()) {
    return applied.WithContext("syncing index " + source.ToString() + " from version " +
                               std::to_string(from) + " to " + std::to_string(target));
  }
  return report;
}

Result<int64_t> VersionsBehind(Store& store, const IndexSource& source, const VectorIndex& index) {
  VESTA_ASSIGN_OR_RETURN(TableInfo current, store.DescribeTable(source.table));
  return current.current_version - index.snapshot()->version();
}

void LogToStderr(std::string_view line) {
  std::fprintf(stderr, "vesta: %.*s\n", static_cast<int>(line.size()), line.data());
}

Result<IndexSpec> SpecWithSource(Store& store, const IndexSource& source, const IndexSpec& spec) {
  VESTA_ASSIGN_OR_RETURN(TableInfo current, store.DescribeTable(source.table));
  IndexSpec out = spec;
  out.source = SourceText(source, IdentityOf(current));
  return out;
}

Result<OpenedIndex> OpenOrBuildIndex(Store& store, const IndexSource& source, const IndexSpec& spec,
                                     const std::string& path, const index::IndexOptions& options,
                                     const IndexLogFn& log, const SyncOptions& sync_options) {
  VESTA_RETURN_IF_ERROR(spec.Validate());
  VESTA_RETURN_IF_ERROR(options.Validate());
  VESTA_RETURN_IF_ERROR(sync_options.Validate());
  VESTA_ASSIGN_OR_RETURN(TableInfo current, store.DescribeTable(source.table));
  const TableIdentity identity = IdentityOf(current);
  auto emit = [&](const std::string& reason) {
    const std::string line = "index " + source.ToString() + ": rebuilding: " + reason;
    if (log) log(line);
  };

  OpenedIndex out;
  std::string reason;
  // The file must have been built from this very table and column: a file
  // from a dropped and re-created table, or from another column of the same
  // shape, fails Load's fingerprint check ("was built for spec").
  IndexSpec want = spec;
  want.source = SourceText(source, identity);  // as SpecWithSource
  Result<std::unique_ptr<VectorIndex>> loaded = VectorIndex::Load(path, want, options);
  if (!loaded.ok()) reason = loaded.status().message();

  bool dirty = true;
  if (reason.empty()) {
    SyncOptions so = sync_options;
    so.expected_table = identity;
    Result<SyncReport> r = SyncIndex(store, source, **loaded, current.current_version, so);
    if (r.ok()) {
      if (r->rebuilt) emit(r->reason);
      out.loaded = !r->rebuilt;
      dirty = r->rebuilt || r->from_version != r->to_version;
      out.report = std::move(r).value();
      out.index = std::move(loaded).value();
    } else {
      // The loaded index could not be brought forward (e.g. its content
      // does not take the change set): start over from the table, which
      // reports the error again if the table itself is the problem.
      reason = "syncing the loaded index failed: " + r.status().message();
    }
  }
  if (!out.index) {
    emit(reason);
    VESTA_ASSIGN_OR_RETURN(out.index, VectorIndex::Create(want, options));
    VESTA_ASSIGN_OR_RETURN(out.report,
                           BuildFromTable(store, source, *out.index, current.current_version, sync_options));
    out.report.reason = reason;
  }

  if (dirty) VESTA_RETURN_IF_ERROR(out.index->Save(path));
  return out;
}

}  // namespace vesta::ingest
