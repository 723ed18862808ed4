#include "service/similar_cases.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "filter/ast.h"
#include "filter/parser.h"
#include "index/distance.h"
#include "ingest/demo_cohort.h"
#include "stats/evidence_stats.h"

namespace vesta::service {
namespace {

using governance::ReadOptions;
using governance::ReadResult;
using governance::TableInfo;
using governance::TableName;
using json = nlohmann::json;

constexpr size_t kMaxK = 1000;
// Keys per `IN (...)` read of a joined table (filter/ast.h allows 10,000).
constexpr size_t kKeysPerRead = 5000;

int FindName(const std::vector<std::string>& names, std::string_view name) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (EqualsIgnoreCase(names[i], name)) return static_cast<int>(i);
  }
  return -1;
}

void AddUnique(std::vector<std::string>& names, const std::string& name) {
  if (FindName(names, name) < 0) names.push_back(name);
}

// The text a key is matched by (as the caller sees it: raw or masked).
std::string KeyText(const Value& v) {
  return v.ToString();
}

std::string And(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return "(" + a + ") AND (" + b + ")";
}

// `column IN (keys)` in filter_string form, quoted by the filter AST (no
// text of the caller's is pasted into the filter); FALSE for no keys.
std::string KeyIn(const std::string& column, const std::vector<Value>& keys) {
  if (keys.empty()) return filter::Expr::Constant(filter::Truth::kFalse).ToString();
  std::vector<filter::Operand> values;
  values.reserve(keys.size());
  for (const Value& k : keys) values.push_back(filter::Operand::Literal(k));
  return filter::Expr::In(filter::Operand::Column(column), std::move(values)).ToString();
}

std::string NewCallId() {
  unsigned char b[8];
  if (RAND_bytes(b, sizeof(b)) != 1) {
    // Fall back on the clock: an id need only be unique, not secret.
    const uint64_t t = static_cast<uint64_t>(NowTimestamp().micros);
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(t >> (8 * i));
  }
  char out[24];
  std::snprintf(out, sizeof(out), "sc-%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
                b[6], b[7]);
  return out;
}

double MosaicScore(index::Metric metric, double raw) {
  return metric == index::Metric::kL2 ? 1.0 / (1.0 + std::max(0.0, raw)) : raw;
}

// A JSON number, or null when not finite (an infinite odds ratio, an
// undefined statistic).
json Number(double x) {
  return std::isfinite(x) ? json(x) : json(nullptr);
}

json Proportion(int64_t count, int64_t n) {
  return {{"count", count},
          {"n", n},
          {"proportion", n > 0 ? json(static_cast<double>(count) / n) : json(nullptr)}};
}

json NumericJson(const std::vector<double>& values) {
  const stats::NumericSummary s = stats::Describe(values);
  json out = {{"n", s.n}, {"missing", s.missing}};
  for (const char* f : {"median", "q1", "q3", "min", "max", "mean"}) out[f] = nullptr;
  if (s.n > 0) {
    out["median"] = s.median;
    out["q1"] = s.q1;
    out["q3"] = s.q3;
    out["min"] = s.min;
    out["max"] = s.max;
    out["mean"] = s.mean;
  }
  return out;
}

// Fisher's exact test of "in the similar group" x "has the feature".
json Contrast(int64_t similar_yes, int64_t similar_n, int64_t rest_yes, int64_t rest_n) {
  json out = {{"odds_ratio", nullptr}, {"odds_ratio_conditional_mle", nullptr}, {"fisher_p", nullptr}};
  auto f = stats::FisherExact(similar_yes, similar_n - similar_yes, rest_yes, rest_n - rest_yes);
  if (f.ok()) {
    out["odds_ratio"] = Number(f->odds_ratio);
    out["odds_ratio_conditional_mle"] = Number(f->conditional_mle_odds_ratio);
    out["fisher_p"] = Number(f->p_value);
  }
  return out;
}

json CurveJson(const stats::KaplanMeierCurve& c) {
  json points = json::array();
  for (const auto& p : c.points) {
    points.push_back({{"time", p.time},
                      {"survival", p.survival},
                      {"std_error", Number(p.std_error)},
                      {"at_risk", p.at_risk},
                      {"events", p.events},
                      {"censored", p.censored}});
  }
  return {{"n", c.n},
          {"events", c.events},
          {"median", c.median ? json(*c.median) : json(nullptr)},
          {"curve", points}};
}

struct JoinState {
  const CaseJoin* spec = nullptr;
  std::string on;                         // the joined table's column
  TableInfo info;                         // described at the pinned version
  std::vector<std::string> out_columns;   // returned per case
  std::vector<std::string> read_columns;  // out_columns + on + summary columns
  bool in_summary = false;                // a summary feature reads it: read for the whole population
  // Read rows by key text (read_columns order).
  std::unordered_map<std::string, std::vector<Row>> by_key;
};

}  // namespace

SimilarCases::SimilarCases(access::Governed& governed, IndexManager& indexes)
    : governed_(governed), indexes_(indexes) {}

Result<SimilarCasesAnswer> SimilarCases::Run(const access::Caller& caller, const SimilarCasesRequest& req) {
  // --- Request shape, before any read.
  const int forms = (req.example ? 1 : 0) + (req.vector.empty() ? 0 : 1) + (req.raw_features.empty() ? 0 : 1);
  if (forms != 1) {
    return Status::InvalidArgument(
        "give exactly one of example (a case's key), query_vector (standardised) or raw_features; got " +
        std::to_string(forms));
  }
  if (req.k < 1 || req.k > kMaxK) {
    return Status::InvalidArgument("num_results: expected 1.." + std::to_string(kMaxK) + ", got " +
                                   std::to_string(req.k));
  }
  const bool want_summary = !req.summary.empty();

  // --- The index (privileges first) and its columns.
  VESTA_ASSIGN_OR_RETURN(IndexStatus status, indexes_.Describe(caller, req.index));
  if (!status.ready) {
    return Status::FailedPrecondition("index " + req.index.ToString() + " is not ready: " + status.message);
  }
  VESTA_ASSIGN_OR_RETURN(IndexManager::Handle handle, indexes_.Find(caller, req.index));
  const IndexDefinition& def = status.definition;
  const index::IndexSpec& spec = handle.index->spec();
  const std::string pk = spec.primary_key.name;
  std::vector<std::string> synced = {pk};
  for (const Column& c : spec.attributes.columns) AddUnique(synced, c.name);
  std::vector<std::string> columns = req.columns.empty() ? synced : req.columns;
  for (const std::string& c : columns) {
    if (FindName(synced, c) < 0) {
      return Status::InvalidArgument("columns: '" + c + "' is not a column of index " + req.index.ToString() +
                                     " (synced: " +
                                     [&] {
                                       std::string all;
                                       for (const auto& s : synced) all += (all.empty() ? "" : ", ") + s;
                                       return all;
                                     }() +
                                     ")");
    }
  }
  // The filter may name only the index's columns, whichever path answers
  // (the table scan below could read others; the index could not).
  if (!req.filter.empty()) {
    VESTA_ASSIGN_OR_RETURN(filter::Expr parsed, filter::ParseFilterString(req.filter));
    for (const std::string& c : filter::ReferencedColumns(parsed)) {
      if (FindName(synced, c) < 0) {
        return Status::InvalidArgument(
            "filter: column '" + c + "' is not synced to index " + req.index.ToString() +
            " (filter on a joined table's columns with joins[].filter and restrict_cases)");
      }
    }
  }

  const bool need_key = !req.joins.empty() || want_summary;
  if (need_key && FindName(synced, req.join_key) < 0) {
    return Status::InvalidArgument("join_key: '" + req.join_key + "' is not a column of index " +
                                   req.index.ToString());
  }
  // The search returns the primary key first, then these.
  std::vector<std::string> search_columns;
  for (const std::string& c : columns) {
    if (!EqualsIgnoreCase(c, pk)) AddUnique(search_columns, c);
  }
  if (need_key && !EqualsIgnoreCase(req.join_key, pk)) AddUnique(search_columns, req.join_key);
  if (!req.vector.empty() && req.vector.size() != spec.dimension) {
    return Status::InvalidArgument("query_vector: expected " + std::to_string(spec.dimension) +
                                   " values, got " + std::to_string(req.vector.size()));
  }
  if (!req.raw_features.empty() && req.raw_features.size() != spec.dimension) {
    return Status::InvalidArgument("raw_features: expected " + std::to_string(spec.dimension) +
                                   " values, got " + std::to_string(req.raw_features.size()));
  }

  SimilarCasesAnswer out;
  out.source_table = def.source_table;
  out.similar_cases_id = NewCallId();

  // --- Joined tables: privileges, pinned versions, columns (before searching).
  std::vector<JoinState> joins(req.joins.size());
  for (size_t i = 0; i < req.joins.size(); ++i) {
    const CaseJoin& j = req.joins[i];
    const std::string where = "joins[" + std::to_string(i) + "]";
    if (j.name.empty()) return Status::InvalidArgument(where + ".name: required");
    for (size_t p = 0; p < i; ++p) {
      if (EqualsIgnoreCase(req.joins[p].name, j.name)) {
        return Status::InvalidArgument(where + ".name: '" + j.name + "' is used twice");
      }
    }
    JoinState& js = joins[i];
    js.spec = &j;
    governance::VersionSpec at;
    at.version = j.version;
    VESTA_ASSIGN_OR_RETURN(js.info, governed_.DescribeTable(caller, j.table, at));
    js.on = j.on.empty() ? req.join_key : j.on;
    if (js.info.schema.FindColumn(js.on) < 0) {
      return Status::InvalidArgument(where + ".on: '" + js.on + "' is not a column of " + j.table.ToString());
    }
    if (j.columns.empty()) {
      for (const Column& c : js.info.schema.columns) {
        if (c.type.id != TypeId::kVector) js.out_columns.push_back(c.name);
      }
    } else {
      for (const std::string& c : j.columns) {
        if (js.info.schema.FindColumn(c) < 0) {
          return Status::InvalidArgument(where + ".columns: '" + c + "' is not a column of " +
                                         j.table.ToString());
        }
        AddUnique(js.out_columns, c);
      }
    }
    js.read_columns = js.out_columns;
    AddUnique(js.read_columns, js.on);
  }
  auto join_named = [&](const std::string& name, const std::string& field) -> Result<JoinState*> {
    for (JoinState& js : joins) {
      if (EqualsIgnoreCase(js.spec->name, name)) return &js;
    }
    return Status::InvalidArgument(field + ": no join named '" + name + "' in joins");
  };
  auto need_column = [&](JoinState& js, const std::string& column, const std::string& field) -> Status {
    if (js.info.schema.FindColumn(column) < 0) {
      return Status::InvalidArgument(field + ": '" + column + "' is not a column of " +
                                     js.spec->table.ToString());
    }
    AddUnique(js.read_columns, column);
    js.in_summary = true;
    return Status::OK();
  };
  const SummaryRequest& sr = req.summary;
  for (size_t i = 0; i < sr.categorical.size(); ++i) {
    const std::string f = "summary.categorical[" + std::to_string(i) + "]";
    VESTA_ASSIGN_OR_RETURN(JoinState * js, join_named(sr.categorical[i].join, f + ".join"));
    VESTA_RETURN_IF_ERROR(need_column(*js, sr.categorical[i].column, f + ".column"));
  }
  for (size_t i = 0; i < sr.numeric.size(); ++i) {
    const std::string f = "summary.numeric[" + std::to_string(i) + "]";
    VESTA_ASSIGN_OR_RETURN(JoinState * js, join_named(sr.numeric[i].join, f + ".join"));
    VESTA_RETURN_IF_ERROR(need_column(*js, sr.numeric[i].column, f + ".column"));
  }
  JoinState* gene_join = nullptr;
  if (!sr.genes.empty() || !sr.gene_join.empty()) {
    if (sr.genes.empty()) return Status::InvalidArgument("summary.genes: list at least one gene");
    VESTA_ASSIGN_OR_RETURN(gene_join, join_named(sr.gene_join, "summary.gene_join"));
    VESTA_RETURN_IF_ERROR(need_column(*gene_join, sr.gene_column, "summary.gene_column"));
  }
  JoinState* survival_join = nullptr;
  if (!sr.survival_join.empty()) {
    VESTA_ASSIGN_OR_RETURN(survival_join, join_named(sr.survival_join, "summary.survival.join"));
    VESTA_RETURN_IF_ERROR(
        need_column(*survival_join, sr.survival_time_column, "summary.survival.time_column"));
    VESTA_RETURN_IF_ERROR(
        need_column(*survival_join, sr.survival_event_column, "summary.survival.event_column"));
  }

  // --- The source version searched.
  const int64_t version = req.source_version.value_or(status.index_version);
  if (version < 0)
    return Status::InvalidArgument("source_version: expected >= 0, got " + std::to_string(version));
  if (version > status.source_version) {
    return Status::InvalidArgument("source_version: " + def.source_table.ToString() + " has no version " +
                                   std::to_string(version) +
                                   " (current: " + std::to_string(status.source_version) + ")");
  }
  out.source_version = version;
  auto note = [&out](std::string role, std::string kind, const TableName& name, int64_t v, std::string qid) {
    out.reads.push_back({std::move(role), std::move(kind), name, v, std::move(qid)});
  };

  // --- The query vector.
  std::vector<float> query = req.vector;
  std::set<std::string> excluded;  // primary keys (as the caller sees them) of the example's rows
  if (!req.raw_features.empty()) {
    const TableName stats_table = req.feature_stats_table.value_or(TableName{
        def.source_table.catalog, def.source_table.schema, def.source_table.table + "_feature_stats"});
    ReadOptions ro;
    ro.at.version = req.feature_stats_version;
    ro.columns = {"feature_index", "mean", "sd"};
    ro.order_by_primary_key = true;
    VESTA_ASSIGN_OR_RETURN(ReadResult st, governed_.ReadTable(caller, stats_table, ro));
    note("feature_stats", "table", stats_table, st.version, st.query_id);
    if (st.rows.size() != spec.dimension) {
      return Status::InvalidArgument("feature_stats_table: " + stats_table.ToString() + " has " +
                                     std::to_string(st.rows.size()) + " rows you can see; the index has " +
                                     std::to_string(spec.dimension) + " features");
    }
    std::vector<double> mean(spec.dimension), sd(spec.dimension);
    for (size_t i = 0; i < st.rows.size(); ++i) {
      const Row& r = st.rows[i];
      if (!r[0].is_int() || r[0].as_int() != static_cast<int64_t>(i)) {
        return Status::InvalidArgument("feature_stats_table: " + stats_table.ToString() +
                                       ": expected feature_index 0.." + std::to_string(spec.dimension - 1));
      }
      mean[i] = (r[1].is_int() || r[1].is_double()) ? r[1].as_number() : 0.0;
      sd[i] = (r[2].is_int() || r[2].is_double()) ? r[2].as_number() : 0.0;
    }
    query = ingest::StandardizeFeatures(req.raw_features, mean, sd);
  } else if (req.example) {
    const std::string column = req.example->column.empty() ? pk : req.example->column;
    if (FindName(synced, column) < 0) {
      return Status::InvalidArgument("example.column: '" + column + "' is not a column of index " +
                                     req.index.ToString());
    }
    ReadOptions ro;
    ro.at.version = version;
    ro.columns = {pk, def.vector_column};
    ro.predicate = filter::Expr::Compare(filter::Operand::Column(column), filter::CompareOp::kEq,
                                         filter::Operand::Literal(req.example->value))
                       .ToString();
    ro.order_by_primary_key = true;
    VESTA_ASSIGN_OR_RETURN(ReadResult ex, governed_.ReadTable(caller, def.source_table, ro));
    note("example", "table", def.source_table, ex.version, ex.query_id);
    for (const Row& r : ex.rows) {
      if (query.empty() && r[1].is_vector()) query = r[1].as_vector();
      excluded.insert(KeyText(r[0]));
    }
    if (query.empty()) {
      return Status::NotFound("example: no row of " + def.source_table.ToString() + " at version " +
                              std::to_string(version) + " with " + column + " = " +
                              req.example->value.ToString() + " that you can see");
    }
  }
  for (size_t i = 0; i < query.size(); ++i) {
    if (!std::isfinite(query[i])) {
      return Status::InvalidArgument("query_vector[" + std::to_string(i) + "]: expected a finite number");
    }
  }

  // --- Restricting joins: the qualifying keys go into the search filter.
  std::string search_filter = req.filter;
  for (JoinState& js : joins) {
    if (!js.spec->restrict_cases) continue;
    ReadOptions ro;
    ro.at.version = js.info.version;
    ro.columns = {js.on};
    ro.predicate = js.spec->filter;
    VESTA_ASSIGN_OR_RETURN(ReadResult r, governed_.ReadTable(caller, js.spec->table, ro));
    note("restrict:" + js.spec->name, "table", js.spec->table, r.version, r.query_id);
    std::vector<Value> keys;
    std::unordered_set<std::string> seen;
    for (const Row& row : r.rows) {
      if (!row[0].is_null() && seen.insert(KeyText(row[0])).second) keys.push_back(row[0]);
    }
    if (keys.size() > filter::kMaxInListItems) {
      return Status::InvalidArgument("joins: '" + js.spec->name + "' restricts the cases to " +
                                     std::to_string(keys.size()) + " keys, over the " +
                                     std::to_string(filter::kMaxInListItems) +
                                     " a search filter takes; narrow its filter");
    }
    search_filter = And(search_filter, KeyIn(req.join_key, keys));
  }

  // --- The search: the index at its snapshot, or an exact scan of the table at `version`.
  const size_t want = req.k + excluded.size();
  struct Hit {
    Row row;  // pk, search_columns...
    double distance;
  };
  std::vector<Hit> hits;
  bool searched = false;
  if (version == status.index_version) {
    access::IndexQuery q;
    q.vector = query;
    q.k = std::min(want, kMaxK + excluded.size());
    q.filter = search_filter;
    q.ef_search = req.ef_search;
    q.columns = search_columns;
    VESTA_ASSIGN_OR_RETURN(QueryAnswer a, indexes_.Query(caller, req.index, q));
    if (a.result.index_version == version) {  // else a sync moved the index on meanwhile
      searched = true;
      out.index_version = a.result.index_version;
      out.plan = std::string(index::SearchPlanName(a.result.plan));
      note("search", "index", req.index, a.result.index_version, a.result.query_id);
      for (size_t i = 0; i < a.result.rows.size(); ++i) {
        Row r(a.result.rows[i].begin(),
              a.result.rows[i].begin() + 1 + static_cast<long>(search_columns.size()));
        hits.push_back({std::move(r), static_cast<double>(a.result.scores[i])});
      }
    }
  }
  if (!searched) {
    ReadOptions ro;
    ro.at.version = version;
    ro.columns = {pk};
    for (const std::string& c : search_columns) ro.columns.push_back(c);
    ro.columns.push_back(def.vector_column);
    ro.predicate = search_filter;
    VESTA_ASSIGN_OR_RETURN(ReadResult r, governed_.ReadTable(caller, def.source_table, ro));
    note("search", "table", def.source_table, r.version, r.query_id);
    out.plan = "table_scan";
    std::vector<float> qn = query;
    if (def.metric == index::Metric::kCosine) index::Normalize(qn.data(), qn.size());
    for (Row& row : r.rows) {
      const Value& v = row.back();
      if (!v.is_vector() || v.as_vector().size() != qn.size()) continue;
      std::vector<float> x = v.as_vector();
      double d = 0;
      if (def.metric == index::Metric::kL2) {
        d = index::L2Sqr(qn.data(), x.data(), x.size());
      } else {
        if (def.metric == index::Metric::kCosine) index::Normalize(x.data(), x.size());
        d = index::InnerProduct(qn.data(), x.data(), x.size());
      }
      row.pop_back();
      hits.push_back({std::move(row), d});
    }
    const bool smaller = index::SmallerIsCloser(def.metric);
    std::sort(hits.begin(), hits.end(), [&](const Hit& a, const Hit& b) {
      if (a.distance != b.distance) return smaller ? a.distance < b.distance : a.distance > b.distance;
      return KeyText(a.row[0]) < KeyText(b.row[0]);  // ties: by key, so repeats agree
    });
    if (hits.size() > want) hits.resize(want);
  }
  // Drop the example's own rows, keep k.
  hits.erase(std::remove_if(hits.begin(), hits.end(),
                            [&](const Hit& h) { return excluded.count(KeyText(h.row[0])); }),
             hits.end());
  if (hits.size() > req.k) hits.resize(req.k);

  // The answer's columns: the primary key, then the requested ones.
  out.columns = {pk};
  std::vector<int> pick;  // into a hit's row
  for (const std::string& c : columns) {
    if (EqualsIgnoreCase(c, pk)) continue;
    out.columns.push_back(c);
    pick.push_back(1 + FindName(search_columns, c));
  }
  const int key_at =
      need_key ? (EqualsIgnoreCase(req.join_key, pk) ? 0 : 1 + FindName(search_columns, req.join_key)) : -1;
  std::vector<Value> case_keys;  // per hit
  for (const Hit& h : hits) {
    Row r = {h.row[0]};
    for (int p : pick) r.push_back(h.row[static_cast<size_t>(p)]);
    out.rows.push_back(std::move(r));
    out.distances.push_back(h.distance);
    out.scores.push_back(MosaicScore(def.metric, h.distance));
    case_keys.push_back(key_at >= 0 ? h.row[static_cast<size_t>(key_at)] : Value());
  }

  // --- The population (summary only): what the caller sees of the source at `version`, same filter.
  std::vector<Value> population_keys;  // distinct, non-NULL
  std::set<std::string> population_key_set;
  int64_t population_cases = 0;
  if (want_summary) {
    ReadOptions ro;
    ro.at.version = version;
    ro.columns = {pk, req.join_key};
    if (EqualsIgnoreCase(req.join_key, pk)) ro.columns = {pk};
    ro.predicate = search_filter;
    VESTA_ASSIGN_OR_RETURN(ReadResult r, governed_.ReadTable(caller, def.source_table, ro));
    note("population", "table", def.source_table, r.version, r.query_id);
    for (const Row& row : r.rows) {
      if (excluded.count(KeyText(row[0]))) continue;
      ++population_cases;
      const Value& key = row.back();
      if (!key.is_null() && population_key_set.insert(KeyText(key)).second) population_keys.push_back(key);
    }
  }

  // --- Joined rows, read once per join at its pinned version.
  std::vector<Value> distinct_case_keys;
  {
    std::unordered_set<std::string> seen;
    for (const Value& k : case_keys) {
      if (!k.is_null() && seen.insert(KeyText(k)).second) distinct_case_keys.push_back(k);
    }
  }
  auto read_join = [&](JoinState& js, const std::vector<Value>& keys, const std::string& filter_text,
                       const std::vector<std::string>& read_columns, const std::string& role,
                       std::unordered_map<std::string, std::vector<Row>>& by_key) -> Status {
    const int on_at = FindName(read_columns, js.on);
    for (size_t from = 0; from < keys.size(); from += kKeysPerRead) {
      std::vector<Value> chunk(keys.begin() + static_cast<long>(from),
                               keys.begin() + static_cast<long>(std::min(keys.size(), from + kKeysPerRead)));
      ReadOptions ro;
      ro.at.version = js.info.version;
      ro.columns = read_columns;
      ro.predicate = And(KeyIn(js.on, chunk), filter_text);
      ro.order_by_primary_key = true;
      VESTA_ASSIGN_OR_RETURN(ReadResult r, governed_.ReadTable(caller, js.spec->table, ro));
      note(role, "table", js.spec->table, r.version, r.query_id);
      for (Row& row : r.rows) {
        const std::string k = KeyText(row[static_cast<size_t>(on_at)]);
        by_key[k].push_back(std::move(row));
      }
    }
    return Status::OK();
  };
  for (JoinState& js : joins) {
    VESTA_RETURN_IF_ERROR(read_join(js, js.in_summary ? population_keys : distinct_case_keys, js.spec->filter,
                                    js.read_columns, "join:" + js.spec->name, js.by_key));
    JoinedRows jr;
    jr.name = js.spec->name;
    jr.table = js.spec->table;
    jr.version = js.info.version;
    jr.columns = js.out_columns;
    std::vector<int> proj;
    for (const std::string& c : js.out_columns) proj.push_back(FindName(js.read_columns, c));
    for (const Value& k : case_keys) {
      std::vector<Row> rows;
      if (!k.is_null()) {
        auto it = js.by_key.find(KeyText(k));
        if (it != js.by_key.end()) {
          for (const Row& row : it->second) {
            Row r;
            for (int p : proj) r.push_back(row[static_cast<size_t>(p)]);
            rows.push_back(std::move(r));
          }
        }
      }
      jr.per_case.push_back(std::move(rows));
    }
    out.joins.push_back(std::move(jr));
  }

  // --- The evidence summary: similar patients vs the population (tests: vs the rest).
  if (want_summary) {
    std::set<std::string> similar;  // key texts of the similar cases' patients
    for (const Value& k : distinct_case_keys) similar.insert(KeyText(k));
    std::vector<std::string> rest;
    for (const std::string& k : population_key_set) {
      if (!similar.count(k)) rest.push_back(k);
    }
    const std::vector<std::string> similar_list(similar.begin(), similar.end());
    const std::vector<std::string> population_list(population_key_set.begin(), population_key_set.end());
    json summary = {
        {"unit", "patient (distinct " + req.join_key + ")"},
        {"similar", {{"cases", out.rows.size()}, {"patients", similar.size()}}},
        {"population",
         {{"cases", population_cases},
          {"patients", population_key_set.size()},
          {"definition", "rows of " + def.source_table.ToString() + " at version " + std::to_string(version) +
                             " that you can see and that pass the query's filter" +
                             (excluded.empty() ? "" : ", without the example's rows")}}},
        {"tests",
         "similar patients against the rest of the population (population minus similar): "
         "Fisher's exact test (two-sided) and log-rank"}};
    // A join's first row's value of `column` for a patient (NULL if none).
    auto first_value = [](JoinState& js, const std::string& key, const std::string& column) -> Value {
      auto it = js.by_key.find(key);
      if (it == js.by_key.end() || it->second.empty()) return Value();
      return it->second.front()[static_cast<size_t>(FindName(js.read_columns, column))];
    };
    json categorical = json::array();
    for (const SummaryFeature& f : sr.categorical) {
      JoinState& js = *join_named(f.join, "").value();
      std::map<std::string, std::array<int64_t, 2>> counts;  // level -> {similar, rest}
      int64_t n_similar = 0, n_rest = 0, missing_similar = 0, missing_rest = 0;
      for (int g = 0; g < 2; ++g) {
        for (const std::string& k : g == 0 ? similar_list : rest) {
          const Value v = first_value(js, k, f.column);
          if (v.is_null()) {
            ++(g == 0 ? missing_similar : missing_rest);
            continue;
          }
          ++(g == 0 ? n_similar : n_rest);
          ++counts[v.ToString()][static_cast<size_t>(g)];
        }
      }
      json levels = json::array();
      for (const auto& [level, c] : counts) {
        json l = {{"value", level},
                  {"similar", Proportion(c[0], n_similar)},
                  {"population", Proportion(c[0] + c[1], n_similar + n_rest)},
                  {"rest", Proportion(c[1], n_rest)}};
        l.update(Contrast(c[0], n_similar, c[1], n_rest));
        levels.push_back(std::move(l));
      }
      categorical.push_back(
          {{"join", f.join},
           {"column", f.column},
           {"missing", {{"similar", missing_similar}, {"population", missing_similar + missing_rest}}},
           {"levels", levels}});
    }
    summary["categorical"] = categorical;
    json numeric = json::array();
    for (const SummaryFeature& f : sr.numeric) {
      JoinState& js = *join_named(f.join, "").value();
      auto values = [&](const std::vector<std::string>& keys) {
        std::vector<double> v;
        for (const std::string& k : keys) {
          const Value x = first_value(js, k, f.column);
          v.push_back((x.is_int() || x.is_double()) ? x.as_number()
                                                    : std::numeric_limits<double>::quiet_NaN());
        }
        return v;
      };
      numeric.push_back({{"join", f.join},
                         {"column", f.column},
                         {"similar", NumericJson(values(similar_list))},
                         {"population", NumericJson(values(population_list))}});
    }
    summary["numeric"] = numeric;
    if (gene_join != nullptr) {
      // Profiled: any row in the gene join's table (without its filter).
      std::unordered_map<std::string, std::vector<Row>> profiled_rows;
      VESTA_RETURN_IF_ERROR(read_join(*gene_join, population_keys, "", {gene_join->on},
                                      "profiled:" + gene_join->spec->name, profiled_rows));
      const int gene_at = FindName(gene_join->read_columns, sr.gene_column);
      std::array<int64_t, 2> profiled = {0, 0};
      std::array<std::vector<std::string>, 2> groups = {similar_list, rest};
      json genes = json::array();
      std::vector<std::array<int64_t, 2>> mutated(sr.genes.size(), {0, 0});
      for (int g = 0; g < 2; ++g) {
        for (const std::string& k : groups[static_cast<size_t>(g)]) {
          if (!profiled_rows.count(k)) continue;
          ++profiled[static_cast<size_t>(g)];
          auto it = gene_join->by_key.find(k);
          for (size_t gi = 0; gi < sr.genes.size(); ++gi) {
            bool hit = false;
            if (it != gene_join->by_key.end()) {
              for (const Row& row : it->second) {
                const Value& v = row[static_cast<size_t>(gene_at)];
                hit = hit || (v.is_string() && EqualsIgnoreCase(v.as_string(), sr.genes[gi]));
              }
            }
            mutated[gi][static_cast<size_t>(g)] += hit ? 1 : 0;
          }
        }
      }
      for (size_t gi = 0; gi < sr.genes.size(); ++gi) {
        json e = {{"gene", sr.genes[gi]},
                  {"similar", Proportion(mutated[gi][0], profiled[0])},
                  {"population", Proportion(mutated[gi][0] + mutated[gi][1], profiled[0] + profiled[1])},
                  {"rest", Proportion(mutated[gi][1], profiled[1])}};
        e.update(Contrast(mutated[gi][0], profiled[0], mutated[gi][1], profiled[1]));
        genes.push_back(std::move(e));
      }
      summary["genes"] = {{"join", sr.gene_join},
                          {"column", sr.gene_column},
                          {"filter", gene_join->spec->filter},
                          {"profiled", {{"similar", profiled[0]}, {"population", profiled[0] + profiled[1]}}},
                          {"definition",
                           "mutated: the patient has a row of the join (after its filter) for the gene; "
                           "profiled: the patient has any row in " +
                               gene_join->spec->table.ToString() + " (the denominators)"},
                          {"genes", genes}};
    }
    if (survival_join != nullptr) {
      auto observations = [&](const std::vector<std::string>& keys) {
        std::vector<stats::SurvivalObservation> obs;
        for (const std::string& k : keys) {
          const Value t = first_value(*survival_join, k, sr.survival_time_column);
          const Value e = first_value(*survival_join, k, sr.survival_event_column);
          if (!(t.is_int() || t.is_double()) || !(t.as_number() >= 0)) continue;
          if (e.is_bool()) {
            obs.push_back({t.as_number(), e.as_bool()});
          } else if (e.is_int() || e.is_double()) {
            obs.push_back({t.as_number(), e.as_number() != 0});
          }
        }
        return obs;
      };
      const auto obs_similar = observations(similar_list), obs_rest = observations(rest),
                 obs_population = observations(population_list);
      json s = {{"join", sr.survival_join},
                {"time_column", sr.survival_time_column},
                {"event_column", sr.survival_event_column},
                {"similar", nullptr},
                {"population", nullptr},
                {"log_rank", nullptr}};
      if (!obs_similar.empty()) {
        VESTA_ASSIGN_OR_RETURN(auto km, stats::KaplanMeier(obs_similar));
        s["similar"] = CurveJson(km);
      }
      if (!obs_population.empty()) {
        VESTA_ASSIGN_OR_RETURN(auto km, stats::KaplanMeier(obs_population));
        s["population"] = CurveJson(km);
      }
      if (!obs_similar.empty() && !obs_rest.empty()) {
        auto lr = stats::LogRank(obs_similar, obs_rest);
        if (lr.ok()) {
          s["log_rank"] = {
              {"chi_square", Number(lr->chi_square)}, {"degrees_of_freedom", lr->degrees_of_freedom},
              {"p_value", Number(lr->p_value)},       {"observed_similar", lr->observed_1},
              {"expected_similar", lr->expected_1},   {"observed_rest", lr->observed_2},
              {"expected_rest", lr->expected_2}};
        } else {
          s["log_rank_note"] = lr.status().message();
        }
      }
      summary["survival"] = s;
    }
    out.summary = std::move(summary);
  }

  // --- Lineage: every read feeds this call's node.
  for (const ReadProvenance& r : out.reads) {
    if (r.query_id.empty()) continue;
    governance::LineageEdge e;
    e.from = {"query", r.query_id, -1};
    e.to = {"query", out.similar_cases_id, -1};
    e.relation = "derived_from";
    e.principal = caller.user;
    e.details_json =
        json{{"role", r.role}, {"kind", r.kind}, {"name", r.name.ToString()}, {"version", r.version}}.dump();
    VESTA_RETURN_IF_ERROR(governed_.lineage().Record(e));
  }
  return out;
}

}  // namespace vesta::service
