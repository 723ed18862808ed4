// The governed read path (access/governed.h): authentication, privileges,
// row filters and masks through ReadTable (incl. time travel), Changes and
// QueryIndex, and the audit record and lineage edge of every call.
#include "access/governed.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ingest/index_sync.h"
#include "tests/access/access_test_util.h"
#include "tests/testing/temp_dir.h"

namespace vesta::access {
namespace {

using testing::Contains;
using testing::IsHex64;
using testing::Cat;
using testing::Sch;
using testing::Pid;

using governance::AuditQuery;
using governance::AuditRecord;
using governance::ChangeFeed;
using governance::ChangeType;
using governance::MaskSpec;
using governance::Privilege;
using governance::ReadOptions;
using governance::ReadResult;
using governance::Securable;
using governance::SecurableType;
using governance::TableName;
using ::vesta::testing::TempDir;

constexpr int kRows = 60;  // sites A, B, C by i % 3: 20 rows each
constexpr uint32_t kDim = 4;
constexpr int kPid = 0, kSite = 1, kAge = 2, kMrn = 3, kName = 4, kZip = 5;

std::string Site(int i) {
  return std::string(1, static_cast<char>('A' + i % 3));
}
int64_t Age(int i) {
  return 20 + i;
}
std::string Mrn(int i) {
  return "MRN-" + std::to_string(10000 + 7 * i);
}
std::string Name(int i) {
  return "Name" + std::to_string(i);
}
std::string Zip(int i) {
  return std::to_string(90000 + 13 * i);
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
  s.columns = {{"patient_id", DataType::String(), false, ""},  {"site", DataType::String(), true, ""},
               {"age", DataType::Bigint(), true, ""},          {"mrn", DataType::String(), true, ""},
               {"name", DataType::String(), true, ""},         {"zip", DataType::String(), true, ""},
               {"embedding", DataType::Vector(kDim), true, ""}};
  s.primary_key = "patient_id";
  return s;
}

Row Patient(int i, const std::string& site) {
  return {Value::Str(Pid(i)),  Value::Str(site),   Value::Int(Age(i)),      Value::Str(Mrn(i)),
          Value::Str(Name(i)), Value::Str(Zip(i)), Value::Vec(Embedding(i))};
}
Row Patient(int i) {
  return Patient(i, Site(i));
}




// A store with main.clinical.patients (kRows rows at version 1), users and
// groups, grants, a row filter by site and two masks:
//   researchers (alice, bob, carol, eve): USE CATALOG, USE SCHEMA, SELECT on
//     the table and on the index main.clinical.patients_idx;
//   alice in site_a_staff in site_a, bob in site_b, carol in phi_readers;
//   tableonly: SELECT on the table, not the index; nocat: nothing; noschema:
//     USE CATALOG; noselect: USE CATALOG + USE SCHEMA;
//   row filter: admins and carol see all, site_a members site A, site_b
//     members site B; eve nothing;
//   mrn: keyed hash, name: NULL, both unless phi_readers.
class GovernedTest : public ::testing::Test {
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
    for (int i = 0; i < kRows; ++i) rows.push_back(Patient(i));
    Commit([&](governance::Transaction& t) { return t.Append(table_, rows); });

    governance::Principals& p = g_->principals();
    auto admin = p.Bootstrap("admin");
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_token_ = admin->token;
    for (const char* u : {"alice", "bob", "carol", "eve", "tableonly", "nocat", "noschema", "noselect"}) {
      ASSERT_TRUE(p.CreateUser(u, "admin").ok()) << u;
    }
    for (const char* grp : {"researchers", "site_a", "site_a_staff", "site_b", "phi_readers"}) {
      ASSERT_TRUE(p.CreateGroup(grp, "admin").ok()) << grp;
    }
    for (const char* u : {"alice", "bob", "carol", "eve"})
      ASSERT_TRUE(p.AddMember("researchers", u, "admin").ok());
    ASSERT_TRUE(p.AddMember("site_a", "site_a_staff", "admin").ok());
    ASSERT_TRUE(p.AddMember("site_a_staff", "alice", "admin").ok());
    ASSERT_TRUE(p.AddMember("site_b", "bob", "admin").ok());
    ASSERT_TRUE(p.AddMember("phi_readers", "carol", "admin").ok());

    Grant(Cat("main"), "researchers", {Privilege::kUseCatalog});
    Grant(Sch("main.clinical"), "researchers", {Privilege::kUseSchema});
    Grant(Securable::Table(table_), "researchers", {Privilege::kSelect});
    Grant(Securable::Index(index_name_), "researchers", {Privilege::kSelect});
    Grant(Cat("main"), "tableonly", {Privilege::kUseCatalog});
    Grant(Sch("main.clinical"), "tableonly", {Privilege::kUseSchema});
    Grant(Securable::Table(table_), "tableonly", {Privilege::kSelect});
    Grant(Cat("main"), "noschema", {Privilege::kUseCatalog});
    Grant(Cat("main"), "noselect", {Privilege::kUseCatalog});
    Grant(Sch("main.clinical"), "noselect", {Privilege::kUseSchema});

    SetRowFilter(
        "is_member('admins') OR current_user() = 'carol' OR (site = 'A' AND is_member('site_a')) OR "
        "(site = 'B' AND is_member('site_b'))");
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

  ReadResult Read(const std::string& user, const ReadOptions& options = {}) {
    auto r = g_->ReadTable(As(user), table_, options);
    EXPECT_TRUE(r.ok()) << user << ": " << r.status().ToString();
    return r.ok() ? *r : ReadResult{};
  }

  // Column `col` of every row, as text.
  static std::vector<std::string> Col(const ReadResult& r, size_t col) {
    std::vector<std::string> out;
    for (const Row& row : r.rows) out.push_back(row[col].ToString());
    return out;
  }

  // Ids i of the rows with site `site`, ascending ("" for all).
  static std::vector<std::string> PidsOfSite(const std::string& site) {
    std::vector<std::string> out;
    for (int i = 0; i < kRows; ++i) {
      if (site.empty() || Site(i) == site) out.push_back(Pid(i));
    }
    return out;
  }

  static std::vector<std::string> Sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
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

  // The index over embedding with `columns_to_sync`, built at the current version.
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

  Result<IndexQueryResult> Query(const std::string& user, IndexQuery q) {
    return g_->QueryIndex(As(user), Ref(), q);
  }

  // The k nearest rows (L2, squared) among the raw rows passing `keep`:
  // (distance, patient id), best first.
  std::vector<std::pair<float, std::string>> BruteForce(const std::vector<float>& q, size_t k,
                                                        const std::function<bool(const Row&)>& keep) {
    auto all = g_->store().Read(table_);  // raw: the test's own ground truth
    EXPECT_TRUE(all.ok());
    std::vector<std::pair<float, std::string>> out;
    for (const Row& row : all->rows) {
      if (!keep(row)) continue;
      const std::vector<float>& v = row[6].as_vector();
      float d = 0;
      for (size_t j = 0; j < kDim; ++j) d += (v[j] - q[j]) * (v[j] - q[j]);
      out.emplace_back(d, row[kPid].as_string());
    }
    std::sort(out.begin(), out.end());
    if (out.size() > k) out.resize(k);
    return out;
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Governed> g_;
  std::string admin_token_;
  TableName table_ = TableName::Parse("main.clinical.patients").value();
  TableName index_name_ = TableName::Parse("main.clinical.patients_idx").value();
  ingest::IndexSource source_;
  std::unique_ptr<index::VectorIndex> index_;
};

class GovernedAuth : public GovernedTest {};
class GovernedPrivileges : public GovernedTest {};
class GovernedReadTable : public GovernedTest {};
class GovernedChanges : public GovernedTest {};
class GovernedQueryIndex : public GovernedTest {};
class GovernedAudit : public GovernedTest {};

// --- Authentication ----------------------------------------------------------

TEST_F(GovernedAuth, NoTokenAndBadTokenAreUnauthenticatedAndAudited) {
  const int64_t before = AuditCount();
  const std::string bad = "vst_" + std::string(64, '0');
  for (const std::string& token : {std::string(), bad, std::string("Bearer nonsense")}) {
    auto c = g_->Authenticate(token);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), StatusCode::kUnauthenticated) << c.status().ToString();
    EXPECT_FALSE(Contains(c.status().message(), bad));
    AuditRecord r = LastAudit();
    EXPECT_EQ(r.action, "auth.token");
    EXPECT_EQ(r.principal, "");
    EXPECT_EQ(r.outcome, "denied");
    EXPECT_EQ(r.message, c.status().message());
    EXPECT_FALSE(Contains(r.parameters_json, bad));
  }
  EXPECT_EQ(AuditCount(), before + 3);
}

TEST_F(GovernedAuth, TokenIdentifiesTheCallerWithTransitiveGroups) {
  auto token = g_->principals().IssueToken("alice", std::chrono::hours(1), "test", "admin");
  ASSERT_TRUE(token.ok());
  auto c = g_->Authenticate(token->token);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->token_id, token->token_id);
  EXPECT_FALSE(c->metastore_admin);
  EXPECT_EQ(std::set<std::string>(c->groups.begin(), c->groups.end()),
            (std::set<std::string>{"researchers", "site_a", "site_a_staff"}));
  ASSERT_TRUE(c->context.is_member);
  EXPECT_TRUE(c->context.is_member("site_a"));  // through site_a_staff
  EXPECT_FALSE(c->context.is_member("site_b"));

  // The read it makes is audited with the token id.
  auto r = g_->ReadTable(*c, table_, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto params = nlohmann::json::parse(LastAudit().parameters_json);
  EXPECT_EQ(params.value("token_id", ""), token->token_id);

  auto admin = g_->Authenticate(admin_token_);
  ASSERT_TRUE(admin.ok());
  EXPECT_TRUE(admin->metastore_admin);

  EXPECT_EQ(g_->CallerFor("nobody").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(g_->CallerFor("site_a").status().code(), StatusCode::kInvalidArgument);
}

// --- Privileges --------------------------------------------------------------

TEST_F(GovernedPrivileges, EachMissingPrivilegeIsDeniedByNameAndAudited) {
  BuildIndex();
  struct Case {
    std::string user;
    std::string missing;
  };
  for (const Case& c : {Case{"nocat", "lacks USE CATALOG on catalog main"},
                        Case{"noschema", "lacks USE SCHEMA on schema main.clinical"},
                        Case{"noselect", "lacks SELECT on table main.clinical.patients"}}) {
    SCOPED_TRACE(c.user);
    auto r = g_->ReadTable(As(c.user), table_, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
    EXPECT_TRUE(Contains(r.status().message(), c.user + " " + c.missing)) << r.status().message();
    AuditRecord a = LastAudit();
    EXPECT_EQ(a.principal, c.user);
    EXPECT_EQ(a.action, "table.read");
    EXPECT_EQ(a.securable, "main.clinical.patients");
    EXPECT_EQ(a.outcome, "denied");
    EXPECT_EQ(a.message, r.status().message());
    EXPECT_EQ(a.row_count, 0);
    EXPECT_TRUE(a.keys.empty());

    auto ch = g_->Changes(As(c.user), table_, 1, 1);
    ASSERT_FALSE(ch.ok());
    EXPECT_EQ(ch.status().code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(LastAudit().action, "table.changes");
    EXPECT_EQ(LastAudit().outcome, "denied");

    auto q = Query(c.user, {.vector = Embedding(0), .k = 3});
    ASSERT_FALSE(q.ok());
    EXPECT_EQ(q.status().code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(LastAudit().action, "index.query");
    EXPECT_EQ(LastAudit().outcome, "denied");
  }
  // SELECT on the table does not reach the index built on it.
  auto q = Query("tableonly", {.vector = Embedding(0), .k = 3});
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(q.status().message(), "lacks SELECT on index main.clinical.patients_idx"));
  EXPECT_EQ(LastAudit().securable, "main.clinical.patients_idx");
  EXPECT_TRUE(g_->ReadTable(As("tableonly"), table_, {}).ok());

  // No privileges: a missing table is indistinguishable from a forbidden one.
  auto missing = g_->ReadTable(As("nocat"), TableName::Parse("main.clinical.nope").value(), {});
  EXPECT_EQ(missing.status().code(), StatusCode::kPermissionDenied);
  auto admin_missing = g_->ReadTable(As("admin"), TableName::Parse("main.clinical.nope").value(), {});
  EXPECT_EQ(admin_missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(LastAudit().outcome, "error");
}

// --- Table reads -------------------------------------------------------------

TEST_F(GovernedReadTable, RowFilterBySiteGroupAndCurrentUser) {
  EXPECT_EQ(Sorted(Col(Read("alice"), kPid)), PidsOfSite("A"));  // is_member through a nested group
  EXPECT_EQ(Sorted(Col(Read("bob"), kPid)), PidsOfSite("B"));
  EXPECT_EQ(Sorted(Col(Read("carol"), kPid)), PidsOfSite(""));  // current_user()
  EXPECT_EQ(Sorted(Col(Read("admin"), kPid)), PidsOfSite(""));
  EXPECT_TRUE(Read("eve").rows.empty());
  EXPECT_TRUE(Read("tableonly").rows.empty());

  // The user predicate is ANDed, never ORed, with the row filter.
  ReadResult r = Read("alice", {.predicate = "site = 'B' OR age >= 70"});
  for (const Row& row : r.rows) EXPECT_EQ(row[kSite].as_string(), "A");
  EXPECT_EQ(r.rows.size(), 3u);  // site A ids 51, 54, 57 (ages 71, 74, 77)
  // Counts with a limit never exceed the visible rows.
  EXPECT_EQ(Read("alice", {.limit = 100}).rows.size(), 20u);
  // current_user() in the caller's own predicate is the caller.
  EXPECT_EQ(Read("carol", {.predicate = "current_user() = 'carol'"}).rows.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(Read("carol", {.predicate = "is_member('site_a')"}).rows.size(), 0u);
}

TEST_F(GovernedReadTable, MasksOfEachKindAndExemptGroup) {
  SetMask("age", {.kind = MaskSpec::kConstant, .constant = Value::Int(0)});
  SetMask("zip", {.kind = MaskSpec::kPartialReveal, .reveal_last = 2, .exempt_groups = {"phi_readers"}});
  ReadResult alice = Read("alice", {.order_by_primary_key = true});
  ASSERT_EQ(alice.rows.size(), 20u);
  std::set<std::string> hashes;
  for (const Row& row : alice.rows) {
    const int i = std::stoi(row[kPid].as_string().substr(1));
    EXPECT_TRUE(IsHex64(row[kMrn])) << row[kMrn].ToString();
    hashes.insert(row[kMrn].as_string());
    EXPECT_TRUE(row[kName].is_null());
    EXPECT_EQ(row[kAge], Value::Int(0));
    EXPECT_EQ(row[kZip], Value::Str("***" + Zip(i).substr(3)));
    EXPECT_EQ(row[kSite], Value::Str("A"));
    EXPECT_EQ(row[6].as_vector(), Embedding(i));
  }
  EXPECT_EQ(hashes.size(), 20u);  // a keyed hash keeps values distinct

  // phi_readers are exempt from the mrn, name and zip masks, not from age's.
  ReadResult carol = Read("carol", {.order_by_primary_key = true});
  ASSERT_EQ(carol.rows.size(), static_cast<size_t>(kRows));
  for (int i = 0; i < kRows; ++i) {
    EXPECT_EQ(carol.rows[i][kMrn], Value::Str(Mrn(i)));
    EXPECT_EQ(carol.rows[i][kName], Value::Str(Name(i)));
    EXPECT_EQ(carol.rows[i][kZip], Value::Str(Zip(i)));
    EXPECT_EQ(carol.rows[i][kAge], Value::Int(0));
  }
  // The same raw value hashes the same for every masked caller.
  ReadResult admin = Read("admin", {.predicate = "patient_id = 'P000'"});
  ASSERT_EQ(admin.rows.size(), 1u);
  EXPECT_EQ(admin.rows[0][kMrn], alice.rows[0][kMrn]);
  EXPECT_EQ(LastAudit().keys, std::vector<std::string>{"P000"});
}

TEST_F(GovernedReadTable, MasksFollowTheColumnsAskedFor) {
  ReadResult r = Read("alice", {.columns = {"mrn", "SITE", "name", "zip"}, .order_by_primary_key = true});
  ASSERT_EQ(r.columns.size(), 4u);
  EXPECT_EQ(r.columns[0].name, "mrn");
  EXPECT_EQ(r.columns[1].name, "site");
  EXPECT_EQ(r.columns[2].name, "name");
  ASSERT_EQ(r.rows.size(), 20u);
  for (size_t j = 0; j < r.rows.size(); ++j) {
    const Row& row = r.rows[j];
    ASSERT_EQ(row.size(), 4u);
    EXPECT_TRUE(IsHex64(row[0]));
    EXPECT_EQ(row[1], Value::Str("A"));
    EXPECT_TRUE(row[2].is_null());
    EXPECT_EQ(row[3], Value::Str(Zip(static_cast<int>(3 * j))));  // zip is not masked
  }
  // The primary key was not asked for; the audit still names the rows.
  EXPECT_EQ(LastAudit().keys, PidsOfSite("A"));

  ReadResult names = Read("alice", {.columns = {"name"}});
  for (const Row& row : names.rows) EXPECT_TRUE(row[0].is_null());

  auto unknown = g_->ReadTable(As("alice"), table_, {.columns = {"ssn"}});
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(unknown.status().message(), "ssn"));
}

TEST_F(GovernedReadTable, PredicateOnNullOrConstantMaskedColumnCannotProbe) {
  SetMask("age", {.kind = MaskSpec::kConstant, .constant = Value::Int(0)});
  // name reads NULL for alice: a predicate on its raw value finds nothing.
  EXPECT_TRUE(Read("alice", {.predicate = "name = 'Name0'"}).rows.empty());
  EXPECT_TRUE(Read("alice", {.predicate = "name LIKE 'Name%'"}).rows.empty());
  EXPECT_TRUE(Read("alice", {.predicate = "name IS NOT NULL"}).rows.empty());
  EXPECT_EQ(Read("alice", {.predicate = "name IS NULL"}).rows.size(), 20u);
  // age reads 0: evaluated on 0, whatever the raw age.
  EXPECT_TRUE(Read("alice", {.predicate = "age > 30"}).rows.empty());
  EXPECT_EQ(Read("alice", {.predicate = "age = 0"}).rows.size(), 20u);
  EXPECT_EQ(nlohmann::json::parse(LastAudit().parameters_json)["evaluation"], "sql");
  // The exempt caller filters on raw values.
  EXPECT_EQ(Read("carol", {.predicate = "name = 'Name0'"}).rows.size(), 1u);
}

TEST_F(GovernedReadTable, PredicateOnHashMaskedColumnSeesTheMaskedValue) {
  SetMask("zip", {.kind = MaskSpec::kPartialReveal, .reveal_last = 2});
  ReadResult all = Read("alice", {.predicate = "patient_id = 'P003'"});
  ASSERT_EQ(all.rows.size(), 1u);
  const std::string hash = all.rows[0][kMrn].as_string();

  EXPECT_TRUE(Read("alice", {.predicate = "mrn = '" + Mrn(3) + "'"}).rows.empty());
  EXPECT_TRUE(Read("alice", {.predicate = "mrn LIKE 'MRN-%'"}).rows.empty());
  ReadResult by_hash = Read("alice", {.predicate = "mrn = '" + hash + "'"});
  ASSERT_EQ(by_hash.rows.size(), 1u);
  EXPECT_EQ(by_hash.rows[0][kPid], Value::Str("P003"));
  EXPECT_EQ(nlohmann::json::parse(LastAudit().parameters_json)["evaluation"], "masked_rows");
  EXPECT_EQ(LastAudit().keys, std::vector<std::string>{"P003"});
  // The row filter still applies on the in-memory path: bob cannot find
  // alice's row by its hash.
  EXPECT_TRUE(Read("bob", {.predicate = "mrn = '" + hash + "'"}).rows.empty());
  // carol is exempt: her predicate sees the raw value.
  EXPECT_EQ(Read("carol", {.predicate = "mrn = '" + Mrn(3) + "'"}).rows.size(), 1u);

  // Partial reveal: the predicate sees the stars.
  EXPECT_TRUE(Read("alice", {.predicate = "zip = '" + Zip(3) + "'"}).rows.empty());
  EXPECT_EQ(Read("alice", {.predicate = "zip = '***" + Zip(3).substr(3) + "'"}).rows.size(), 1u);

  // Limit and paging apply after the predicate on masked rows.
  ReadResult page1 = Read("alice", {.predicate = "mrn LIKE '%'", .limit = 3, .order_by_primary_key = true});
  EXPECT_EQ(Col(page1, kPid), (std::vector<std::string>{"P000", "P003", "P006"}));
  ReadResult page2 =
      Read("alice", {.predicate = "mrn LIKE '%'", .limit = 3, .after_primary_key = Value::Str("P006")});
  EXPECT_EQ(Col(page2, kPid), (std::vector<std::string>{"P009", "P012", "P015"}));
  EXPECT_EQ(LastAudit().row_count, 3);
}

TEST_F(GovernedReadTable, MaskedPrimaryKeyOrdersAndPagesByMaskedValues) {
  SetMask("patient_id", {.kind = MaskSpec::kKeyedHash, .exempt_groups = {"phi_readers"}});
  ReadResult all = Read("alice", {.order_by_primary_key = true});
  ASSERT_EQ(all.rows.size(), 20u);
  std::vector<std::string> keys = Col(all, kPid);
  for (const Row& row : all.rows) EXPECT_TRUE(IsHex64(row[kPid]));
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));  // by hash: the raw order is not revealed
  EXPECT_EQ(Sorted(LastAudit().keys), PidsOfSite("A"));   // the audit keeps the raw keys

  // Pages by hash cover the rows exactly once.
  std::vector<std::string> paged;
  std::optional<Value> after;
  for (int page = 0; page < 10; ++page) {
    ReadResult r = Read("alice", {.limit = 6, .order_by_primary_key = true, .after_primary_key = after});
    if (r.rows.empty()) break;
    for (const std::string& k : Col(r, kPid)) paged.push_back(k);
    after = r.rows.back()[kPid];
  }
  EXPECT_EQ(paged, keys);

  // The raw key cannot be probed through a predicate or a page boundary.
  EXPECT_TRUE(Read("alice", {.predicate = "patient_id = 'P003'"}).rows.empty());
  EXPECT_TRUE(Read("alice", {.predicate = "patient_id BETWEEN 'P000' AND 'P999'"}).rows.empty());

  // A mask that does not identify rows cannot page.
  SetMask("patient_id", {.kind = MaskSpec::kPartialReveal, .reveal_last = 1});
  auto paging = g_->ReadTable(As("alice"), table_, {.after_primary_key = Value::Str("**3")});
  EXPECT_EQ(paging.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(paging.status().message(), "patient_id"));
  EXPECT_EQ(Read("alice", {.order_by_primary_key = true}).rows.size(), 20u);
}

TEST_F(GovernedReadTable, TimeTravelAppliesTodaysPolicies) {
  // Version 2 deletes a site-A row and moves another to site B.
  Commit([&](governance::Transaction& t) { return t.DeleteKeys(table_, {Value::Str("P000")}); });
  Commit([&](governance::Transaction& t) { return t.Upsert(table_, {Patient(3, "B")}); });
  EXPECT_EQ(Read("alice").rows.size(), 18u);
  ReadResult v1 = Read("alice", {.at = {.version = 1}});
  EXPECT_EQ(v1.version, 1);
  EXPECT_EQ(Sorted(Col(v1, kPid)), PidsOfSite("A"));  // the old rows, today's row filter
  // A mask created after version 1 applies to it.
  SetMask("zip", {.kind = MaskSpec::kNull});
  for (const Row& row : Read("alice", {.at = {.version = 1}}).rows) {
    EXPECT_TRUE(row[kZip].is_null());
    EXPECT_TRUE(IsHex64(row[kMrn]));
  }
  EXPECT_EQ(nlohmann::json::parse(LastAudit().parameters_json)["version_read"], 1);
  EXPECT_EQ(Read("bob", {.at = {.version = 1}}).rows.size(), 20u);

  // A row filter over a column version 1 lacks makes version 1 unreadable
  // for everybody, never unfiltered.
  Commit([&](governance::Transaction& t) {
    return t.AddColumn(table_, {"study", DataType::String(), true, ""});
  });
  SetRowFilter("study = 'X' OR is_member('site_a')");
  for (const char* user : {"alice", "admin"}) {
    auto old = g_->ReadTable(As(user), table_, {.at = {.version = 1}});
    EXPECT_EQ(old.status().code(), StatusCode::kFailedPrecondition) << user;
    EXPECT_TRUE(Contains(old.status().message(), "study")) << old.status().message();
    EXPECT_EQ(LastAudit().outcome, "error");
  }
  EXPECT_EQ(Read("alice").rows.size(), 59u);  // site_a members: every live row now
  EXPECT_TRUE(Read("bob").rows.empty());
}

TEST_F(GovernedReadTable, ConcurrentReadersSeeTheirOwnRows) {
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string user = t % 2 == 0 ? "alice" : "bob";
      const std::string site = t % 2 == 0 ? "A" : "B";
      Caller c = As(user);
      for (int n = 0; n < 5; ++n) {
        auto r = g_->ReadTable(c, table_, {.predicate = "age >= 20"});
        if (!r.ok() || r->rows.size() != 20u) ++wrong;
        if (r.ok()) {
          for (const Row& row : r->rows) {
            if (row[kSite].as_string() != site || !row[kName].is_null()) ++wrong;
          }
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_TRUE(g_->audit().Verify().ok());
}

// --- Change feed -------------------------------------------------------------

TEST_F(GovernedChanges, HidesRowsAndImagesTheCallerMayNotSee) {
  // Version 2: P000 moves A -> B, P001 moves B -> A, P900 (site C) is new.
  // Version 3: P003 (site A) is deleted.
  Commit([&](governance::Transaction& t) {
    return t.Upsert(table_, {Patient(0, "B"), Patient(1, "A"), Patient(900, "C")});
  });
  Commit([&](governance::Transaction& t) { return t.DeleteKeys(table_, {Value::Str("P003")}); });

  auto images = [](const ChangeFeed& f) {
    std::vector<std::string> out;
    for (const governance::ChangeRow& c : f.changes) {
      out.push_back(c.row[kPid].as_string() + ":" + std::string(governance::ChangeTypeName(c.type)) + ":" +
                    c.row[kSite].as_string());
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  auto alice = g_->Changes(As("alice"), table_, 2, 3);
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  // P000's postimage (site B) and P001's preimage (site B) stay hidden.
  EXPECT_EQ(images(*alice),
            (std::vector<std::string>{"P000:update_preimage:A", "P001:update_postimage:A", "P003:delete:A"}));
  for (const governance::ChangeRow& c : alice->changes) {
    EXPECT_TRUE(IsHex64(c.row[kMrn]));
    EXPECT_TRUE(c.row[kName].is_null());
  }
  AuditRecord a = LastAudit();
  EXPECT_EQ(a.action, "table.changes");
  EXPECT_EQ(a.outcome, "allowed");
  EXPECT_EQ(a.row_count, 3);
  EXPECT_EQ(Sorted(a.keys), (std::vector<std::string>{"P000", "P001", "P003"}));

  auto bob = g_->Changes(As("bob"), table_, 2, 3);
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(images(*bob), (std::vector<std::string>{"P000:update_postimage:B", "P001:update_preimage:B"}));

  auto eve = g_->Changes(As("eve"), table_, 1, 3);
  ASSERT_TRUE(eve.ok());
  EXPECT_TRUE(eve->changes.empty());

  auto carol = g_->Changes(As("carol"), table_, 2, 3);
  ASSERT_TRUE(carol.ok());
  EXPECT_EQ(carol->changes.size(), 6u);
  for (const governance::ChangeRow& c : carol->changes) EXPECT_FALSE(IsHex64(c.row[kMrn]));

  auto bad = g_->Changes(As("alice"), table_, 3, 2);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LastAudit().outcome, "error");
}

// --- Index queries -----------------------------------------------------------

TEST_F(GovernedQueryIndex, ResultsComeOnlyFromVisibleRowsAndMatchExactSearch) {
  BuildIndex();
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int t = 0; t < 5; ++t) {
    std::vector<float> q(kDim);
    for (float& x : q) x = u(rng);
    struct Case {
      std::string user;
      std::string filter;
      std::function<bool(const Row&)> keep;
    };
    const std::vector<Case> cases = {
        {"alice", "", [](const Row& r) { return r[kSite].as_string() == "A"; }},
        {"alice", "age > 50",
         [](const Row& r) { return r[kSite].as_string() == "A" && r[kAge].as_int() > 50; }},
        {"alice", "site = 'B'", [](const Row&) { return false; }},
        {"bob", "", [](const Row& r) { return r[kSite].as_string() == "B"; }},
        {"carol", "site IN ('B', 'C')", [](const Row& r) { return r[kSite].as_string() != "A"; }},
        {"eve", "", [](const Row&) { return false; }},
    };
    for (const Case& c : cases) {
      SCOPED_TRACE(c.user + " / " + c.filter);
      auto r = Query(c.user, {.vector = q, .k = 7, .filter = c.filter});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      auto want = BruteForce(q, 7, c.keep);
      ASSERT_EQ(r->rows.size(), want.size());
      ASSERT_EQ(r->columns, (std::vector<std::string>{"patient_id", "site", "age", "mrn", "name", "score"}));
      for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(r->rows[i][0], Value::Str(want[i].second));
        EXPECT_NEAR(r->scores[i], want[i].first, 1e-4);
        EXPECT_NEAR(r->rows[i][5].as_double(), want[i].first, 1e-4);
      }
      std::vector<std::string> keys;
      for (const auto& w : want) keys.push_back(w.second);
      AuditRecord a = LastAudit();
      EXPECT_EQ(a.action, "index.query");
      EXPECT_EQ(a.outcome, "allowed");
      EXPECT_EQ(a.keys, keys);
      EXPECT_EQ(a.row_count, static_cast<int64_t>(keys.size()));
    }
  }
}

TEST_F(GovernedQueryIndex, MasksApplyToTheKeyAndTheColumnsReturned) {
  SetMask("patient_id", {.kind = MaskSpec::kKeyedHash, .exempt_groups = {"phi_readers"}});
  BuildIndex();
  std::set<std::string> visible_hashes;
  for (const std::string& k : Col(Read("alice"), kPid)) visible_hashes.insert(k);

  auto r = Query("alice", {.vector = Embedding(3), .k = 5});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 5u);
  for (const Row& row : r->rows) {
    EXPECT_TRUE(IsHex64(row[0]));
    EXPECT_TRUE(visible_hashes.count(row[0].as_string())) << "a key ReadTable does not show alice";
    EXPECT_EQ(row[1], Value::Str("A"));
    EXPECT_TRUE(IsHex64(row[3]));   // mrn
    EXPECT_TRUE(row[4].is_null());  // name
  }
  EXPECT_EQ(LastAudit().keys.front(), "P003");  // the nearest is itself; the audit keeps the raw key

  auto carol = Query("carol", {.vector = Embedding(3), .k = 1, .columns = {"MRN", "patient_id"}});
  ASSERT_TRUE(carol.ok()) << carol.status().ToString();
  EXPECT_EQ(carol->columns, (std::vector<std::string>{"patient_id", "mrn", "score"}));
  ASSERT_EQ(carol->rows.size(), 1u);
  EXPECT_EQ(carol->rows[0][0], Value::Str("P003"));
  EXPECT_EQ(carol->rows[0][1], Value::Str(Mrn(3)));

  auto unknown = Query("carol", {.vector = Embedding(3), .k = 1, .columns = {"zip"}});
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(unknown.status().message(), "zip"));
}

TEST_F(GovernedQueryIndex, UserFilterOnMaskedColumnsSeesMaskedValuesOrFailsClosed) {
  BuildIndex();
  // NULL mask: folded into the search filter, evaluated on NULL.
  auto probe = Query("alice", {.vector = Embedding(3), .k = 5, .filter = "name = 'Name3'"});
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  EXPECT_TRUE(probe->rows.empty());
  auto nulls = Query("alice", {.vector = Embedding(3), .k = 5, .filter = "name IS NULL"});
  ASSERT_TRUE(nulls.ok());
  EXPECT_EQ(nulls->rows.size(), 5u);

  // Keyed hash: cannot be evaluated inside the search yet.
  auto hashed = Query("alice", {.vector = Embedding(3), .k = 5, .filter = "mrn = '" + Mrn(3) + "'"});
  EXPECT_EQ(hashed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(hashed.status().message(), "'mrn' (KEYED_HASH)")) << hashed.status().message();
  EXPECT_EQ(LastAudit().outcome, "error");
  EXPECT_TRUE(LastAudit().keys.empty());

  // The exempt caller filters on raw values inside the search.
  auto carol = Query("carol", {.vector = Embedding(10), .k = 5, .filter = "mrn = '" + Mrn(3) + "'"});
  ASSERT_TRUE(carol.ok()) << carol.status().ToString();
  ASSERT_EQ(carol->rows.size(), 1u);
  EXPECT_EQ(carol->rows[0][0], Value::Str("P003"));
}

TEST_F(GovernedQueryIndex, RowFilterTheIndexCannotEnforceFailsClosed) {
  BuildIndex({"age", "mrn"});  // site is not synced
  for (const char* user : {"alice", "carol", "admin"}) {
    auto r = Query(user, {.vector = Embedding(0), .k = 3});
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << user;
    EXPECT_TRUE(Contains(r.status().message(), "add column 'site' to the index's columns_to_sync"))
        << r.status().message();
    AuditRecord a = LastAudit();
    EXPECT_EQ(a.outcome, "error");
    EXPECT_EQ(a.principal, user);
    EXPECT_EQ(a.row_count, 0);
  }

  // A row filter on the primary key: the attribute store has no such column.
  BuildIndex();
  SetRowFilter("patient_id != 'P000' AND (site = 'A' OR is_member('admins'))");
  auto pk = Query("alice", {.vector = Embedding(0), .k = 3});
  EXPECT_EQ(pk.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(pk.status().message(), "'patient_id'")) << pk.status().message();
  // ReadTable enforces it.
  ReadResult read = Read("alice");
  EXPECT_EQ(read.rows.size(), 19u);

  // A user filter on the primary key is refused too.
  ASSERT_TRUE(g_->policies().DropRowFilter(table_, "admin").ok());
  auto user_pk = Query("alice", {.vector = Embedding(0), .k = 3, .filter = "patient_id = 'P000'"});
  EXPECT_EQ(user_pk.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(user_pk.status().message(), "primary key")) << user_pk.status().message();
}

TEST_F(GovernedQueryIndex, AnIndexBuiltFromAnotherTableIsRefused) {
  // The policies applied are the named source table's, so the index must have
  // been built from it (spec.source, as ingest/index_sync.h records it).
  source_ = {table_, "embedding", {"site", "age", "mrn", "name"}};
  auto spec = ingest::SpecForSource(g_->store(), source_, index::IndexKind::kFlat, index::Metric::kL2);
  ASSERT_TRUE(spec.ok());
  for (const auto& [recorded, ok] : std::vector<std::pair<std::string, bool>>{
           {"main.clinical.other.embedding (table_id 99, created_us 1)", false},
           {table_.ToString() + ".embedding (table_id 1, created_us 1)", true}}) {
    index::IndexSpec s = *spec;
    s.source = recorded;
    auto idx = index::VectorIndex::Create(s);
    ASSERT_TRUE(idx.ok());
    index_ = std::move(idx).value();
    ASSERT_TRUE(ingest::BuildFromTable(g_->store(), source_, *index_).ok());
    auto r = Query("admin", {.vector = Embedding(0), .k = 3});
    if (ok) {
      EXPECT_TRUE(r.ok()) << r.status().ToString();
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
      EXPECT_TRUE(Contains(r.status().message(), "was built from main.clinical.other")) << r.status().message();
    }
  }
}

TEST_F(GovernedQueryIndex, SyncIndexNeedsManageAndSelectAndRecordsLineage) {
  BuildIndex();  // built ungoverned at version 1
  Commit([&](governance::Transaction& t) { return t.Upsert(table_, {Patient(900, "A")}); });  // version 2
  const TableName& name = index_name_;

  // alice may query the index but does not own or manage it: refused, index unchanged.
  auto denied = g_->SyncIndex(As("alice"), name, source_, *index_);
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(denied.status().message(), "MANAGE")) << denied.status().message();
  EXPECT_EQ(index_->snapshot()->version(), 1);
  EXPECT_EQ(LastAudit().outcome, "denied");
  EXPECT_EQ(LastAudit().action, "index.sync");

  auto synced = g_->SyncIndex(As("admin"), name, source_, *index_);
  ASSERT_TRUE(synced.ok()) << synced.status().ToString();
  EXPECT_EQ(synced->from_version, 1);
  EXPECT_EQ(synced->to_version, 2);
  EXPECT_EQ(synced->inserted, 1);
  EXPECT_EQ(index_->snapshot()->version(), 2);
  AuditRecord a = LastAudit();
  EXPECT_EQ(a.outcome, "allowed");
  EXPECT_EQ(a.row_count, 1);

  // index@2 <- table@2, and a query of the index chains back to the table.
  auto up = g_->lineage().Upstream({"index", name.ToString(), 2});
  ASSERT_TRUE(up.ok());
  ASSERT_EQ(up->size(), 1u);
  EXPECT_EQ(up->front().from.ToString(), "table main.clinical.patients@2");
  EXPECT_EQ(up->front().relation, "synced_from");

  // Syncing again when up to date changes nothing and records no new edge.
  auto again = g_->SyncIndex(As("admin"), name, source_, *index_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->from_version, again->to_version);
  EXPECT_EQ(g_->lineage().Upstream({"index", name.ToString(), 2})->size(), 1u);
  EXPECT_TRUE(g_->audit().Verify().ok());
}

TEST_F(GovernedQueryIndex, RecordsLineageAndTheAuditRecord) {
  BuildIndex();
  auto r = Query("alice", {.vector = Embedding(6), .k = 4, .filter = "age >= 20", .ef_search = 64});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->index_version, 1);
  EXPECT_EQ(r->policies_applied, (std::vector<std::string>{"column_mask:main.clinical.patients.mrn",
                                                           "column_mask:main.clinical.patients.name",
                                                           "row_filter:main.clinical.patients"}));
  ASSERT_EQ(r->query_id.rfind("q-", 0), 0u);

  auto down = g_->lineage().Downstream({"index", "main.clinical.patients_idx", 1});
  ASSERT_TRUE(down.ok()) << down.status().ToString();
  ASSERT_EQ(down->size(), 1u);
  EXPECT_EQ(down->front().to.kind, "query");
  EXPECT_EQ(down->front().to.name, r->query_id);
  EXPECT_EQ(down->front().relation, "read_by");
  EXPECT_EQ(down->front().principal, "alice");
  // The result also comes from the source table at the version the index reflects.
  auto up = g_->lineage().Upstream({"query", r->query_id, -1});
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  std::vector<std::string> sources;
  for (const auto& e : *up) sources.push_back(e.from.ToString());
  std::sort(sources.begin(), sources.end());
  EXPECT_EQ(sources, (std::vector<std::string>{"index main.clinical.patients_idx@1", "table main.clinical.patients@1"}));

  AuditRecord a = LastAudit();
  EXPECT_EQ(a.principal, "alice");
  EXPECT_EQ(a.securable, "main.clinical.patients_idx");
  auto params = nlohmann::json::parse(a.parameters_json);
  EXPECT_EQ(params["query_id"], r->query_id);
  EXPECT_EQ(params["k"], 4);
  EXPECT_EQ(params["filter"], "age >= 20");
  EXPECT_EQ(params["index_version"], 1);
  EXPECT_EQ(params["ef_search"], 64);
  EXPECT_EQ(params["source"], "main.clinical.patients");
  EXPECT_EQ(params["policies"].size(), 3u);
  EXPECT_EQ(a.keys.size(), 4u);

  // Table reads record lineage too: the table at version 1 now feeds the
  // index query above and this read.
  ReadResult t = Read("bob", {.limit = 2});
  auto reads = g_->lineage().Downstream({"table", "main.clinical.patients", 1});
  ASSERT_TRUE(reads.ok());
  EXPECT_EQ(reads->size(), 2u);
}

// --- Audit -------------------------------------------------------------------

TEST_F(GovernedAudit, EveryCallAppendsOneRecordWithOutcomeAndKeys) {
  BuildIndex();
  const int64_t before = AuditCount();
  ReadResult r = Read("alice", {.predicate = "age > 60"});
  AuditRecord a = LastAudit();
  EXPECT_EQ(a.principal, "alice");
  EXPECT_EQ(a.action, "table.read");
  EXPECT_EQ(a.securable, "main.clinical.patients");
  EXPECT_EQ(a.outcome, "allowed");
  EXPECT_EQ(a.message, "");
  EXPECT_EQ(a.row_count, static_cast<int64_t>(r.rows.size()));
  EXPECT_EQ(a.keys, Col(r, kPid));
  auto params = nlohmann::json::parse(a.parameters_json);
  EXPECT_EQ(params["predicate"], "age > 60");
  EXPECT_EQ(params["version_read"], 1);
  EXPECT_EQ(params["policies"].size(), 3u);

  ASSERT_FALSE(g_->ReadTable(As("alice"), table_, {.predicate = "age >"}).ok());
  EXPECT_EQ(LastAudit().outcome, "error");
  ASSERT_TRUE(g_->Changes(As("bob"), table_, 1, 1).ok());
  ASSERT_TRUE(Query("carol", {.vector = Embedding(0), .k = 2}).ok());
  ASSERT_FALSE(Query("carol", {.vector = {1, 2}, .k = 2}).ok());  // wrong dimension
  EXPECT_EQ(LastAudit().outcome, "error");
  EXPECT_EQ(AuditCount(), before + 5);
  EXPECT_TRUE(g_->audit().Verify().ok());
}

TEST_F(GovernedAudit, ReadsFailWhenTheAuditRecordCannotBeWritten) {
  BuildIndex();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db,
                        "CREATE TRIGGER fail_audit BEFORE INSERT ON gov_audit "
                        "BEGIN SELECT RAISE(ABORT, 'simulated audit failure'); END;",
                        nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);

  const int64_t before = AuditCount();
  auto read = g_->ReadTable(As("alice"), table_, {});
  ASSERT_FALSE(read.ok());
  EXPECT_TRUE(Contains(read.status().message(), "audit record could not be written"))
      << read.status().message();
  auto changes = g_->Changes(As("alice"), table_, 1, 1);
  EXPECT_FALSE(changes.ok());
  auto query = Query("alice", {.vector = Embedding(0), .k = 2});
  EXPECT_FALSE(query.ok());
  // A refusal keeps its code and says that it went unaudited.
  auto denied = g_->ReadTable(As("nocat"), table_, {});
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(denied.status().message(), "could not be written"));
  auto unauth = g_->Authenticate("vst_bad");
  EXPECT_EQ(unauth.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(AuditCount(), before);
}

}  // namespace
}  // namespace vesta::access
