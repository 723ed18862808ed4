// Index scans and index metadata (access/governed.h, "Index scans and index
// metadata"): ScanIndex paging, row filters, masks (the primary key's
// included), the vector column, snapshots and tombstones, errors, audit and
// lineage; DescribeIndex and VisibleIndexes.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "access/governed.h"
#include "ingest/index_sync.h"
#include "tests/access/access_test_util.h"
#include "tests/testing/temp_dir.h"

namespace vesta::access {
namespace {

using testing::Cat;
using testing::Contains;
using testing::IsHex64;
using testing::Pid;
using testing::Sch;

using governance::AuditQuery;
using governance::AuditRecord;
using governance::MaskSpec;
using governance::Privilege;
using governance::Securable;
using governance::TableName;
using ::vesta::testing::TempDir;

constexpr int kRows = 60;  // sites A, B, C by i % 3: 20 rows each
constexpr int kDim = 4;

std::string Site(int i) {
  return std::string(1, static_cast<char>('A' + i % 3));
}
std::string Mrn(int i) {
  return "MRN-" + std::to_string(10000 + 7 * i);
}
std::vector<float> Embedding(int i) {
  std::mt19937 rng(static_cast<uint32_t>(7919 * i + 1));
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(kDim);
  for (float& x : v) x = u(rng);
  return v;
}

Schema PatientSchema() {
  Schema s;
  s.columns = {
      {"patient_id", DataType::String(), false, ""}, {"site", DataType::String(), true, ""},
      {"age", DataType::Bigint(), true, ""},         {"mrn", DataType::String(), true, ""},
      {"name", DataType::String(), true, ""},        {"embedding", DataType::Vector(kDim), true, ""}};
  s.primary_key = "patient_id";
  return s;
}

Row Patient(int i, const std::string& site) {
  return {Value::Str(Pid(i)),
          Value::Str(site),
          Value::Int(20 + i),
          Value::Str(Mrn(i)),
          Value::Str("Name" + std::to_string(i)),
          Value::Vec(Embedding(i))};
}

// main.clinical.patients (kRows rows at version 1) and its index
// main.clinical.patients_idx; researchers (alice, carol, eve) may read both,
// tableonly only the table; row filter: admins and carol see all, site_a
// members site A; eve nothing; mrn keyed hash and name NULL unless
// phi_readers (carol).
class GovernedScan : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("store.vesta");
    {
      auto s = governance::Store::Open(path_, {});
      ASSERT_TRUE(s.ok()) << s.status().ToString();
    }
    auto g = Governed::Open(path_);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    g_ = std::move(g).value();
    governance::Store& store = g_->store();
    ASSERT_TRUE(store.CreateCatalog("main", "admin").ok());
    ASSERT_TRUE(store.CreateSchema("main", "clinical", "admin").ok());
    ASSERT_TRUE(store.CreateTable(table_, PatientSchema(), {}, "admin").ok());
    std::vector<Row> rows;
    for (int i = 0; i < kRows; ++i) rows.push_back(Patient(i, Site(i)));
    Commit([&](governance::Transaction& t) { return t.Append(table_, rows); });

    governance::Principals& p = g_->principals();
    ASSERT_TRUE(p.Bootstrap("admin").ok());
    for (const char* u : {"alice", "carol", "eve", "tableonly"})
      ASSERT_TRUE(p.CreateUser(u, "admin").ok()) << u;
    for (const char* grp : {"researchers", "site_a", "phi_readers"})
      ASSERT_TRUE(p.CreateGroup(grp, "admin").ok());
    for (const char* u : {"alice", "carol", "eve"}) ASSERT_TRUE(p.AddMember("researchers", u, "admin").ok());
    ASSERT_TRUE(p.AddMember("site_a", "alice", "admin").ok());
    ASSERT_TRUE(p.AddMember("phi_readers", "carol", "admin").ok());
    for (const char* who : {"researchers", "tableonly"}) {
      Grant(Cat("main"), who, {Privilege::kUseCatalog});
      Grant(Sch("main.clinical"), who, {Privilege::kUseSchema});
      Grant(Securable::Table(table_), who, {Privilege::kSelect});
    }
    Grant(Securable::Index(index_name_), "researchers", {Privilege::kSelect});
    SetRowFilter("is_member('admins') OR current_user() = 'carol' OR (site = 'A' AND is_member('site_a'))");
    SetMask("mrn", {.kind = MaskSpec::kKeyedHash, .exempt_groups = {"phi_readers"}});
    SetMask("name", {.kind = MaskSpec::kNull, .exempt_groups = {"phi_readers"}});
  }

  template <typename F>
  void Commit(F f) {
    auto txn = g_->store().Begin("admin");
    Status st = f(*txn);
    ASSERT_TRUE(st.ok()) << st.ToString();
    auto c = txn->Commit();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }
  void Grant(const Securable& s, const std::string& who, std::vector<Privilege> ps) {
    Status st = g_->privileges().Grant(s, who, ps, "admin");
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void SetRowFilter(const std::string& f) {
    Status st = g_->policies().SetRowFilter(table_, f, "admin");
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void SetMask(const std::string& column, const MaskSpec& m) {
    Status st = g_->policies().SetColumnMask(table_, column, m, "admin");
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  Caller As(const std::string& user) {
    auto c = g_->CallerFor(user);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : Caller{};
  }

  void BuildIndex(std::vector<std::string> columns_to_sync = {"site", "age", "mrn", "name"},
                  index::IndexKind kind = index::IndexKind::kHnsw) {
    source_ = {table_, "embedding", std::move(columns_to_sync)};
    auto spec = ingest::SpecForSource(g_->store(), source_, kind, index::Metric::kL2);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    auto idx = index::VectorIndex::Create(*spec);
    ASSERT_TRUE(idx.ok()) << idx.status().ToString();
    index_ = std::move(idx).value();
    auto built = ingest::BuildFromTable(g_->store(), source_, *index_);
    ASSERT_TRUE(built.ok()) << built.status().ToString();
  }
  IndexRef Ref() const { return {index_name_, table_, index_.get()}; }

  Result<IndexScanResult> Scan(const std::string& user, IndexScanRequest r) {
    return g_->ScanIndex(As(user), Ref(), r);
  }

  // Every page of `user`'s scan, `page` rows at a time, checking each page
  // (key order within and across pages, last_primary_key, one audit record
  // listing the raw keys returned). Returns the rows in order.
  std::vector<Row> ScanAll(const std::string& user, size_t page, IndexScanRequest base = {},
                           std::vector<std::string>* raw_keys = nullptr) {
    std::vector<Row> all;
    Value after;
    for (int n = 0; n < 1000; ++n) {
      IndexScanRequest r = base;
      r.after_primary_key = after;
      r.num_results = page;
      const int64_t before = AuditCount();
      auto got = Scan(user, r);
      EXPECT_TRUE(got.ok()) << got.status().ToString();
      if (!got.ok()) break;
      EXPECT_EQ(AuditCount(), before + 1);
      AuditRecord a = LastAudit();
      EXPECT_EQ(a.action, "index.scan");
      EXPECT_EQ(a.outcome, "allowed");
      EXPECT_EQ(a.row_count, static_cast<int64_t>(got->rows.size()));
      EXPECT_EQ(a.keys.size(), got->rows.size());
      if (raw_keys) raw_keys->insert(raw_keys->end(), a.keys.begin(), a.keys.end());
      EXPECT_LE(got->rows.size(), page);
      if (got->rows.empty()) {
        EXPECT_TRUE(got->last_primary_key.is_null());
        break;
      }
      EXPECT_EQ(got->last_primary_key, got->rows.back()[0]);
      for (const Row& row : got->rows) {
        if (!all.empty()) {
          EXPECT_LT(all.back()[0].ToString(), row[0].ToString()) << "out of key order";
        }
        all.push_back(row);
      }
      after = got->last_primary_key;
    }
    return all;
  }

  static std::vector<std::string> Keys(const std::vector<Row>& rows) {
    std::vector<std::string> out;
    for (const Row& r : rows) out.push_back(r[0].ToString());
    return out;
  }
  // Patient ids of `site` ("" for all), in key order.
  static std::vector<std::string> PidsOfSite(const std::string& site) {
    std::vector<std::string> out;
    for (int i = 0; i < kRows; ++i) {
      if (site.empty() || Site(i) == site) out.push_back(Pid(i));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  AuditRecord LastAudit() {
    auto recs = g_->audit().Query({.limit = 1});
    EXPECT_TRUE(recs.ok() && recs->size() == 1);
    return recs.ok() && !recs->empty() ? recs->front() : AuditRecord{};
  }
  int64_t AuditCount() {
    auto head = g_->audit().GetHead();
    EXPECT_TRUE(head.ok());
    return head.ok() ? head->seq : -1;
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Governed> g_;
  TableName table_ = TableName::Parse("main.clinical.patients").value();
  TableName index_name_ = TableName::Parse("main.clinical.patients_idx").value();
  ingest::IndexSource source_;
  std::unique_ptr<index::VectorIndex> index_;
};

TEST_F(GovernedScan, PagesCoverEveryVisibleRowOnceInKeyOrder) {
  BuildIndex();
  for (size_t page : {1, 7, 20, 10000}) {
    SCOPED_TRACE("page " + std::to_string(page));
    std::vector<std::string> raw;
    EXPECT_EQ(Keys(ScanAll("alice", page, {}, &raw)), PidsOfSite("A"));
    EXPECT_EQ(raw, PidsOfSite("A"));
    EXPECT_EQ(Keys(ScanAll("carol", page)), PidsOfSite(""));
  }
  EXPECT_TRUE(ScanAll("eve", 5).empty());  // the row filter hides everything

  // after_primary_key need not be a key of the index.
  auto mid = Scan("alice", {.after_primary_key = Value::Str("P031"), .num_results = 3});
  ASSERT_TRUE(mid.ok()) << mid.status().ToString();
  EXPECT_EQ(Keys(mid->rows), (std::vector<std::string>{"P033", "P036", "P039"}));
  // Strictly after: a visible key itself is not repeated.
  auto next = Scan("alice", {.after_primary_key = Value::Str("P033"), .num_results = 1});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(Keys(next->rows), (std::vector<std::string>{"P036"}));
}

TEST_F(GovernedScan, RowFilterAndMasksApplyToEveryValue) {
  BuildIndex();
  auto alice = Scan("alice", {.num_results = 100, .include_vector = false});
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  EXPECT_EQ(alice->columns, (std::vector<std::string>{"patient_id", "site", "age", "mrn", "name"}));
  ASSERT_EQ(alice->rows.size(), 20u);
  for (const Row& row : alice->rows) {
    ASSERT_EQ(row.size(), 5u);
    EXPECT_EQ(row[1], Value::Str("A"));
    EXPECT_TRUE(IsHex64(row[3])) << row[3].ToString();  // mrn: keyed hash
    EXPECT_TRUE(row[4].is_null());                      // name: NULL
  }
  EXPECT_EQ(alice->policies_applied, (std::vector<std::string>{"column_mask:main.clinical.patients.mrn",
                                                               "column_mask:main.clinical.patients.name",
                                                               "row_filter:main.clinical.patients"}));

  auto carol =
      Scan("carol", {.num_results = 2, .columns = {"MRN", "patient_id", "name"}, .include_vector = false});
  ASSERT_TRUE(carol.ok()) << carol.status().ToString();
  EXPECT_EQ(carol->columns, (std::vector<std::string>{"patient_id", "mrn", "name"}));
  ASSERT_EQ(carol->rows.size(), 2u);
  EXPECT_EQ(carol->rows[1], (Row{Value::Str("P001"), Value::Str(Mrn(1)), Value::Str("Name1")}));
}

TEST_F(GovernedScan, TheVectorIsReturnedLastAndItsMaskApplies) {
  BuildIndex();
  auto r = Scan("carol", {.num_results = 3, .columns = {"age"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->columns, (std::vector<std::string>{"patient_id", "age", "embedding"}));
  ASSERT_EQ(r->rows.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r->rows[i][1], Value::Int(20 + i));
    ASSERT_TRUE(r->rows[i][2].is_vector());
    EXPECT_EQ(r->rows[i][2].as_vector(), Embedding(i));  // L2: stored as given
  }
  // A mask on the vector column reaches the scan.
  SetMask("embedding", {.kind = MaskSpec::kNull, .exempt_groups = {"phi_readers"}});
  auto alice = Scan("alice", {.num_results = 3});
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  ASSERT_EQ(alice->rows.size(), 3u);
  for (const Row& row : alice->rows) EXPECT_TRUE(row.back().is_null());
  EXPECT_TRUE(Contains(nlohmann::json(alice->policies_applied).dump(), "embedding"));
  auto exempt = Scan("carol", {.num_results = 1});
  ASSERT_TRUE(exempt.ok());
  EXPECT_EQ(exempt->rows[0].back().as_vector(), Embedding(0));
}

TEST_F(GovernedScan, ACallerWithoutSelectOnTheIndexIsDeniedFirstAndAudited) {
  BuildIndex();
  for (const char* user : {"tableonly"}) {
    for (size_t n : {10, 0}) {  // the privilege check comes before argument checks
      auto r = Scan(user, {.num_results = n});
      EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
      EXPECT_TRUE(Contains(r.status().message(), "SELECT")) << r.status().message();
      AuditRecord a = LastAudit();
      EXPECT_EQ(a.action, "index.scan");
      EXPECT_EQ(a.outcome, "denied");
      EXPECT_EQ(a.principal, user);
      EXPECT_EQ(a.securable, "main.clinical.patients_idx");
      EXPECT_TRUE(a.keys.empty());
    }
  }
}

TEST_F(GovernedScan, BadArgumentsAreInvalidAndAudited) {
  BuildIndex();
  struct Case {
    std::string what;
    IndexScanRequest request;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"unknown column", {.columns = {"zip"}}, "'zip' is not synced"},
      {"vector column", {.columns = {"embedding"}}, "vector column"},
      {"num_results 0", {.num_results = 0}, "num_results: 0"},
      {"num_results 10,001", {.num_results = 10001}, "num_results: 10001"},
      {"BIGINT after STRING key", {.after_primary_key = Value::Int(5)}, "after_primary_key"},
      {"DOUBLE after STRING key", {.after_primary_key = Value::Real(1.5)}, "after_primary_key"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const int64_t before = AuditCount();
    auto r = Scan("alice", c.request);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_TRUE(Contains(r.status().message(), c.message)) << r.status().message();
    EXPECT_EQ(AuditCount(), before + 1);
    EXPECT_EQ(LastAudit().outcome, "error");
  }
  auto null_index = g_->ScanIndex(As("alice"), {index_name_, table_, nullptr}, {});
  EXPECT_EQ(null_index.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LastAudit().outcome, "error");
}

TEST_F(GovernedScan, BigintKeysOrderNumericallyAndAcceptDecimalText) {
  const TableName scores = TableName::Parse("main.clinical.scores").value();
  Schema s;
  s.columns = {{"id", DataType::Bigint(), false, ""},
               {"grp", DataType::String(), true, ""},
               {"v", DataType::Vector(2), true, ""}};
  s.primary_key = "id";
  ASSERT_TRUE(g_->store().CreateTable(scores, s, {}, "admin").ok());
  std::vector<Row> rows;
  for (int64_t id : {100, 2, -5, 11, 1, 10}) {
    rows.push_back({Value::Int(id), Value::Str("g"), Value::Vec({static_cast<float>(id), 1.0f})});
  }
  Commit([&](governance::Transaction& t) { return t.Append(scores, rows); });
  ingest::IndexSource src{scores, "v", {"grp"}};
  auto spec = ingest::SpecForSource(g_->store(), src, index::IndexKind::kFlat, index::Metric::kL2);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto idx = index::VectorIndex::Create(*spec);
  ASSERT_TRUE(idx.ok());
  ASSERT_TRUE(ingest::BuildFromTable(g_->store(), src, **idx).ok());
  const IndexRef ref{TableName::Parse("main.clinical.scores_idx").value(), scores, idx->get()};
  const Caller admin = As("admin");

  std::vector<int64_t> seen;
  Value after;
  for (int page = 0; page < 10; ++page) {
    auto r =
        g_->ScanIndex(admin, ref, {.after_primary_key = after, .num_results = 4, .include_vector = false});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (r->rows.empty()) break;
    for (const Row& row : r->rows) seen.push_back(row[0].as_int());
    after = r->last_primary_key;
    EXPECT_TRUE(after.is_int());
  }
  EXPECT_EQ(seen, (std::vector<int64_t>{-5, 1, 2, 10, 11, 100}));

  auto text = g_->ScanIndex(admin, ref, {.after_primary_key = Value::Str("10"), .num_results = 5});
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  ASSERT_EQ(text->rows.size(), 2u);
  EXPECT_EQ(text->rows[0][0], Value::Int(11));
  EXPECT_EQ(text->columns, (std::vector<std::string>{"id", "grp", "v"}));
  for (const Value& bad :
       {Value::Str("abc"), Value::Str("10 "), Value::Str(""), Value::Real(1.5), Value::Bool(true)}) {
    auto r = g_->ScanIndex(admin, ref, {.after_primary_key = bad});
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad.ToString();
    EXPECT_TRUE(Contains(r.status().message(), "BIGINT")) << r.status().message();
  }
}

TEST_F(GovernedScan, AStaleIndexScansItsSnapshotAndSkipsTombstones) {
  BuildIndex();  // version 1
  Row Patient9;
  // Version 2: P900 new (site A), P006 moved from A to B, P009 replaced;
  // version 3: P003 deleted.
  Commit([&](governance::Transaction& t) {
    Patient9 = Patient(9, "A");
    Patient9[2] = Value::Int(99);
    return t.Upsert(table_, {Patient(900, "A"), Patient(6, "B"), Patient9});
  });
  Commit([&](governance::Transaction& t) { return t.DeleteKeys(table_, {Value::Str("P003")}); });
  auto stale = Scan("alice", {.num_results = 100, .include_vector = false});
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_EQ(stale->index_version, 1);
  EXPECT_EQ(Keys(stale->rows), PidsOfSite("A"));

  ASSERT_TRUE(ingest::SyncIndex(g_->store(), source_, *index_).ok());
  ASSERT_EQ(index_->snapshot()->version(), 3);
  std::vector<std::string> want = PidsOfSite("A");
  want.erase(std::remove(want.begin(), want.end(), "P003"), want.end());
  want.erase(std::remove(want.begin(), want.end(), "P006"), want.end());
  want.push_back("P900");
  std::vector<std::string> raw;
  EXPECT_EQ(Keys(ScanAll("alice", 4, {.include_vector = false}, &raw)), want);
  EXPECT_EQ(raw, want);
  // carol sees every live key once (the replaced ids of P006 and P009 are tombstones).
  std::vector<std::string> all = PidsOfSite("");
  all.erase(std::remove(all.begin(), all.end(), "P003"), all.end());
  all.push_back("P900");
  EXPECT_EQ(Keys(ScanAll("carol", 7)), all);
  auto r = Scan("carol", {.after_primary_key = Value::Str("P005"), .num_results = 1, .columns = {"site"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->index_version, 3);
  EXPECT_EQ(r->rows[0][0], Value::Str("P006"));
  EXPECT_EQ(r->rows[0][1], Value::Str("B"));
  auto p9 = Scan("alice", {.after_primary_key = Value::Str("P008"),
                           .num_results = 1,
                           .columns = {"age"},
                           .include_vector = false});
  ASSERT_TRUE(p9.ok());
  EXPECT_EQ(p9->rows[0], (Row{Value::Str("P009"), Value::Int(99)}));  // the new image only
}

TEST_F(GovernedScan, AHashedPrimaryKeyPagesByItsHash) {
  SetMask("patient_id", {.kind = MaskSpec::kKeyedHash, .exempt_groups = {"phi_readers"}});
  BuildIndex();
  std::set<std::string> read_hashes;  // what ReadTable shows alice
  auto read = g_->ReadTable(As("alice"), table_, {});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  for (const Row& row : read->rows) read_hashes.insert(row[0].as_string());

  std::vector<std::string> raw;
  std::vector<Row> rows = ScanAll("alice", 6, {.include_vector = false}, &raw);
  ASSERT_EQ(rows.size(), 20u);
  std::set<std::string> got;
  for (const Row& row : rows) {
    EXPECT_TRUE(IsHex64(row[0])) << row[0].ToString();
    got.insert(row[0].as_string());
  }
  EXPECT_EQ(got, read_hashes);
  std::sort(raw.begin(), raw.end());
  EXPECT_EQ(raw, PidsOfSite("A"));  // the audit keeps the raw keys
  EXPECT_EQ(nlohmann::json::parse(LastAudit().parameters_json)["key_order"], "keyed_hash");

  auto not_a_hash = Scan("alice", {.after_primary_key = Value::Int(1)});
  EXPECT_EQ(not_a_hash.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(not_a_hash.status().message(), "keyed hash")) << not_a_hash.status().message();
  // The exempt caller pages by raw keys.
  EXPECT_EQ(Keys(ScanAll("carol", 25)), PidsOfSite(""));

  // A mask that does not identify rows: no scan at all.
  for (const MaskSpec::Kind kind : {MaskSpec::kNull, MaskSpec::kPartialReveal}) {
    SetMask("patient_id", {.kind = kind, .exempt_groups = {"phi_readers"}});
    for (const Value& after : {Value(), Value::Str("P001")}) {
      auto r = Scan("alice", {.after_primary_key = after});
      EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
      EXPECT_TRUE(Contains(r.status().message(), "primary key 'patient_id'")) << r.status().message();
      EXPECT_EQ(LastAudit().outcome, "error");
      EXPECT_TRUE(LastAudit().keys.empty());
    }
    EXPECT_EQ(Keys(ScanAll("carol", 50)), PidsOfSite(""));
  }
}

TEST_F(GovernedScan, ARowFilterTheIndexCannotEnforceFailsClosed) {
  BuildIndex({"age", "mrn"});  // site is not synced
  for (const char* user : {"alice", "carol", "admin"}) {
    auto r = Scan(user, {});
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << user;
    EXPECT_TRUE(Contains(r.status().message(), "add column 'site' to the index's columns_to_sync"))
        << r.status().message();
    EXPECT_EQ(LastAudit().outcome, "error");
  }
  BuildIndex();
  SetRowFilter("patient_id != 'P000' AND (site = 'A' OR is_member('admins'))");
  auto pk = Scan("alice", {});
  EXPECT_EQ(pk.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(pk.status().message(), "primary key column 'patient_id'")) << pk.status().message();
}

TEST_F(GovernedScan, RecordsLineageAndTheAuditRecord) {
  BuildIndex();
  auto r = Scan("alice", {.after_primary_key = Value::Str("P010"), .num_results = 2, .columns = {"age"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->query_id.rfind("q-", 0), 0u);
  auto up = g_->lineage().Upstream({"query", r->query_id, -1});
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  std::vector<std::string> sources;
  for (const auto& e : *up) {
    sources.push_back(e.from.ToString());
    EXPECT_EQ(e.relation, "read_by");
    EXPECT_EQ(e.principal, "alice");
  }
  std::sort(sources.begin(), sources.end());
  EXPECT_EQ(sources, (std::vector<std::string>{"index main.clinical.patients_idx@1",
                                               "table main.clinical.patients@1"}));
  AuditRecord a = LastAudit();
  EXPECT_EQ(a.securable, "main.clinical.patients_idx");
  EXPECT_EQ(a.keys, (std::vector<std::string>{"P012", "P015"}));
  auto params = nlohmann::json::parse(a.parameters_json);
  EXPECT_EQ(params["query_id"], r->query_id);
  EXPECT_EQ(params["after_primary_key"], "P010");
  EXPECT_EQ(params["num_results"], 2);
  EXPECT_EQ(params["index_version"], 1);
  EXPECT_EQ(params["visible_rows"], 20);
  EXPECT_EQ(params["key_order"], "primary_key");
  EXPECT_EQ(params["policies"].size(), 3u);
  EXPECT_TRUE(g_->audit().Verify().ok());
}

TEST_F(GovernedScan, DescribeIndexAndVisibleIndexesFollowSelectOnTheIndex) {
  EXPECT_TRUE(g_->DescribeIndex(As("alice"), index_name_).ok());
  AuditRecord a = LastAudit();
  EXPECT_EQ(a.action, "index.describe");
  EXPECT_EQ(a.outcome, "allowed");
  EXPECT_EQ(a.securable, "main.clinical.patients_idx");
  Status denied = g_->DescribeIndex(As("tableonly"), index_name_);
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(LastAudit().outcome, "denied");

  const std::vector<TableName> candidates = {TableName::Parse("main.other.idx").value(), index_name_,
                                             TableName::Parse("main.clinical.patients").value()};
  auto alice = g_->VisibleIndexes(As("alice"), candidates);
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  ASSERT_EQ(alice->size(), 1u);
  EXPECT_EQ(alice->front().ToString(), "main.clinical.patients_idx");
  a = LastAudit();
  EXPECT_EQ(a.action, "index.list");
  EXPECT_EQ(a.outcome, "allowed");
  EXPECT_EQ(a.row_count, 1);
  EXPECT_EQ(a.principal, "alice");
  auto admin = g_->VisibleIndexes(As("admin"), candidates);
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(admin->size(), 3u);
  EXPECT_EQ((*admin)[0].ToString(), "main.other.idx");  // the given order
  auto none = g_->VisibleIndexes(As("tableonly"), candidates);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(LastAudit().row_count, 0);
}

}  // namespace
}  // namespace vesta::access
