// Mosaic AI Vector Search routes (issue #5; ../shared/DESIGN.md section 4),
// over service/index_manager.h. Shapes follow Databricks' REST API 2.0 and
// what its Python client (databricks-vectorsearch) sends, so client code
// ports over; Vesta's additions are marked "Vesta extension". Every route
// needs a bearer token; `{index_name}` is the index's three-level name
// (catalog.schema.index).
//
// POST /api/2.0/vector-search/indexes                           create
//   {name, endpoint_name?, primary_key, index_type: "DELTA_SYNC" | "DIRECT_ACCESS",
//    delta_sync_index_spec?: {source_table, pipeline_type: "TRIGGERED" (default) | "CONTINUOUS",
//                             embedding_vector_columns: [{name, embedding_dimension}],
//                             columns_to_sync?: [..] (default: every non-vector column)},
//    direct_access_index_spec?: {schema_json: "<JSON string: {column: type}>",
//                                embedding_vector_columns: [{name, embedding_dimension}]},
//    vesta_index_spec?: {kind: "HNSW" (default) | "FLAT" | "IVF_FLAT" | "IVF_PQ",
//                        metric: "L2" (default) | "INNER_PRODUCT" | "COSINE",
//                        m, ef_construction, nlist, pq_m, pq_nbits, refine_factor,
//                        ef_search, nprobe}}                                   (Vesta extension)
//   schema_json types: "string", "long"/"bigint"/"int", "double"/"float", "boolean",
//   "date", "timestamp", "array<float>" (the embedding; its dimension from
//   embedding_vector_columns). embedding_source_columns (Databricks-computed
//   embeddings) is refused: Vesta does not compute embeddings.
//   -> VectorIndex (as GET). Errors: 400 naming the field, 403 (CREATE INDEX /
//   SELECT on the source / CREATE TABLE for Direct Access), 404 source table,
//   409 name taken. Audit "index.create" (+ "table.create" for Direct Access).
// GET /api/2.0/vector-search/indexes[?endpoint_name=]           list
//   -> {vector_indexes: [{name, endpoint_name, primary_key, index_type, creator}],
//       next_page_token: ""}: only indexes the caller may read. Audit "index.list".
// GET /api/2.0/vector-search/indexes/{index_name}               describe
//   -> VectorIndex {name, endpoint_name, primary_key, index_type, creator,
//       delta_sync_index_spec | direct_access_index_spec,
//       status: {ready, detailed_state, message, indexed_row_count, index_url},
//       vesta: {kind, metric, hnsw: {m, ef_construction}, search: {ef_search, nprobe},
//               index_version, source_table, source_version, versions_behind,
//               memory_bytes, last_sync}}   (Vesta extension)
//   Audit "index.describe".
// DELETE /api/2.0/vector-search/indexes/{index_name}            drop -> {}
//   (Direct Access: with its backing table). Audit "index.drop".
// POST /api/2.0/vector-search/indexes/{index_name}/sync         TRIGGERED sync
//   -> {} plus Vesta's {from_version, to_version, inserted, updated, deleted,
//   rebuilt, reason}. 400 for a Direct Access index. Audit "index.sync".
// POST|GET /api/2.0/vector-search/indexes/{index_name}/query    ANN query
//   {columns: [..] (required), query_vector: [floats] (required for ANN),
//    num_results: 1..1000 (default 10), filters_json: "<JSON string>",
//    filter_string: "...", query_type: "ANN" (default; "HYBRID" and
//    "FULL_TEXT": 400 not supported yet), score_threshold, query_text / query
//    (400: no embedding model; send query_vector), debug_level (ignored),
//    ef_search, page_size (Vesta extensions)}
//   -> {manifest: {column_count, columns: [{name}, ..., {name: "score"}]},
//       result: {row_count, data_array: [[v1, ..., score]]},
//       next_page_token: "" | token,
//       vesta: {index_version, source_table, source_table_version, source_current_version,
//               versions_behind, plan, query_id}}
//   score: L2 1 / (1 + squared distance) (as Mosaic), INNER_PRODUCT the dot
//   product, COSINE the cosine similarity; best first. filters_json and
//   filter_string are ANDed. Audit "index.query".
// POST|GET /api/2.0/vector-search/indexes/{index_name}/query-next-page
//   {page_token, endpoint_name?} -> as query. Pages are kept 10 minutes for
//   the principal who asked (another principal's token is 404).
// POST|GET /api/2.0/vector-search/indexes/{index_name}/scan
//   {last_primary_key?, num_results: 1..10000 (default 100)}
//   -> {data: [{fields: [{key, value: {string_value | number_value | bool_value |
//       list_value: {values: [...]} | null_value}}]}], last_primary_key,
//       vesta: {index_version}}
//   Audit "index.scan".
// POST /api/2.0/vector-search/indexes/{index_name}/upsert-data
//   {inputs_json: "<JSON array of row objects>"} (Direct Access)
//   -> {status: "SUCCESS" | "PARTIAL_SUCCESS" | "FAILURE",
//       result: {success_row_count, failed_primary_keys: [..]},
//       vesta: {errors: [..], table_version, index_version}}
//   Rows that do not fit the schema fail alone (their keys listed); the
//   others are upserted in one commit and the index synced before the
//   answer. Audit "table.upsert" + "index.sync".
// DELETE /api/2.0/vector-search/indexes/{index_name}/delete-data
//   {primary_keys: [..]} (or ?primary_keys=a&primary_keys=b) -> as upsert-data.
//   Audit "table.delete" + "index.sync".
#include <cmath>
#include <deque>
#include <list>
#include <mutex>
#include <random>
#include <unordered_map>

#include "service/index_manager.h"
#include "service/internal/routes.h"

namespace vesta::service::internal {
namespace {

using governance::TableName;

constexpr int64_t kMaxNumResults = 1000;
constexpr int64_t kMaxScanResults = 10000;
constexpr char kIndexes[] = "/api/2.0/vector-search/indexes";

std::string Route(const std::string& suffix) {
  return std::string(kIndexes) + "/{index_name}" + suffix;
}

// A required sub-object (absent: error naming it).
Result<const json*> Object(const json& body, const std::string& field, bool required) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    if (required) return Status::InvalidArgument(field + ": required (an object)");
    return static_cast<const json*>(nullptr);
  }
  if (!it->is_object()) return Status::InvalidArgument(field + ": expected an object");
  return &*it;
}

Status Prefixed(const Status& st, const std::string& prefix) {
  return st.ok() ? st : Status(st.code(), prefix + "." + st.message());
}

// embedding_vector_columns: [{name, embedding_dimension}] (exactly one).
Status ParseEmbeddingColumns(const json& spec, const std::string& where, IndexDefinition& d) {
  auto it = spec.find("embedding_vector_columns");
  if (it == spec.end() || !it->is_array() || it->size() != 1) {
    return Status::InvalidArgument(where +
                                   ".embedding_vector_columns: expected exactly one {name, "
                                   "embedding_dimension} (Vesta indexes one vector column)");
  }
  const json& c = (*it)[0];
  std::string cw = where + ".embedding_vector_columns[0]";
  if (!c.is_object()) return Status::InvalidArgument(cw + ": expected an object {name, embedding_dimension}");
  auto name = RequiredString(c, "name");
  if (!name.ok()) return Prefixed(name.status(), cw);
  d.vector_column = *name;
  auto dim = OptionalInt(c, "embedding_dimension");
  if (!dim.ok()) return Prefixed(dim.status(), cw);
  if (!dim->has_value() || **dim <= 0 || **dim > 4096) {
    return Status::InvalidArgument(cw + ".embedding_dimension: expected an integer in 1..4096");
  }
  d.embedding_dimension = static_cast<int>(**dim);
  return Status::OK();
}

// Mosaic's schema_json ({"id": "long", "text": "string", "vec": "array<float>"})
// as a Vesta schema.
Result<Schema> DirectSchema(const std::string& schema_json, const IndexDefinition& d) {
  const std::string where = "direct_access_index_spec.schema_json";
  json j = json::parse(schema_json, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.empty()) {
    return Status::InvalidArgument(where + ": expected a JSON string holding an object {column: type}");
  }
  Schema s;
  s.primary_key = d.primary_key;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string())
      return Status::InvalidArgument(where + "." + it.key() + ": expected a type name");
    std::string t = AsciiUpper(it.value().get<std::string>());
    DataType type;
    if (t == "STRING") {
      type = DataType::String();
    } else if (t == "LONG" || t == "BIGINT" || t == "INT" || t == "INTEGER") {
      type = DataType::Bigint();
    } else if (t == "DOUBLE" || t == "FLOAT") {
      type = DataType::Double();
    } else if (t == "BOOLEAN") {
      type = DataType::Boolean();
    } else if (t == "DATE") {
      type = DataType::DateT();
    } else if (t == "TIMESTAMP") {
      type = DataType::TimestampT();
    } else if (t == "ARRAY<FLOAT>" || t == "ARRAY<DOUBLE>") {
      if (!EqualsIgnoreCase(it.key(), d.vector_column)) {
        return Status::InvalidArgument(where + "." + it.key() +
                                       ": array<float> is only allowed for the embedding vector column '" +
                                       d.vector_column + "'");
      }
      type = DataType::Vector(d.embedding_dimension);
    } else {
      return Status::InvalidArgument(
          where + "." + it.key() + ": unsupported type '" + it.value().get<std::string>() +
          "' (expected string, long, double, boolean, date, timestamp or array<float>)");
    }
    bool is_key = EqualsIgnoreCase(it.key(), d.primary_key);
    s.columns.push_back({it.key(), type, !is_key, ""});
  }
  Status st = s.Validate();
  if (!st.ok()) return Status::InvalidArgument(where + ": " + st.message());
  return s;
}

Result<IndexDefinition> DefinitionFromRequest(const json& body) {
  IndexDefinition d;
  VESTA_ASSIGN_OR_RETURN(std::string name, RequiredString(body, "name"));
  VESTA_ASSIGN_OR_RETURN(d.name, ParseName(name, "name"));
  VESTA_ASSIGN_OR_RETURN(auto endpoint, OptionalString(body, "endpoint_name"));
  d.endpoint_name = endpoint.value_or("");
  VESTA_ASSIGN_OR_RETURN(d.primary_key, RequiredString(body, "primary_key"));
  VESTA_ASSIGN_OR_RETURN(std::string type, RequiredString(body, "index_type"));
  if (type == "DELTA_SYNC") {
    d.type = IndexType::kDeltaSync;
    VESTA_ASSIGN_OR_RETURN(const json* spec, Object(body, "delta_sync_index_spec", true));
    const std::string w = "delta_sync_index_spec";
    auto source = RequiredString(*spec, "source_table");
    if (!source.ok()) return Prefixed(source.status(), w);
    VESTA_ASSIGN_OR_RETURN(d.source_table, ParseName(*source, w + ".source_table"));
    auto pipeline = OptionalString(*spec, "pipeline_type");
    if (!pipeline.ok()) return Prefixed(pipeline.status(), w);
    std::string p = pipeline->value_or("TRIGGERED");
    if (p == "CONTINUOUS") {
      d.pipeline = PipelineType::kContinuous;
    } else if (p != "TRIGGERED") {
      return Status::InvalidArgument(w + ".pipeline_type: expected TRIGGERED or CONTINUOUS, got '" + p + "'");
    }
    if (spec->contains("embedding_source_columns") && !(*spec)["embedding_source_columns"].is_null()) {
      return Status::InvalidArgument(w +
                                     ".embedding_source_columns: not supported: Vesta does not compute "
                                     "embeddings; give embedding_vector_columns");
    }
    VESTA_RETURN_IF_ERROR(ParseEmbeddingColumns(*spec, w, d));
    auto cols = StringList(*spec, "columns_to_sync");
    if (!cols.ok()) return Prefixed(cols.status(), w);
    d.columns_to_sync = *cols;
  } else if (type == "DIRECT_ACCESS") {
    d.type = IndexType::kDirectAccess;
    VESTA_ASSIGN_OR_RETURN(const json* spec, Object(body, "direct_access_index_spec", true));
    const std::string w = "direct_access_index_spec";
    VESTA_RETURN_IF_ERROR(ParseEmbeddingColumns(*spec, w, d));
    auto schema_json = RequiredString(*spec, "schema_json");
    if (!schema_json.ok()) return Prefixed(schema_json.status(), w);
    VESTA_ASSIGN_OR_RETURN(d.direct_schema, DirectSchema(*schema_json, d));
  } else {
    return Status::InvalidArgument("index_type: expected DELTA_SYNC or DIRECT_ACCESS, got '" + type + "'");
  }
  VESTA_ASSIGN_OR_RETURN(const json* v, Object(body, "vesta_index_spec", false));
  if (v) {
    const std::string w = "vesta_index_spec";
    auto kind = OptionalString(*v, "kind");
    if (!kind.ok()) return Prefixed(kind.status(), w);
    if (*kind) {
      auto k = index::ParseIndexKind(**kind);
      if (!k.ok()) return Status::InvalidArgument(w + ".kind: " + k.status().message());
      d.kind = *k;
    }
    auto metric = OptionalString(*v, "metric");
    if (!metric.ok()) return Prefixed(metric.status(), w);
    if (*metric) {
      auto m = index::ParseMetric(**metric);
      if (!m.ok()) return Status::InvalidArgument(w + ".metric: " + m.status().message());
      d.metric = *m;
    }
    auto set_int = [&](const char* field, int& out) -> Status {
      auto x = OptionalInt(*v, field);
      if (!x.ok()) return Prefixed(x.status(), w);
      if (*x) {
        if (**x < 0 || **x > 1'000'000) {
          return Status::InvalidArgument(w + "." + field + ": expected 0..1000000, got " +
                                         std::to_string(**x));
        }
        out = static_cast<int>(**x);
      }
      return Status::OK();
    };
    VESTA_RETURN_IF_ERROR(set_int("m", d.hnsw.m));
    VESTA_RETURN_IF_ERROR(set_int("ef_construction", d.hnsw.ef_construction));
    VESTA_RETURN_IF_ERROR(set_int("nlist", d.ivf.nlist));
    VESTA_RETURN_IF_ERROR(set_int("pq_m", d.ivf.pq_m));
    VESTA_RETURN_IF_ERROR(set_int("pq_nbits", d.ivf.pq_nbits));
    VESTA_RETURN_IF_ERROR(set_int("refine_factor", d.ivf.refine_factor));
    VESTA_RETURN_IF_ERROR(set_int("ef_search", d.search.ef_search));
    VESTA_RETURN_IF_ERROR(set_int("nprobe", d.search.nprobe));
  }
  return d;
}

json StatusToJson(const IndexStatus& s) {
  const IndexDefinition& d = s.definition;
  json embedding = json::array({{{"name", d.vector_column}, {"embedding_dimension", d.embedding_dimension}}});
  json out = {{"name", d.name.ToString()},
              {"endpoint_name", d.endpoint_name},
              {"primary_key", d.primary_key},
              {"index_type", IndexTypeName(d.type)},
              {"creator", d.creator},
              {"status",
               {{"ready", s.ready},
                {"detailed_state", s.detailed_state},
                {"message", s.message},
                {"indexed_row_count", s.indexed_row_count},
                {"index_url", std::string(kIndexes) + "/" + d.name.ToString()}}}};
  if (d.type == IndexType::kDeltaSync) {
    out["delta_sync_index_spec"] = {{"source_table", d.source_table.ToString()},
                                    {"pipeline_type", PipelineTypeName(d.pipeline)},
                                    {"embedding_vector_columns", embedding},
                                    {"columns_to_sync", d.columns_to_sync}};
  } else {
    json schema = json::object();
    for (const Column& c : d.direct_schema.columns) {
      std::string t;
      switch (c.type.id) {
        case TypeId::kBigint:
          t = "long";
          break;
        case TypeId::kDouble:
          t = "double";
          break;
        case TypeId::kString:
          t = "string";
          break;
        case TypeId::kBoolean:
          t = "boolean";
          break;
        case TypeId::kDate:
          t = "date";
          break;
        case TypeId::kTimestamp:
          t = "timestamp";
          break;
        case TypeId::kVector:
          t = "array<float>";
          break;
      }
      schema[c.name] = t;
    }
    out["direct_access_index_spec"] = {{"schema_json", JsonDump(schema)},
                                       {"embedding_vector_columns", embedding}};
  }
  out["vesta"] = {{"kind", std::string(index::IndexKindName(d.kind))},
                  {"metric", std::string(index::MetricName(d.metric))},
                  {"hnsw", {{"m", d.hnsw.m}, {"ef_construction", d.hnsw.ef_construction}}},
                  {"search", {{"ef_search", d.search.ef_search}, {"nprobe", d.search.nprobe}}},
                  {"source_table", d.source_table.ToString()},
                  {"index_version", s.index_version},
                  {"source_version", s.source_version},
                  {"versions_behind", s.versions_behind},
                  {"memory_bytes", s.memory_bytes},
                  {"last_sync", s.last_sync.micros == 0 ? "" : FormatTimestamp(s.last_sync)}};
  return out;
}

// Query result pages kept for query-next-page, per principal, bounded.
class PageCache {
 public:
  struct Page {
    std::string principal;
    json manifest;
    std::deque<json> rows;  // rows not yet returned
    json vesta;
    size_t page_size = 0;
    Clock::time_point created;
  };

  std::string Put(Page p) {
    std::lock_guard<std::mutex> lock(mu_);
    Expire();
    while (pages_.size() >= kMaxPages) Erase(order_.front());
    std::string token = NewToken();
    p.created = Clock::now();
    order_.push_back(token);
    pages_.emplace(token, std::move(p));
    return token;
  }

  // Takes the next page of `token` for `principal`; NotFound if unknown,
  // expired or another principal's.
  Result<json> Next(const std::string& token, const std::string& principal) {
    std::lock_guard<std::mutex> lock(mu_);
    Expire();
    auto it = pages_.find(token);
    if (it == pages_.end() || it->second.principal != principal) {
      return Status::NotFound("page_token: unknown or expired page token (pages are kept 10 minutes)");
    }
    Page& p = it->second;
    json data = json::array();
    while (!p.rows.empty() && data.size() < p.page_size) {
      data.push_back(std::move(p.rows.front()));
      p.rows.pop_front();
    }
    json out = {{"manifest", p.manifest},
                {"result", {{"row_count", data.size()}, {"data_array", data}}},
                {"next_page_token", p.rows.empty() ? "" : token},
                {"vesta", p.vesta}};
    if (p.rows.empty()) Erase(token);
    return out;
  }

 private:
  static constexpr size_t kMaxPages = 1000;
  static constexpr std::chrono::minutes kTtl{10};

  void Erase(const std::string& token) {
    pages_.erase(token);
    order_.remove(token);
  }
  void Expire() {
    auto now = Clock::now();
    while (!order_.empty()) {
      auto it = pages_.find(order_.front());
      if (it != pages_.end() && now - it->second.created < kTtl) break;
      if (it != pages_.end()) pages_.erase(it);
      order_.pop_front();
    }
  }
  std::string NewToken() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static const char* hex = "0123456789abcdef";
    std::string t = "pg_";
    for (int i = 0; i < 2; ++i) {
      uint64_t x = rng();
      for (int b = 0; b < 16; ++b) t += hex[(x >> (b * 4)) & 15];
    }
    return t;
  }

  std::mutex mu_;
  std::unordered_map<std::string, Page> pages_;
  std::list<std::string> order_;  // oldest first
};

// Mosaic's scan value shape.
json ScanValue(const Value& v) {
  if (v.is_null()) return {{"null_value", nullptr}};
  if (v.is_int()) return {{"number_value", static_cast<double>(v.as_int())}};
  if (v.is_double()) return {{"number_value", v.as_double()}};
  if (v.is_bool()) return {{"bool_value", v.as_bool()}};
  if (v.is_vector()) {
    json values = json::array();
    for (float f : v.as_vector()) values.push_back({{"number_value", static_cast<double>(f)}});
    return {{"list_value", {{"values", values}}}};
  }
  return {{"string_value", ValueToJson(v).is_string() ? ValueToJson(v).get<std::string>() : v.ToString()}};
}

// A primary key from JSON for the index's key column.
Result<Value> KeyFromJson(const json& j, const DataType& type, const std::string& field) {
  if (j.is_null()) return Status::InvalidArgument(field + ": a primary key must not be null");
  if (type.id == TypeId::kBigint && j.is_string()) {
    auto v = ParseValue(j.get<std::string>(), type);  // Mosaic clients send keys as strings
    if (v.ok() && !v->is_null()) return v;
  }
  return ValueFromJson(j, type, field);
}

struct IndexRoutes {
  access::Governed& governed;
  IndexManager& indexes;
  PageCache pages;

  Result<TableName> Name(const Call& call) { return ParseName(call.Param(1), "index_name"); }

  Result<json> Create(const Call& call) {
    VESTA_ASSIGN_OR_RETURN(IndexDefinition d, DefinitionFromRequest(call.body));
    VESTA_ASSIGN_OR_RETURN(IndexStatus s, indexes.Create(call.caller, std::move(d)));
    return StatusToJson(s);
  }

  Result<json> List(const Call& call) {
    VESTA_ASSIGN_OR_RETURN(std::vector<IndexStatus> all, indexes.List(call.caller));
    std::optional<std::string> endpoint = call.Query("endpoint_name");
    json out = json::array();
    for (const IndexStatus& s : all) {
      const IndexDefinition& d = s.definition;
      if (endpoint && !endpoint->empty() && d.endpoint_name != *endpoint) continue;
      out.push_back({{"name", d.name.ToString()},
                     {"endpoint_name", d.endpoint_name},
                     {"primary_key", d.primary_key},
                     {"index_type", IndexTypeName(d.type)},
                     {"creator", d.creator}});
    }
    return json{{"vector_indexes", out}, {"next_page_token", ""}};
  }

  Result<json> Describe(const Call& call) {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(call));
    VESTA_ASSIGN_OR_RETURN(IndexStatus s, indexes.Describe(call.caller, name));
    return StatusToJson(s);
  }

  Result<json> Drop(const Call& call) {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(call));
    VESTA_RETURN_IF_ERROR(indexes.Drop(call.caller, name));
    return json::object();
  }

  Result<json> Sync(const Call& call) {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(call));
    VESTA_ASSIGN_OR_RETURN(ingest::SyncReport r, indexes.Sync(call.caller, name));
    return json{{"from_version", r.from_version},
                {"to_version", r.to_version},
                {"inserted", r.inserted},
                {"updated", r.updated},
                {"deleted", r.deleted},
                {"rebuilt", r.rebuilt},
                {"reason", r.reason}};
  }

  Result<json> Query(const Call& call) {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(call));
    const json& b = call.body;
    VESTA_ASSIGN_OR_RETURN(auto query_type, OptionalString(b, "query_type"));
    std::string qt = AsciiUpper(query_type.value_or("ANN"));
    if (qt == "HYBRID" || qt == "FULL_TEXT") {
      return Status::InvalidArgument("query_type: " + qt + " is not supported yet (only ANN)");
    }
    if (qt != "ANN")
      return Status::InvalidArgument("query_type: expected ANN, HYBRID or FULL_TEXT, got '" + qt + "'");
    auto cols = b.find("columns");
    if (cols == b.end() || cols->is_null())
      return Status::InvalidArgument("columns: required (an array of column names)");
    VESTA_ASSIGN_OR_RETURN(std::vector<std::string> columns, StringList(b, "columns"));
    auto qv = b.find("query_vector");
    if (qv == b.end() || qv->is_null()) {
      VESTA_ASSIGN_OR_RETURN(auto text, OptionalString(b, "query_text"));
      VESTA_ASSIGN_OR_RETURN(auto alias, OptionalString(b, "query"));
      if (text || alias) {
        return Status::InvalidArgument(
            std::string(text ? "query_text" : "query") +
            ": not supported: the index has no embedding model; send query_vector");
      }
      return Status::InvalidArgument("query_vector: required for an ANN query (an array of floats)");
    }
    access::IndexQuery q;
    VESTA_ASSIGN_OR_RETURN(q.vector, FloatList(*qv, "query_vector"));
    VESTA_ASSIGN_OR_RETURN(auto num, OptionalInt(b, "num_results"));
    int64_t k = num.value_or(10);
    if (k < 1 || k > kMaxNumResults) {
      return Status::InvalidArgument("num_results: expected 1.." + std::to_string(kMaxNumResults) + ", got " +
                                     std::to_string(k));
    }
    q.k = static_cast<size_t>(k);
    VESTA_ASSIGN_OR_RETURN(q.filter, QueryFilter(b));
    VESTA_ASSIGN_OR_RETURN(auto ef, OptionalInt(b, "ef_search"));
    if (ef) {
      if (*ef < 1 || *ef > 4096)
        return Status::InvalidArgument("ef_search: expected 1..4096, got " + std::to_string(*ef));
      q.ef_search = static_cast<int>(*ef);
    }
    VESTA_ASSIGN_OR_RETURN(auto threshold, OptionalNumber(b, "score_threshold"));
    VESTA_ASSIGN_OR_RETURN(auto page_size, OptionalInt(b, "page_size"));
    if (page_size && (*page_size < 1 || *page_size > kMaxNumResults)) {
      return Status::InvalidArgument("page_size: expected 1.." + std::to_string(kMaxNumResults) + ", got " +
                                     std::to_string(*page_size));
    }
    // Governed returns the primary key first; the manifest lists exactly the
    // columns asked for (as Mosaic), then the score.
    for (const std::string& c : columns) {
      if (c.empty()) return Status::InvalidArgument("columns: a column name must not be empty");
    }
    q.columns = columns;
    VESTA_RETURN_IF_ERROR(call.CheckDeadline("query parsing"));
    VESTA_ASSIGN_OR_RETURN(QueryAnswer a, indexes.Query(call.caller, name, q));
    const access::IndexQueryResult& r = a.result;
    std::vector<int> pick;
    json manifest_cols = json::array();
    for (const std::string& c : columns) {
      int at = -1;
      for (size_t i = 0; i + 1 < r.columns.size(); ++i) {
        if (EqualsIgnoreCase(r.columns[i], c)) at = static_cast<int>(i);
      }
      if (at < 0) return Status::Internal("query result lacks requested column " + c);
      pick.push_back(at);
      manifest_cols.push_back({{"name", r.columns[at]}});
    }
    manifest_cols.push_back({{"name", "score"}});
    std::deque<json> rows;
    for (size_t i = 0; i < r.rows.size(); ++i) {
      double score = r.scores[i];
      if (a.metric == index::Metric::kL2) score = 1.0 / (1.0 + std::max(0.0, score));
      if (threshold && score < *threshold) continue;
      json row = json::array();
      for (int p : pick) row.push_back(ValueToJson(r.rows[i][p]));
      row.push_back(score);
      rows.push_back(std::move(row));
    }
    json manifest = {{"column_count", manifest_cols.size()}, {"columns", manifest_cols}};
    json vesta = {{"index_version", r.index_version},
                  {"source_table", a.source_table},
                  {"source_table_version", r.index_version},
                  {"source_current_version", a.source_current_version},
                  {"versions_behind", a.versions_behind},
                  {"plan", std::string(index::SearchPlanName(r.plan))},
                  {"query_id", r.query_id}};
    size_t first = page_size ? static_cast<size_t>(*page_size) : rows.size();
    json data = json::array();
    while (!rows.empty() && data.size() < first) {
      data.push_back(std::move(rows.front()));
      rows.pop_front();
    }
    std::string token;
    if (!rows.empty()) {
      token = pages.Put({call.caller.user, manifest, std::move(rows), vesta, first, {}});
    }
    return json{{"manifest", manifest},
                {"result", {{"row_count", data.size()}, {"data_array", data}}},
                {"next_page_token", token},
                {"vesta", vesta}};
  }

  Result<json> NextPage(const Call& call) {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(call));
    (void)name;
    VESTA_ASSIGN_OR_RETURN(std::string token, RequiredString(call.body, "page_token"));
    return pages.Next(token, call.caller.user);
  }

  Result<json> Scan(const Call& call) {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(call));
    VESTA_ASSIGN_OR_RETURN(auto num, OptionalInt(call.body, "num_results"));
    int64_t n = num.value_or(100);
    if (n < 1 || n > kMaxScanResults) {
      return Status::InvalidArgument("num_results: expected 1.." + std::to_string(kMaxScanResults) +
                                     ", got " + std::to_string(n));
    }
    VESTA_ASSIGN_OR_RETURN(IndexManager::Handle h, indexes.Find(call.caller, name));
    access::IndexScanRequest req;
    req.num_results = static_cast<size_t>(n);
    auto last = call.body.find("last_primary_key");
    if (last != call.body.end() && !last->is_null() &&
        !(last->is_string() && last->get<std::string>().empty())) {
      VESTA_ASSIGN_OR_RETURN(req.after_primary_key,
                             KeyFromJson(*last, h.index->spec().primary_key.type, "last_primary_key"));
    }
    VESTA_ASSIGN_OR_RETURN(access::IndexScanResult r, governed.ScanIndex(call.caller, h.ref, req));
    json data = json::array();
    for (const Row& row : r.rows) {
      json fields = json::array();
      for (size_t i = 0; i < r.columns.size() && i < row.size(); ++i) {
        fields.push_back({{"key", r.columns[i]}, {"value", ScanValue(row[i])}});
      }
      data.push_back({{"fields", fields}});
    }
    return json{
        {"data", data},
        {"last_primary_key", r.last_primary_key.is_null() ? json(nullptr) : ValueToJson(r.last_primary_key)},
        {"vesta", {{"index_version", r.index_version}}}};
  }

  static json WriteJson(const WriteAnswer& a) {
    return {{"status", a.status},
            {"result",
             {{"success_row_count", a.success_row_count}, {"failed_primary_keys", a.failed_primary_keys}}},
            {"vesta",
             {{"errors", a.errors}, {"table_version", a.table_version}, {"index_version", a.index_version}}}};
  }

  Result<json> Upsert(const Call& call) {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(call));
    VESTA_ASSIGN_OR_RETURN(std::string inputs, RequiredString(call.body, "inputs_json"));
    json arr = json::parse(inputs, nullptr, false);
    if (arr.is_discarded() || !arr.is_array()) {
      return Status::InvalidArgument("inputs_json: expected a JSON string holding an array of row objects");
    }
    VESTA_ASSIGN_OR_RETURN(IndexManager::Handle h, indexes.Find(call.caller, name));
    if (h.definition.type != IndexType::kDirectAccess) {
      return Status::FailedPrecondition(
          "index " + name.ToString() + " is a DELTA_SYNC index of " + h.definition.source_table.ToString() +
          ": write to that table instead (upsert-data is for DIRECT_ACCESS indexes)");
    }
    const Schema& schema = h.definition.direct_schema;
    int pk = schema.primary_key_index();
    std::vector<Row> rows;
    WriteAnswer failed;
    for (size_t i = 0; i < arr.size(); ++i) {
      auto row = RowFromJson(arr[i], schema, "inputs_json[" + std::to_string(i) + "]");
      if (row.ok()) {
        rows.push_back(std::move(row).value());
        continue;
      }
      std::string key;
      if (arr[i].is_object()) {
        for (auto it = arr[i].begin(); it != arr[i].end(); ++it) {
          if (EqualsIgnoreCase(it.key(), schema.columns[pk].name)) {
            key = it.value().is_string() ? it.value().get<std::string>() : JsonDump(it.value());
          }
        }
      }
      failed.failed_primary_keys.push_back(key);
      failed.errors.push_back(row.status().message());
    }
    VESTA_ASSIGN_OR_RETURN(WriteAnswer a,
                           indexes.UpsertData(call.caller, name, std::move(rows), std::move(failed)));
    return WriteJson(a);
  }

  Result<json> DeleteRows(const Call& call) {
    VESTA_ASSIGN_OR_RETURN(TableName name, Name(call));
    VESTA_ASSIGN_OR_RETURN(IndexManager::Handle h, indexes.Find(call.caller, name));
    json keys_json = json::array();
    auto it = call.body.find("primary_keys");
    if (it != call.body.end() && !it->is_null()) {
      if (!it->is_array()) return Status::InvalidArgument("primary_keys: expected an array of primary keys");
      keys_json = *it;
    } else if (call.req.has_param("primary_keys")) {
      for (size_t i = 0; i < call.req.get_param_value_count("primary_keys"); ++i) {
        keys_json.push_back(call.req.get_param_value("primary_keys", i));
      }
    } else {
      return Status::InvalidArgument("primary_keys: required (an array of primary keys)");
    }
    std::vector<Value> keys;
    const DataType& type = h.index->spec().primary_key.type;
    for (size_t i = 0; i < keys_json.size(); ++i) {
      VESTA_ASSIGN_OR_RETURN(Value v,
                             KeyFromJson(keys_json[i], type, "primary_keys[" + std::to_string(i) + "]"));
      keys.push_back(std::move(v));
    }
    VESTA_ASSIGN_OR_RETURN(WriteAnswer a, indexes.DeleteData(call.caller, name, std::move(keys)));
    return WriteJson(a);
  }
};

}  // namespace

void RegisterIndexRoutes(Router& router, IndexManager& indexes) {
  // Lives as long as the process's routes (the server's handlers hold it).
  std::shared_ptr<IndexRoutes> routes(new IndexRoutes{router.governed(), indexes});
  auto bind = [routes](Result<json> (IndexRoutes::*f)(const Call&)) {
    return [routes, f](const Call& call) { return ((*routes).*f)(call); };
  };
  router.Post(kIndexes, bind(&IndexRoutes::Create));
  router.Get(kIndexes, bind(&IndexRoutes::List));
  router.Get(Route(""), bind(&IndexRoutes::Describe));
  router.Delete(Route(""), bind(&IndexRoutes::Drop));
  router.Post(Route("/sync"), bind(&IndexRoutes::Sync));
  router.Post(Route("/query"), bind(&IndexRoutes::Query));
  router.Get(Route("/query"), bind(&IndexRoutes::Query));
  router.Post(Route("/query-next-page"), bind(&IndexRoutes::NextPage));
  router.Get(Route("/query-next-page"), bind(&IndexRoutes::NextPage));
  router.Post(Route("/scan"), bind(&IndexRoutes::Scan));
  router.Get(Route("/scan"), bind(&IndexRoutes::Scan));
  router.Post(Route("/upsert-data"), bind(&IndexRoutes::Upsert));
  router.Delete(Route("/delete-data"), bind(&IndexRoutes::DeleteRows));
}

}  // namespace vesta::service::internal
