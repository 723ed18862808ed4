// Governed metadata reads (access/governed.h, "Governed metadata reads"):
// DescribeTable's visible row count, History's redaction, the audit log for
// metastore admins only, and lineage visibility; each call's audit record.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/governed.h"
#include "tests/access/access_test_util.h"
#include "tests/testing/temp_dir.h"

namespace vesta::access {
namespace {

using testing::Pid;

using governance::AuditQuery;
using governance::AuditRecord;
using governance::CommitInfo;
using governance::LineageEdge;
using governance::LineageNode;
using governance::Privilege;
using governance::Securable;
using governance::SecurableType;
using governance::TableName;
using ::vesta::testing::TempDir;

constexpr int kRows = 30;  // sites A, B, C by i % 3


Schema PatientSchema() {
  Schema s;
  s.columns = {{"patient_id", DataType::String(), false, ""},
               {"site", DataType::String(), true, ""},
               {"age", DataType::Bigint(), true, ""}};
  s.primary_key = "patient_id";
  return s;
}

Row Patient(int i) {
  return {Value::Str(Pid(i)), Value::Str(std::string(1, static_cast<char>('A' + i % 3))), Value::Int(20 + i)};
}

// A store with main.clinical.patients:
//   v1: kRows rows (10 per site); v2: alice's DeleteWhere "age < 30" (her row
//   filter limits it to site A: P000, P003, P006, P009); v3: 6 new rows by
//   the admin (2 per site).
// Users: admin (metastore admin), alice (site_a, researchers), viewer
// (researchers; the row filter lets her see every row), manager
// (researchers, site_a, MANAGE on the table), bob (USE CATALOG + USE SCHEMA
// only). researchers: USE CATALOG, USE SCHEMA, SELECT + MODIFY on the table.
// Row filter: admins, viewer, or site A for site_a members.
class GovernedMetaTest : public ::testing::Test {
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
    {
      std::vector<Row> rows;
      for (int i = 0; i < kRows; ++i) rows.push_back(Patient(i));
      auto t = store.Begin("admin");
      ASSERT_TRUE(t->Append(table_, rows).ok());
      ASSERT_TRUE(t->Commit().ok());
    }
    governance::Principals& p = g_->principals();
    ASSERT_TRUE(p.Bootstrap("admin").ok());
    for (const char* u : {"alice", "viewer", "manager", "bob"}) ASSERT_TRUE(p.CreateUser(u, "admin").ok()) << u;
    for (const char* grp : {"researchers", "site_a"}) ASSERT_TRUE(p.CreateGroup(grp, "admin").ok()) << grp;
    for (const char* u : {"alice", "viewer", "manager"}) ASSERT_TRUE(p.AddMember("researchers", u, "admin").ok());
    ASSERT_TRUE(p.AddMember("site_a", "alice", "admin").ok());
    ASSERT_TRUE(p.AddMember("site_a", "manager", "admin").ok());
    Grant(Cat("main"), "researchers", {Privilege::kUseCatalog});
    Grant(Sch("main.clinical"), "researchers", {Privilege::kUseSchema});
    Grant(Securable::Table(table_), "researchers", {Privilege::kSelect, Privilege::kModify});
    Grant(Securable::Table(table_), "manager", {Privilege::kManage});
    Grant(Cat("main"), "bob", {Privilege::kUseCatalog});
    Grant(Sch("main.clinical"), "bob", {Privilege::kUseSchema});
    ASSERT_TRUE(g_->policies()
                    .SetRowFilter(table_,
                                  "is_member('admins') OR current_user() = 'viewer' OR "
                                  "(site = 'A' AND is_member('site_a'))",
                                  "admin")
                    .ok());

    auto del = g_->DeleteWhere(As("alice"), table_, "age < 30");
    ASSERT_TRUE(del.ok()) << del.status().ToString();
    ASSERT_EQ(del->version, 2);
    ASSERT_EQ(del->rows_removed, 4);
    {
      std::vector<Row> rows;
      for (int i = kRows; i < kRows + 6; ++i) rows.push_back(Patient(i));
      auto t = store.Begin("admin");
      ASSERT_TRUE(t->Append(table_, rows).ok());
      ASSERT_TRUE(t->Commit().ok());
    }
  }

  static Securable Cat(const std::string& n) { return Securable::Parse(SecurableType::kCatalog, n).value(); }
  static Securable Sch(const std::string& n) { return Securable::Parse(SecurableType::kSchema, n).value(); }
  void Grant(const Securable& s, const std::string& who, std::vector<Privilege> ps) {
    Status st = g_->privileges().Grant(s, who, ps, "admin");
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  Caller As(const std::string& user) {
    auto c = g_->CallerFor(user);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : Caller{};
  }
  int64_t Head() {
    auto h = g_->audit().GetHead();
    EXPECT_TRUE(h.ok());
    return h.ok() ? h->seq : -1;
  }
  // The records appended since seq `before`, oldest first (read raw).
  std::vector<AuditRecord> Since(int64_t before) {
    auto r = g_->audit().Query({.from_seq = before + 1, .newest_first = false});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<AuditRecord>{};
  }
  // Exactly one record since `before`, with this principal, action and outcome.
  AuditRecord ExpectOneRecord(int64_t before, const std::string& user, const std::string& action,
                              const std::string& outcome) {
    std::vector<AuditRecord> recs = Since(before);
    EXPECT_EQ(recs.size(), 1u) << action;
    if (recs.empty()) return {};
    EXPECT_EQ(recs[0].principal, user);
    EXPECT_EQ(recs[0].action, action);
    EXPECT_EQ(recs[0].outcome, outcome) << recs[0].message;
    EXPECT_TRUE(recs[0].keys.empty());
    return recs[0];
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Governed> g_;
  TableName table_ = TableName::Parse("main.clinical.patients").value();
};

class GovernedMetaDescribe : public GovernedMetaTest {};
class GovernedMetaHistory : public GovernedMetaTest {};
class GovernedMetaAudit : public GovernedMetaTest {};
class GovernedMetaLineage : public GovernedMetaTest {};

// --- DescribeTable -------------------------------------------------------------

TEST_F(GovernedMetaDescribe, RowCountIsWhatTheCallerCanReadAtThatVersion) {
  for (const char* user : {"alice", "manager", "viewer", "admin"}) {
    for (std::optional<int64_t> v : {std::optional<int64_t>(), std::optional<int64_t>(1),
                                     std::optional<int64_t>(2), std::optional<int64_t>(0)}) {
      const Caller c = As(user);
      governance::VersionSpec at;
      at.version = v;
      const int64_t before = Head();
      auto d = g_->DescribeTable(c, table_, at);
      ASSERT_TRUE(d.ok()) << user << ": " << d.status().ToString();
      AuditRecord rec = ExpectOneRecord(before, user, "table.describe", "allowed");
      EXPECT_EQ(rec.securable, table_.ToString());
      EXPECT_EQ(rec.row_count, 0);
      auto raw = g_->store().DescribeTable(table_, at);
      ASSERT_TRUE(raw.ok());
      auto read = g_->ReadTable(c, table_, {.at = at});
      ASSERT_TRUE(read.ok()) << read.status().ToString();
      EXPECT_EQ(d->row_count, static_cast<int64_t>(read->rows.size())) << user << " v" << d->version;
      EXPECT_EQ(d->version, raw->version);
      EXPECT_EQ(d->current_version, 3);
      EXPECT_EQ(d->schema.columns.size(), raw->schema.columns.size());
      EXPECT_EQ(d->schema.primary_key, "patient_id");
      auto params = nlohmann::json::parse(rec.parameters_json);
      EXPECT_EQ(params["version_read"], raw->version);
      EXPECT_EQ(params["row_count"], d->row_count);
      if (std::string(user) == "viewer" || std::string(user) == "admin") {
        EXPECT_EQ(d->row_count, raw->row_count);
      }
    }
  }
  // Concretely: alice (site A) sees 10 rows at v1, 6 at v2 (4 deleted), 8 at v3.
  const Caller alice = As("alice");
  EXPECT_EQ(g_->DescribeTable(alice, table_, {.version = 1}).value().row_count, 10);
  EXPECT_EQ(g_->DescribeTable(alice, table_, {.version = 2}).value().row_count, 6);
  EXPECT_EQ(g_->DescribeTable(alice, table_).value().row_count, 8);
  EXPECT_EQ(g_->DescribeTable(As("admin"), table_).value().row_count, kRows - 4 + 6);
}

TEST_F(GovernedMetaDescribe, DeniedBeforeAnythingElseAndAudited) {
  const Caller bob = As("bob");
  int64_t before = Head();
  auto d = g_->DescribeTable(bob, table_);
  ASSERT_EQ(d.status().code(), StatusCode::kPermissionDenied) << d.status().ToString();
  EXPECT_NE(d.status().message().find("SELECT"), std::string::npos) << d.status().message();
  ExpectOneRecord(before, "bob", "table.describe", "denied");
  // A missing table or version is not revealed to a caller without SELECT.
  before = Head();
  auto missing = g_->DescribeTable(bob, TableName::Parse("main.clinical.nope").value());
  EXPECT_EQ(missing.status().code(), StatusCode::kPermissionDenied);
  ExpectOneRecord(before, "bob", "table.describe", "denied");
  // With SELECT, a future version is an error, audited as such.
  before = Head();
  auto future = g_->DescribeTable(As("alice"), table_, {.version = 9});
  EXPECT_EQ(future.status().code(), StatusCode::kNotFound) << future.status().ToString();
  ExpectOneRecord(before, "alice", "table.describe", "error");
}

// --- History -------------------------------------------------------------------

TEST_F(GovernedMetaHistory, ParametersAndFilteredMetricsOnlyForManageHolders) {
  auto raw = g_->store().History(table_);
  ASSERT_TRUE(raw.ok());
  ASSERT_EQ(raw->size(), 4u);  // v3, v2, v1, v0
  // The raw history of alice's delete holds her folded row filter.
  ASSERT_NE((*raw)[1].parameters_json.find("site"), std::string::npos) << (*raw)[1].parameters_json;

  // MANAGE holders (manager, via a grant; admin) get the store's entries.
  for (const char* user : {"manager", "admin"}) {
    const int64_t before = Head();
    auto h = g_->History(As(user), table_);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    AuditRecord rec = ExpectOneRecord(before, user, "table.history", "allowed");
    EXPECT_EQ(rec.row_count, 4);
    EXPECT_EQ(nlohmann::json::parse(rec.parameters_json)["redacted"], false);
    ASSERT_EQ(h->size(), raw->size());
    for (size_t i = 0; i < h->size(); ++i) {
      EXPECT_EQ((*h)[i].parameters_json, (*raw)[i].parameters_json);
      EXPECT_EQ((*h)[i].rows_removed, (*raw)[i].rows_removed);
    }
  }
  // alice: SELECT, a row filter, no MANAGE: no parameters, metrics withheld.
  {
    const int64_t before = Head();
    auto h = g_->History(As("alice"), table_);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    AuditRecord rec = ExpectOneRecord(before, "alice", "table.history", "allowed");
    auto params = nlohmann::json::parse(rec.parameters_json);
    EXPECT_EQ(params["redacted"], true);
    EXPECT_EQ(params["metrics_withheld"], true);
    ASSERT_EQ(h->size(), raw->size());
    for (size_t i = 0; i < h->size(); ++i) {
      const CommitInfo& c = (*h)[i];
      EXPECT_EQ(c.parameters_json, "{}");
      EXPECT_EQ(c.version, (*raw)[i].version);
      EXPECT_EQ(c.operation, (*raw)[i].operation);
      EXPECT_EQ(c.principal, (*raw)[i].principal);
      EXPECT_EQ(c.timestamp.micros, (*raw)[i].timestamp.micros);
      EXPECT_EQ(c.rows_added, -1);
      EXPECT_EQ(c.rows_removed, -1);
      EXPECT_EQ(c.rows_updated, -1);
    }
  }
  // viewer: no MANAGE, but no row filter restricts her: metrics kept.
  {
    auto h = g_->History(As("viewer"), table_, 2);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    ASSERT_EQ(h->size(), 2u);
    EXPECT_EQ((*h)[0].parameters_json, "{}");
    EXPECT_EQ((*h)[0].rows_added, 6);
    EXPECT_EQ((*h)[1].rows_removed, 4);
  }
  // bob: no SELECT.
  const int64_t before = Head();
  auto denied = g_->History(As("bob"), table_);
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  ExpectOneRecord(before, "bob", "table.history", "denied");
}

// --- Audit log -----------------------------------------------------------------

TEST_F(GovernedMetaAudit, OnlyMetastoreAdminsReadExportAndVerifyTheLog) {
  const Caller alice = As("alice");
  const Caller admin = As("admin");
  ASSERT_TRUE(admin.metastore_admin);
  ASSERT_TRUE(g_->DescribeTable(alice, table_).ok());
  ASSERT_TRUE(g_->DescribeTable(alice, table_, {.version = 1}).ok());
  ASSERT_FALSE(g_->DescribeTable(As("bob"), table_).ok());

  int64_t before = Head();
  auto q = g_->QueryAudit(alice, {});
  EXPECT_EQ(q.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(q.status().message().find("metastore admin"), std::string::npos);
  ExpectOneRecord(before, "alice", "audit.query", "denied");

  before = Head();
  std::ostringstream none;
  EXPECT_EQ(g_->ExportAudit(alice, {}, none).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(none.str().empty());
  ExpectOneRecord(before, "alice", "audit.export", "denied");

  before = Head();
  EXPECT_EQ(g_->VerifyAudit(alice).status().code(), StatusCode::kPermissionDenied);
  ExpectOneRecord(before, "alice", "audit.verify", "denied");

  // The admin: filtered by principal and action.
  AuditQuery aq;
  aq.principal = "alice";
  aq.action = "table.describe";
  before = Head();
  auto recs = g_->QueryAudit(admin, aq);
  ASSERT_TRUE(recs.ok()) << recs.status().ToString();
  ASSERT_EQ(recs->size(), 2u);
  for (const AuditRecord& r : *recs) {
    EXPECT_EQ(r.principal, "alice");
    EXPECT_EQ(r.action, "table.describe");
  }
  EXPECT_GT((*recs)[0].seq, (*recs)[1].seq);  // newest first
  AuditRecord rec = ExpectOneRecord(before, "admin", "audit.query", "allowed");
  EXPECT_EQ(rec.row_count, 2);
  EXPECT_EQ(nlohmann::json::parse(rec.parameters_json)["principal"], "alice");

  // Denied records of alice's attempts to read the log, by outcome.
  AuditQuery denied;
  denied.principal = "alice";
  denied.outcome = "denied";
  auto d = g_->QueryAudit(admin, denied);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 3u);
  EXPECT_EQ((*d)[0].action, "audit.verify");

  // Export: one line per matching record, counted in the audit record.
  AuditQuery ex;
  ex.action_prefix = "audit.";
  auto expected = g_->audit().Query(ex);
  ASSERT_TRUE(expected.ok());
  before = Head();
  std::ostringstream out;
  ASSERT_TRUE(g_->ExportAudit(admin, ex, out).ok());
  std::istringstream lines(out.str());
  std::string line;
  size_t n = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["action"].get<std::string>().rfind("audit.", 0), 0u);
    ++n;
  }
  EXPECT_EQ(n, expected->size());
  rec = ExpectOneRecord(before, "admin", "audit.export", "allowed");
  EXPECT_EQ(rec.row_count, static_cast<int64_t>(n));

  before = Head();
  auto v = g_->VerifyAudit(admin);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->intact);
  EXPECT_EQ(v->records_checked, before);
  EXPECT_EQ(v->first_bad_seq, -1);
  ExpectOneRecord(before, "admin", "audit.verify", "allowed");

  // An invalid query by an admin is an error, audited.
  before = Head();
  AuditQuery bad;
  bad.limit = 0;
  EXPECT_EQ(g_->QueryAudit(admin, bad).status().code(), StatusCode::kInvalidArgument);
  ExpectOneRecord(before, "admin", "audit.query", "error");
}

// --- Lineage -------------------------------------------------------------------

// Edges: patients@1 -> patients_idx@1 (synced_from); patients_idx@1 -> a
// query (read_by); patients@1 -> secret@1 (derived_from); secret@1 ->
// derived@1 (derived_from). alice may read patients, patients_idx and
// derived, not secret.
TEST_F(GovernedMetaLineage, NonAdminsSeeOnlyEdgesThroughNodesTheyMayRead) {
  const std::string t = table_.ToString();
  const std::string idx = "main.clinical.patients_idx";
  const std::string secret = "main.clinical.secret";
  const std::string derived = "main.clinical.derived";
  Grant(Securable::Index(TableName::Parse(idx).value()), "alice", {Privilege::kSelect});
  Grant(Securable::Table(TableName::Parse(derived).value()), "alice", {Privilege::kSelect});
  governance::Lineage& l = g_->lineage();
  ASSERT_TRUE(l.Record({.from = {"table", t, 1}, .to = {"index", idx, 1}, .relation = "synced_from"}).ok());
  ASSERT_TRUE(l.Record({.from = {"index", idx, 1}, .to = {"query", "q-0001", -1}, .relation = "read_by"}).ok());
  ASSERT_TRUE(l.Record({.from = {"table", t, 1}, .to = {"table", secret, 1}, .relation = "derived_from"}).ok());
  ASSERT_TRUE(
      l.Record({.from = {"table", secret, 1}, .to = {"table", derived, 1}, .relation = "derived_from"}).ok());

  // The admin sees everything downstream of the table.
  int64_t before = Head();
  auto all = g_->Downstream(As("admin"), {"table", t, -1});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->size(), 4u);
  AuditRecord rec = ExpectOneRecord(before, "admin", "lineage.query", "allowed");
  EXPECT_EQ(rec.row_count, 4);

  // alice: only the index edge (the query is admin-only, secret is hidden,
  // and derived is reached only through secret).
  const Caller alice = As("alice");
  before = Head();
  auto mine = g_->Downstream(alice, {"table", t, -1});
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].to.name, idx);
  EXPECT_EQ((*mine)[0].depth, 1);
  rec = ExpectOneRecord(before, "alice", "lineage.query", "allowed");
  EXPECT_EQ(rec.row_count, 1);

  auto up = g_->Upstream(alice, {"index", idx, 1});
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  ASSERT_EQ(up->size(), 1u);
  EXPECT_EQ((*up)[0].from.name, t);
  auto up_derived = g_->Upstream(alice, {"table", derived, 1});
  ASSERT_TRUE(up_derived.ok());
  EXPECT_TRUE(up_derived->empty());  // its only source is hidden
  auto admin_up = g_->Upstream(As("admin"), {"table", derived, 1});
  ASSERT_TRUE(admin_up.ok());
  EXPECT_EQ(admin_up->size(), 2u);

  // Nodes alice may not read, and query nodes: denied, audited.
  for (const LineageNode& n : {LineageNode{"table", secret, 1}, LineageNode{"query", "q-0001", -1}}) {
    before = Head();
    auto r = g_->Upstream(alice, n);
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << n.ToString();
    ExpectOneRecord(before, "alice", "lineage.query", "denied");
  }
  // bob lacks SELECT on the table.
  EXPECT_EQ(g_->Downstream(As("bob"), {"table", t, -1}).status().code(), StatusCode::kPermissionDenied);
  // The admin may ask about a query node.
  auto q = g_->Upstream(As("admin"), {"query", "q-0001", -1});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->size(), 2u);
  // Depth is checked after the privileges.
  EXPECT_EQ(g_->Downstream(alice, {"table", t, -1}, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(g_->Downstream(As("bob"), {"table", t, -1}, 0).status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace vesta::access
