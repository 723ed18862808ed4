// "Find similar cases" over HTTP (issue #6), a Vesta extension of the
// Mosaic index routes:
//
//   POST /api/2.0/vector-search/indexes/{index_name}/similar-cases
//
// Request (every field but one query form optional):
//   {"example": {"column": "patient_id", "value": "TCGA-06-0139"}   (or "example": "<primary key>")
//    | "query_vector": [...]  | "raw_features": [... null = missing],
//    "feature_stats_table": "main.imaging.radiomics_feature_stats", "feature_stats_version": 2,
//    "num_results": 10, "columns": ["study_id", "cohort"],
//    "filters_json": "{\"cohort\": \"GBM\"}", "filter_string": "tissue_source_site IN ('06', '08')",
//    "join_key": "patient_id", "source_version": 3, "ef_search": 128,
//    "joins": [{"name": "clinical", "table": "main.clinical.patients", "on": "patient_id",
//               "columns": ["age_at_diagnosis", "subtype"], "filter": "age_at_diagnosis BETWEEN 40 AND 70",
//               "restrict_cases": true, "version": 2}],
//    "summary": {"categorical": [{"join": "clinical", "column": "subtype"}],
//                "numeric": [{"join": "clinical", "column": "age_at_diagnosis"}],
//                "genes": {"join": "mutations", "column": "hugo_symbol", "genes": ["IDH1", "EGFR"]},
//                "survival": {"join": "clinical", "time_column": "os_months", "event_column": "os_event"}}}
// Response: Mosaic's manifest + result (the cases, the score last), then
//   "joins": {"<name>": {"table", "version", "columns", "rows_per_case": [[row...] per case]}},
//   "summary": {...} (service/similar_cases.cc; null when none was asked),
//   "provenance": {"id": "sc-...", "index", "index_version", "source_table", "source_version", "plan",
//                  "reads": [{"role", "kind", "name", "version", "query_id"}]}.
// The semantics are SimilarCases::Run's (service/similar_cases.h).
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "service/internal/http.h"
#include "service/internal/routes.h"
#include "service/similar_cases.h"

namespace vesta::service::internal {
namespace {

using governance::TableName;

// A JSON string, integer, number or boolean as a Value.
Result<Value> ScalarFromJson(const json& v, std::string_view field) {
  if (v.is_string()) return Value::Str(v.get<std::string>());
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return Status::InvalidArgument(std::string(field) + ": integer out of range: " + v.dump());
  }
  if (v.is_number_integer()) return Value::Int(v.get<int64_t>());
  if (v.is_number_float()) return Value::Real(v.get<double>());
  if (v.is_boolean()) return Value::Bool(v.get<bool>());
  return Status::InvalidArgument(std::string(field) + ": expected a string, number or boolean, got " +
                                 v.dump());
}

Result<std::optional<int64_t>> Version(const json& body, std::string_view field) {
  VESTA_ASSIGN_OR_RETURN(auto v, OptionalInt(body, field));
  if (v && *v < 0)
    return Status::InvalidArgument(std::string(field) + ": expected a version >= 0, got " +
                                   std::to_string(*v));
  return v;
}

Result<std::vector<SummaryFeature>> Features(const json& summary, const std::string& field) {
  std::vector<SummaryFeature> out;
  auto it = summary.find(field);
  if (it == summary.end() || it->is_null()) return out;
  if (!it->is_array())
    return Status::InvalidArgument("summary." + field + ": expected an array of {join, column}");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& f = (*it)[i];
    const std::string where = "summary." + field + "[" + std::to_string(i) + "]";
    if (!f.is_object()) return Status::InvalidArgument(where + ": expected an object {join, column}");
    SummaryFeature sf;
    VESTA_ASSIGN_OR_RETURN(sf.join, RequiredString(f, "join"));
    VESTA_ASSIGN_OR_RETURN(sf.column, RequiredString(f, "column"));
    out.push_back(std::move(sf));
  }
  return out;
}

Result<SummaryRequest> Summary(const json& body) {
  SummaryRequest s;
  auto it = body.find("summary");
  if (it == body.end() || it->is_null()) return s;
  if (!it->is_object()) return Status::InvalidArgument("summary: expected an object");
  const json& b = *it;
  for (auto k = b.begin(); k != b.end(); ++k) {
    if (k.key() != "categorical" && k.key() != "numeric" && k.key() != "genes" && k.key() != "survival") {
      return Status::InvalidArgument("summary: unknown field '" + k.key() +
                                     "' (expected categorical, numeric, genes, survival)");
    }
  }
  VESTA_ASSIGN_OR_RETURN(s.categorical, Features(b, "categorical"));
  VESTA_ASSIGN_OR_RETURN(s.numeric, Features(b, "numeric"));
  if (auto g = b.find("genes"); g != b.end() && !g->is_null()) {
    if (!g->is_object())
      return Status::InvalidArgument("summary.genes: expected an object {join, column, genes}");
    VESTA_ASSIGN_OR_RETURN(s.gene_join, RequiredString(*g, "join"));
    VESTA_ASSIGN_OR_RETURN(auto column, OptionalString(*g, "column"));
    if (column) s.gene_column = *column;
    VESTA_ASSIGN_OR_RETURN(s.genes, StringList(*g, "genes"));
    if (s.genes.empty()) return Status::InvalidArgument("summary.genes.genes: list at least one gene");
  }
  if (auto v = b.find("survival"); v != b.end() && !v->is_null()) {
    if (!v->is_object()) {
      return Status::InvalidArgument(
          "summary.survival: expected an object {join, time_column, event_column}");
    }
    VESTA_ASSIGN_OR_RETURN(s.survival_join, RequiredString(*v, "join"));
    VESTA_ASSIGN_OR_RETURN(auto time, OptionalString(*v, "time_column"));
    VESTA_ASSIGN_OR_RETURN(auto event, OptionalString(*v, "event_column"));
    if (time) s.survival_time_column = *time;
    if (event) s.survival_event_column = *event;
  }
  return s;
}

Result<std::vector<CaseJoin>> Joins(const json& body) {
  std::vector<CaseJoin> out;
  auto it = body.find("joins");
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_array()) return Status::InvalidArgument("joins: expected an array of {name, table, ...}");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& j = (*it)[i];
    const std::string where = "joins[" + std::to_string(i) + "]";
    if (!j.is_object()) return Status::InvalidArgument(where + ": expected an object {name, table, ...}");
    CaseJoin c;
    VESTA_ASSIGN_OR_RETURN(c.name, RequiredString(j, "name"));
    VESTA_ASSIGN_OR_RETURN(std::string table, RequiredString(j, "table"));
    VESTA_ASSIGN_OR_RETURN(c.table, ParseName(table, where + ".table"));
    VESTA_ASSIGN_OR_RETURN(auto on, OptionalString(j, "on"));
    if (on) c.on = *on;
    VESTA_ASSIGN_OR_RETURN(c.columns, StringList(j, "columns"));
    VESTA_ASSIGN_OR_RETURN(auto filter, OptionalString(j, "filter"));
    if (filter) c.filter = *filter;
    VESTA_ASSIGN_OR_RETURN(auto restrict, OptionalBool(j, "restrict_cases"));
    c.restrict_cases = restrict.value_or(false);
    VESTA_ASSIGN_OR_RETURN(c.version, Version(j, "version"));
    out.push_back(std::move(c));
  }
  return out;
}

json ProvenanceJson(const SimilarCasesAnswer& a, const TableName& index) {
  json reads = json::array();
  for (const ReadProvenance& r : a.reads) {
    reads.push_back({{"role", r.role},
                     {"kind", r.kind},
                     {"name", r.name.ToString()},
                     {"version", r.version},
                     {"query_id", r.query_id}});
  }
  return {{"id", a.similar_cases_id},
          {"index", index.ToString()},
          {"index_version", a.index_version >= 0 ? json(a.index_version) : json(nullptr)},
          {"source_table", a.source_table.ToString()},
          {"source_version", a.source_version},
          {"plan", a.plan},
          {"reads", reads}};
}

}  // namespace

void RegisterSimilarCasesRoutes(Router& router, IndexManager& indexes) {
  auto engine = std::make_shared<SimilarCases>(router.governed(), indexes);
  router.Post(
      "/api/2.0/vector-search/indexes/{index_name}/similar-cases",
      [engine](const Call& call) -> Result<json> {
        const json& b = call.body;
        SimilarCasesRequest req;
        VESTA_ASSIGN_OR_RETURN(req.index, ParseName(call.Param(1), "index_name"));
        if (auto ex = b.find("example"); ex != b.end() && !ex->is_null()) {
          CaseExample e;
          const json* value = &*ex;
          if (ex->is_object()) {
            VESTA_ASSIGN_OR_RETURN(auto column, OptionalString(*ex, "column"));
            e.column = column.value_or("");
            auto v = ex->find("value");
            if (v == ex->end() || v->is_null()) {
              return Status::InvalidArgument("example.value: required (the case's key)");
            }
            value = &*v;
          }
          // Untyped: it becomes a literal of the example's filter, which is
          // bound to the column's type by the governed read (after the
          // privilege check: nothing about the index is looked at here).
          VESTA_ASSIGN_OR_RETURN(e.value, ScalarFromJson(*value, "example.value"));
          req.example = std::move(e);
        }
        if (auto qv = b.find("query_vector"); qv != b.end() && !qv->is_null()) {
          VESTA_ASSIGN_OR_RETURN(req.vector, FloatList(*qv, "query_vector"));
        }
        if (auto raw = b.find("raw_features"); raw != b.end() && !raw->is_null()) {
          if (!raw->is_array()) return Status::InvalidArgument("raw_features: expected an array of numbers");
          for (size_t i = 0; i < raw->size(); ++i) {
            const json& x = (*raw)[i];
            if (x.is_null()) {
              req.raw_features.push_back(std::numeric_limits<double>::quiet_NaN());  // missing: the mean
            } else if (x.is_number() && std::isfinite(x.get<double>())) {
              req.raw_features.push_back(x.get<double>());
            } else {
              return Status::InvalidArgument("raw_features[" + std::to_string(i) +
                                             "]: expected a finite number or null, got " + x.dump());
            }
          }
          if (req.raw_features.empty()) return Status::InvalidArgument("raw_features: empty");
        }
        VESTA_ASSIGN_OR_RETURN(auto stats_table, OptionalString(b, "feature_stats_table"));
        if (stats_table) {
          VESTA_ASSIGN_OR_RETURN(TableName t, ParseName(*stats_table, "feature_stats_table"));
          req.feature_stats_table = t;
        }
        VESTA_ASSIGN_OR_RETURN(req.feature_stats_version, Version(b, "feature_stats_version"));
        VESTA_ASSIGN_OR_RETURN(auto num, OptionalInt(b, "num_results"));
        const int64_t k = num.value_or(10);
        if (k < 1 || k > 1000) {
          return Status::InvalidArgument("num_results: expected 1..1000, got " + std::to_string(k));
        }
        req.k = static_cast<size_t>(k);
        VESTA_ASSIGN_OR_RETURN(req.columns, StringList(b, "columns"));
        VESTA_ASSIGN_OR_RETURN(req.filter, QueryFilter(b));
        VESTA_ASSIGN_OR_RETURN(auto join_key, OptionalString(b, "join_key"));
        if (join_key) req.join_key = *join_key;
        VESTA_ASSIGN_OR_RETURN(req.source_version, Version(b, "source_version"));
        VESTA_ASSIGN_OR_RETURN(auto ef, OptionalInt(b, "ef_search"));
        if (ef) {
          if (*ef < 1 || *ef > 4096) {
            return Status::InvalidArgument("ef_search: expected 1..4096, got " + std::to_string(*ef));
          }
          req.ef_search = static_cast<int>(*ef);
        }
        VESTA_ASSIGN_OR_RETURN(req.joins, Joins(b));
        VESTA_ASSIGN_OR_RETURN(req.summary, Summary(b));
        VESTA_RETURN_IF_ERROR(call.CheckDeadline("request parsing"));

        VESTA_ASSIGN_OR_RETURN(SimilarCasesAnswer a, engine->Run(call.caller, req));

        json manifest_cols = json::array();
        for (const std::string& c : a.columns) manifest_cols.push_back({{"name", c}});
        manifest_cols.push_back({{"name", "score"}});
        json data = json::array();
        for (size_t i = 0; i < a.rows.size(); ++i) {
          json row = json::array();
          for (const Value& v : a.rows[i]) row.push_back(ValueToJson(v));
          row.push_back(a.scores[i]);
          data.push_back(std::move(row));
        }
        json joins = json::object();
        for (const JoinedRows& j : a.joins) {
          json per_case = json::array();
          for (const auto& rows : j.per_case) {
            json list = json::array();
            for (const Row& r : rows) {
              json row = json::array();
              for (const Value& v : r) row.push_back(ValueToJson(v));
              list.push_back(std::move(row));
            }
            per_case.push_back(std::move(list));
          }
          joins[j.name] = {{"table", j.table.ToString()},
                           {"version", j.version},
                           {"columns", j.columns},
                           {"rows_per_case", per_case}};
        }
        json distances = json::array();
        for (double d : a.distances) distances.push_back(d);
        return json{{"manifest", {{"column_count", manifest_cols.size()}, {"columns", manifest_cols}}},
                    {"result", {{"row_count", a.rows.size()}, {"data_array", data}}},
                    {"distances", distances},
                    {"joins", joins},
                    {"summary", a.summary},
                    {"provenance", ProvenanceJson(a, req.index)}};
      });
}

}  // namespace vesta::service::internal
