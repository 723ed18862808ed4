// Governed writes and creates (access/governed.h): each privilege they need,
// ownership of what a caller creates, the row filter and masks on deletes
// and upserts, grants cleared by DropTable, AuthorizeCreateIndex, and one
// audit record per call (the chain verifies after every test).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "access/governed.h"
#include "ingest/index_sync.h"
#include "tests/access/access_test_util.h"
#include "tests/testing/temp_dir.h"

namespace vesta::access {
namespace {

using testing::Contains;
using testing::Cat;
using testing::Sch;
using testing::Pid;

using governance::AuditRecord;
using governance::MaskSpec;
using governance::Privilege;
using governance::Securable;
using governance::SecurableType;
using governance::TableName;
using ::vesta::testing::TempDir;

constexpr int kRows = 12;  // sites A, B, C by i % 3
constexpr uint32_t kDim = 4;

std::string Site(int i) {
  return std::string(1, static_cast<char>('A' + i % 3));
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
  std::vector<float> v(kDim);
  for (uint32_t j = 0; j < kDim; ++j)
    v[j] = static_cast<float>((i * 7 + static_cast<int>(j) * 3) % 11) - 5.0f;
  return {Value::Str(Pid(i)),
          Value::Str(site),
          Value::Int(20 + i),
          Value::Str("MRN-" + std::to_string(1000 + i)),
          Value::Str("Name" + std::to_string(i)),
          Value::Vec(std::move(v))};
}
Row Patient(int i) {
  return Patient(i, Site(i));
}



// A store with catalog main and schema main.clinical (created and owned by
// the metastore admin "admin" through the governed API) and the table
// main.clinical.patients (kRows rows at version 1). Users:
//   writer:    USE CATALOG, USE SCHEMA, MODIFY on the table (no SELECT);
//   reader:    USE CATALOG, USE SCHEMA, SELECT on the table;
//   alice:     MODIFY and SELECT, member of site_a (row filter: site A only);
//   carol:     MODIFY and SELECT, member of site_a and phi_readers;
//   creator:   USE CATALOG, USE SCHEMA, CREATE TABLE on main.clinical;
//   indexer:   USE CATALOG, USE SCHEMA on main.clinical (privileges added per test);
//   nocat:     nothing; noschema: USE CATALOG; nomodify: USE CATALOG + USE SCHEMA.
// Row filter: members of site_a see site A, everybody else every row.
// Masks: mrn keyed hash, name NULL, both unless phi_readers.
class GovernedWriteTest : public ::testing::Test {
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

    governance::Principals& p = g_->principals();
    ASSERT_TRUE(p.Bootstrap("admin").ok());
    for (const char* u : {"writer", "reader", "alice", "carol", "creator", "indexer", "nocat", "noschema",
                          "nomodify", "lead"}) {
      ASSERT_TRUE(p.CreateUser(u, "admin").ok()) << u;
    }
    for (const char* grp : {"site_a", "phi_readers"}) ASSERT_TRUE(p.CreateGroup(grp, "admin").ok()) << grp;
    ASSERT_TRUE(p.AddMember("site_a", "alice", "admin").ok());
    ASSERT_TRUE(p.AddMember("site_a", "carol", "admin").ok());
    ASSERT_TRUE(p.AddMember("phi_readers", "carol", "admin").ok());

    admin_ = As("admin");
    ASSERT_TRUE(admin_.metastore_admin);
    ASSERT_TRUE(g_->CreateCatalog(admin_, "main").ok());
    ASSERT_TRUE(g_->CreateSchema(admin_, "main", "clinical").ok());
    auto made = g_->CreateTable(admin_, table_, PatientSchema());
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    std::vector<Row> rows;
    for (int i = 0; i < kRows; ++i) rows.push_back(Patient(i));
    auto appended = g_->Append(admin_, table_, rows);
    ASSERT_TRUE(appended.ok()) << appended.status().ToString();
    ASSERT_EQ(appended->version, 1);

    for (const char* u :
         {"writer", "reader", "alice", "carol", "creator", "indexer", "noschema", "nomodify"}) {
      Grant(Cat("main"), u, {Privilege::kUseCatalog});
    }
    for (const char* u : {"writer", "reader", "alice", "carol", "creator", "indexer", "nomodify"}) {
      Grant(Sch("main.clinical"), u, {Privilege::kUseSchema});
    }
    const Securable t = Securable::Table(table_);
    Grant(t, "writer", {Privilege::kModify});
    Grant(t, "reader", {Privilege::kSelect});
    Grant(t, "alice", {Privilege::kModify, Privilege::kSelect});
    Grant(t, "carol", {Privilege::kModify, Privilege::kSelect});
    Grant(Sch("main.clinical"), "creator", {Privilege::kCreateTable});

    ASSERT_TRUE(g_->policies().SetRowFilter(table_, "site = 'A' OR NOT is_member('site_a')", "admin").ok());
    ASSERT_TRUE(g_->policies()
                    .SetColumnMask(table_, "mrn",
                                   {.kind = MaskSpec::kKeyedHash, .exempt_groups = {"phi_readers"}}, "admin")
                    .ok());
    ASSERT_TRUE(g_->policies()
                    .SetColumnMask(table_, "name",
                                   {.kind = MaskSpec::kNull, .exempt_groups = {"phi_readers"}}, "admin")
                    .ok());
  }

  void TearDown() override {
    if (!g_) return;
    Status st = g_->audit().Verify();
    EXPECT_TRUE(st.ok()) << st.ToString();
  }

  void Grant(const Securable& s, const std::string& who, std::vector<Privilege> ps) {
    Status st = g_->privileges().Grant(s, who, ps, "admin");
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  Caller As(const std::string& user) {
    auto c = g_->CallerFor(user);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : Caller{};
  }

  int64_t Version(const TableName& t) {
    auto info = g_->store().DescribeTable(t);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? info->current_version : -1;
  }

  // The live primary keys of `t`, raw (the test's own ground truth), sorted.
  std::vector<std::string> Keys(const TableName& t) {
    auto r = g_->store().Read(t, {.columns = {"patient_id"}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (r.ok()) {
      for (const Row& row : r->rows) out.push_back(row[0].as_string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static std::vector<std::string> AllPids() {
    std::vector<std::string> out;
    for (int i = 0; i < kRows; ++i) out.push_back(Pid(i));
    return out;
  }
  static std::vector<std::string> PidsExcept(const std::function<bool(int)>& drop) {
    std::vector<std::string> out;
    for (int i = 0; i < kRows; ++i) {
      if (!drop(i)) out.push_back(Pid(i));
    }
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

  // Expects `st` to be PermissionDenied containing `message`, audited as
  // exactly one denied record of `action` on `securable` by `user`.
  void ExpectDenied(const Status& st, int64_t audit_before, const std::string& user,
                    const std::string& action, const std::string& securable, const std::string& message) {
    EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << st.ToString();
    EXPECT_TRUE(Contains(st.message(), message)) << st.message() << " should contain: " << message;
    EXPECT_EQ(AuditCount(), audit_before + 1);
    AuditRecord a = LastAudit();
    EXPECT_EQ(a.principal, user);
    EXPECT_EQ(a.action, action);
    EXPECT_EQ(a.securable, securable);
    EXPECT_EQ(a.outcome, "denied");
    EXPECT_EQ(a.message, st.message());
    EXPECT_EQ(a.row_count, 0);
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Governed> g_;
  Caller admin_;
  TableName table_ = TableName::Parse("main.clinical.patients").value();
};

using GovernedWrite = GovernedWriteTest;

// --- Privileges ----------------------------------------------------------------

TEST_F(GovernedWrite, EachMissingPrivilegeIsDeniedByNameAuditedAndCommitsNothing) {
  const std::string tname = table_.ToString();
  struct Case {
    std::string user;
    std::string missing;
  };
  const std::vector<Case> data_cases = {
      {"nocat", "nocat lacks USE CATALOG on catalog main"},
      {"noschema", "noschema lacks USE SCHEMA on schema main.clinical"},
      {"nomodify", "nomodify lacks MODIFY on table " + tname},
  };
  // MODIFY is checked first; the deletes also need SELECT.
  std::vector<Case> delete_cases = data_cases;
  delete_cases.push_back({"writer", "writer lacks SELECT on table " + tname});
  const int64_t version = Version(table_);
  const std::vector<std::string> keys = Keys(table_);

  for (const Case& c : data_cases) {
    SCOPED_TRACE(c.user);
    const Caller who = As(c.user);
    int64_t before = AuditCount();
    ExpectDenied(g_->Append(who, table_, {Patient(100)}).status(), before, c.user, "table.append", tname,
                 c.missing);
    before = AuditCount();
    ExpectDenied(g_->Upsert(who, table_, {Patient(0, "C")}).status(), before, c.user, "table.upsert", tname,
                 c.missing);
  }
  for (const Case& c : delete_cases) {
    SCOPED_TRACE(c.user);
    const Caller who = As(c.user);
    int64_t before = AuditCount();
    ExpectDenied(g_->DeleteKeys(who, table_, {Value::Str(Pid(0))}).status(), before, c.user, "table.delete",
                 tname, c.missing);
    before = AuditCount();
    ExpectDenied(g_->DeleteWhere(who, table_, "age > 0").status(), before, c.user, "table.delete", tname,
                 c.missing);
    EXPECT_EQ(nlohmann::json::parse(LastAudit().parameters_json).value("predicate", ""), "age > 0");
  }
  EXPECT_EQ(Version(table_), version);
  EXPECT_EQ(Keys(table_), keys);

  // Creating and dropping tables.
  const TableName notes = TableName::Parse("main.clinical.notes").value();
  for (const Case& c : {Case{"nocat", "nocat lacks USE CATALOG on catalog main"},
                        Case{"noschema", "noschema lacks USE SCHEMA on schema main.clinical"},
                        Case{"nomodify", "nomodify lacks CREATE TABLE on schema main.clinical"}}) {
    SCOPED_TRACE(c.user);
    const int64_t before = AuditCount();
    ExpectDenied(g_->CreateTable(As(c.user), notes, PatientSchema()).status(), before, c.user, "table.create",
                 notes.ToString(), c.missing);
    EXPECT_EQ(g_->store().DescribeTable(notes).status().code(), StatusCode::kNotFound);
  }
  for (const Case& c : {Case{"nocat", "nocat lacks USE CATALOG on catalog main"},
                        Case{"writer", "writer lacks MANAGE on table " + tname},
                        Case{"reader", "reader lacks MANAGE on table " + tname}}) {
    SCOPED_TRACE(c.user);
    const int64_t before = AuditCount();
    ExpectDenied(g_->DropTable(As(c.user), table_), before, c.user, "table.drop", tname, c.missing);
  }
  EXPECT_EQ(Version(table_), version);
  EXPECT_EQ(Keys(table_), keys);

  // Catalogs and schemas.
  int64_t before = AuditCount();
  ExpectDenied(g_->CreateCatalog(As("creator"), "research"), before, "creator", "catalog.create", "research",
               "creator lacks metastore admin, needed to create catalog research");
  before = AuditCount();
  ExpectDenied(g_->CreateSchema(As("nocat"), "main", "imaging"), before, "nocat", "schema.create",
               "main.imaging", "nocat lacks USE CATALOG on catalog main");
  before = AuditCount();
  ExpectDenied(g_->CreateSchema(As("creator"), "main", "imaging"), before, "creator", "schema.create",
               "main.imaging", "creator lacks MANAGE on catalog main");
  auto catalogs = g_->store().ListCatalogs();
  ASSERT_TRUE(catalogs.ok());
  EXPECT_EQ(*catalogs, std::vector<std::string>{"main"});
  auto schemas = g_->store().ListSchemas("main");
  ASSERT_TRUE(schemas.ok());
  EXPECT_EQ(*schemas, std::vector<std::string>{"clinical"});
}

TEST_F(GovernedWrite, NoPrivilegesCannotTellAMissingTableFromAForbiddenOne) {
  const TableName nope = TableName::Parse("main.clinical.nope").value();
  EXPECT_EQ(g_->Append(As("nocat"), nope, {Patient(1)}).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(g_->DropTable(As("nocat"), nope).code(), StatusCode::kPermissionDenied);
  auto admin = g_->Append(admin_, nope, {Patient(1)});
  EXPECT_EQ(admin.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(LastAudit().outcome, "error");
  EXPECT_EQ(g_->DropTable(admin_, nope).code(), StatusCode::kNotFound);
  EXPECT_EQ(LastAudit().action, "table.drop");
  EXPECT_EQ(LastAudit().outcome, "error");
}

// --- Ownership -------------------------------------------------------------------

TEST_F(GovernedWrite, CreatorOwnsTheTableAndCanGrantReadAndWriteIt) {
  const TableName notes = TableName::Parse("main.clinical.notes").value();
  const Caller creator = As("creator");
  const int64_t before = AuditCount();
  auto made = g_->CreateTable(creator, notes, PatientSchema());
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->version, 0);
  EXPECT_EQ(AuditCount(), before + 1);
  AuditRecord a = LastAudit();
  EXPECT_EQ(a.action, "table.create");
  EXPECT_EQ(a.outcome, "allowed");
  EXPECT_EQ(a.principal, "creator");
  EXPECT_EQ(a.securable, "main.clinical.notes");
  EXPECT_TRUE(nlohmann::json::parse(a.parameters_json).value("created", false));

  const Securable s = Securable::Table(notes);
  auto owner = g_->privileges().Owner(s);
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  EXPECT_EQ(*owner, "creator");
  // The owner may grant (the service checks CheckManage first) ...
  EXPECT_TRUE(g_->privileges().CheckManage("creator", {}, s).ok());
  EXPECT_EQ(g_->privileges().CheckManage("reader", {}, s).code(), StatusCode::kPermissionDenied);
  // ... write and read its table without any grant on it.
  auto w = g_->Append(creator, notes, {Patient(1), Patient(2)});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->version, 1);
  auto r = g_->ReadTable(creator, notes, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows.size(), 2u);

  // Another user reads it once the owner grants SELECT.
  EXPECT_EQ(g_->ReadTable(As("reader"), notes, {}).status().code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(g_->privileges().Grant(s, "reader", {Privilege::kSelect}, "creator").ok());
  auto rr = g_->ReadTable(As("reader"), notes, {});
  ASSERT_TRUE(rr.ok()) << rr.status().ToString();
  EXPECT_EQ(rr->rows.size(), 2u);

  // if_not_exists returns the table unchanged: owner and grants untouched.
  auto again = g_->CreateTable(admin_, notes, PatientSchema(), {.if_not_exists = true});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->current_version, 1);
  EXPECT_FALSE(nlohmann::json::parse(LastAudit().parameters_json).value("created", true));
  EXPECT_EQ(g_->privileges().Owner(s).value(), "creator");
  EXPECT_TRUE(g_->ReadTable(As("reader"), notes, {}).ok());
  EXPECT_EQ(g_->CreateTable(creator, notes, PatientSchema()).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(LastAudit().outcome, "error");

  // The owner may drop it; the drop is audited.
  ASSERT_TRUE(g_->DropTable(creator, notes).ok());
  EXPECT_EQ(LastAudit().action, "table.drop");
  EXPECT_EQ(LastAudit().outcome, "allowed");
  EXPECT_EQ(g_->store().DescribeTable(notes).status().code(), StatusCode::kNotFound);
}

TEST_F(GovernedWrite, CatalogAndSchemaCreatorsOwnWhatTheyCreate) {
  auto owner = g_->privileges().Owner(Cat("main"));
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(*owner, "admin");

  const Caller lead = As("lead");
  ASSERT_TRUE(g_->CreateCatalog(admin_, "research").ok());
  EXPECT_EQ(LastAudit().action, "catalog.create");
  EXPECT_EQ(LastAudit().outcome, "allowed");
  EXPECT_EQ(g_->CreateCatalog(admin_, "research").code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(g_->CreateCatalog(admin_, "research", /*if_not_exists=*/true).ok());

  // USE CATALOG alone is not enough; MANAGE (or ownership) of the catalog is.
  EXPECT_EQ(g_->CreateSchema(lead, "research", "cohorts").code(), StatusCode::kPermissionDenied);
  Grant(Cat("research"), "lead", {Privilege::kUseCatalog});
  Status st = g_->CreateSchema(lead, "research", "cohorts");
  EXPECT_TRUE(Contains(st.message(), "lead lacks MANAGE on catalog research")) << st.ToString();
  Grant(Cat("research"), "lead", {Privilege::kManage});
  st = g_->CreateSchema(lead, "research", "cohorts");
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(LastAudit().action, "schema.create");
  EXPECT_EQ(LastAudit().securable, "research.cohorts");
  EXPECT_EQ(LastAudit().outcome, "allowed");
  EXPECT_EQ(g_->privileges().Owner(Sch("research.cohorts")).value(), "lead");

  // The schema's owner creates tables in it without a CREATE TABLE grant.
  const TableName t = TableName::Parse("research.cohorts.members").value();
  auto made = g_->CreateTable(lead, t, PatientSchema());
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  // if_not_exists keeps the existing owner.
  EXPECT_TRUE(g_->CreateSchema(admin_, "research", "cohorts", /*if_not_exists=*/true).ok());
  EXPECT_EQ(g_->privileges().Owner(Sch("research.cohorts")).value(), "lead");
  EXPECT_EQ(g_->CreateSchema(admin_, "nocatalog", "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(LastAudit().outcome, "error");
}

// --- Data writes ---------------------------------------------------------------------

TEST_F(GovernedWrite, ModifyLetsAUserAppendButNotReadWithoutSelect) {
  const Caller writer = As("writer");
  const int64_t before = AuditCount();
  auto w = g_->Append(writer, table_, {Patient(100), Patient(101)}, {.source = "batch-7.csv"});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->version, 2);
  EXPECT_EQ(w->read_version, 1);
  EXPECT_EQ(w->rows_added, 2);
  EXPECT_EQ(w->rows_written(), 2);
  EXPECT_EQ(AuditCount(), before + 1);
  AuditRecord a = LastAudit();
  EXPECT_EQ(a.action, "table.append");
  EXPECT_EQ(a.outcome, "allowed");
  EXPECT_EQ(a.principal, "writer");
  EXPECT_EQ(a.row_count, 2);
  EXPECT_TRUE(a.keys.empty());
  auto params = nlohmann::json::parse(a.parameters_json);
  EXPECT_EQ(params.value("version", -1), 2);
  EXPECT_EQ(params.value("rows", -1), 2);
  EXPECT_EQ(params.value("source", ""), "batch-7.csv");
  auto history = g_->store().History(table_, 1);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->front().principal, "writer");

  // An upsert replaces a row; identical rows commit nothing.
  auto u = g_->Upsert(writer, table_, {Patient(100, "C"), Patient(101)});
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->version, 3);
  EXPECT_EQ(u->rows_updated, 1);
  EXPECT_EQ(LastAudit().action, "table.upsert");
  auto same = g_->Upsert(writer, table_, {Patient(101)});
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->version, -1);
  EXPECT_EQ(Version(table_), 3);

  // No SELECT: no reading back.
  auto r = g_->ReadTable(writer, table_, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(r.status().message(), "writer lacks SELECT on table main.clinical.patients"));
}

TEST_F(GovernedWrite, AFailedWriteCommitsNothingAndIsAuditedAsAnError) {
  const Caller writer = As("writer");
  // One new key and one that exists: the transaction fails as a whole.
  int64_t before = AuditCount();
  auto w = g_->Append(writer, table_, {Patient(200), Patient(3)});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kAlreadyExists) << w.status().ToString();
  EXPECT_EQ(Version(table_), 1);
  EXPECT_EQ(Keys(table_), AllPids());
  EXPECT_EQ(AuditCount(), before + 1);
  EXPECT_EQ(LastAudit().outcome, "error");
  EXPECT_EQ(LastAudit().message, w.status().message());

  // A row that does not fit the schema.
  Row bad = Patient(201);
  bad[2] = Value::Str("old");
  auto b = g_->Append(writer, table_, {Patient(202), bad});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument) << b.status().ToString();
  EXPECT_EQ(Version(table_), 1);

  // Optimistic concurrency: based on version 1, conflicting with version 2.
  ASSERT_TRUE(g_->Append(admin_, table_, {Patient(300)}).ok());
  const int64_t v = Version(table_);
  auto del = g_->DeleteWhere(As("carol"), table_, "age > 0", {.read_version = 1});
  ASSERT_FALSE(del.ok());
  EXPECT_EQ(del.status().code(), StatusCode::kAborted) << del.status().ToString();
  EXPECT_EQ(LastAudit().outcome, "error");
  EXPECT_EQ(Version(table_), v);
}

TEST_F(GovernedWrite, DeleteWhereOnlyReachesRowsTheCallerCanSee) {
  const Caller alice = As("alice");  // sees site A only
  // Every row alice can see, and no other.
  auto d = g_->DeleteWhere(alice, table_, "age >= 0");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->version, 2);
  EXPECT_EQ(d->rows_removed, kRows / 3);
  EXPECT_EQ(Keys(table_), PidsExcept([](int i) { return Site(i) == "A"; }));
  AuditRecord a = LastAudit();
  EXPECT_EQ(a.action, "table.delete");
  EXPECT_EQ(a.outcome, "allowed");
  EXPECT_EQ(a.row_count, kRows / 3);
  auto params = nlohmann::json::parse(a.parameters_json);
  EXPECT_EQ(params.value("predicate", ""), "age >= 0");
  EXPECT_TRUE(Contains(params.value("effective_predicate", ""), "site")) << a.parameters_json;
  EXPECT_EQ(params.value("version", -1), 2);

  // A predicate that only matches hidden rows deletes nothing.
  auto none = g_->DeleteWhere(alice, table_, "site = 'B'");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->version, -1);
  EXPECT_EQ(none->rows_removed, 0);
  EXPECT_EQ(Version(table_), 2);
  EXPECT_EQ(LastAudit().row_count, 0);
}

TEST_F(GovernedWrite, DeleteWhereSeesMaskedValuesAndCannotProbeThem) {
  const Caller alice = As("alice");
  // name is NULL-masked for alice: the raw value of a visible row matches nothing.
  auto byname = g_->DeleteWhere(alice, table_, "name = 'Name3'");
  ASSERT_TRUE(byname.ok()) << byname.status().ToString();
  EXPECT_EQ(byname->rows_removed, 0);
  EXPECT_EQ(Keys(table_), AllPids());
  // mrn is hash-masked: the store cannot run the predicate on masked values: refused.
  auto bymrn = g_->DeleteWhere(alice, table_, "mrn = 'MRN-1003'");
  ASSERT_FALSE(bymrn.ok());
  EXPECT_EQ(bymrn.status().code(), StatusCode::kFailedPrecondition) << bymrn.status().ToString();
  EXPECT_TRUE(Contains(bymrn.status().message(), "'mrn'"));
  EXPECT_EQ(LastAudit().outcome, "error");
  EXPECT_EQ(Version(table_), 1);
  // carol is exempt from both masks (and sees site A).
  auto carol = g_->DeleteWhere(As("carol"), table_, "name = 'Name3' OR mrn = 'MRN-1006' OR mrn = 'MRN-1001'");
  ASSERT_TRUE(carol.ok()) << carol.status().ToString();
  EXPECT_EQ(carol->rows_removed, 2);  // P003 and P006 (site A); P001 is site B
  EXPECT_EQ(Keys(table_), PidsExcept([](int i) { return i == 3 || i == 6; }));

  EXPECT_EQ(g_->DeleteWhere(alice, table_, "  ").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(g_->DeleteWhere(alice, table_, "nosuch = 1").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(GovernedWrite, DeleteKeysIgnoresKeysTheCallerCannotSee) {
  const Caller alice = As("alice");
  // P000 is site A (visible), P001 site B (hidden), P999 unknown.
  auto d = g_->DeleteKeys(alice, table_, {Value::Str("P000"), Value::Str("P001"), Value::Str("P999")});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->rows_removed, 1);
  EXPECT_EQ(Keys(table_), PidsExcept([](int i) { return i == 0; }));
  auto params = nlohmann::json::parse(LastAudit().parameters_json);
  EXPECT_EQ(params.value("keys", -1), 3);
  EXPECT_EQ(params.value("keys_visible", -1), 1);
  // Only hidden keys: nothing happens, as for unknown keys.
  auto hidden = g_->DeleteKeys(alice, table_, {Value::Str("P001"), Value::Str("P002")});
  ASSERT_TRUE(hidden.ok()) << hidden.status().ToString();
  EXPECT_EQ(hidden->version, -1);
  EXPECT_EQ(hidden->rows_removed, 0);
  // A caller without a row filter deletes by key.
  auto no_modify = g_->DeleteKeys(As("reader"), table_, {Value::Str("P001")});
  EXPECT_EQ(no_modify.status().code(), StatusCode::kPermissionDenied);
  Grant(Securable::Table(table_), "reader", {Privilege::kModify});
  auto r = g_->DeleteKeys(As("reader"), table_, {Value::Str("P001")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows_removed, 1);
}

TEST_F(GovernedWrite, UpsertMayNotReplaceRowsTheCallerCannotSee) {
  const Caller alice = As("alice");
  // P001 (site B) is hidden from alice: refused, nothing written.
  const int64_t before = AuditCount();
  auto u = g_->Upsert(alice, table_, {Patient(0, "A"), Patient(1, "A"), Patient(500, "A")});
  ExpectDenied(u.status(), before, "alice", "table.upsert", table_.ToString(), "'P001'");
  EXPECT_FALSE(Contains(u.status().message(), "'P000'"));
  EXPECT_EQ(Version(table_), 1);
  EXPECT_EQ(Keys(table_), AllPids());

  // Visible and new keys are fine; a new row outside her view too (not
  // restricted, as Append).
  Row changed = Patient(0, "A");
  changed[2] = Value::Int(99);
  auto ok = g_->Upsert(alice, table_, {changed, Patient(500, "A"), Patient(501, "B")});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->rows_updated, 1);
  EXPECT_EQ(ok->rows_added, 2);
  EXPECT_EQ(LastAudit().row_count, 3);
  auto appended = g_->Append(alice, table_, {Patient(502, "C")});
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  // What she can read back is still only site A.
  auto r = g_->ReadTable(alice, table_, {.columns = {"patient_id"}});
  ASSERT_TRUE(r.ok());
  for (const Row& row : r->rows) EXPECT_NE(row[0].as_string(), "P501");
}

// --- Drop ----------------------------------------------------------------------------

TEST_F(GovernedWrite, DropTableClearsGrantsSoARecreatedTableInheritsNone) {
  ASSERT_TRUE(g_->ReadTable(As("reader"), table_, {}).ok());
  ASSERT_TRUE(g_->DropTable(admin_, table_).ok());
  EXPECT_EQ(g_->store().DescribeTable(table_).status().code(), StatusCode::kNotFound);
  auto grants = g_->privileges().ListGrants(Securable::Table(table_));
  ASSERT_TRUE(grants.ok());
  EXPECT_TRUE(grants->empty());
  EXPECT_EQ(g_->privileges().Owner(Securable::Table(table_)).status().code(), StatusCode::kNotFound);
  // The row filter and masks stay with the name (fail safe; documented).
  auto rf = g_->policies().RowFilterOf(table_);
  ASSERT_TRUE(rf.ok());
  EXPECT_TRUE(rf->has_value());

  // Re-created under the same name by another user: the old readers and
  // writers have nothing on it.
  auto made = g_->CreateTable(As("creator"), table_, PatientSchema());
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(g_->privileges().Owner(Securable::Table(table_)).value(), "creator");
  auto r = g_->ReadTable(As("reader"), table_, {});
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(r.status().message(), "reader lacks SELECT")) << r.status().ToString();
  EXPECT_EQ(g_->Append(As("writer"), table_, {Patient(1)}).status().code(), StatusCode::kPermissionDenied);

  // A table dropped behind governance's back leaves its grants; CreateTable
  // removes them before the new owner is recorded.
  Grant(Securable::Table(table_), "reader", {Privilege::kSelect});
  ASSERT_TRUE(g_->store().DropTable(table_).ok());
  ASSERT_TRUE(g_->CreateTable(As("creator"), table_, PatientSchema()).ok());
  EXPECT_EQ(g_->ReadTable(As("reader"), table_, {}).status().code(), StatusCode::kPermissionDenied);
}

// --- Indexes --------------------------------------------------------------------------

TEST_F(GovernedWrite, AuthorizeCreateIndexNeedsCreateIndexOnTheSchemaAndSelectOnTheTable) {
  const TableName idx = TableName::Parse("main.clinical.patients_idx").value();
  const Caller indexer = As("indexer");
  int64_t before = AuditCount();
  ExpectDenied(g_->AuthorizeCreateIndex(indexer, table_, idx), before, "indexer", "index.create",
               idx.ToString(), "indexer lacks SELECT on table main.clinical.patients");
  Grant(Securable::Table(table_), "indexer", {Privilege::kSelect});
  before = AuditCount();
  ExpectDenied(g_->AuthorizeCreateIndex(indexer, table_, idx), before, "indexer", "index.create",
               idx.ToString(), "indexer lacks CREATE INDEX on schema main.clinical");
  EXPECT_EQ(g_->privileges().Owner(Securable::Index(idx)).status().code(), StatusCode::kNotFound);

  Grant(Sch("main.clinical"), "indexer", {Privilege::kCreateIndex});
  Status st = g_->AuthorizeCreateIndex(indexer, table_, idx);
  ASSERT_TRUE(st.ok()) << st.ToString();
  AuditRecord a = LastAudit();
  EXPECT_EQ(a.action, "index.create");
  EXPECT_EQ(a.outcome, "allowed");
  EXPECT_EQ(a.securable, idx.ToString());
  EXPECT_EQ(nlohmann::json::parse(a.parameters_json).value("source_version", -1), 1);
  EXPECT_EQ(g_->privileges().Owner(Securable::Index(idx)).value(), "indexer");

  // The caller builds the index; as its owner it may query it (through the
  // source table's row filter: indexer sees every site).
  ingest::IndexSource source{table_, "embedding", {"site", "age"}};
  auto spec = ingest::SpecForSource(g_->store(), source, index::IndexKind::kFlat, index::Metric::kL2);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto index = index::VectorIndex::Create(*spec);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  ASSERT_TRUE(ingest::BuildFromTable(g_->store(), source, **index).ok());
  auto q = g_->QueryIndex(indexer, {idx, table_, index->get()},
                          {.vector = std::vector<float>(kDim, 0.0f), .k = 3});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->rows.size(), 3u);

  // Nobody takes over an existing index by "creating" it again.
  Grant(Sch("main.clinical"), "carol", {Privilege::kCreateIndex});
  EXPECT_EQ(g_->AuthorizeCreateIndex(As("carol"), table_, idx).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(LastAudit().outcome, "error");
  EXPECT_EQ(g_->privileges().Owner(Securable::Index(idx)).value(), "indexer");

  // Dropping needs MANAGE; then the name is free and its grants are gone.
  before = AuditCount();
  ExpectDenied(g_->AuthorizeDropIndex(As("carol"), idx), before, "carol", "index.drop", idx.ToString(),
               "carol lacks MANAGE on index main.clinical.patients_idx");
  ASSERT_TRUE(g_->privileges().Grant(Securable::Index(idx), "reader", {Privilege::kSelect}, "indexer").ok());
  ASSERT_TRUE(g_->AuthorizeDropIndex(indexer, idx).ok());
  EXPECT_EQ(LastAudit().action, "index.drop");
  EXPECT_EQ(LastAudit().outcome, "allowed");
  EXPECT_EQ(g_->privileges().Owner(Securable::Index(idx)).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(g_->privileges().ListGrants(Securable::Index(idx)).value().empty());
  Status again = g_->AuthorizeCreateIndex(As("carol"), table_, idx);
  ASSERT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(g_->privileges().Owner(Securable::Index(idx)).value(), "carol");

  EXPECT_EQ(g_->AuthorizeCreateIndex(admin_, TableName::Parse("main.clinical.nope").value(), idx).code(),
            StatusCode::kNotFound);
}

// --- Audit ----------------------------------------------------------------------------

TEST_F(GovernedWrite, EveryCallAppendsOneRecordAndTheChainVerifies) {
  const Caller carol = As("carol");
  const Caller writer = As("writer");
  const std::vector<std::function<void()>> calls = {
      [&] { (void)g_->Append(writer, table_, {Patient(600)}); },
      [&] { (void)g_->Append(writer, table_, {Patient(600)}); },  // AlreadyExists
      [&] { (void)g_->Upsert(writer, table_, {Patient(601)}); },
      [&] { (void)g_->DeleteKeys(carol, table_, {Value::Str("P600")}); },
      [&] { (void)g_->DeleteWhere(carol, table_, "age > 1000"); },
      [&] { (void)g_->DeleteWhere(writer, table_, "age > 1000"); },  // no SELECT
      [&] { (void)g_->CreateTable(carol, TableName::Parse("main.clinical.x").value(), PatientSchema()); },
      [&] { (void)g_->DropTable(carol, table_); },
      [&] { (void)g_->AuthorizeCreateIndex(carol, table_, TableName::Parse("main.clinical.i").value()); },
      [&] { (void)g_->AuthorizeDropIndex(carol, TableName::Parse("main.clinical.i").value()); },
      [&] { (void)g_->CreateCatalog(carol, "c2"); },
      [&] { (void)g_->CreateSchema(carol, "main", "s2"); },
  };
  for (size_t i = 0; i < calls.size(); ++i) {
    SCOPED_TRACE(i);
    const int64_t before = AuditCount();
    calls[i]();
    EXPECT_EQ(AuditCount(), before + 1);
  }
  auto writes = g_->audit().Query({.action_prefix = "table.", .limit = 100});
  ASSERT_TRUE(writes.ok());
  std::set<std::string> outcomes;
  for (const AuditRecord& r : *writes) outcomes.insert(r.outcome);
  EXPECT_EQ(outcomes, (std::set<std::string>{"allowed", "denied", "error"}));
  int64_t checked = 0;
  Status st = g_->audit().Verify(&checked);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(checked, AuditCount());
}

TEST_F(GovernedWrite, AWriteWhoseAuditRecordCannotBeWrittenSaysWhatWasCommitted) {
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
  // The commit cannot be undone: Internal, naming the version committed.
  auto w = g_->Append(As("writer"), table_, {Patient(700)});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kInternal);
  EXPECT_TRUE(Contains(
      w.status().message(),
      "version 2 of main.clinical.patients was committed, but its audit record could not be written"))
      << w.status().message();
  EXPECT_EQ(Version(table_), 2);
  auto history = g_->store().History(table_, 1);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->front().principal, "writer");  // still attributable
  // A refusal keeps its code and says that it went unaudited.
  auto denied = g_->Append(As("nocat"), table_, {Patient(701)});
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(denied.status().message(), "could not be written"));
  EXPECT_EQ(Version(table_), 2);
  EXPECT_EQ(AuditCount(), before);
}

}  // namespace
}  // namespace vesta::access
