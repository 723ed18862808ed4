#include "service/index_manager.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "governance/index_catalog.h"
#include "service/internal/http.h"

namespace vesta::service {
namespace {

using json = nlohmann::json;
using governance::TableName;

constexpr char kDirectSuffix[] = "__direct";

json DefinitionToJson(const IndexDefinition& d) {
  json j = {{"index_type", IndexTypeName(d.type)},
            {"endpoint_name", d.endpoint_name},
            {"primary_key", d.primary_key},
            {"source_table", d.source_table.ToString()},
            {"pipeline_type", PipelineTypeName(d.pipeline)},
            {"vector_column", d.vector_column},
            {"embedding_dimension", d.embedding_dimension},
            {"columns_to_sync", d.columns_to_sync},
            {"kind", std::string(index::IndexKindName(d.kind))},
            {"metric", std::string(index::MetricName(d.metric))},
            {"hnsw", {{"m", d.hnsw.m}, {"ef_construction", d.hnsw.ef_construction}}},
            {"ivf",
             {{"nlist", d.ivf.nlist},
              {"pq_m", d.ivf.pq_m},
              {"pq_nbits", d.ivf.pq_nbits},
              {"refine_factor", d.ivf.refine_factor}}},
            {"search", {{"ef_search", d.search.ef_search}, {"nprobe", d.search.nprobe}}}};
  if (d.type == IndexType::kDirectAccess) j["direct_schema"] = internal::SchemaToJson(d.direct_schema);
  return j;
}

Result<IndexDefinition> DefinitionFromJson(const governance::IndexCatalogEntry& e) {
  IndexDefinition d;
  d.name = e.name;
  d.creator = e.creator;
  d.created_at = e.created_at;
  try {
    json j = json::parse(e.definition_json);
    d.type = j.at("index_type").get<std::string>() == "DIRECT_ACCESS" ? IndexType::kDirectAccess
                                                                      : IndexType::kDeltaSync;
    d.endpoint_name = j.value("endpoint_name", "");
    d.primary_key = j.at("primary_key").get<std::string>();
    VESTA_ASSIGN_OR_RETURN(d.source_table, TableName::Parse(j.at("source_table").get<std::string>()));
    d.pipeline = j.value("pipeline_type", "TRIGGERED") == "CONTINUOUS" ? PipelineType::kContinuous
                                                                       : PipelineType::kTriggered;
    d.vector_column = j.at("vector_column").get<std::string>();
    d.embedding_dimension = j.at("embedding_dimension").get<int>();
    d.columns_to_sync = j.value("columns_to_sync", std::vector<std::string>{});
    VESTA_ASSIGN_OR_RETURN(d.kind, index::ParseIndexKind(j.at("kind").get<std::string>()));
    VESTA_ASSIGN_OR_RETURN(d.metric, index::ParseMetric(j.at("metric").get<std::string>()));
    d.hnsw.m = j.at("hnsw").at("m").get<int>();
    d.hnsw.ef_construction = j.at("hnsw").at("ef_construction").get<int>();
    d.ivf.nlist = j.at("ivf").at("nlist").get<int>();
    d.ivf.pq_m = j.at("ivf").at("pq_m").get<int>();
    d.ivf.pq_nbits = j.at("ivf").at("pq_nbits").get<int>();
    d.ivf.refine_factor = j.at("ivf").at("refine_factor").get<int>();
    d.search.ef_search = j.at("search").at("ef_search").get<int>();
    d.search.nprobe = j.at("search").at("nprobe").get<int>();
    if (d.type == IndexType::kDirectAccess) {
      VESTA_ASSIGN_OR_RETURN(d.direct_schema,
                             internal::SchemaFromJson(j.at("direct_schema"), "direct_schema"));
    }
  } catch (const json::exception& ex) {
    return Status::Internal("index catalog entry " + e.name.ToString() + " is malformed: " + ex.what());
  }
  return d;
}

}  // namespace

std::string IndexTypeName(IndexType t) {
  return t == IndexType::kDirectAccess ? "DIRECT_ACCESS" : "DELTA_SYNC";
}
std::string PipelineTypeName(PipelineType p) {
  return p == PipelineType::kContinuous ? "CONTINUOUS" : "TRIGGERED";
}

TableName BackingTableName(const TableName& index_name) {
  TableName t = index_name;
  t.table += kDirectSuffix;
  return t;
}

// One served index.
struct Entry {
  IndexDefinition def;
  ingest::IndexSource source;
  std::string path;  // the index file
  // Serialises builds and syncs of this index (ingest/index_sync.h).
  std::mutex sync_mu;
  // Guarded by state_mu: the live index (null until built) and its state.
  mutable std::mutex state_mu;
  std::shared_ptr<index::VectorIndex> index;
  std::string last_error;
  Timestamp last_sync;
  int64_t saved_version = -2;  // the version of the file on disk

  std::shared_ptr<index::VectorIndex> Live() const {
    std::lock_guard<std::mutex> lock(state_mu);
    return index;
  }
  void SetError(std::string e) {
    std::lock_guard<std::mutex> lock(state_mu);
    last_error = std::move(e);
  }
  void SetSynced() {
    std::lock_guard<std::mutex> lock(state_mu);
    last_error.clear();
    last_sync = NowTimestamp();
  }
};

struct IndexManager::Impl {
  Impl(access::Governed& g, IndexManagerOptions o) : governed(g), options(std::move(o)) {}

  access::Governed& governed;
  IndexManagerOptions options;
  std::unique_ptr<governance::IndexCatalog> catalog;

  std::mutex mu;                                          // guards entries
  std::map<std::string, std::shared_ptr<Entry>> entries;  // by lower-case full name
  std::mutex create_mu;  // serialises Create / Drop (AuthorizeCreateIndex requires it)

  // The CONTINUOUS thread.
  std::thread thread;
  std::mutex wake_mu;
  std::condition_variable wake;
  bool pending = false;
  bool stopping = false;

  std::shared_ptr<Entry> Get(const TableName& name) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = entries.find(AsciiLower(name.ToString()));
    return it == entries.end() ? nullptr : it->second;
  }
  std::vector<std::shared_ptr<Entry>> All() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::shared_ptr<Entry>> out;
    for (auto& [k, e] : entries) out.push_back(e);
    return out;
  }

  std::string PathFor(const TableName& name) const {
    return (std::filesystem::path(options.index_dir) / (AsciiLower(name.ToString()) + ".vidx")).string();
  }

  Result<index::IndexSpec> SpecOf(const IndexDefinition& d, const ingest::IndexSource& source) {
    return ingest::SpecForSource(governed.store(), source, d.kind, d.metric, d.hnsw, d.ivf, d.search);
  }

  // Opens (or builds) the index of `e` from its file and table, as the
  // service. Leaves the error in the entry on failure.
  void OpenEntry(Entry& e) {
    std::lock_guard<std::mutex> sync_lock(e.sync_mu);
    auto spec = SpecOf(e.def, e.source);
    if (!spec.ok()) return e.SetError(spec.status().ToString());
    auto opened = ingest::OpenOrBuildIndex(governed.store(), e.source, *spec, e.path, options.index_options,
                                           ingest::LogToStderr);
    if (!opened.ok()) return e.SetError(opened.status().ToString());
    std::shared_ptr<index::VectorIndex> idx = std::move(opened->index);
    {
      std::lock_guard<std::mutex> lock(e.state_mu);
      e.saved_version = idx->snapshot()->version();
      e.index = std::move(idx);
      e.last_error.clear();
      e.last_sync = NowTimestamp();
    }
  }

  // Saves the index file if the index moved since the last save. Errors are
  // logged (the file is a cache: a stale or missing one is rebuilt/synced).
  void SaveIfChanged(Entry& e) {
    std::shared_ptr<index::VectorIndex> idx = e.Live();
    if (!idx) return;
    int64_t v = idx->snapshot()->version();
    {
      std::lock_guard<std::mutex> lock(e.state_mu);
      if (v == e.saved_version) return;
    }
    Status st = idx->Save(e.path);
    if (!st.ok()) {
      std::fprintf(stderr, "vesta: could not save index %s to %s: %s\n", e.def.name.ToString().c_str(),
                   e.path.c_str(), st.ToString().c_str());
      return;
    }
    std::lock_guard<std::mutex> lock(e.state_mu);
    e.saved_version = v;
  }

  // Brings `e` to its table's current version as `caller`
  // (Governed::SyncIndex). REQUIRES: e.sync_mu held.
  Result<ingest::SyncReport> SyncLocked(const access::Caller& caller, Entry& e) {
    std::shared_ptr<index::VectorIndex> idx = e.Live();
    if (!idx) {
      return Status::FailedPrecondition("index " + e.def.name.ToString() + " is not built: " + e.last_error);
    }
    auto report = governed.SyncIndex(caller, e.def.name, e.source, *idx);
    if (!report.ok()) {
      e.SetError(report.status().ToString());
      return report.status();
    }
    e.SetSynced();
    return report;
  }

  // The entry of `name` for `caller`. Privileges first: an unknown index
  // (or, with `need_live`, an offline one) is reported only after
  // Governed::DescribeIndex let the caller read it, so a caller who may not
  // cannot tell a missing index from a forbidden one.
  Result<std::shared_ptr<Entry>> Lookup(const access::Caller& caller, const TableName& name, bool need_live);
  Result<std::shared_ptr<Entry>> DirectEntry(const access::Caller& caller, const TableName& name,
                                             const char* route, const char* instead);
  Result<WriteAnswer> SyncAfterWrite(Entry& e, WriteAnswer a);

  // The index's creator as a Caller (CONTINUOUS syncs, Direct Access writes).
  Result<access::Caller> Creator(const Entry& e) { return governed.CallerFor(e.def.creator); }

  IndexStatus StatusOf(const Entry& e) {
    IndexStatus s;
    s.definition = e.def;
    std::shared_ptr<index::VectorIndex> idx;
    {
      std::lock_guard<std::mutex> lock(e.state_mu);
      idx = e.index;
      s.message = e.last_error;
      s.last_sync = e.last_sync;
    }
    auto current = governed.store().ResolveVersion(e.source.table, {});
    if (current.ok()) {
      s.source_version = *current;
    } else if (s.message.empty()) {
      s.message = current.status().ToString();
    }
    if (idx) {
      auto snap = idx->snapshot();
      s.index_version = snap->version();
      s.indexed_row_count = snap->live_count();
      s.memory_bytes = snap->MemoryUsage();
      s.ready = snap->version() >= 0;
    }
    s.versions_behind =
        s.source_version >= 0 && s.index_version >= 0 ? s.source_version - s.index_version : 0;
    if (!s.ready) {
      s.detailed_state = "OFFLINE_FAILED";
    } else if (!s.message.empty()) {
      s.detailed_state = "ONLINE_PIPELINE_FAILED";
    } else if (s.versions_behind == 0) {
      s.detailed_state = "ONLINE_NO_PENDING_UPDATE";
    } else {
      s.detailed_state = e.def.pipeline == PipelineType::kContinuous && e.def.type == IndexType::kDeltaSync
                             ? "ONLINE_CONTINUOUS_UPDATE"
                             : "ONLINE_TRIGGERED_UPDATE";
    }
    if (s.message.empty()) {
      s.message = s.ready
                      ? "index reflects version " + std::to_string(s.index_version) + " of " +
                            e.source.table.ToString() + " (" + std::to_string(s.versions_behind) + " behind)"
                      : "index is not built";
    }
    return s;
  }

  // One CONTINUOUS pass: syncs every CONTINUOUS Delta Sync index that is
  // behind its table, as its creator.
  void ContinuousPass() {
    for (const std::shared_ptr<Entry>& e : All()) {
      if (e->def.type != IndexType::kDeltaSync || e->def.pipeline != PipelineType::kContinuous) continue;
      std::shared_ptr<index::VectorIndex> idx = e->Live();
      if (!idx) continue;
      auto current = governed.store().ResolveVersion(e->source.table, {});
      if (!current.ok()) {
        e->SetError(current.status().ToString());
        continue;
      }
      if (idx->snapshot()->version() == *current) continue;
      auto caller = Creator(*e);
      if (!caller.ok()) {
        e->SetError("CONTINUOUS sync runs as the index's creator " + e->def.creator + ": " +
                    caller.status().ToString());
        continue;
      }
      std::lock_guard<std::mutex> sync_lock(e->sync_mu);
      auto report = SyncLocked(*caller, *e);
      if (!report.ok()) {
        std::fprintf(stderr, "vesta: CONTINUOUS sync of %s failed: %s\n", e->def.name.ToString().c_str(),
                     report.status().ToString().c_str());
      }
    }
  }

  void Loop() {
    std::unique_lock<std::mutex> lock(wake_mu);
    while (!stopping) {
      wake.wait_for(lock, options.poll_interval, [this] { return stopping || pending; });
      if (stopping) break;
      pending = false;
      lock.unlock();
      ContinuousPass();
      lock.lock();
    }
  }
};

IndexManager::IndexManager(access::Governed& governed, IndexManagerOptions options)
    : impl_(std::make_unique<Impl>(governed, std::move(options))) {}

IndexManager::~IndexManager() {
  {
    std::lock_guard<std::mutex> lock(impl_->wake_mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
  for (const std::shared_ptr<Entry>& e : impl_->All()) {
    std::lock_guard<std::mutex> sync_lock(e->sync_mu);
    impl_->SaveIfChanged(*e);
  }
}

Result<std::unique_ptr<IndexManager>> IndexManager::Open(access::Governed& governed,
                                                         IndexManagerOptions options) {
  if (options.index_dir.empty()) return Status::InvalidArgument("index_dir must not be empty");
  if (options.poll_interval.count() <= 0) return Status::InvalidArgument("poll_interval must be > 0 ms");
  std::error_code ec;
  std::filesystem::create_directories(options.index_dir, ec);
  if (ec)
    return Status::Internal("cannot create index directory '" + options.index_dir + "': " + ec.message());
  std::unique_ptr<IndexManager> m(new IndexManager(governed, std::move(options)));
  Impl& impl = *m->impl_;
  VESTA_ASSIGN_OR_RETURN(impl.catalog, governance::IndexCatalog::Open(governed.store().path()));
  VESTA_ASSIGN_OR_RETURN(auto defs, impl.catalog->List());
  for (const governance::IndexCatalogEntry& ce : defs) {
    auto e = std::make_shared<Entry>();
    auto def = DefinitionFromJson(ce);
    if (!def.ok()) {
      std::fprintf(stderr, "vesta: skipping index %s: %s\n", ce.name.ToString().c_str(),
                   def.status().ToString().c_str());
      continue;
    }
    e->def = std::move(def).value();
    e->source = {e->def.source_table, e->def.vector_column, e->def.columns_to_sync};
    e->path = impl.PathFor(e->def.name);
    impl.OpenEntry(*e);
    if (!e->last_error.empty()) {
      std::fprintf(stderr, "vesta: index %s is offline: %s\n", e->def.name.ToString().c_str(),
                   e->last_error.c_str());
    }
    impl.entries[AsciiLower(e->def.name.ToString())] = e;
  }
  if (impl.options.background_sync) impl.thread = std::thread([&impl] { impl.Loop(); });
  return m;
}

Result<IndexStatus> IndexManager::Create(const access::Caller& caller, IndexDefinition def) {
  Impl& impl = *impl_;
  access::Governed& g = impl.governed;
  // Shape checks that need no store access (the route checked the JSON).
  if (def.primary_key.empty()) return Status::InvalidArgument("primary_key: required");
  if (def.vector_column.empty()) {
    return Status::InvalidArgument(
        "embedding_vector_columns: exactly one {name, embedding_dimension} is required");
  }
  if (def.embedding_dimension <= 0) {
    return Status::InvalidArgument(
        "embedding_vector_columns[0].embedding_dimension: expected a positive integer, got " +
        std::to_string(def.embedding_dimension));
  }
  if (def.type == IndexType::kDirectAccess) {
    def.source_table = BackingTableName(def.name);
    def.pipeline = PipelineType::kTriggered;
    const Schema& s = def.direct_schema;
    if (!EqualsIgnoreCase(s.primary_key, def.primary_key)) {
      return Status::InvalidArgument("primary_key: '" + def.primary_key +
                                     "' must be the schema_json's primary key");
    }
    int vc = s.FindColumn(def.vector_column);
    if (vc < 0 || s.columns[vc].type.id != TypeId::kVector) {
      return Status::InvalidArgument("embedding_vector_columns[0].name: '" + def.vector_column +
                                     "' must be an array<float> column of schema_json");
    }
    if (s.columns[vc].type.dim != def.embedding_dimension) {
      return Status::InvalidArgument("embedding_vector_columns[0].embedding_dimension: expected " +
                                     std::to_string(s.columns[vc].type.dim) + " (schema_json), got " +
                                     std::to_string(def.embedding_dimension));
    }
  }
  def.creator = caller.user;
  def.created_at = NowTimestamp();

  std::lock_guard<std::mutex> create_lock(impl.create_mu);
  // Privileges first, without side effects, so that a refused request is
  // refused before the table is looked at (and audited once, by the
  // governed call that reports the refusal).
  const std::set<std::string> groups(caller.groups.begin(), caller.groups.end());
  auto schema_securable = governance::Securable::Parse(governance::SecurableType::kSchema,
                                                       def.name.catalog + "." + def.name.schema);
  if (!schema_securable.ok()) return schema_securable.status();
  if (def.type == IndexType::kDirectAccess) {
    Status pre =
        g.privileges().CheckCreateTable(caller.user, groups, *schema_securable, caller.metastore_admin);
    if (!pre.ok()) {
      auto audited = g.CreateTable(caller, def.source_table, def.direct_schema);  // audited refusal
      if (audited.ok()) (void)g.DropTable(caller, def.source_table);
      return pre;
    }
  } else {
    Status pre =
        g.privileges().CheckCreateIndex(caller.user, groups, governance::Securable::Table(def.source_table),
                                        *schema_securable, caller.metastore_admin);
    if (!pre.ok()) {
      Status audited = g.AuthorizeCreateIndex(caller, def.source_table, def.name);  // audited refusal
      if (audited.ok()) (void)g.AuthorizeDropIndex(caller, def.name);
      return pre;
    }
  }
  if (impl.Get(def.name)) return Status::AlreadyExists("index " + def.name.ToString() + " already exists");

  // The table's key and vector column must be what the request says
  // (Direct Access: the schema was checked above; its table is made below).
  if (def.type == IndexType::kDeltaSync) {
    auto info = g.store().DescribeTable(def.source_table);
    if (!info.ok()) return info.status();
    const Schema& schema = info->schema;
    if (!EqualsIgnoreCase(schema.primary_key, def.primary_key)) {
      return Status::InvalidArgument("primary_key: '" + def.primary_key + "' is not the primary key of " +
                                     def.source_table.ToString() + " (its primary key is '" +
                                     schema.primary_key + "')");
    }
    int vc = schema.FindColumn(def.vector_column);
    if (vc < 0) {
      return Status::InvalidArgument("embedding_vector_columns[0].name: column '" + def.vector_column +
                                     "' is not in " + def.source_table.ToString());
    }
    if (schema.columns[vc].type.id != TypeId::kVector) {
      return Status::InvalidArgument("embedding_vector_columns[0].name: column '" + def.vector_column +
                                     "' of " + def.source_table.ToString() + " is " +
                                     schema.columns[vc].type.ToString() + ", not a vector column");
    }
    if (schema.columns[vc].type.dim != def.embedding_dimension) {
      return Status::InvalidArgument("embedding_vector_columns[0].embedding_dimension: expected " +
                                     std::to_string(schema.columns[vc].type.dim) + " (the dimension of " +
                                     def.source_table.ToString() + "." + def.vector_column + "), got " +
                                     std::to_string(def.embedding_dimension));
    }
    if (def.columns_to_sync.empty()) {
      for (const Column& c : schema.columns) {
        if (c.type.id != TypeId::kVector && !EqualsIgnoreCase(c.name, schema.primary_key)) {
          def.columns_to_sync.push_back(c.name);
        }
      }
    }
    // Unknown or vector columns_to_sync are refused here, before anything is created.
    ingest::IndexSource probe{def.source_table, def.vector_column, def.columns_to_sync};
    auto spec = impl.SpecOf(def, probe);
    if (!spec.ok()) return spec.status();
  }

  // Direct Access: the backing table first (CREATE TABLE on the schema).
  bool created_table = false;
  if (def.type == IndexType::kDirectAccess) {
    governance::CreateTableOptions topts;
    topts.comment = "rows of Direct Access index " + def.name.ToString();
    VESTA_RETURN_IF_ERROR(g.CreateTable(caller, def.source_table, def.direct_schema, topts).status());
    created_table = true;
  }
  auto undo_table = [&] {
    if (created_table) (void)g.DropTable(caller, def.source_table);
  };
  Status auth = g.AuthorizeCreateIndex(caller, def.source_table, def.name);
  if (!auth.ok()) {
    undo_table();
    return auth;
  }
  auto fail = [&](Status st) -> Status {
    (void)g.AuthorizeDropIndex(caller, def.name);
    undo_table();
    return st;
  };
  if (def.type == IndexType::kDirectAccess && def.columns_to_sync.empty()) {
    for (const Column& c : def.direct_schema.columns) {
      if (c.type.id != TypeId::kVector && !EqualsIgnoreCase(c.name, def.primary_key)) {
        def.columns_to_sync.push_back(c.name);
      }
    }
  }
  auto e = std::make_shared<Entry>();
  e->def = def;
  e->source = {def.source_table, def.vector_column, def.columns_to_sync};
  e->path = impl.PathFor(def.name);
  auto spec = impl.SpecOf(def, e->source);
  if (!spec.ok()) return fail(spec.status());
  std::error_code ec;
  std::filesystem::remove(e->path, ec);  // a leftover file of a dropped index of that name
  {
    std::lock_guard<std::mutex> sync_lock(e->sync_mu);
    // Built by a governed sync (audit "index.sync", lineage table@v ->
    // index@v), with the spec OpenOrBuildIndex expects, then saved.
    auto with_source = ingest::SpecWithSource(g.store(), e->source, *spec);
    if (!with_source.ok()) return fail(with_source.status());
    auto created = index::VectorIndex::Create(*with_source, impl.options.index_options);
    if (!created.ok()) return fail(created.status());
    e->index = std::move(created).value();
    auto report = impl.SyncLocked(caller, *e);
    if (!report.ok()) return fail(report.status());
    Status saved = e->index->Save(e->path);
    if (!saved.ok()) return fail(saved);
    e->saved_version = e->index->snapshot()->version();
  }
  governance::IndexCatalogEntry ce{def.name, internal::JsonDump(DefinitionToJson(def)), def.creator,
                                   def.created_at};
  Status recorded = impl.catalog->Create(ce);
  if (!recorded.ok()) {
    std::filesystem::remove(e->path, ec);
    return fail(recorded);
  }
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    impl.entries[AsciiLower(def.name.ToString())] = e;
  }
  return impl.StatusOf(*e);
}

Result<IndexStatus> IndexManager::Describe(const access::Caller& caller, const TableName& name) {
  VESTA_RETURN_IF_ERROR(impl_->governed.DescribeIndex(caller, name));
  std::shared_ptr<Entry> e = impl_->Get(name);
  if (!e) return Status::NotFound("index " + name.ToString() + " does not exist");
  return impl_->StatusOf(*e);
}

Result<std::vector<IndexStatus>> IndexManager::List(const access::Caller& caller) {
  std::vector<std::shared_ptr<Entry>> all = impl_->All();
  std::vector<TableName> names;
  for (const auto& e : all) names.push_back(e->def.name);
  VESTA_ASSIGN_OR_RETURN(std::vector<TableName> visible, impl_->governed.VisibleIndexes(caller, names));
  std::vector<IndexStatus> out;
  for (const TableName& n : visible) {
    if (std::shared_ptr<Entry> e = impl_->Get(n)) out.push_back(impl_->StatusOf(*e));
  }
  return out;
}

Status IndexManager::Drop(const access::Caller& caller, const TableName& name) {
  Impl& impl = *impl_;
  access::Governed& g = impl.governed;
  std::lock_guard<std::mutex> create_lock(impl.create_mu);
  std::shared_ptr<Entry> e = impl.Get(name);
  if (e && e->def.type == IndexType::kDirectAccess) {
    // Check both privileges before changing anything.
    std::set<std::string> groups(caller.groups.begin(), caller.groups.end());
    VESTA_RETURN_IF_ERROR(g.privileges().CheckManage(
        caller.user, groups, governance::Securable::Table(e->def.source_table), caller.metastore_admin));
  }
  VESTA_RETURN_IF_ERROR(g.AuthorizeDropIndex(caller, name));
  if (!e) return Status::NotFound("index " + name.ToString() + " does not exist");
  VESTA_RETURN_IF_ERROR(impl.catalog->Remove(name));
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    impl.entries.erase(AsciiLower(name.ToString()));
  }
  {
    // Waits for a running sync; the entry is out of the map, so nothing
    // saves its file again.
    std::lock_guard<std::mutex> sync_lock(e->sync_mu);
    std::error_code ec;
    std::filesystem::remove(e->path, ec);
  }
  if (e->def.type == IndexType::kDirectAccess) {
    Status st = g.DropTable(caller, e->def.source_table);
    if (!st.ok()) {
      return Status(st.code(), "index " + name.ToString() + " was dropped, but its backing table " +
                                   e->def.source_table.ToString() + " was not: " + st.message());
    }
  }
  return Status::OK();
}

Result<ingest::SyncReport> IndexManager::Sync(const access::Caller& caller, const TableName& name) {
  VESTA_ASSIGN_OR_RETURN(std::shared_ptr<Entry> e, impl_->Lookup(caller, name, /*need_live=*/false));
  if (e->def.type == IndexType::kDirectAccess) {
    return Status::FailedPrecondition(
        "index " + name.ToString() +
        " is a DIRECT_ACCESS index: it is synced on every upsert-data / delete-data");
  }
  std::lock_guard<std::mutex> sync_lock(e->sync_mu);
  VESTA_ASSIGN_OR_RETURN(ingest::SyncReport report, impl_->SyncLocked(caller, *e));
  impl_->SaveIfChanged(*e);
  return report;
}

Result<QueryAnswer> IndexManager::Query(const access::Caller& caller, const TableName& name,
                                        const access::IndexQuery& query) {
  VESTA_ASSIGN_OR_RETURN(std::shared_ptr<Entry> e, impl_->Lookup(caller, name, /*need_live=*/true));
  std::shared_ptr<index::VectorIndex> idx = e->Live();
  QueryAnswer a;
  access::IndexRef ref{name, e->def.source_table, idx.get()};
  VESTA_ASSIGN_OR_RETURN(a.result, impl_->governed.QueryIndex(caller, ref, query));
  a.source_table = e->def.source_table.ToString();
  a.metric = e->def.metric;
  auto current = impl_->governed.store().ResolveVersion(e->def.source_table, {});
  if (current.ok()) {
    a.source_current_version = *current;
    a.versions_behind = *current - a.result.index_version;
  }
  return a;
}

Result<std::shared_ptr<Entry>> IndexManager::Impl::Lookup(const access::Caller& caller, const TableName& name,
                                                          bool need_live) {
  std::shared_ptr<Entry> e = Get(name);
  if (e && (!need_live || e->Live())) return e;
  VESTA_RETURN_IF_ERROR(governed.DescribeIndex(caller, name));
  if (!e) return Status::NotFound("index " + name.ToString() + " does not exist");
  return Status::Unavailable("index " + name.ToString() + " is offline: " + StatusOf(*e).message);
}

Result<IndexManager::Handle> IndexManager::Find(const access::Caller& caller, const TableName& name) {
  VESTA_ASSIGN_OR_RETURN(std::shared_ptr<Entry> e, impl_->Lookup(caller, name, /*need_live=*/true));
  std::shared_ptr<index::VectorIndex> idx = e->Live();
  Handle h;
  h.index = idx;
  h.ref = {name, e->def.source_table, idx.get()};
  h.definition = e->def;
  return h;
}

namespace {

WriteAnswer Finish(WriteAnswer a) {
  if (a.failed_primary_keys.empty()) {
    a.status = "SUCCESS";
  } else {
    a.status = a.success_row_count > 0 ? "PARTIAL_SUCCESS" : "FAILURE";
  }
  return a;
}

}  // namespace

// The entry of a Direct Access index for a write (Lookup, then the type).
Result<std::shared_ptr<Entry>> IndexManager::Impl::DirectEntry(const access::Caller& caller,
                                                               const TableName& name, const char* route,
                                                               const char* instead) {
  VESTA_ASSIGN_OR_RETURN(std::shared_ptr<Entry> e, Lookup(caller, name, /*need_live=*/false));
  if (e->def.type != IndexType::kDirectAccess) {
    return Status::FailedPrecondition("index " + name.ToString() + " is a DELTA_SYNC index of " +
                                      e->def.source_table.ToString() + ": " + instead + " (" + route +
                                      " is for DIRECT_ACCESS indexes)");
  }
  return e;
}

// Syncs a Direct Access index after its write, as its creator, and finishes
// the answer.
Result<WriteAnswer> IndexManager::Impl::SyncAfterWrite(Entry& e, WriteAnswer a) {
  VESTA_ASSIGN_OR_RETURN(access::Caller creator, Creator(e));
  {
    std::lock_guard<std::mutex> sync_lock(e.sync_mu);
    VESTA_ASSIGN_OR_RETURN(ingest::SyncReport r, SyncLocked(creator, e));
    a.index_version = r.to_version;
  }
  return Finish(std::move(a));
}

Result<WriteAnswer> IndexManager::UpsertData(const access::Caller& caller, const TableName& name,
                                             std::vector<Row> rows, WriteAnswer failed) {
  VESTA_ASSIGN_OR_RETURN(std::shared_ptr<Entry> e,
                         impl_->DirectEntry(caller, name, "upsert-data", "write to that table instead"));
  WriteAnswer a = std::move(failed);
  if (!rows.empty()) {
    const size_t n = rows.size();
    VESTA_ASSIGN_OR_RETURN(access::WriteResult w,
                           impl_->governed.Upsert(caller, e->def.source_table, std::move(rows)));
    a.success_row_count = static_cast<int64_t>(n);
    a.table_version = w.version;
  }
  return impl_->SyncAfterWrite(*e, std::move(a));
}

Result<WriteAnswer> IndexManager::DeleteData(const access::Caller& caller, const TableName& name,
                                             std::vector<Value> keys) {
  VESTA_ASSIGN_OR_RETURN(std::shared_ptr<Entry> e,
                         impl_->DirectEntry(caller, name, "delete-data", "delete from that table instead"));
  WriteAnswer a;
  if (!keys.empty()) {
    VESTA_ASSIGN_OR_RETURN(access::WriteResult w,
                           impl_->governed.DeleteKeys(caller, e->def.source_table, std::move(keys)));
    // The rows removed: keys that were unknown or hidden from the caller's
    // row filter are not told apart (Governed::DeleteKeys) and not failures.
    a.success_row_count = w.rows_removed;
    a.table_version = w.version;
  }
  return impl_->SyncAfterWrite(*e, std::move(a));
}

void IndexManager::NotifyCommit(const TableName&, int64_t) {
  {
    std::lock_guard<std::mutex> lock(impl_->wake_mu);
    impl_->pending = true;
  }
  impl_->wake.notify_all();
}

void IndexManager::SyncContinuousNow() {
  impl_->ContinuousPass();
}

std::vector<IndexStatus> IndexManager::AllStatuses() {
  std::vector<IndexStatus> out;
  for (const std::shared_ptr<Entry>& e : impl_->All()) out.push_back(impl_->StatusOf(*e));
  return out;
}

}  // namespace vesta::service
