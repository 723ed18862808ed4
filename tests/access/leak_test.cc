// The leak suite (issue #4, "Enforcement in one place"): tries to see what a
// principal must not see through every read path of access/governed.h.
//
// Per seed: a store with a patients table written in three commits (append,
// upsert = updates + new keys, delete), a vector index over its embedding
// (FLAT, HNSW or IVF_FLAT; built at the current version, at an older one, or
// built old and synced forward so it has a delta and tombstones), generated
// users and nested groups, random grants (USE CATALOG / USE SCHEMA / SELECT /
// ALL PRIVILEGES on every level, decoy grants on siblings, owners, revokes),
// a random row filter (plus sometimes a tag row-filter policy), random column
// masks (NULL, constant, keyed hash, partial reveal; direct or by tag policy)
// with random exempt groups. Then generated cases, each one (caller, read
// path, user filter): ReadTable at the current and old versions with and
// without predicates, projections and limits, Changes between random
// versions, QueryIndex with random vectors, k, columns and filters,
// ScanIndex paged through to the end with random page sizes, columns,
// starting keys and the vector (sometimes masked), DescribeIndex and
// VisibleIndexes, DescribeTable now and at random versions (row_count must
// be the caller's visible count) and History (no commit parameters without
// MANAGE, no row metrics when the row filter hides rows).
//
// The oracle does not use access/: privileges come from a re-implementation
// of the grant rules over the grants this test made; rows from the table
// contents this test generated (checked once against the raw store); row
// filters are evaluated with filter::Evaluate on raw rows in a context built
// from this test's own group closure; masks are re-implemented (the keyed
// hash through governance's ColumnMask, the only holder of the store's key).
//
// Asserted per case: (1) PermissionDenied exactly when a privilege is missing
// (before any other error); (2) no row outside the caller's visible set and no
// unmasked value of a masked column (primary keys included); (3) the complete
// visible set (ReadTable, Changes), min(k, visible passing) index results
// whose distances equal an exact search over the visible passing rows
// (FLAT / exact plans; recall >= 0.95 on average for graph and IVF plans);
// for ScanIndex, pages that together hold exactly the visible rows of the
// version the index reflects, each once, in the order of the key the caller
// sees (raw, or its keyed hash; other key masks refuse the scan), every page
// full but the last; exactly the readable indexes listed;
// (4) exactly one audit record with the principal, action, securable, outcome,
// row count and keys (per page for scans); the audit chain verifies at the
// end of each seed.
// Targeted probes (LeakProbe.*) cover filters on masked columns by raw value,
// paging by a masked key (ReadTable and ScanIndex), SELECT on the table but
// not the index (and the reverse), a row filter the index cannot enforce,
// and bad tokens.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "access/governed.h"
#include "filter/filter.h"
#include "governance/audit.h"
#include "governance/policies.h"
#include "governance/principals.h"
#include "governance/privileges.h"
#include "governance/store.h"
#include "index/vector_index.h"
#include "ingest/index_sync.h"
#include "tests/testing/temp_dir.h"

namespace vesta::access {
namespace {

using governance::AuditQuery;
using governance::AuditRecord;
using governance::ChangeFeed;
using governance::ChangeRow;
using governance::MaskSpec;
using governance::Privilege;
using governance::ReadOptions;
using governance::Securable;
using governance::SecurableType;
using governance::TableName;
using ::vesta::testing::TempDir;

constexpr int kDim = 8;
// Columns of the patients table.
constexpr int kPid = 0, kSite = 1, kCohort = 2, kAge = 3, kMrn = 4, kScore = 5, kClinician = 6, kEmbedding = 7;
constexpr int kNumColumns = 8;
const std::vector<std::string> kSites = {"A", "B", "C", "D", "E", "F"};
const std::vector<std::string> kCohorts = {"GBM", "LGG", "BRCA", "LUAD"};
constexpr int kUsers = 6;
constexpr int kGroups = 4;
constexpr int kSeeds = 24;
// The filterable columns of the main index (its attribute order).
const std::vector<std::string> kSynced = {"site", "cohort", "age", "mrn", "score", "clinician"};

const char* const kTableName = "main.clinical.patients";
const char* const kIndexName = "main.clinical.patients_idx";

// --- Small helpers ----------------------------------------------------------------------

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A canonical, type-tagged text of a value: equal texts mean equal values.
std::string Canon(const Value& v) {
  char buf[64];
  if (v.is_null()) return "N";
  if (v.is_int()) return "I" + std::to_string(v.as_int());
  if (v.is_double()) {
    std::snprintf(buf, sizeof buf, "D%.17g", v.as_double());
    return buf;
  }
  if (v.is_string()) return "S" + std::to_string(v.as_string().size()) + ":" + v.as_string();
  if (v.is_vector()) {
    std::string s = "V";
    for (float f : v.as_vector()) {
      std::snprintf(buf, sizeof buf, "%.9g,", static_cast<double>(f));
      s += buf;
    }
    return s;
  }
  return std::string(v.TypeName()) + ":" + v.ToString();
}

std::string CanonRow(const Row& r) {
  std::string s;
  for (const Value& v : r) s += Canon(v) + "|";
  return s;
}

std::string Show(const Value& v) { return v.is_string() ? "'" + v.as_string() + "'" : v.ToString(2); }

std::string ShowRow(const Row& r) {
  std::string s = "(";
  for (size_t i = 0; i < r.size(); ++i) s += (i ? ", " : "") + Show(r[i]);
  return s + ")";
}

std::string Q(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string Fmt2(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", x);
  return buf;
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  size_t Below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(gen_); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0.0, 1.0)(gen_) < p; }
  double Real(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(gen_); }
  float Normal() { return std::normal_distribution<float>(0.0f, 1.0f)(gen_); }
  template <class T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }
  std::mt19937_64& gen() { return gen_; }

 private:
  std::mt19937_64 gen_;
};

double L2(const float* a, const std::vector<float>& b) {
  double s = 0;
  for (int j = 0; j < kDim; ++j) {
    const double d = static_cast<double>(a[j]) - static_cast<double>(b[j]);
    s += d * d;
  }
  return s;
}

bool Near(double a, double b) { return std::fabs(a - b) <= 1e-3 * (1.0 + std::fabs(b)); }

Schema PatientSchema() {
  Schema s;
  s.columns = {{"patient_id", DataType::String(), false, ""}, {"site", DataType::String(), true, ""},
               {"cohort", DataType::String(), true, ""},      {"age", DataType::Bigint(), true, ""},
               {"mrn", DataType::String(), true, ""},         {"score", DataType::Double(), true, ""},
               {"clinician", DataType::String(), true, ""},   {"embedding", DataType::Vector(kDim), true, ""}};
  s.primary_key = "patient_id";
  return s;
}

std::string PatientId(size_t n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "P%04zu", n);
  return buf;
}

Row MakeRow(Rng& r, const std::string& pid) {
  Row row(kNumColumns);
  row[kPid] = Value::Str(pid);
  row[kSite] = r.Chance(0.05) ? Value() : Value::Str(r.Pick(kSites));
  row[kCohort] = r.Chance(0.05) ? Value() : Value::Str(r.Pick(kCohorts));
  row[kAge] = r.Chance(0.1) ? Value() : Value::Int(18 + static_cast<int64_t>(r.Below(73)));
  char mrn[16];
  std::snprintf(mrn, sizeof mrn, "MRN%06zu", r.Below(1000000));
  row[kMrn] = r.Chance(0.05) ? Value() : Value::Str(mrn);
  row[kScore] = r.Chance(0.05) ? Value() : Value::Real(std::round(r.Real(0, 1) * 1000) / 1000);
  row[kClinician] = r.Chance(0.15) ? Value() : Value::Str("u" + std::to_string(r.Below(kUsers)));
  std::vector<float> v(kDim);
  for (float& x : v) x = r.Normal();
  row[kEmbedding] = Value::Vec(std::move(v));
  return row;
}

// --- The model: what this test made, and the oracle over it ------------------------------

using SecKey = std::pair<int, std::string>;  // securable type, lower-cased full name

SecKey Key(SecurableType t, const std::string& name) { return {static_cast<int>(t), Lower(name)}; }

std::vector<std::string> SplitDots(const std::string& s) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : s) {
    if (c == '.') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

// A securable and its ancestors: table/index -> schema -> catalog.
std::vector<SecKey> SelfAndAncestors(SecurableType t, const std::string& name) {
  std::vector<SecKey> out = {Key(t, name)};
  const std::vector<std::string> p = SplitDots(name);
  if ((t == SecurableType::kTable || t == SecurableType::kIndex) && p.size() == 3) {
    out.push_back(Key(SecurableType::kSchema, p[0] + "." + p[1]));
    out.push_back(Key(SecurableType::kCatalog, p[0]));
  } else if (t == SecurableType::kSchema && p.size() == 2) {
    out.push_back(Key(SecurableType::kCatalog, p[0]));
  }
  return out;
}

struct MaskModel {
  MaskSpec::Kind kind = MaskSpec::kNull;
  Value constant;
  int reveal_last = 4;
  std::vector<std::string> exempt;  // group names, lower case
};

// One caller's view, computed by the oracle.
struct Who {
  std::string user;
  std::set<std::string> principals;  // the user and every group it is in (transitively)
  std::vector<std::string> groups;   // the groups, sorted
  bool admin = false;
  filter::EvalContext ctx;
  Caller caller;  // from Governed::CallerFor
  std::vector<std::optional<MaskModel>> masks;  // per table column: the mask this caller sees
  std::optional<governance::EffectivePolicy> resolved;  // for the keyed hash (the store's key)
};

struct TestIndex {
  TableName name;
  std::unique_ptr<index::VectorIndex> index;
  std::vector<std::string> synced;  // attribute columns, in order
  int64_t version = -1;             // the table version it reflects
};

struct Report {
  std::vector<std::string> failures;
  std::map<std::string, int64_t> cases_by_kind;  // "ReadTable/allowed", ...
  int64_t cases = 0;
  double recall_sum = 0;
  int64_t recall_n = 0;
  int64_t index_exact_checked = 0;
  int64_t leaks = 0;  // failures that returned something the caller must not see
  std::map<uint64_t, std::string> policies;  // seed -> its policies (printed with failures)
  std::map<std::string, int64_t> nonempty_ok;  // allowed cases that returned rows, by path
  int64_t masked_values_checked = 0;            // returned values of masked columns compared with the mask
};

enum class Want { kOk, kDenied, kNotFound, kInvalid, kPrecondition };

const char* WantName(Want w) {
  switch (w) {
    case Want::kOk: return "OK";
    case Want::kDenied: return "PERMISSION_DENIED";
    case Want::kNotFound: return "NOT_FOUND";
    case Want::kInvalid: return "INVALID_ARGUMENT";
    case Want::kPrecondition: return "FAILED_PRECONDITION";
  }
  return "?";
}

StatusCode WantCode(Want w) {
  switch (w) {
    case Want::kOk: return StatusCode::kOk;
    case Want::kDenied: return StatusCode::kPermissionDenied;
    case Want::kNotFound: return StatusCode::kNotFound;
    case Want::kInvalid: return StatusCode::kInvalidArgument;
    case Want::kPrecondition: return StatusCode::kFailedPrecondition;
  }
  return StatusCode::kInternal;
}

class World {
 public:
  World(uint64_t seed, Report* report)
      : seed_(seed), rng_(seed * 0x9E3779B97F4A7C15ull + 17), scan_rng_(seed * 0xC2B2AE3D27D4EB4Full + 5), rep_(report) {}

  // --- Setup ------------------------------------------------------------------------------

  // The store, the table with three commits, Governed, the admin, users and
  // groups. Returns false (with a failure recorded) if anything failed.
  bool BuildBase() {
    table_ = TableName::Parse(kTableName).value();
    schema_ = PatientSchema();
    const std::string path = dir_.File("leak.vesta");
    {
      auto store = governance::Store::Open(path, {});
      if (!Check(store.status(), "Store::Open")) return false;
      auto& s = **store;
      if (!Check(s.CreateCatalog("main", "admin"), "CreateCatalog")) return false;
      if (!Check(s.CreateSchema("main", "clinical", "admin"), "CreateSchema")) return false;
      if (!Check(s.CreateTable(table_, schema_, {}, "admin").status(), "CreateTable")) return false;
      rows_at_.resize(4);
      // v1: append.
      const size_t n1 = 220 + rng_.Below(81);
      std::vector<size_t> ids(10000);
      for (size_t i = 0; i < ids.size(); ++i) ids[i] = i;
      std::shuffle(ids.begin(), ids.end(), rng_.gen());
      size_t next_id = 0;
      std::vector<Row> v1;
      for (size_t i = 0; i < n1; ++i) v1.push_back(MakeRow(rng_, PatientId(ids[next_id++])));
      for (const Row& r : v1) rows_at_[1][r[kPid].as_string()] = r;
      if (!Commit(s, [&](governance::Transaction& t) { return t.Append(table_, v1); })) return false;
      // v2: upsert 35 updated keys and 45 new ones.
      rows_at_[2] = rows_at_[1];
      std::vector<Row> v2;
      std::vector<std::string> live = LiveKeys(1);
      std::shuffle(live.begin(), live.end(), rng_.gen());
      for (size_t i = 0; i < 35; ++i) v2.push_back(MakeRow(rng_, live[i]));
      for (size_t i = 0; i < 45; ++i) v2.push_back(MakeRow(rng_, PatientId(ids[next_id++])));
      for (const Row& r : v2) rows_at_[2][r[kPid].as_string()] = r;
      if (!Commit(s, [&](governance::Transaction& t) { return t.Upsert(table_, v2); })) return false;
      // v3: delete 30 keys (some of them updated at v2).
      rows_at_[3] = rows_at_[2];
      live = LiveKeys(2);
      std::shuffle(live.begin(), live.end(), rng_.gen());
      std::vector<Value> dels;
      for (size_t i = 0; i < 30; ++i) {
        dels.push_back(Value::Str(live[i]));
        rows_at_[3].erase(live[i]);
      }
      if (!Commit(s, [&](governance::Transaction& t) { return t.DeleteKeys(table_, dels); })) return false;
      current_ = 3;
      auto history = s.History(table_);
      if (!Check(history.status(), "History")) return false;
      commit_time_.assign(4, Timestamp{});
      for (const governance::CommitInfo& c : *history) commit_time_[static_cast<size_t>(c.version)] = c.timestamp;
    }
    auto g = Governed::Open(path);
    if (!Check(g.status(), "Governed::Open")) return false;
    g_ = std::move(g).value();
    // The model must be what the store holds (a check of this test, not of access/).
    for (int64_t v = 0; v <= current_; ++v) {
      ReadOptions o;
      o.at.version = v;
      o.order_by_primary_key = true;
      auto r = g_->store().Read(table_, o);
      if (!Check(r.status(), "raw Read")) return false;
      std::vector<std::string> got, want;
      for (const Row& row : r->rows) got.push_back(CanonRow(row));
      for (const auto& [k, row] : rows_at_[v]) want.push_back(CanonRow(row));
      if (got != want) return Fail("setup", "the raw store differs from the generated table at v" + std::to_string(v));
    }
    // Principals.
    if (!Check(g_->principals().Bootstrap("admin").status(), "Bootstrap")) return false;
    parents_["admin"].insert("admins");
    for (int i = 0; i < kUsers; ++i) {
      if (!AddUser("u" + std::to_string(i))) return false;
    }
    for (int i = 0; i < kGroups; ++i) {
      if (!AddGroup("g" + std::to_string(i))) return false;
    }
    return true;
  }

  // Random memberships, grants, owners, row filters and masks.
  bool GenerateGovernance() {
    // Nested groups: g_i may contain g_j for i < j (no cycles).
    for (int i = 0; i < kGroups; ++i) {
      for (int j = i + 1; j < kGroups; ++j) {
        if (rng_.Chance(0.3) && !AddMember("g" + std::to_string(i), "g" + std::to_string(j))) return false;
      }
    }
    for (int u = 0; u < kUsers; ++u) {
      std::vector<int> gs = {0, 1, 2, 3};
      std::shuffle(gs.begin(), gs.end(), rng_.gen());
      const size_t n = rng_.Below(3);
      for (size_t k = 0; k < n; ++k) {
        if (!AddMember("g" + std::to_string(gs[k]), "u" + std::to_string(u))) return false;
      }
    }
    // Grants.
    const std::vector<std::pair<SecurableType, std::string>> levels = {{SecurableType::kCatalog, "main"},
                                                                       {SecurableType::kSchema, "main.clinical"},
                                                                       {SecurableType::kTable, kTableName},
                                                                       {SecurableType::kIndex, kIndexName}};
    const std::vector<std::pair<SecurableType, std::string>> decoys = {
        {SecurableType::kCatalog, "research"},
        {SecurableType::kSchema, "main.other"},
        {SecurableType::kTable, "main.clinical.visits"},
        {SecurableType::kIndex, "main.clinical.visits_idx"},
        {SecurableType::kTable, "main.other.patients"},
        {SecurableType::kIndex, "main.other.patients_idx"},
        {SecurableType::kTable, "main.clinical.patients_idx"},   // a table named like the index
        {SecurableType::kIndex, "main.clinical.patients"}};      // an index named like the table
    std::vector<std::string> everyone;
    for (int i = 0; i < kUsers; ++i) everyone.push_back("u" + std::to_string(i));
    for (int i = 0; i < kGroups; ++i) everyone.push_back("g" + std::to_string(i));
    for (const std::string& p : everyone) {
      if (rng_.Chance(0.65) && !Grant(SecurableType::kCatalog, "main", p, Privilege::kUseCatalog)) return false;
      if (rng_.Chance(0.65)) {
        const bool on_catalog = rng_.Chance(0.5);
        if (!Grant(on_catalog ? SecurableType::kCatalog : SecurableType::kSchema, on_catalog ? "main" : "main.clinical",
                   p, Privilege::kUseSchema))
          return false;
      }
      for (int n = 0; n < 2; ++n) {
        if (rng_.Chance(0.4)) {
          const auto& l = rng_.Pick(levels);
          if (!Grant(l.first, l.second, p, Privilege::kSelect)) return false;
        }
      }
      if (rng_.Chance(0.07)) {
        const auto& l = rng_.Pick(levels);
        if (!Grant(l.first, l.second, p, Privilege::kAllPrivileges)) return false;
      }
      if (rng_.Chance(0.2) && !Grant(SecurableType::kTable, kTableName, p, Privilege::kModify)) return false;
      if (rng_.Chance(0.3)) {
        const auto& d = rng_.Pick(decoys);
        if (!Grant(d.first, d.second, p, rng_.Chance(0.7) ? Privilege::kSelect : Privilege::kAllPrivileges))
          return false;
      }
      if (rng_.Chance(0.1) && !Grant(SecurableType::kCatalog, "research", p, Privilege::kUseCatalog)) return false;
    }
    // Revoke a few (never ALL PRIVILEGES, which also revokes what it covers).
    const size_t revokes = rng_.Chance(0.5) ? 1 + rng_.Below(3) : 0;
    for (size_t i = 0; i < revokes && !grants_.empty(); ++i) {
      auto it = grants_.begin();
      std::advance(it, static_cast<long>(rng_.Below(grants_.size())));
      const auto [key, principal, priv] = *it;
      if (priv == Privilege::kAllPrivileges) continue;
      if (!Revoke(static_cast<SecurableType>(key.first), key.second, principal, priv)) return false;
    }
    if (rng_.Chance(0.25)) {
      std::vector<std::pair<SecurableType, std::string>> ownable = {levels[1], levels[2], levels[3], decoys[1],
                                                                     decoys[2]};
      const auto& o = rng_.Pick(ownable);
      if (!SetOwner(o.first, o.second, rng_.Pick(everyone))) return false;
    }
    // Row filter(s).
    if (rng_.Chance(0.85) && !SetRowFilter(RowFilterText())) return false;
    if (rng_.Chance(0.25) && !SetTagRowFilter(RowFilterText())) return false;
    // Column masks.
    for (int col : {kPid, kMrn, kSite, kAge, kCohort}) {
      if (!rng_.Chance(col == kPid ? 0.4 : 0.45)) continue;
      if (!SetMask(col, RandomMask(col))) return false;
    }
    if (rng_.Chance(0.3)) {
      const int col = rng_.Pick(std::vector<int>{kScore, kClinician, kCohort, kMrn});
      if (!SetTagMask(col, RandomMask(col), rng_.Chance(0.5))) return false;
    }
    // A mask on the vector column (what ScanIndex returns with the rows),
    // drawn from the scan generator so that the cases above stay as they were.
    if (scan_rng_.Chance(0.3)) {
      MaskModel m;
      m.kind = scan_rng_.Chance(0.5) ? MaskSpec::kNull : MaskSpec::kConstant;
      if (m.kind == MaskSpec::kConstant) m.constant = Value::Vec(std::vector<float>(kDim, 0.0f));
      for (int g = 0; g < kGroups; ++g) {
        if (scan_rng_.Chance(0.3)) m.exempt.push_back("g" + std::to_string(g));
      }
      if (!SetMask(kEmbedding, m)) return false;
    }
    return true;
  }

  // Builds an index over the table: `columns` to sync, of `kind`; at
  // `build_version`, then synced to `sync_to` if set.
  bool BuildIndex(TestIndex* ti, const std::string& name, const std::vector<std::string>& columns,
                  index::IndexKind kind, bool exact_threshold_zero, int64_t build_version,
                  std::optional<int64_t> sync_to) {
    ti->name = TableName::Parse(name).value();
    ti->synced = columns;
    ingest::IndexSource source{table_, "embedding", columns};
    auto spec = ingest::SpecForSource(g_->store(), source, kind, index::Metric::kL2);
    if (!Check(spec.status(), "SpecForSource")) return false;
    index::IndexOptions options;
    options.seed = seed_;
    if (exact_threshold_zero) options.exact_threshold_bytes = 0;
    auto idx = index::VectorIndex::Create(*spec, options);
    if (!Check(idx.status(), "VectorIndex::Create")) return false;
    ti->index = std::move(idx).value();
    if (!Check(ingest::BuildFromTable(g_->store(), source, *ti->index, build_version).status(), "BuildFromTable"))
      return false;
    if (sync_to && !Check(ingest::SyncIndex(g_->store(), source, *ti->index, sync_to).status(), "SyncIndex"))
      return false;
    ti->version = ti->index->snapshot()->version();
    return true;
  }

  bool BuildMainIndex() {
    static const index::IndexKind kKinds[] = {index::IndexKind::kFlat, index::IndexKind::kHnsw,
                                              index::IndexKind::kIvfFlat, index::IndexKind::kHnsw};
    const index::IndexKind kind = kKinds[seed_ % 4];
    const bool zero = seed_ % 4 == 1;  // every HNSW query through the graph (filter inside the walk)
    switch (seed_ % 3) {
      case 0: return BuildIndex(&main_, kIndexName, kSynced, kind, zero, 1, current_);  // delta + tombstones
      case 1: return BuildIndex(&main_, kIndexName, kSynced, kind, zero, current_, std::nullopt);
      default: return BuildIndex(&main_, kIndexName, kSynced, kind, zero, 2, std::nullopt);  // behind the table
    }
  }

  // --- Model-updating governance helpers (store + model) -----------------------------------

  bool AddUser(const std::string& name) {
    if (!Check(g_->principals().CreateUser(name, "admin"), "CreateUser " + name)) return false;
    users_.push_back(name);
    return true;
  }
  bool AddGroup(const std::string& name) {
    return Check(g_->principals().CreateGroup(name, "admin"), "CreateGroup " + name);
  }
  bool AddMember(const std::string& group, const std::string& member) {
    if (!Check(g_->principals().AddMember(group, member, "admin"), "AddMember " + group + " " + member)) return false;
    parents_[Lower(member)].insert(Lower(group));
    return true;
  }
  bool Grant(SecurableType t, const std::string& name, const std::string& principal, Privilege p) {
    auto s = Securable::Parse(t, name);
    if (!Check(s.status(), "Securable::Parse")) return false;
    if (!Check(g_->privileges().Grant(*s, principal, {p}, "admin"),
               "Grant " + std::string(governance::PrivilegeName(p)) + " on " + name + " to " + principal))
      return false;
    grants_.insert({Key(t, name), principal, p});
    return true;
  }
  bool Revoke(SecurableType t, const std::string& name, const std::string& principal, Privilege p) {
    auto s = Securable::Parse(t, name);
    if (!Check(s.status(), "Securable::Parse")) return false;
    if (!Check(g_->privileges().Revoke(*s, principal, {p}, "admin"), "Revoke")) return false;
    grants_.erase({Key(t, name), principal, p});
    return true;
  }
  bool SetOwner(SecurableType t, const std::string& name, const std::string& owner) {
    auto s = Securable::Parse(t, name);
    if (!Check(s.status(), "Securable::Parse")) return false;
    if (!Check(g_->privileges().SetOwner(*s, owner, "admin"), "SetOwner")) return false;
    owners_[Key(t, name)] = owner;
    return true;
  }
  bool SetRowFilter(const std::string& text) {
    if (!Check(g_->policies().SetRowFilter(table_, text, "admin"), "SetRowFilter " + text)) return false;
    row_filter_text_ = text;
    return RebindRowFilter();
  }
  bool SetTagRowFilter(const std::string& text) {
    if (!Check(g_->policies().SetTag(table_, std::nullopt, "study", "s1", "admin"), "SetTag study")) return false;
    if (!Check(g_->policies().AddTagRowFilterPolicy("study_s1", "study", "s1", text, "admin"), "AddTagRowFilter"))
      return false;
    // A policy on another value of the tag: must not apply.
    if (!Check(g_->policies().AddTagRowFilterPolicy("study_s2", "study", "s2", "FALSE", "admin"), "AddTagRowFilter"))
      return false;
    tag_row_filter_text_ = text;
    return RebindRowFilter();
  }
  bool SetMask(int col, const MaskModel& m) {
    if (!Check(g_->policies().SetColumnMask(table_, schema_.columns[col].name, Spec(m), "admin"), "SetColumnMask"))
      return false;
    masks_[col] = m;
    return true;
  }
  bool SetTagMask(int col, const MaskModel& m, bool with_value) {
    auto& p = g_->policies();
    if (!Check(p.SetTag(table_, schema_.columns[col].name, "PHI", "true", "admin"), "SetTag PHI")) return false;
    if (!Check(p.AddTagMaskPolicy("phi_mask", "PHI", with_value ? std::optional<std::string>("true") : std::nullopt,
                                  Spec(m), "admin"),
               "AddTagMaskPolicy"))
      return false;
    // A policy for a tag no column carries: must mask nothing.
    MaskSpec none;
    if (!Check(p.AddTagMaskPolicy("pii_mask", "PII", std::nullopt, none, "admin"), "AddTagMaskPolicy")) return false;
    tag_masks_[col] = m;
    return true;
  }

  // --- The oracle --------------------------------------------------------------------------

  std::set<std::string> GroupsOf(const std::string& principal) const {
    std::set<std::string> out;
    std::vector<std::string> todo = {Lower(principal)};
    while (!todo.empty()) {
      const std::string p = todo.back();
      todo.pop_back();
      auto it = parents_.find(p);
      if (it == parents_.end()) continue;
      for (const std::string& g : it->second) {
        if (out.insert(g).second) todo.push_back(g);
      }
    }
    return out;
  }

  bool Holds(const Who& w, Privilege p, SecurableType t, const std::string& name) const {
    if (w.admin) return true;
    for (const SecKey& k : SelfAndAncestors(t, name)) {
      auto o = owners_.find(k);
      if (o != owners_.end() && w.principals.count(Lower(o->second))) return true;
      for (const std::string& pr : w.principals) {
        if (grants_.count({k, pr, p})) return true;
        if (p != Privilege::kManage && grants_.count({k, pr, Privilege::kAllPrivileges})) return true;
      }
    }
    return false;
  }

  // USE CATALOG on the catalog, USE SCHEMA on the schema, SELECT on it.
  bool CanRead(const Who& w, SecurableType t, const TableName& name) const {
    return Holds(w, Privilege::kUseCatalog, SecurableType::kCatalog, name.catalog) &&
           Holds(w, Privilege::kUseSchema, SecurableType::kSchema, name.catalog + "." + name.schema) &&
           Holds(w, Privilege::kSelect, t, name.ToString());
  }

  static bool Exempt(const Who& w, const MaskModel& m) {
    for (const std::string& g : m.exempt) {
      if (w.principals.count(Lower(g)) && Lower(g) != Lower(w.user)) return true;
    }
    return false;
  }

  std::optional<Who> MakeWho(const std::string& user) {
    Who w;
    w.user = user;
    const std::set<std::string> groups = GroupsOf(user);
    w.groups.assign(groups.begin(), groups.end());
    w.principals = groups;
    w.principals.insert(Lower(user));
    w.admin = groups.count("admins") > 0;
    auto shared = std::make_shared<std::set<std::string>>(groups);
    w.ctx.current_user = user;
    w.ctx.is_member = [shared](std::string_view g) { return shared->count(Lower(std::string(g))) > 0; };
    auto caller = g_->CallerFor(user);
    if (!Check(caller.status(), "CallerFor " + user)) return std::nullopt;
    w.caller = *caller;
    std::vector<std::string> got_groups;
    for (const std::string& g : w.caller.groups) got_groups.push_back(Lower(g));
    if (w.caller.user != user || got_groups != w.groups || w.caller.metastore_admin != w.admin ||
        w.caller.context.current_user != user) {
      Fail("caller " + user, "CallerFor gives user '" + w.caller.user + "', " + std::to_string(got_groups.size()) +
                                 " groups, admin=" + std::to_string(w.caller.metastore_admin) + "; expected " +
                                 std::to_string(w.groups.size()) + " groups, admin=" + std::to_string(w.admin));
    }
    // Masks: a direct mask wins over tag masks (exempt from the direct mask:
    // unmasked); otherwise the tag mask unless exempt.
    w.masks.resize(kNumColumns);
    for (int c = 0; c < kNumColumns; ++c) {
      if (masks_[c]) {
        if (!Exempt(w, *masks_[c])) w.masks[c] = masks_[c];
      } else if (tag_masks_[c] && !Exempt(w, *tag_masks_[c])) {
        w.masks[c] = tag_masks_[c];
      }
    }
    auto ep = g_->policies().Resolve(table_, schema_, w.ctx);
    if (!Check(ep.status(), "Policies::Resolve for " + user)) return std::nullopt;
    w.resolved = std::move(ep).value();
    for (int c = 0; c < kNumColumns; ++c) {
      const auto& r = w.resolved->masks[static_cast<size_t>(c)];
      if (r.has_value() != w.masks[c].has_value() || (r && r->kind() != w.masks[c]->kind)) {
        Fail("oracle " + user, "Policies::Resolve disagrees with this test's mask model on column " +
                                   schema_.columns[c].name);
      }
    }
    return w;
  }

  Value MaskValue(const Who& w, int col, const Value& v) const {
    const auto& m = w.masks[static_cast<size_t>(col)];
    if (!m || v.is_null()) return v;
    switch (m->kind) {
      case MaskSpec::kNull:
        return Value();
      case MaskSpec::kConstant:
        return m->constant;
      case MaskSpec::kKeyedHash: {
        const auto& rm = w.resolved->masks[static_cast<size_t>(col)];
        if (!rm || rm->kind() != MaskSpec::kKeyedHash) return Value::Str("<no keyed-hash mask resolved>");
        return rm->Apply(v);
      }
      case MaskSpec::kPartialReveal: {
        const std::string& s = v.as_string();  // ASCII in this test
        const size_t n = s.size(), r = static_cast<size_t>(m->reveal_last);
        if (n <= r) return Value::Str(std::string(n, '*'));
        return Value::Str(std::string(n - r, '*') + s.substr(n - r));
      }
    }
    return Value();
  }

  Row MaskRow(const Who& w, const Row& raw) const {
    Row out = raw;
    for (int c = 0; c < kNumColumns; ++c) out[c] = MaskValue(w, c, raw[c]);
    return out;
  }

  bool Visible(const Who& w, const Row& raw) const {
    return !row_filter_ || filter::Evaluate(*row_filter_, raw, w.ctx) == filter::Truth::kTrue;
  }

  bool Masked(const Who& w, int col) const { return w.masks[static_cast<size_t>(col)].has_value(); }

  // --- Generators ---------------------------------------------------------------------------

  std::string Group() { return "g" + std::to_string(rng_.Below(kGroups)); }
  std::string SiteList(size_t max) {
    std::vector<std::string> s = kSites;
    std::shuffle(s.begin(), s.end(), rng_.gen());
    const size_t n = 1 + rng_.Below(max);
    std::string out;
    for (size_t i = 0; i < n; ++i) out += (i ? ", " : "") + Q(s[i]);
    return out;
  }

  std::string RowFilterAtom() {
    switch (rng_.Below(9)) {
      case 0: return "site IN (" + SiteList(3) + ")";
      case 1: return "is_member(" + Q(Group()) + ") OR site = " + Q(rng_.Pick(kSites));
      case 2: return "current_user() = " + Q("u" + std::to_string(rng_.Below(kUsers))) + " OR age > " +
                     std::to_string(30 + rng_.Below(40));
      case 3: return "clinician = current_user()";
      case 4: return "age > " + std::to_string(25 + rng_.Below(40));
      case 5: return "NOT is_member(" + Q(Group()) + ") AND cohort != " + Q(rng_.Pick(kCohorts));
      case 6: return "score < " + Fmt2(rng_.Real(0.2, 0.9)) + " OR is_member('admins')";
      case 7: return "mrn LIKE 'MRN" + std::to_string(rng_.Below(10)) + "%' OR is_member(" + Q(Group()) + ")";
      default: return "cohort IN (" + Q(rng_.Pick(kCohorts)) + ", " + Q(rng_.Pick(kCohorts)) + ") AND age IS NOT NULL";
    }
  }

  std::string RowFilterText() {
    const double x = rng_.Real(0, 1);
    if (x < 0.55) return RowFilterAtom();
    const std::string a = RowFilterAtom(), b = RowFilterAtom();
    return "(" + a + ") " + (x < 0.85 ? "AND" : "OR") + " (" + b + ")";
  }

  MaskModel RandomMask(int col) {
    MaskModel m;
    const bool is_string = schema_.columns[col].type.id == TypeId::kString;
    m.kind = static_cast<MaskSpec::Kind>(rng_.Below(is_string ? 4 : 2));
    if (m.kind == MaskSpec::kConstant) {
      switch (col) {
        case kAge: m.constant = Value::Int(0); break;
        case kScore: m.constant = Value::Real(-1.0); break;
        case kSite: m.constant = Value::Str("REDACTED"); break;
        default: m.constant = Value::Str(rng_.Chance(0.5) ? "XXX" : "hidden"); break;
      }
    }
    m.reveal_last = static_cast<int>(rng_.Below(6));
    for (int g = 0; g < kGroups; ++g) {
      if (rng_.Chance(0.3)) m.exempt.push_back("g" + std::to_string(g));
    }
    if (rng_.Chance(0.3)) m.exempt.push_back("admins");
    return m;
  }

  static MaskSpec Spec(const MaskModel& m) {
    MaskSpec s;
    s.kind = m.kind;
    s.constant = m.constant;
    s.reveal_last = m.reveal_last;
    s.exempt_groups = m.exempt;
    return s;
  }

  const Row& RandomRow(int64_t version) {
    const auto& rows = rows_at_[static_cast<size_t>(version)];
    auto it = rows.begin();
    std::advance(it, static_cast<long>(rng_.Below(rows.size())));
    return it->second;
  }

  // `col = <value>`, or IS NULL for a NULL value.
  static std::string EqualsValue(const std::string& col, const Value& v) {
    if (v.is_null()) return col + " IS NULL";
    if (v.is_string()) return col + " = " + Q(v.as_string());
    return col + " = " + v.ToString();
  }

  std::string UserAtom(const Who& w, bool for_index) {
    const Row& r = RandomRow(current_);
    switch (rng_.Below(for_index ? 12 : 16)) {
      case 0: return "site = " + Q(rng_.Pick(kSites));
      case 1: return "site IN (" + SiteList(3) + ")";
      case 2: return rng_.Chance(0.5) ? "site != " + Q(rng_.Pick(kSites)) : "site IS NULL";
      case 3: {
        const int a = 18 + static_cast<int>(rng_.Below(70));
        switch (rng_.Below(3)) {
          case 0: return "age >= " + std::to_string(a);
          case 1: return "age BETWEEN " + std::to_string(a) + " AND " + std::to_string(a + 15);
          default: return "age IS NULL";
        }
      }
      case 4: return rng_.Chance(0.5) ? "cohort = " + Q(rng_.Pick(kCohorts))
                                      : "cohort NOT IN (" + Q(rng_.Pick(kCohorts)) + ")";
      case 5: return std::string("score ") + (rng_.Chance(0.5) ? "> " : "<= ") + Fmt2(rng_.Real(0, 1));
      case 6: return EqualsValue("mrn", r[kMrn]);                      // the raw value
      case 7: return EqualsValue("mrn", MaskValue(w, kMrn, r[kMrn]));  // the value the caller sees
      case 8:
        switch (rng_.Below(3)) {
          case 0: return "mrn LIKE '%" + std::to_string(rng_.Below(10)) + "'";
          case 1: return "mrn IS NOT NULL";
          default: return "mrn LIKE 'MRN%'";
        }
      case 9: return EqualsValue("site", MaskValue(w, kSite, r[kSite]));
      case 10: return "clinician = current_user()";
      case 11: return rng_.Chance(0.5) ? "is_member(" + Q(Group()) + ") AND cohort = " + Q(rng_.Pick(kCohorts))
                                       : "NOT is_member(" + Q(Group()) + ")";
      case 12: return EqualsValue("patient_id", r[kPid]);
      case 13: return EqualsValue("patient_id", MaskValue(w, kPid, r[kPid]));
      case 14: {
        const Row& r2 = RandomRow(current_);
        return "patient_id IN (" + Q(r[kPid].as_string()) + ", " + Q(r2[kPid].as_string()) + ")";
      }
      default: return "patient_id >= 'P5'";
    }
  }

  std::string UserFilter(const Who& w, bool for_index) {
    const double x = rng_.Real(0, 1);
    if (x < 0.45) return UserAtom(w, for_index);
    const std::string a = UserAtom(w, for_index);
    if (x < 0.85) return "(" + a + ") " + (x < 0.65 ? "AND" : "OR") + " (" + UserAtom(w, for_index) + ")";
    return "NOT (" + a + ")";
  }

  std::vector<float> RandomVector() {
    std::vector<float> v(kDim);
    for (float& x : v) x = rng_.Normal();
    return v;
  }

  // --- Cases --------------------------------------------------------------------------------

  // The version a VersionSpec designates: the latest committed at or before a timestamp.
  int64_t VersionAt(const governance::VersionSpec& at) const {
    if (at.version) return *at.version;
    if (!at.timestamp) return current_;
    int64_t v = -1;
    for (size_t i = 0; i < commit_time_.size(); ++i) {
      if (commit_time_[i] <= *at.timestamp) v = static_cast<int64_t>(i);
    }
    return v;
  }

  void ReadCase(const Who& w, const ReadOptions& opt, const std::string& label) {
    const int64_t v = VersionAt(opt.at);
    const std::string where = Where(w, "ReadTable", label + " v" + std::to_string(v) + " predicate=\"" +
                                                       opt.predicate + "\"" +
                                                       (opt.at.timestamp ? " at timestamp" : "") +
                                                       (opt.limit >= 0 ? " limit=" + std::to_string(opt.limit) : "") +
                                                       (opt.order_by_primary_key ? " ordered" : "") +
                                                       (opt.columns.empty() ? "" : " columns=" + Join(opt.columns)));
    Want want = Want::kOk;
    std::optional<filter::BoundExpr> pred;
    if (!CanRead(w, SecurableType::kTable, table_)) {
      want = Want::kDenied;
    } else if (v > current_) {
      want = Want::kNotFound;
    } else if (!opt.predicate.empty()) {
      auto e = filter::ParseFilterString(opt.predicate);
      if (!e.ok()) {
        want = Want::kInvalid;
      } else {
        auto b = filter::Bind(*e, schema_);
        if (!b.ok()) want = Want::kInvalid; else pred = *b;
      }
    }
    const int64_t before = HeadSeq();
    auto r = g_->ReadTable(w.caller, table_, opt);
    Count("ReadTable", want);
    const int64_t returned = r.ok() ? static_cast<int64_t>(r->rows.size()) : 0;
    if (!ExpectStatus(where, want, r.status(), returned) || !r.ok()) {
      CheckAudit(where, w, "table.read", table_.ToString(), before, r.status(), returned, nullptr);
      return;
    }
    // Projection.
    std::vector<int> cols;
    if (opt.columns.empty()) {
      for (int c = 0; c < kNumColumns; ++c) cols.push_back(c);
    } else {
      for (const std::string& n : opt.columns) cols.push_back(schema_.FindColumn(n));
    }
    std::vector<std::string> want_names, got_names;
    for (int c : cols) want_names.push_back(schema_.columns[c].name);
    for (const Column& c : r->columns) got_names.push_back(c.name);
    if (Lower(Join(want_names)) != Lower(Join(got_names))) {
      Fail(where, "columns " + Join(got_names) + ", expected " + Join(want_names));
    }
    if (r->version != v) Fail(where, "read version " + std::to_string(r->version));
    // Expected rows: visible (row filter on raw values) and passing the
    // predicate evaluated on masked values; masked, projected.
    auto project = [&](const Row& row) {
      Row p;
      for (int c : cols) p.push_back(row[c]);
      return p;
    };
    std::vector<Row> expected;
    std::vector<std::string> expected_keys;
    for (const auto& [k, raw] : rows_at_[v]) {
      if (!Visible(w, raw)) continue;
      const Row masked = MaskRow(w, raw);
      if (pred && !filter::Matches(*pred, masked, w.ctx)) continue;
      expected.push_back(project(masked));
      expected_keys.push_back(k);
    }
    const bool subset_only = opt.limit >= 0;
    const size_t want_n = subset_only ? std::min<size_t>(opt.limit, expected.size()) : expected.size();
    CompareRows(where, w, v, r->rows, expected, want_n, subset_only, cols, pred ? &*pred : nullptr);
    if (opt.order_by_primary_key && !Masked(w, kPid)) {
      // Ordered by the (visible) key: exactly the first rows of the expected set.
      for (size_t i = 0; i < r->rows.size() && i < expected.size(); ++i) {
        if (CanonRow(r->rows[i]) != CanonRow(expected[i])) {
          Fail(where, "row " + std::to_string(i) + " out of primary-key order");
          break;
        }
      }
    }
    if (!r->rows.empty()) ++rep_->nonempty_ok["ReadTable"];
    for (int c : cols) {
      if (Masked(w, c)) rep_->masked_values_checked += static_cast<int64_t>(r->rows.size());
    }
    const bool keys_known = !Masked(w, kPid) && !subset_only;
    CheckAudit(where, w, "table.read", table_.ToString(), before, r.status(), static_cast<int64_t>(r->rows.size()),
               keys_known ? &expected_keys : nullptr);
  }

  void ChangesCase(const Who& w, int64_t start, int64_t end) {
    const std::string where = Where(w, "Changes", std::to_string(start) + ".." + std::to_string(end));
    Want want = Want::kOk;
    if (!CanRead(w, SecurableType::kTable, table_)) {
      want = Want::kDenied;
    } else if (end > current_) {
      want = Want::kNotFound;
    }
    const int64_t before = HeadSeq();
    auto r = g_->Changes(w.caller, table_, start, end);
    Count("Changes", want);
    const int64_t returned = r.ok() ? static_cast<int64_t>(r->changes.size()) : 0;
    if (!ExpectStatus(where, want, r.status(), returned) || !r.ok()) {
      CheckAudit(where, w, "table.changes", table_.ToString(), before, r.status(), returned, nullptr);
      return;
    }
    const ChangeFeed& raw = RawFeed(start, end);
    std::map<std::string, int> want_set, got_set;
    std::map<std::string, std::string> raw_by_masked;  // for messages
    std::map<std::string, std::string> invisible;      // masked text of images the caller must not see
    std::map<std::string, std::string> unmasked;       // raw text of images the caller sees masked
    for (const ChangeRow& c : raw.changes) {
      const std::string prefix = std::string(governance::ChangeTypeName(c.type)) + "@" + std::to_string(c.version) + "|";
      const Row masked = MaskRow(w, c.row);
      const std::string text = prefix + CanonRow(masked);
      if (Visible(w, c.row)) {
        ++want_set[text];
        raw_by_masked[text] = c.row[kPid].as_string();
        if (CanonRow(masked) != CanonRow(c.row)) unmasked[prefix + CanonRow(c.row)] = c.row[kPid].as_string();
      } else {
        invisible[text] = c.row[kPid].as_string();
        invisible[prefix + CanonRow(c.row)] = c.row[kPid].as_string();
      }
    }
    for (const ChangeRow& c : r->changes) {
      ++got_set[std::string(governance::ChangeTypeName(c.type)) + "@" + std::to_string(c.version) + "|" +
                CanonRow(c.row)];
    }
    if (got_set != want_set) {
      int shown = 0;
      for (const auto& [text, n] : got_set) {
        const int extra = n - (want_set.count(text) ? want_set[text] : 0);
        if (extra <= 0 || shown >= 3) continue;
        ++shown;
        if (invisible.count(text)) {
          Leak(where, "LEAK: change image of " + invisible[text] + " (hidden by the row filter) returned");
        } else if (unmasked.count(text)) {
          Leak(where, "LEAK: change image of " + unmasked[text] + " returned with raw values of masked columns");
        } else {
          Leak(where, "unexpected change row " + text.substr(0, 160));
        }
      }
      shown = 0;
      for (const auto& [text, n] : want_set) {
        const int missing = n - (got_set.count(text) ? got_set[text] : 0);
        if (missing <= 0 || shown >= 3) continue;
        ++shown;
        Fail(where, "missing visible change image of " + raw_by_masked[text] + ": " + text.substr(0, 60));
      }
      if (static_cast<int64_t>(r->changes.size()) != Total(want_set)) {
        Fail(where, "got " + std::to_string(r->changes.size()) + " change rows, expected " +
                        std::to_string(Total(want_set)));
      }
    }
    if (r->start_version != start || r->end_version != end) Fail(where, "feed range differs from the request");
    if (!r->changes.empty()) ++rep_->nonempty_ok["Changes"];
    for (int c = 0; c < kNumColumns; ++c) {
      if (Masked(w, c)) rep_->masked_values_checked += static_cast<int64_t>(r->changes.size());
    }
    CheckAudit(where, w, "table.changes", table_.ToString(), before, r.status(),
               static_cast<int64_t>(r->changes.size()), nullptr);
  }

  void QueryCase(const Who& w, TestIndex& ti, const IndexQuery& q, const std::string& label) {
    const std::string where =
        Where(w, "QueryIndex", ti.name.ToString() + " " + label + " k=" + std::to_string(q.k) + " filter=\"" + q.filter +
                                   "\"" + (q.columns.empty() ? "" : " columns=" + Join(q.columns)) +
                                   (q.ef_search ? " ef=" + std::to_string(*q.ef_search) : ""));
    Want want = Want::kOk;
    bool precondition_also_ok = false;
    std::optional<filter::BoundExpr> user;  // bound against the table schema (the oracle evaluates full rows)
    const index::IndexSpec& spec = ti.index->spec();
    if (!CanRead(w, SecurableType::kIndex, ti.name)) {
      want = Want::kDenied;
    } else {
      std::optional<filter::Expr> expr;
      if (!q.filter.empty()) {
        auto e = filter::ParseFilterString(q.filter);
        if (!e.ok() || !filter::Bind(*e, spec.attributes).ok()) {
          want = Want::kInvalid;
        } else {
          expr = *e;
          user = filter::Bind(*e, schema_).value();
        }
      }
      if (want == Want::kOk && row_filter_expr_) {
        // The row filter as it applies to this caller: the index must hold
        // every column it still names, or refuse.
        const filter::Expr folded = governance::ResolveCallerFunctions(*row_filter_expr_, w.ctx);
        for (const std::string& c : filter::ReferencedColumns(folded)) {
          if (!Contains(ti.synced, c)) want = Want::kPrecondition;
        }
      }
      if (want == Want::kOk && expr) {
        // A filter still naming a keyed-hash or partial-reveal column once
        // the caller's functions are folded is refused; one that names it
        // only in a branch folded away for this caller may be either
        // refused or answered.
        auto needs_masked_eval = [&](const filter::Expr& e) {
          for (const std::string& c : filter::ReferencedColumns(e)) {
            const auto& m = w.masks[static_cast<size_t>(schema_.FindColumn(c))];
            if (m && (m->kind == MaskSpec::kKeyedHash || m->kind == MaskSpec::kPartialReveal)) return true;
          }
          return false;
        };
        if (needs_masked_eval(governance::ResolveCallerFunctions(*expr, w.ctx))) {
          want = Want::kPrecondition;
        } else if (needs_masked_eval(*expr)) {
          precondition_also_ok = true;
        }
      }
    }
    const int64_t before = HeadSeq();
    auto r = g_->QueryIndex(w.caller, IndexRef{ti.name, table_, ti.index.get()}, q);
    if (precondition_also_ok && r.status().code() == StatusCode::kFailedPrecondition) want = Want::kPrecondition;
    Count("QueryIndex", want);
    const int64_t returned = r.ok() ? static_cast<int64_t>(r->rows.size()) : 0;
    if (want == Want::kPrecondition && r.ok()) {
      // A filter on a keyed-hash / partial-reveal column answered instead of
      // refused: a contract difference; the results are still checked below
      // against the masked-value semantics (a raw-value evaluation is a leak).
      Fail(where, "returned " + std::to_string(returned) + " rows, expected FAILED_PRECONDITION");
    } else if (!ExpectStatus(where, want, r.status(), returned) || !r.ok()) {
      CheckAudit(where, w, "index.query", ti.name.ToString(), before, r.status(), returned, nullptr);
      return;
    }
    const IndexQueryResult& res = *r;
    // Columns: the key, the requested (or all synced) columns, "score".
    std::vector<std::string> req = q.columns.empty() ? ti.synced : q.columns;
    std::vector<int> req_cols;
    for (const std::string& c : req) req_cols.push_back(schema_.FindColumn(c));
    std::vector<std::string> want_names = {"patient_id"};
    want_names.insert(want_names.end(), req.begin(), req.end());
    want_names.push_back("score");
    if (Lower(Join(res.columns)) != Lower(Join(want_names))) {
      Fail(where, "columns " + Join(res.columns) + ", expected " + Join(want_names));
    }
    if (res.index_version != ti.version) {
      Fail(where, "index_version " + std::to_string(res.index_version) + ", expected " + std::to_string(ti.version));
    }
    if (res.scores.size() != res.rows.size()) Fail(where, "scores and rows differ in length");
    // The oracle's candidates: rows of the version the index reflects that the
    // caller may see and whose masked values pass the user filter.
    struct Cand {
      const Row* raw;
      Row masked;
      double dist;
      bool visible;
      bool passes;
      bool used = false;
    };
    std::vector<Cand> all;
    std::vector<double> exact;
    for (const auto& [k, raw] : rows_at_[static_cast<size_t>(ti.version)]) {
      Cand c{&raw, MaskRow(w, raw), L2(q.vector.data(), raw[kEmbedding].as_vector()), Visible(w, raw), true};
      c.passes = !user || filter::Matches(*user, c.masked, w.ctx);
      if (c.visible && c.passes) exact.push_back(c.dist);
      all.push_back(std::move(c));
    }
    std::sort(exact.begin(), exact.end());
    const size_t m = std::min(q.k, exact.size());
    if (res.rows.size() != m) {
      Fail(where, "returned " + std::to_string(res.rows.size()) + " results, expected min(k, " +
                      std::to_string(exact.size()) + " visible passing rows) = " + std::to_string(m) +
                      " (plan " + std::string(index::SearchPlanName(res.plan)) + ")");
    }
    // Match each result to a distinct candidate with the same masked key and
    // columns and the same distance.
    auto matches = [&](const Row& got, const Row& row, double dist, double score) {
      if (got.empty() || Canon(got[0]) != Canon(row[kPid])) return false;
      for (size_t j = 0; j < req_cols.size(); ++j) {
        if (1 + j >= got.size() || Canon(got[1 + j]) != Canon(row[req_cols[j]])) return false;
      }
      return Near(dist, score);
    };
    std::vector<std::string> result_keys;
    for (size_t i = 0; i < res.rows.size() && i < res.scores.size(); ++i) {
      const Row& got = res.rows[i];
      const double score = res.scores[i];
      if (got.size() != want_names.size()) {
        Fail(where, "result row " + std::to_string(i) + " has " + std::to_string(got.size()) + " values, columns " +
                        std::to_string(want_names.size()));
      } else if (!got.back().is_double() && !got.back().is_int()) {
        Fail(where, "result row " + std::to_string(i) + " does not end in its score: " + Show(got.back()));
      } else if (!Near(got.back().as_number(), score)) {
        Fail(where, "result row " + std::to_string(i) + " score value differs from scores[i]");
      }
      Cand* best = nullptr;
      for (Cand& c : all) {
        if (c.used || !c.visible || !c.passes || !matches(got, c.masked, c.dist, score)) continue;
        if (!best || std::fabs(c.dist - score) < std::fabs(best->dist - score)) best = &c;
      }
      if (best) {
        best->used = true;
        result_keys.push_back((*best->raw)[kPid].as_string());
        continue;
      }
      // Diagnose.
      std::string why = "result " + std::to_string(i) + " " + ShowRow(got) + " matches no visible passing row";
      for (const Cand& c : all) {
        if (!c.visible && (matches(got, c.masked, c.dist, score) || matches(got, *c.raw, c.dist, score))) {
          why = "LEAK: result " + std::to_string(i) + " is row " + (*c.raw)[kPid].as_string() +
                ", hidden from the caller by the row filter";
          break;
        }
        if (c.visible && matches(got, *c.raw, c.dist, score) && !matches(got, c.masked, c.dist, score)) {
          why = "LEAK: result " + std::to_string(i) + " is row " + (*c.raw)[kPid].as_string() +
                " with raw values of masked columns " + ShowRow(got);
          break;
        }
        if (c.visible && !c.passes && matches(got, c.masked, c.dist, score)) {
          why = "LEAK: result " + std::to_string(i) + " is row " + (*c.raw)[kPid].as_string() +
                ", which fails the user filter on the values the caller sees (evaluated on raw values?)";
          break;
        }
      }
      Leak(where, why);
    }
    for (size_t i = 1; i < res.scores.size(); ++i) {
      if (res.scores[i] < res.scores[i - 1] - 1e-6) Fail(where, "scores not best first");
    }
    // Distances: exact for FLAT and exact plans; recall for the others.
    if (m > 0 && res.scores.size() == m) {
      if (spec.kind == index::IndexKind::kFlat || res.plan == index::SearchPlan::kExact) {
        ++rep_->index_exact_checked;
        for (size_t i = 0; i < m; ++i) {
          if (!Near(res.scores[i], exact[i])) {
            Fail(where, "distance " + std::to_string(i) + " is " + std::to_string(res.scores[i]) + ", exact search " +
                            std::to_string(exact[i]) + " (plan " + std::string(index::SearchPlanName(res.plan)) + ")");
            break;
          }
        }
      } else {
        size_t hit = 0;
        for (size_t i = 0; i < m; ++i) hit += res.scores[i] <= exact[m - 1] + 1e-3 * (1 + exact[m - 1]) ? 1 : 0;
        rep_->recall_sum += static_cast<double>(hit) / static_cast<double>(m);
        ++rep_->recall_n;
      }
    }
    if (spec.kind == index::IndexKind::kFlat && res.plan != index::SearchPlan::kExact) {
      Fail(where, "a FLAT index answered with plan " + std::string(index::SearchPlanName(res.plan)));
    }
    if (!res.rows.empty()) ++rep_->nonempty_ok["QueryIndex"];
    for (int c : req_cols) {
      if (Masked(w, c)) rep_->masked_values_checked += static_cast<int64_t>(res.rows.size());
    }
    if (Masked(w, kPid)) rep_->masked_values_checked += static_cast<int64_t>(res.rows.size());
    const bool keys_known = !Masked(w, kPid) && result_keys.size() == res.rows.size();
    CheckAudit(where, w, "index.query", ti.name.ToString(), before, r.status(), static_cast<int64_t>(res.rows.size()),
               keys_known ? &result_keys : nullptr);
  }

  // One ScanIndex paging: `page` rows at a time from `start` (NULL: the
  // first row) until an empty page; `bad` names one invalid argument to
  // send instead ("num_results", "column", "after_type").
  struct ScanSpec {
    size_t page = 100;
    std::vector<std::string> columns;
    bool include_vector = false;
    Value start;
    std::string bad;
  };

  // ScanIndex: refused exactly when the oracle refuses (privileges first;
  // a key masked by anything but a keyed hash cannot be scanned);
  // otherwise the pages, concatenated, are exactly the rows of the version
  // the index reflects that the caller may see, masked, each once, ordered
  // by the key the caller sees (raw, or its keyed hash), after `start`;
  // every page is full but the last, ends in last_primary_key, and is one
  // audit record listing its raw keys.
  void ScanCase(const Who& w, TestIndex& ti, const ScanSpec& s, const std::string& label) {
    const std::string where =
        Where(w, "ScanIndex", ti.name.ToString() + " " + label + " page=" + std::to_string(s.page) +
                                  (s.start.is_null() ? "" : " after=" + Show(s.start)) +
                                  (s.columns.empty() ? "" : " columns=" + Join(s.columns)) +
                                  (s.include_vector ? " +vector" : "") + (s.bad.empty() ? "" : " bad=" + s.bad));
    const auto& pk_mask = w.masks[static_cast<size_t>(kPid)];
    const bool hashed = pk_mask && pk_mask->kind == MaskSpec::kKeyedHash;
    IndexScanRequest req;
    req.num_results = s.page;
    req.columns = s.columns;
    req.include_vector = s.include_vector;
    req.after_primary_key = s.start;
    if (s.bad == "num_results") req.num_results = scan_rng_.Chance(0.5) ? 0 : 10001;
    if (s.bad == "column") req.columns.push_back(scan_rng_.Chance(0.5) ? "stie" : "embedding");
    if (s.bad == "after_type") req.after_primary_key = Value::Int(7);
    Want want = Want::kOk;
    if (!CanRead(w, SecurableType::kIndex, ti.name)) {
      want = Want::kDenied;
    } else {
      if (row_filter_expr_) {
        const filter::Expr folded = governance::ResolveCallerFunctions(*row_filter_expr_, w.ctx);
        for (const std::string& c : filter::ReferencedColumns(folded)) {
          if (!Contains(ti.synced, c)) want = Want::kPrecondition;
        }
      }
      if (want == Want::kOk && (s.bad == "num_results" || s.bad == "column")) want = Want::kInvalid;
      if (want == Want::kOk && pk_mask && !hashed) want = Want::kPrecondition;
      if (want == Want::kOk && !req.after_primary_key.is_null() && !req.after_primary_key.is_string()) {
        want = Want::kInvalid;
      }
    }
    // The oracle: (key the caller sees, masked projected row, raw key), in order.
    std::vector<int> cols;  // table columns after the key
    for (const std::string& c : s.columns.empty() ? ti.synced : s.columns) {
      const int i = schema_.FindColumn(c);
      if (i != kPid) cols.push_back(i);  // naming the key adds nothing
    }
    if (s.include_vector) cols.push_back(kEmbedding);
    std::vector<int> out_cols = {kPid};
    out_cols.insert(out_cols.end(), cols.begin(), cols.end());
    struct Expected {
      std::string key;
      Row row;
      std::string raw_key;
    };
    std::vector<Expected> expected;
    for (const auto& [k, raw] : rows_at_[static_cast<size_t>(ti.version)]) {
      if (!Visible(w, raw)) continue;
      const Value shown = MaskValue(w, kPid, raw[kPid]);
      if (!shown.is_string()) continue;  // only reached when the scan is refused
      if (!req.after_primary_key.is_null() && req.after_primary_key.is_string() &&
          !(req.after_primary_key.as_string() < shown.as_string()))
        continue;
      Row row;
      for (int c : out_cols) row.push_back(MaskValue(w, c, raw[c]));
      expected.push_back({shown.as_string(), std::move(row), k});
    }
    std::sort(expected.begin(), expected.end(), [](const Expected& a, const Expected& b) { return a.key < b.key; });

    std::vector<std::string> want_names = {"patient_id"};
    for (int c : cols) want_names.push_back(schema_.columns[static_cast<size_t>(c)].name);
    std::vector<Row> got;
    const size_t max_calls = expected.size() / std::max<size_t>(s.page, 1) + 3;
    for (size_t call = 0;; ++call) {
      const int64_t before = HeadSeq();
      auto r = g_->ScanIndex(w.caller, IndexRef{ti.name, table_, ti.index.get()}, req);
      Count("ScanIndex", want);
      const int64_t returned = r.ok() ? static_cast<int64_t>(r->rows.size()) : 0;
      ExpectStatus(where, want, r.status(), returned);
      if (!r.ok()) {
        CheckAudit(where, w, "index.scan", ti.name.ToString(), before, r.status(), returned, nullptr);
        return;
      }
      // From here r is OK; if the oracle refused it, ExpectStatus recorded a
      // failure and the rows are checked below as leaks.
      if (call == 0 && Lower(Join(r->columns)) != Lower(Join(want_names))) {
        Fail(where, "columns " + Join(r->columns) + ", expected " + Join(want_names));
      }
      if (r->index_version != ti.version) {
        Fail(where, "index_version " + std::to_string(r->index_version) + ", expected " + std::to_string(ti.version));
      }
      const size_t from = std::min(got.size(), expected.size());
      const size_t want_n = std::min(s.page, expected.size() - from);
      if (r->rows.size() != want_n) {
        Fail(where, "page " + std::to_string(call) + " has " + std::to_string(r->rows.size()) + " rows, expected " +
                        std::to_string(want_n) + " (" + std::to_string(expected.size()) + " visible after the start, " +
                        std::to_string(from) + " returned before)");
      }
      std::vector<std::string> page_keys;
      for (size_t i = from; i < from + r->rows.size() && i < expected.size(); ++i) page_keys.push_back(expected[i].raw_key);
      const bool keys_known = want == Want::kOk && page_keys.size() == r->rows.size();
      CheckAudit(where, w, "index.scan", ti.name.ToString(), before, r.status(), returned,
                 keys_known ? &page_keys : nullptr);
      if (r->rows.empty()) {
        if (!r->last_primary_key.is_null()) Fail(where, "an empty page with last_primary_key " + Show(r->last_primary_key));
        break;
      }
      if (Canon(r->last_primary_key) != Canon(r->rows.back()[0])) {
        Fail(where, "last_primary_key " + Show(r->last_primary_key) + " is not the page's last key " +
                        Show(r->rows.back()[0]));
      }
      got.insert(got.end(), r->rows.begin(), r->rows.end());
      req.after_primary_key = r->last_primary_key;
      if (call + 1 >= max_calls || want != Want::kOk) {
        if (want == Want::kOk) Fail(where, "the scan did not end after " + std::to_string(call + 1) + " pages");
        break;
      }
    }
    // No leak and complete: the rows as a multiset (with diagnosis), then
    // their order.
    std::vector<Row> want_rows;
    for (const Expected& e : expected) want_rows.push_back(e.row);
    if (want != Want::kOk) want_rows.clear();
    const size_t before_failures = rep_->failures.size();
    CompareRows(where, w, ti.version, got, want_rows, want_rows.size(), false, out_cols, nullptr);
    if (rep_->failures.size() == before_failures) {
      for (size_t i = 0; i < got.size(); ++i) {
        if (CanonRow(got[i]) != CanonRow(want_rows[i])) {
          Fail(where, "row " + std::to_string(i) + " out of key order: " + ShowRow(got[i]));
          break;
        }
      }
    }
    if (!got.empty()) ++rep_->nonempty_ok["ScanIndex"];
    for (int c : out_cols) {
      if (Masked(w, c)) rep_->masked_values_checked += static_cast<int64_t>(got.size());
    }
  }

  // A random scan of the main index for `w`.
  ScanSpec RandomScan(const Who& w) {
    ScanSpec s;
    static const size_t kPages[] = {9, 40, 150, 10000};
    s.page = kPages[scan_rng_.Below(4)];
    if (scan_rng_.Chance(0.3)) {
      std::vector<std::string> c = kSynced;
      std::shuffle(c.begin(), c.end(), scan_rng_.gen());
      c.resize(1 + scan_rng_.Below(3));
      if (scan_rng_.Chance(0.2)) c.push_back("PATIENT_ID");  // adds nothing
      s.columns = c;
    }
    s.include_vector = scan_rng_.Chance(0.5);
    if (scan_rng_.Chance(0.3)) {
      // Start in the middle: a raw key (a probe when the key is hashed), the
      // key the caller sees, or a key that does not exist.
      const auto& rows = rows_at_[static_cast<size_t>(current_)];
      auto it = rows.begin();
      std::advance(it, static_cast<long>(scan_rng_.Below(rows.size())));
      switch (scan_rng_.Below(3)) {
        case 0: s.start = Value::Str(it->first); break;
        case 1: s.start = MaskValue(w, kPid, it->second[kPid]); break;
        default: s.start = Value::Str(it->first + "5"); break;
      }
    }
    return s;
  }

  // DescribeIndex and VisibleIndexes: exactly the indexes the caller may read.
  void IndexMetadataCase(const Who& w) {
    {
      const std::string where = Where(w, "DescribeIndex", kIndexName);
      const Want want = CanRead(w, SecurableType::kIndex, main_.name) ? Want::kOk : Want::kDenied;
      const int64_t before = HeadSeq();
      Status st = g_->DescribeIndex(w.caller, main_.name);
      Count("DescribeIndex", want);
      ExpectStatus(where, want, st, 0);
      const std::vector<std::string> no_keys;
      CheckAudit(where, w, "index.describe", kIndexName, before, st, 0, st.ok() ? &no_keys : nullptr);
    }
    const std::string where = Where(w, "VisibleIndexes", "");
    std::vector<TableName> candidates;
    std::vector<std::string> want_names;
    for (const char* n : {kIndexName, "main.clinical.visits_idx", "main.other.patients_idx", "main.clinical.patients"}) {
      candidates.push_back(TableName::Parse(n).value());
      if (CanRead(w, SecurableType::kIndex, candidates.back())) want_names.push_back(n);
    }
    const int64_t before = HeadSeq();
    auto r = g_->VisibleIndexes(w.caller, candidates);
    Count("VisibleIndexes", Want::kOk);
    if (!ExpectStatus(where, Want::kOk, r.status(), 0)) return;
    std::vector<std::string> got;
    for (const TableName& n : *r) got.push_back(n.ToString());
    if (got != want_names) {
      std::string extra;
      for (const std::string& n : got) {
        if (!Contains(want_names, n)) extra += " " + n;
      }
      Leak(where, std::string(extra.empty() ? "" : "LEAK: ") + "listed [" + Join(got) + "], expected [" +
                      Join(want_names) + "]");
    }
    if (!got.empty()) ++rep_->nonempty_ok["VisibleIndexes"];
    const std::vector<std::string> no_keys;
    CheckAudit(where, w, "index.list", "", before, r.status(), static_cast<int64_t>(got.size()), &no_keys);
  }

  // DescribeTable: denied exactly when the oracle denies; otherwise
  // row_count is the number of rows visible to the caller at that version.
  void DescribeCase(const Who& w, const governance::VersionSpec& at, const std::string& label) {
    const int64_t v = VersionAt(at);
    const std::string where = Where(w, "DescribeTable", label + " v" + std::to_string(v));
    Want want = Want::kOk;
    if (!CanRead(w, SecurableType::kTable, table_)) {
      want = Want::kDenied;
    } else if (v > current_) {
      want = Want::kNotFound;
    }
    const int64_t before = HeadSeq();
    auto d = g_->DescribeTable(w.caller, table_, at);
    Count("DescribeTable", want);
    if (!ExpectStatus(where, want, d.status(), d.ok() ? d->row_count : 0) || !d.ok()) {
      CheckAudit(where, w, "table.describe", table_.ToString(), before, d.status(), 0, nullptr);
      return;
    }
    int64_t visible = 0;
    for (const auto& [k, raw] : rows_at_[static_cast<size_t>(v)]) visible += Visible(w, raw) ? 1 : 0;
    if (d->version != v) Fail(where, "described version " + std::to_string(d->version));
    if (d->row_count != visible) {
      Leak(where, std::string(d->row_count > visible ? "LEAK: " : "") + "row_count " +
                      std::to_string(d->row_count) + ", visible rows " + std::to_string(visible));
    }
    if (visible > 0) ++rep_->nonempty_ok["DescribeTable"];
    CheckAudit(where, w, "table.describe", table_.ToString(), before, d.status(), 0, nullptr);
  }

  // History: denied exactly when the oracle denies; without MANAGE, no
  // commit parameters, and no row metrics when a row of some version is
  // hidden from the caller.
  void HistoryCase(const Who& w) {
    const std::string where = Where(w, "History", "");
    const Want want = CanRead(w, SecurableType::kTable, table_) ? Want::kOk : Want::kDenied;
    const int64_t before = HeadSeq();
    auto h = g_->History(w.caller, table_);
    Count("History", want);
    const std::vector<std::string> no_keys;
    if (!ExpectStatus(where, want, h.status(), h.ok() ? static_cast<int64_t>(h->size()) : 0) || !h.ok()) {
      CheckAudit(where, w, "table.history", table_.ToString(), before, h.status(), 0, nullptr);
      return;
    }
    auto raw = g_->store().History(table_);
    if (!Check(raw.status(), "raw History")) return;
    if (h->size() != raw->size()) {
      Fail(where, std::to_string(h->size()) + " entries, store has " + std::to_string(raw->size()));
    }
    const bool manage = Holds(w, Privilege::kManage, SecurableType::kTable, table_.ToString());
    bool hidden_rows = false;
    for (int64_t v = 0; v <= current_ && !hidden_rows; ++v) {
      for (const auto& [k, r] : rows_at_[static_cast<size_t>(v)]) {
        if (!Visible(w, r)) {
          hidden_rows = true;
          break;
        }
      }
    }
    for (size_t i = 0; i < h->size() && i < raw->size(); ++i) {
      const governance::CommitInfo& c = (*h)[i];
      const governance::CommitInfo& r = (*raw)[i];
      if (c.version != r.version || c.operation != r.operation || c.principal != r.principal) {
        Fail(where, "entry " + std::to_string(i) + " differs from the store's");
      }
      if (manage) {
        if (c.parameters_json != r.parameters_json || c.rows_removed != r.rows_removed) {
          Fail(where, "a MANAGE holder's entry " + std::to_string(i) + " is redacted");
        }
        continue;
      }
      if (c.parameters_json != "{}" && c.parameters_json != r.parameters_json) {
        Fail(where, "entry " + std::to_string(i) + " parameters neither redacted nor the store's");
      } else if (c.parameters_json != "{}" && r.parameters_json != "{}") {
        Leak(where, "LEAK: commit parameters " + c.parameters_json + " shown without MANAGE");
      }
      const bool withheld = c.rows_added == -1 && c.rows_removed == -1 && c.rows_updated == -1;
      if (hidden_rows && !withheld && (c.rows_added != 0 || c.rows_removed != 0 || c.rows_updated != 0)) {
        Leak(where, "LEAK: row metrics of version " + std::to_string(c.version) +
                        " shown to a caller whose row filter hides rows");
      }
      if (!withheld && (c.rows_added != r.rows_added || c.rows_removed != r.rows_removed ||
                        c.rows_updated != r.rows_updated)) {
        Fail(where, "row metrics of version " + std::to_string(c.version) + " differ from the store's");
      }
    }
    if (!h->empty()) ++rep_->nonempty_ok["History"];
    CheckAudit(where, w, "table.history", table_.ToString(), before, h.status(),
               static_cast<int64_t>(h->size()), &no_keys);
  }

  // Generated cases for every user and the admin.
  void RunGeneratedCases() {
    std::vector<std::string> callers = users_;
    callers.push_back("admin");
    for (const std::string& u : callers) {
      std::optional<Who> who = MakeWho(u);
      if (!who) continue;
      const Who& w = *who;
      // ReadTable at the current version: no predicate, then predicates
      // (one with a projection, one with a limit).
      ReadCase(w, ReadOptions{}, "current");
      for (int i = 0; i < 3; ++i) {
        ReadOptions o;
        o.predicate = UserFilter(w, false);
        if (i == 1 && rng_.Chance(0.6)) o.columns = RandomColumns(true);
        if (i == 2 && rng_.Chance(0.6)) {
          o.limit = static_cast<int64_t>(rng_.Below(40));
          o.order_by_primary_key = rng_.Chance(0.5);
        }
        ReadCase(w, o, "current");
      }
      // Time travel.
      for (int i = 0; i < 2; ++i) {
        ReadOptions o;
        o.at.version = static_cast<int64_t>(rng_.Below(static_cast<size_t>(current_)));
        if (i == 1 || rng_.Chance(0.3)) o.predicate = UserFilter(w, false);
        ReadCase(w, o, "time travel");
      }
      {
        // Time travel by timestamp: a commit's time, or just after it.
        ReadOptions o;
        const size_t v = 1 + rng_.Below(static_cast<size_t>(current_));
        o.at.timestamp = Timestamp{commit_time_[v].micros + (rng_.Chance(0.5) ? 0 : 1)};
        if (rng_.Chance(0.5)) o.predicate = UserFilter(w, false);
        ReadCase(w, o, "time travel");
      }
      // Change feed.
      for (int i = 0; i < 2; ++i) {
        const int64_t a = static_cast<int64_t>(rng_.Below(static_cast<size_t>(current_ + 1)));
        const int64_t b = a + static_cast<int64_t>(rng_.Below(static_cast<size_t>(current_ - a + 1)));
        ChangesCase(w, a, b);
      }
      // Index queries.
      for (int i = 0; i < 5; ++i) {
        IndexQuery q;
        q.vector = RandomVector();
        static const size_t kKs[] = {1, 3, 5, 10, 10, 20, 50, 500};
        q.k = kKs[rng_.Below(8)];
        if (rng_.Chance(0.65)) q.filter = UserFilter(w, true);
        if (rng_.Chance(0.3)) q.columns = RandomColumns(false);
        if (rng_.Chance(0.3)) q.ef_search = static_cast<int>(16 + rng_.Below(200));
        QueryCase(w, main_, q, "");
      }
      // Index scans (one full paging) and the index metadata calls.
      ScanCase(w, main_, RandomScan(w), "");
      if (scan_rng_.Chance(0.25)) {
        ScanSpec bad;
        bad.bad = scan_rng_.Pick(std::vector<std::string>{"num_results", "column", "after_type"});
        ScanCase(w, main_, bad, "bad argument");
      }
      IndexMetadataCase(w);
      // Metadata: DescribeTable now and at a random (or future) version or
      // timestamp; DESCRIBE HISTORY.
      DescribeCase(w, {}, "current");
      {
        governance::VersionSpec at;
        const size_t pick = rng_.Below(5);
        if (pick < 3) {
          at.version = static_cast<int64_t>(rng_.Below(static_cast<size_t>(current_ + 1)));
        } else if (pick == 3) {
          at.timestamp = commit_time_[1 + rng_.Below(static_cast<size_t>(current_))];
        } else {
          at.version = current_ + 1 + static_cast<int64_t>(rng_.Below(3));
        }
        DescribeCase(w, at, "time travel");
      }
      HistoryCase(w);
      // One edge case: errors must not come before the privilege check.
      switch (rng_.Below(4)) {
        case 0: {
          ReadOptions o;
          o.predicate = "stie = 'A'";
          ReadCase(w, o, "unknown column");
          break;
        }
        case 1: {
          IndexQuery q;
          q.vector = RandomVector();
          q.filter = "stie = 'A' OR age > 1";
          QueryCase(w, main_, q, "unknown column");
          break;
        }
        case 2: {
          ReadOptions o;
          o.at.version = current_ + 1 + static_cast<int64_t>(rng_.Below(5));
          ReadCase(w, o, "future version");
          break;
        }
        default:
          ChangesCase(w, 1, current_ + 2);
          break;
      }
    }
  }

  void VerifyAudit() {
    int64_t checked = -1, bad = -1;
    Status st = g_->audit().Verify(&checked, &bad);
    if (!st.ok()) Fail("audit", "Verify: " + st.ToString());
    auto head = g_->audit().GetHead();
    if (head.ok() && checked != head->seq) Fail("audit", "Verify checked " + std::to_string(checked) + " of " +
                                                             std::to_string(head->seq) + " records");
  }

  // --- Checks -------------------------------------------------------------------------------

  // Whether the call's outcome is the expected one (a failure is recorded
  // otherwise). A success where a refusal was expected is a leak.
  bool ExpectStatus(const std::string& where, Want want, const Status& st, int64_t rows) {
    if (st.code() == WantCode(want)) return true;
    if (st.ok()) {
      Leak(where, std::string(want == Want::kDenied ? "LEAK: " : "") + "returned " + std::to_string(rows) +
                      " rows, expected " + WantName(want));
    } else {
      Fail(where, "got " + st.ToString() + ", expected " + WantName(want));
    }
    return false;
  }

  void CompareRows(const std::string& where, const Who& w, int64_t v, const std::vector<Row>& got,
                   const std::vector<Row>& expected, size_t want_n, bool subset_only, const std::vector<int>& cols,
                   const filter::BoundExpr* pred) {
    std::map<std::string, int> want_set, got_set;
    for (const Row& r : expected) ++want_set[CanonRow(r)];
    for (const Row& r : got) ++got_set[CanonRow(r)];
    if (got.size() != want_n) {
      Fail(where, "returned " + std::to_string(got.size()) + " rows, expected " + std::to_string(want_n) +
                      (subset_only ? " (limit)" : ""));
    }
    auto project = [&](const Row& row) {
      Row p;
      for (int c : cols) p.push_back(row[c]);
      return CanonRow(p);
    };
    int shown = 0;
    for (const auto& [text, n] : got_set) {
      const int extra = n - (want_set.count(text) ? want_set[text] : 0);
      if (extra <= 0 || shown >= 3) continue;
      ++shown;
      std::string why = "unexpected row " + text.substr(0, 160);
      for (const auto& [k, raw] : rows_at_[v]) {
        const Row masked = MaskRow(w, raw);
        if (project(masked) == text && !Visible(w, raw)) {
          why = "LEAK: row " + k + " is hidden from the caller by the row filter";
          break;
        }
        if (project(raw) == text && project(masked) != text) {
          why = "LEAK: row " + k + " returned with raw values of masked columns";
          break;
        }
        if (project(masked) == text && pred && !filter::Matches(*pred, masked, w.ctx)) {
          why = "LEAK: row " + k + " fails the predicate on the values the caller sees (evaluated on raw values?)";
          break;
        }
      }
      Leak(where, why);
    }
    if (subset_only) return;
    shown = 0;
    for (const auto& [text, n] : want_set) {
      const int missing = n - (got_set.count(text) ? got_set[text] : 0);
      if (missing <= 0 || shown >= 3) continue;
      ++shown;
      Fail(where, "missing visible row " + text.substr(0, 100));
    }
  }

  void CheckAudit(const std::string& where, const Who& w, const std::string& action, const std::string& securable,
                  int64_t before, const Status& st, int64_t rows, const std::vector<std::string>* keys) {
    AuditQuery q;
    q.from_seq = before + 1;
    q.newest_first = false;
    q.limit = 100;
    auto recs = g_->audit().Query(q);
    if (!recs.ok()) {
      Fail(where, "audit query: " + recs.status().ToString());
      return;
    }
    if (recs->size() != 1) {
      std::string acts;
      for (const AuditRecord& a : *recs) acts += " " + a.action + "/" + a.outcome;
      Fail(where, "audit: " + std::to_string(recs->size()) + " records appended by one call, expected 1:" + acts);
      if (recs->empty()) return;
    }
    const AuditRecord& a = recs->front();
    if (a.principal != w.user || a.action != action || Lower(a.securable) != Lower(securable)) {
      Fail(where, "audit record " + std::to_string(a.seq) + " is (" + a.principal + ", " + a.action + ", " +
                      a.securable + "), expected (" + w.user + ", " + action + ", " + securable + ")");
    }
    const std::string want_outcome = st.ok() ? "allowed" : st.code() == StatusCode::kPermissionDenied ? "denied" : "";
    if (want_outcome.empty() ? (a.outcome != "denied" && a.outcome != "error") : a.outcome != want_outcome) {
      Fail(where, "audit outcome '" + a.outcome + "' for " + st.ToString());
    }
    if (a.row_count != rows) {
      Fail(where, "audit row_count " + std::to_string(a.row_count) + ", returned " + std::to_string(rows));
    }
    if (!st.ok() && !a.keys.empty()) Fail(where, "audit of a refused call lists keys");
    if (st.ok() && keys) {
      std::vector<std::string> got = a.keys, want = *keys;
      std::sort(got.begin(), got.end());
      std::sort(want.begin(), want.end());
      if (got != want) {
        Fail(where, "audit keys (" + std::to_string(got.size()) + ") differ from the keys returned (" +
                        std::to_string(want.size()) + ")");
      }
    } else if (st.ok() && static_cast<int64_t>(a.keys.size()) != rows && action != "table.changes") {
      Fail(where, "audit lists " + std::to_string(a.keys.size()) + " keys for " + std::to_string(rows) + " rows");
    }
  }

  // --- Plumbing -----------------------------------------------------------------------------

  bool Check(const Status& st, const std::string& what) {
    if (st.ok()) return true;
    return Fail("setup", what + ": " + st.ToString());
  }
  bool Fail(const std::string& where, const std::string& what) {
    rep_->failures.push_back("seed " + std::to_string(seed_) + " " + where + ": " + what);
    return false;
  }
  void Leak(const std::string& where, const std::string& what) {
    if (what.rfind("LEAK", 0) == 0) ++rep_->leaks;
    Fail(where, what);
  }
  void Count(const std::string& path, Want want) {
    ++rep_->cases;
    ++rep_->cases_by_kind[path + "/" + WantName(want)];
  }
  std::string Where(const Who& w, const std::string& path, const std::string& detail) const {
    return "[" + w.user + (w.admin ? " (admin)" : "") + " groups " + Join(w.groups) + "] " + path + " " + detail;
  }
  static std::string Join(const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + v[i];
    return s;
  }
  static bool Contains(const std::vector<std::string>& v, const std::string& x) {
    for (const std::string& s : v) {
      if (EqualsIgnoreCase(s, x)) return true;
    }
    return false;
  }
  static int64_t Total(const std::map<std::string, int>& m) {
    int64_t t = 0;
    for (const auto& [k, n] : m) t += n;
    return t;
  }
  int64_t HeadSeq() {
    auto h = g_->audit().GetHead();
    return h.ok() ? h->seq : -1;
  }
  std::vector<std::string> LiveKeys(int64_t v) const {
    std::vector<std::string> out;
    for (const auto& [k, r] : rows_at_[static_cast<size_t>(v)]) out.push_back(k);
    return out;
  }
  bool Commit(governance::Store& s, const std::function<Status(governance::Transaction&)>& op) {
    auto t = s.Begin("admin");
    if (!Check(op(*t), "transaction op")) return false;
    return Check(t->Commit().status(), "Commit");
  }
  const ChangeFeed& RawFeed(int64_t a, int64_t b) {
    auto it = feeds_.find({a, b});
    if (it != feeds_.end()) return it->second;
    auto f = g_->store().Changes(table_, a, b);
    if (!f.ok()) Fail("oracle", "raw Changes: " + f.status().ToString());
    return feeds_[{a, b}] = f.ok() ? *f : ChangeFeed{};
  }
  std::vector<std::string> RandomColumns(bool table) {
    std::vector<std::string> c = kSynced;
    if (table) {
      c.push_back("patient_id");
      c.push_back("embedding");
    }
    std::shuffle(c.begin(), c.end(), rng_.gen());
    c.resize(1 + rng_.Below(3));
    return c;
  }
  bool RebindRowFilter() {
    std::vector<filter::Expr> parts;
    for (const std::string* t : {&row_filter_text_, &tag_row_filter_text_}) {
      if (t->empty()) continue;
      auto e = filter::ParseFilterString(*t);
      if (!Check(e.status(), "parse row filter")) return false;
      parts.push_back(*e);
    }
    if (parts.empty()) {
      row_filter_.reset();
      row_filter_expr_.reset();
      return true;
    }
    row_filter_expr_ = filter::Expr::And(parts);
    auto b = filter::Bind(*row_filter_expr_, schema_);
    if (!Check(b.status(), "bind row filter")) return false;
    row_filter_ = *b;
    return true;
  }

  Governed& g() { return *g_; }
  const TableName& table() const { return table_; }
  const Schema& schema() const { return schema_; }
  TestIndex& main_index() { return main_; }
  int64_t current() const { return current_; }
  const std::map<std::string, Row>& rows_at(int64_t v) const { return rows_at_[static_cast<size_t>(v)]; }
  // The seed's policies, for failure messages.
  std::string PolicyDescription() const {
    std::string s = "row filter: " + (row_filter_text_.empty() ? std::string("none") : row_filter_text_) +
                    (tag_row_filter_text_.empty() ? "" : " AND tag policy (" + tag_row_filter_text_ + ")");
    for (int c = 0; c < kNumColumns; ++c) {
      for (const auto* m : {&masks_[c], &tag_masks_[c]}) {
        if (!*m) continue;
        s += "; " + std::string(m == &masks_[c] ? "mask " : "tag mask ") + schema_.columns[c].name + " " +
             std::string(governance::MaskKindName((*m)->kind)) + " exempt [" + Join((*m)->exempt) + "]";
      }
    }
    return s;
  }

 private:
  uint64_t seed_;
  Rng rng_;
  Rng scan_rng_;  // ScanIndex cases and the vector mask: apart, so the other cases stay as they were
  Report* rep_;
  TempDir dir_;
  std::unique_ptr<Governed> g_;
  TableName table_;
  Schema schema_;
  std::vector<std::map<std::string, Row>> rows_at_;  // version -> pk -> row
  std::vector<Timestamp> commit_time_;              // version -> commit time
  int64_t current_ = 0;
  std::vector<std::string> users_;
  std::map<std::string, std::set<std::string>> parents_;  // member -> groups directly containing it
  std::set<std::tuple<SecKey, std::string, Privilege>> grants_;
  std::map<SecKey, std::string> owners_;
  std::string row_filter_text_, tag_row_filter_text_;
  std::optional<filter::Expr> row_filter_expr_;
  std::optional<filter::BoundExpr> row_filter_;
  std::optional<MaskModel> masks_[kNumColumns];
  std::optional<MaskModel> tag_masks_[kNumColumns];
  TestIndex main_;
  std::map<std::pair<int64_t, int64_t>, ChangeFeed> feeds_;
};

std::string Summary(const Report& rep) {
  std::ostringstream s;
  s << rep.cases << " cases;";
  for (const auto& [k, n] : rep.cases_by_kind) s << " " << k << "=" << n;
  s << "; index results checked exactly: " << rep.index_exact_checked;
  if (rep.recall_n > 0) s << "; approximate-plan queries: " << rep.recall_n << ", mean recall " << rep.recall_sum / rep.recall_n;
  s << "; allowed cases returning rows:";
  for (const auto& [k, n] : rep.nonempty_ok) s << " " << k << "=" << n;
  s << "; masked values checked: " << rep.masked_values_checked;
  s << "; failures: " << rep.failures.size() << " (leaks: " << rep.leaks << ")";
  return s.str();
}

std::string FirstFailures(const Report& rep, size_t n = 40) {
  std::string s;
  for (size_t i = 0; i < rep.failures.size() && i < n; ++i) s += "\n  " + rep.failures[i];
  if (rep.failures.size() > n) s += "\n  ... and " + std::to_string(rep.failures.size() - n) + " more";
  for (const auto& [seed, text] : rep.policies) {
    if (s.find("seed " + std::to_string(seed) + " ") != std::string::npos) {
      s += "\n  policies of seed " + std::to_string(seed) + ": " + text;
    }
  }
  return s;
}

// --- The generated suite ----------------------------------------------------------------------

TEST(LeakSuite, GeneratedCallersPoliciesAndFiltersSeeNothingTheyMustNot) {
  Report rep;
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    World w(seed, &rep);
    if (!w.BuildBase() || !w.GenerateGovernance() || !w.BuildMainIndex()) continue;
    rep.policies[seed] = w.PolicyDescription();
    w.RunGeneratedCases();
    w.VerifyAudit();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ leak suite ] %s; %.1f s\n", Summary(rep).c_str(), secs);
  EXPECT_GE(rep.cases, 1000);
  EXPECT_EQ(rep.leaks, 0) << "the governed read path returned what a caller must not see";
  EXPECT_TRUE(rep.failures.empty()) << rep.failures.size() << " failures:" << FirstFailures(rep);
  if (rep.recall_n > 0) {
    EXPECT_GE(rep.recall_sum / static_cast<double>(rep.recall_n), 0.95);
  }
}

// --- Targeted probes --------------------------------------------------------------------------

// A world with the base data and an index, no random governance: each probe
// sets up exactly what it tests. Users u0..u5 and groups g0..g3 exist, with
// no memberships or grants.
class LeakProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    world_ = std::make_unique<World>(101, &rep_);
    ASSERT_TRUE(world_->BuildBase()) << FirstFailures(rep_);
    ASSERT_TRUE(world_->BuildIndex(&world_->main_index(), kIndexName, kSynced, index::IndexKind::kFlat, false,
                                   world_->current(), std::nullopt))
        << FirstFailures(rep_);
  }
  void TearDown() override {
    world_->VerifyAudit();
    EXPECT_EQ(rep_.leaks, 0);
    EXPECT_TRUE(rep_.failures.empty()) << rep_.failures.size() << " failures:" << FirstFailures(rep_);
  }

  // USE CATALOG + USE SCHEMA on main for `p`, and SELECT on the table and/or the index.
  void GrantRead(const std::string& p, bool table, bool index) {
    ASSERT_TRUE(world_->Grant(SecurableType::kCatalog, "main", p, Privilege::kUseCatalog));
    ASSERT_TRUE(world_->Grant(SecurableType::kSchema, "main.clinical", p, Privilege::kUseSchema));
    if (table) {
      ASSERT_TRUE(world_->Grant(SecurableType::kTable, kTableName, p, Privilege::kSelect));
    }
    if (index) {
      ASSERT_TRUE(world_->Grant(SecurableType::kIndex, kIndexName, p, Privilege::kSelect));
    }
  }

  Who MustWho(const std::string& user) {
    auto w = world_->MakeWho(user);
    EXPECT_TRUE(w.has_value()) << FirstFailures(rep_);
    return w ? std::move(*w) : Who{};
  }

  std::string RawOf(int col, size_t nth) {
    auto it = world_->rows_at(world_->current()).begin();
    for (size_t i = 0; i < nth; ++i) ++it;
    while (it->second[col].is_null()) ++it;
    return it->second[col].as_string();
  }

  Report rep_;
  std::unique_ptr<World> world_;
};

// Filtering on a masked column by its raw value finds nothing (the filter
// sees masked values), through ReadTable and QueryIndex; a caller exempt
// from the masks finds the rows.
TEST_F(LeakProbe, FilterOnMaskedColumnByRawValueFindsNothing) {
  World& w = *world_;
  ASSERT_TRUE(w.AddGroup("phi_readers"));
  ASSERT_TRUE(w.AddMember("phi_readers", "u1"));
  GrantRead("u0", true, true);
  GrantRead("u1", true, true);
  MaskModel hash{MaskSpec::kKeyedHash, Value(), 4, {"phi_readers"}};
  MaskModel partial{MaskSpec::kPartialReveal, Value(), 2, {"phi_readers"}};
  MaskModel constant{MaskSpec::kConstant, Value::Str("REDACTED"), 4, {"phi_readers"}};
  MaskModel null{MaskSpec::kNull, Value(), 4, {"phi_readers"}};
  ASSERT_TRUE(w.SetMask(kPid, hash));
  ASSERT_TRUE(w.SetMask(kMrn, partial));
  ASSERT_TRUE(w.SetMask(kSite, constant));
  ASSERT_TRUE(w.SetMask(kAge, null));
  Who masked = MustWho("u0");
  Who exempt = MustWho("u1");

  const std::string pid = RawOf(kPid, 7), mrn = RawOf(kMrn, 11);
  const std::vector<std::string> probes = {"patient_id = " + Q(pid), "patient_id IN (" + Q(pid) + ", " + Q(RawOf(kPid, 3)) + ")",
                                           "patient_id LIKE 'P%'", "patient_id BETWEEN 'P0000' AND 'P9999'",
                                           "mrn = " + Q(mrn), "mrn LIKE 'MRN%'", "site = 'A'",
                                           "site IN ('A', 'B', 'C', 'D', 'E', 'F')", "age > 0", "age BETWEEN 18 AND 90"};
  for (const std::string& p : probes) {
    ReadOptions o;
    o.predicate = p;
    auto r = w.g().ReadTable(masked.caller, w.table(), o);
    ASSERT_TRUE(r.ok()) << p << ": " << r.status().ToString();
    EXPECT_EQ(r->rows.size(), 0u) << "LEAK: filter on a masked column by raw value matched rows: " << p;
    auto e = w.g().ReadTable(exempt.caller, w.table(), o);
    ASSERT_TRUE(e.ok()) << p << ": " << e.status().ToString();
    EXPECT_GT(e->rows.size(), 0u) << "an exempt caller's filter on raw values: " << p;
    // And the generic oracle agrees, for both.
    w.ReadCase(masked, o, "probe");
    w.ReadCase(exempt, o, "probe");
  }
  // The values the caller sees do match: the keyed hash, the partial reveal, the constant, NULL.
  for (const std::string& p : std::vector<std::string>{"site = 'REDACTED'", "age IS NULL", "mrn LIKE '%" + mrn.substr(mrn.size() - 2) + "'",
                               "mrn LIKE '*%'"}) {
    ReadOptions o;
    o.predicate = p;
    auto r = w.g().ReadTable(masked.caller, w.table(), o);
    ASSERT_TRUE(r.ok()) << p << ": " << r.status().ToString();
    EXPECT_GT(r->rows.size(), 0u) << p;
    w.ReadCase(masked, o, "probe");
  }
  // Index: a constant or NULL mask is folded into the search filter; a
  // filter naming a keyed-hash or partial-reveal column is refused.
  for (const char* p : {"site = 'A'", "site IN ('A', 'B', 'C')", "age > 0", "age IS NOT NULL"}) {
    IndexQuery q;
    q.vector = w.RandomVector();
    q.k = 50;
    q.filter = p;
    auto r = w.g().QueryIndex(masked.caller, IndexRef{w.main_index().name, w.table(), w.main_index().index.get()}, q);
    ASSERT_TRUE(r.ok()) << p << ": " << r.status().ToString();
    EXPECT_EQ(r->rows.size(), 0u) << "LEAK: index filter on a masked column by raw value matched rows: " << p;
    w.QueryCase(masked, w.main_index(), q, "probe");
    w.QueryCase(exempt, w.main_index(), q, "probe");
  }
  for (const std::string& p : std::vector<std::string>{"mrn = " + Q(mrn), "mrn IS NOT NULL"}) {
    IndexQuery q;
    q.vector = w.RandomVector();
    q.filter = p;
    auto r = w.g().QueryIndex(masked.caller, IndexRef{w.main_index().name, w.table(), w.main_index().index.get()}, q);
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << p << ": " << r.status().ToString();
    w.QueryCase(masked, w.main_index(), q, "probe");
    w.QueryCase(exempt, w.main_index(), q, "probe");
  }
  {
    IndexQuery q;
    q.vector = w.RandomVector();
    q.k = 400;
    q.filter = "site = 'REDACTED'";
    auto r = w.g().QueryIndex(masked.caller, IndexRef{w.main_index().name, w.table(), w.main_index().index.get()}, q);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_GT(r->rows.size(), 0u);
    w.QueryCase(masked, w.main_index(), q, "probe");
  }
  // The change feed shows masked images only.
  w.ChangesCase(masked, 1, w.current());
  w.ChangesCase(exempt, 1, w.current());
}

// Paging by a masked primary key must not reveal the raw keys' order: with
// patient_id hashed, after_primary_key = a raw key must not return exactly
// the rows whose raw key is greater (a binary search would then recover raw
// keys). Either the request is refused or it compares masked keys.
TEST_F(LeakProbe, PagingByMaskedKeyCannotProbeRawKeys) {
  World& w = *world_;
  GrantRead("u0", true, false);
  ASSERT_TRUE(w.SetMask(kPid, MaskModel{MaskSpec::kKeyedHash, Value(), 4, {}}));
  Who who = MustWho("u0");
  const auto& rows = w.rows_at(w.current());
  auto mid = rows.begin();
  std::advance(mid, static_cast<long>(rows.size() / 2));
  const std::string after = mid->first;
  ReadOptions o;
  o.after_primary_key = Value::Str(after);
  auto r = w.g().ReadTable(who.caller, w.table(), o);
  if (!r.ok()) {
    EXPECT_NE(r.status().code(), StatusCode::kInternal) << r.status().ToString();
    return;
  }
  std::multiset<std::string> got, by_raw, by_masked;
  for (const Row& row : r->rows) got.insert(Canon(row[kPid]));
  for (const auto& [k, row] : rows) {
    const std::string m = Canon(w.MaskValue(who, kPid, row[kPid]));
    if (k > after) by_raw.insert(m);
    if (w.MaskValue(who, kPid, row[kPid]).as_string() > after) by_masked.insert(m);
  }
  EXPECT_NE(got, by_raw) << "LEAK: after_primary_key on a hashed key pages by the raw keys (" << got.size()
                         << " rows returned = the rows whose raw key > " << after << ")";
  EXPECT_EQ(got, by_masked) << "after_primary_key on a masked key should compare the masked keys";
}

// ScanIndex pages by the key the caller sees: with patient_id hashed, an
// after_primary_key that is a raw key positions the page among the hashes
// (it must not select the rows whose raw key is greater: a binary search
// would recover raw keys); a key masked to NULL, a constant or a partial
// reveal cannot be scanned at all; the vector column's mask applies to the
// vectors returned; an exempt caller pages by raw keys.
TEST_F(LeakProbe, ScanPagesByTheKeyTheCallerSees) {
  World& w = *world_;
  ASSERT_TRUE(w.AddGroup("phi_readers"));
  ASSERT_TRUE(w.AddMember("phi_readers", "u1"));
  GrantRead("u0", false, true);
  GrantRead("u1", false, true);
  ASSERT_TRUE(w.SetRowFilter("site IN ('A', 'B', 'C') OR is_member('phi_readers')"));
  ASSERT_TRUE(w.SetMask(kPid, MaskModel{MaskSpec::kKeyedHash, Value(), 4, {"phi_readers"}}));
  ASSERT_TRUE(w.SetMask(kEmbedding, MaskModel{MaskSpec::kNull, Value(), 4, {"phi_readers"}}));
  Who masked = MustWho("u0");
  Who exempt = MustWho("u1");
  const IndexRef ref{w.main_index().name, w.table(), w.main_index().index.get()};
  const auto& rows = w.rows_at(w.current());
  auto mid = rows.begin();
  std::advance(mid, static_cast<long>(rows.size() / 2));
  const std::string after = mid->first;
  IndexScanRequest req;
  req.after_primary_key = Value::Str(after);
  req.num_results = 10000;
  auto r = w.g().ScanIndex(masked.caller, ref, req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::multiset<std::string> got, by_raw, by_masked;
  for (const Row& row : r->rows) {
    got.insert(Canon(row[0]));
    EXPECT_TRUE(row.back().is_null()) << "LEAK: a vector returned despite its NULL mask";
  }
  for (const auto& [k, row] : rows) {
    if (!w.Visible(masked, row)) continue;
    const Value m = w.MaskValue(masked, kPid, row[kPid]);
    if (k > after) by_raw.insert(Canon(m));
    if (m.as_string() > after) by_masked.insert(Canon(m));
  }
  EXPECT_NE(got, by_raw) << "LEAK: after_primary_key on a hashed key pages by the raw keys";
  EXPECT_EQ(got, by_masked);
  for (size_t page : {7, 10000}) {
    World::ScanSpec spec;
    spec.page = page;
    spec.include_vector = true;
    w.ScanCase(masked, w.main_index(), spec, "probe");
    w.ScanCase(exempt, w.main_index(), spec, "probe");
    spec.start = Value::Str(after);
    w.ScanCase(masked, w.main_index(), spec, "probe");
    w.ScanCase(exempt, w.main_index(), spec, "probe");
  }
  for (const MaskSpec::Kind kind : {MaskSpec::kNull, MaskSpec::kConstant, MaskSpec::kPartialReveal}) {
    ASSERT_TRUE(w.SetMask(kPid, MaskModel{kind, Value::Str("hidden"), 3, {"phi_readers"}}));
    Who m = MustWho("u0");
    for (const Value& start : {Value(), Value::Str(after)}) {
      req.after_primary_key = start;
      auto refused = w.g().ScanIndex(m.caller, ref, req);
      EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition)
          << governance::MaskKindName(kind) << ": " << refused.status().ToString()
          << (refused.ok() ? " (" + std::to_string(refused->rows.size()) + " rows returned)" : "");
      World::ScanSpec spec;
      spec.start = start;
      w.ScanCase(m, w.main_index(), spec, "probe");
    }
    w.ScanCase(MustWho("u1"), w.main_index(), World::ScanSpec{}, "probe");
  }
}

// An index is a securable of its own: SELECT on the table does not reach
// the index built on it, and SELECT on the index is what querying it needs.
TEST_F(LeakProbe, SelectOnTableDoesNotReachIndexAndIndexNeedsItsOwnSelect) {
  World& w = *world_;
  GrantRead("u0", /*table=*/true, /*index=*/false);
  GrantRead("u1", /*table=*/false, /*index=*/true);
  ASSERT_TRUE(w.SetRowFilter("site IN ('A', 'B')"));
  Who table_only = MustWho("u0");
  Who index_only = MustWho("u1");
  IndexQuery q;
  q.vector = w.RandomVector();
  q.k = 10;
  auto denied = w.g().QueryIndex(table_only.caller, IndexRef{w.main_index().name, w.table(), w.main_index().index.get()}, q);
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied) << denied.status().ToString();
  EXPECT_NE(denied.status().message().find("SELECT"), std::string::npos) << denied.status().message();
  w.QueryCase(table_only, w.main_index(), q, "probe");
  w.ReadCase(table_only, ReadOptions{}, "probe");
  // The header: querying an index needs USE CATALOG + USE SCHEMA + SELECT on
  // the index; the table's policies (not its grants) govern the results.
  auto allowed = w.g().QueryIndex(index_only.caller, IndexRef{w.main_index().name, w.table(), w.main_index().index.get()}, q);
  EXPECT_TRUE(allowed.ok()) << allowed.status().ToString();
  w.QueryCase(index_only, w.main_index(), q, "probe");
  w.ReadCase(index_only, ReadOptions{}, "probe");
  w.ChangesCase(index_only, 1, w.current());
  // Scans and the index metadata calls follow SELECT on the index too.
  IndexScanRequest scan;
  auto scan_denied =
      w.g().ScanIndex(table_only.caller, IndexRef{w.main_index().name, w.table(), w.main_index().index.get()}, scan);
  EXPECT_EQ(scan_denied.status().code(), StatusCode::kPermissionDenied) << scan_denied.status().ToString();
  for (const Who* who : {&table_only, &index_only}) {
    World::ScanSpec spec;
    spec.page = 50;
    spec.include_vector = true;
    w.ScanCase(*who, w.main_index(), spec, "probe");
    w.IndexMetadataCase(*who);
  }
  // USE SCHEMA missing: denied on both, naming it.
  ASSERT_TRUE(w.Grant(SecurableType::kCatalog, "main", "u2", Privilege::kUseCatalog));
  ASSERT_TRUE(w.Grant(SecurableType::kCatalog, "main", "u2", Privilege::kSelect));
  Who no_schema = MustWho("u2");
  auto r = w.g().ReadTable(no_schema.caller, w.table(), {});
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("USE SCHEMA"), std::string::npos) << r.status().message();
  w.QueryCase(no_schema, w.main_index(), q, "probe");
  w.ScanCase(no_schema, w.main_index(), World::ScanSpec{}, "probe");
  w.IndexMetadataCase(no_schema);
}

// A row filter on a column the index does not sync cannot be enforced inside
// the search: the query fails closed (FailedPrecondition), not open; an index
// that syncs the column answers with the filter applied.
TEST_F(LeakProbe, RowFilterOnUnsyncedColumnFailsClosed) {
  World& w = *world_;
  TestIndex narrow;
  ASSERT_TRUE(w.BuildIndex(&narrow, "main.clinical.patients_site_idx", {"site", "cohort"}, index::IndexKind::kHnsw,
                           false, w.current(), std::nullopt))
      << FirstFailures(rep_);
  ASSERT_TRUE(w.Grant(SecurableType::kCatalog, "main", "g0", Privilege::kUseCatalog));
  ASSERT_TRUE(w.Grant(SecurableType::kCatalog, "main", "g0", Privilege::kUseSchema));
  ASSERT_TRUE(w.Grant(SecurableType::kSchema, "main.clinical", "g0", Privilege::kSelect));
  ASSERT_TRUE(w.AddMember("g0", "u0"));
  ASSERT_TRUE(w.AddMember("g0", "u1"));
  ASSERT_TRUE(w.AddMember("g1", "u1"));
  ASSERT_TRUE(w.SetRowFilter("age > 50 OR is_member('g1')"));
  Who restricted = MustWho("u0");  // the filter names age for u0
  Who unfiltered = MustWho("u1");  // folds to TRUE for u1
  for (size_t k : {1, 10, 400}) {
    IndexQuery q;
    q.vector = w.RandomVector();
    q.k = k;
    auto r = w.g().QueryIndex(restricted.caller, IndexRef{narrow.name, w.table(), narrow.index.get()}, q);
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition)
        << "a row filter the index cannot enforce must fail closed: " << r.status().ToString()
        << (r.ok() ? " (" + std::to_string(r->rows.size()) + " rows returned)" : "");
    w.QueryCase(restricted, narrow, q, "probe");
    // With a user filter on a synced column, too.
    q.filter = "site = 'A'";
    w.QueryCase(restricted, narrow, q, "probe");
    // The main index syncs age: the filter applies inside the search.
    w.QueryCase(restricted, w.main_index(), q, "probe");
    q.filter.clear();
    w.QueryCase(restricted, w.main_index(), q, "probe");
    // A scan fails closed the same way.
    World::ScanSpec spec;
    spec.page = k;
    w.ScanCase(restricted, narrow, spec, "probe");
    w.ScanCase(restricted, w.main_index(), spec, "probe");
  }
  IndexScanRequest scan;
  auto scanned = w.g().ScanIndex(restricted.caller, IndexRef{narrow.name, w.table(), narrow.index.get()}, scan);
  EXPECT_EQ(scanned.status().code(), StatusCode::kFailedPrecondition) << scanned.status().ToString();
  // For u1 the row filter folds to TRUE: nothing to enforce (not asserted by
  // the header; reported if it differs).
  IndexQuery q;
  q.vector = w.RandomVector();
  auto r = w.g().QueryIndex(unfiltered.caller, IndexRef{narrow.name, w.table(), narrow.index.get()}, q);
  if (!r.ok()) std::printf("[ note ] folded-TRUE row filter on an unsynced column: %s\n", r.status().ToString().c_str());
}

// A bad token is refused and audited without the token; a good one resolves
// to the same caller as the trusted identity.
TEST_F(LeakProbe, BadTokensAreRefusedAndAudited) {
  World& w = *world_;
  const std::string bad = "vst_" + std::string(64, 'a');
  auto r = w.g().Authenticate(bad);
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << r.status().ToString();
  EXPECT_EQ(r.status().message().find(bad), std::string::npos);
  AuditQuery q;
  q.action = "auth.token";
  auto recs = w.g().audit().Query(q);
  ASSERT_TRUE(recs.ok()) << recs.status().ToString();
  ASSERT_FALSE(recs->empty()) << "no auth.token audit record for a bad token";
  EXPECT_EQ(recs->front().outcome, "denied");
  EXPECT_EQ(recs->front().parameters_json.find("aaaaaaaaaaaaaaaa"), std::string::npos);
  EXPECT_EQ(recs->front().message.find("aaaaaaaaaaaaaaaa"), std::string::npos);
  auto token = w.g().principals().IssueToken("u3", std::chrono::hours(1), "leak test", "admin");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto who = w.g().Authenticate(token->token);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->user, "u3");
  EXPECT_FALSE(who->metastore_admin);
  ASSERT_TRUE(w.g().principals().RevokeToken(token->token_id, "admin").ok());
  auto revoked = w.g().Authenticate(token->token);
  EXPECT_EQ(revoked.status().code(), StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace vesta::access
