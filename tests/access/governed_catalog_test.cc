// Catalog listings and restore (access/governed.h, "Catalog listings and
// restore"): ListCatalogs / ListSchemas / ListTables return only what the
// caller may use or read, RestoreTable's privileges and row-filter rule,
// WriteDecodedRows' privilege-first decoding; one audit record per call.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/governed.h"
#include "tests/access/access_test_util.h"
#include "tests/testing/temp_dir.h"

namespace vesta::access {
namespace {

using governance::AuditRecord;
using governance::Privilege;
using governance::Securable;
using governance::TableName;
using testing::Cat;
using testing::Contains;
using testing::Pid;
using testing::Sch;
using ::vesta::testing::TempDir;

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

// Catalogs main (schemas clinical, imaging, secret) and research (schema
// lab). Tables main.clinical.patients (v1: 6 rows, v2: P000 deleted),
// main.clinical.visits, main.imaging.scans, research.lab.samples.
// Users: admin (metastore admin); reader (USE CATALOG main, USE SCHEMA
// main.clinical, SELECT on patients only); writer (USE CATALOG main, USE
// SCHEMA main.clinical, SELECT + MODIFY on patients); modonly (MODIFY only on
// patients, with USE CATALOG / USE SCHEMA); nobody (no grants); site_a_user
// (as writer, but restricted by the row filter "site = 'A' OR
// current_user() <> 'site_a_user'").
class GovernedCatalogTest : public ::testing::Test {
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
    ASSERT_TRUE(store.CreateCatalog("research", "admin").ok());
    for (const char* s : {"clinical", "imaging", "secret"})
      ASSERT_TRUE(store.CreateSchema("main", s, "admin").ok());
    ASSERT_TRUE(store.CreateSchema("research", "lab", "admin").ok());
    for (const char* t :
         {"main.clinical.patients", "main.clinical.visits", "main.imaging.scans", "research.lab.samples"}) {
      ASSERT_TRUE(store.CreateTable(TableName::Parse(t).value(), PatientSchema(), {}, "admin").ok()) << t;
    }
    {
      std::vector<Row> rows;
      for (int i = 0; i < 6; ++i) rows.push_back(Patient(i));
      auto t = store.Begin("admin");
      ASSERT_TRUE(t->Append(table_, rows).ok());
      ASSERT_TRUE(t->Commit().ok());
      auto d = store.Begin("admin");
      ASSERT_TRUE(d->DeleteKeys(table_, {Value::Str("P000")}).ok());
      ASSERT_TRUE(d->Commit().ok());
    }
    governance::Principals& p = g_->principals();
    ASSERT_TRUE(p.Bootstrap("admin").ok());
    for (const char* u : {"reader", "writer", "modonly", "nobody", "site_a_user"}) {
      ASSERT_TRUE(p.CreateUser(u, "admin").ok()) << u;
    }
    ASSERT_TRUE(g_->privileges().SetOwner(Cat("main"), "admin", "admin").ok());
    for (const char* u : {"reader", "writer", "modonly", "site_a_user"}) {
      Grant(Cat("main"), u, {Privilege::kUseCatalog});
      Grant(Sch("main.clinical"), u, {Privilege::kUseSchema});
    }
    Grant(Securable::Table(table_), "reader", {Privilege::kSelect});
    Grant(Securable::Table(table_), "writer", {Privilege::kSelect, Privilege::kModify});
    Grant(Securable::Table(table_), "site_a_user", {Privilege::kSelect, Privilege::kModify});
    Grant(Securable::Table(table_), "modonly", {Privilege::kModify});
    ASSERT_TRUE(
        g_->policies().SetRowFilter(table_, "site = 'A' OR current_user() <> 'site_a_user'", "admin").ok());
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
  int64_t Head() {
    auto h = g_->audit().GetHead();
    EXPECT_TRUE(h.ok());
    return h.ok() ? h->seq : -1;
  }
  int64_t CurrentVersion() {
    auto info = g_->store().DescribeTable(table_);
    EXPECT_TRUE(info.ok());
    return info.ok() ? info->current_version : -1;
  }
  // Exactly one record since `before`, with this principal, action and outcome.
  AuditRecord ExpectOneRecord(int64_t before, const std::string& user, const std::string& action,
                              const std::string& outcome) {
    auto recs = g_->audit().Query({.from_seq = before + 1, .newest_first = false});
    EXPECT_TRUE(recs.ok());
    if (!recs.ok()) return {};
    EXPECT_EQ(recs->size(), 1u) << action;
    if (recs->empty()) return {};
    const AuditRecord& r = recs->front();
    EXPECT_EQ(r.principal, user);
    EXPECT_EQ(r.action, action);
    EXPECT_EQ(r.outcome, outcome) << r.message;
    EXPECT_TRUE(r.keys.empty());
    return r;
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Governed> g_;
  TableName table_ = TableName::Parse("main.clinical.patients").value();
};

std::vector<std::string> TableNames(const std::vector<governance::TableInfo>& tables) {
  std::vector<std::string> out;
  for (const auto& t : tables) out.push_back(t.name.ToString());
  return out;
}

// --- ListCatalogs --------------------------------------------------------------

TEST_F(GovernedCatalogTest, ListCatalogsShowsOnlyCatalogsTheCallerMayUse) {
  int64_t before = Head();
  auto all = g_->ListCatalogs(As("admin"));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "main");
  EXPECT_EQ((*all)[0].owner, "admin");
  EXPECT_EQ((*all)[1].name, "research");
  EXPECT_EQ((*all)[1].owner, "");  // created through the store: no governance owner
  AuditRecord rec = ExpectOneRecord(before, "admin", "catalog.list", "allowed");
  EXPECT_EQ(rec.row_count, 2);

  before = Head();
  auto reader = g_->ListCatalogs(As("reader"));
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ(reader->size(), 1u);
  EXPECT_EQ((*reader)[0].name, "main");
  EXPECT_EQ(ExpectOneRecord(before, "reader", "catalog.list", "allowed").row_count, 1);

  before = Head();
  auto nobody = g_->ListCatalogs(As("nobody"));
  ASSERT_TRUE(nobody.ok());
  EXPECT_TRUE(nobody->empty());
  ExpectOneRecord(before, "nobody", "catalog.list", "allowed");
}

// --- ListSchemas ---------------------------------------------------------------

TEST_F(GovernedCatalogTest, ListSchemasShowsOnlySchemasTheCallerMayUse) {
  int64_t before = Head();
  auto all = g_->ListSchemas(As("admin"), "main");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, "clinical");
  EXPECT_EQ((*all)[0].catalog, "main");
  EXPECT_EQ(ExpectOneRecord(before, "admin", "schema.list", "allowed").row_count, 3);

  before = Head();
  auto reader = g_->ListSchemas(As("reader"), "main");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_EQ(reader->size(), 1u);
  EXPECT_EQ((*reader)[0].name, "clinical");
  ExpectOneRecord(before, "reader", "schema.list", "allowed");
}

TEST_F(GovernedCatalogTest, ListSchemasNeedsUseCatalogBeforeExistence) {
  int64_t before = Head();
  auto denied = g_->ListSchemas(As("reader"), "research");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(denied.status().message(), "USE CATALOG")) << denied.status().message();
  AuditRecord rec = ExpectOneRecord(before, "reader", "schema.list", "denied");
  EXPECT_EQ(rec.securable, "research");

  // A missing catalog looks the same as a forbidden one to a non-admin.
  auto missing = g_->ListSchemas(As("reader"), "nosuch");
  EXPECT_EQ(missing.status().code(), StatusCode::kPermissionDenied);
  // The admin learns it is missing.
  before = Head();
  auto admin_missing = g_->ListSchemas(As("admin"), "nosuch");
  EXPECT_EQ(admin_missing.status().code(), StatusCode::kNotFound);
  ExpectOneRecord(before, "admin", "schema.list", "error");

  before = Head();
  auto bad = g_->ListSchemas(As("admin"), "main; DROP TABLE x");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  ExpectOneRecord(before, "admin", "schema.list", "error");
}

// --- ListTables ----------------------------------------------------------------

TEST_F(GovernedCatalogTest, ListTablesShowsOnlyReadableTables) {
  int64_t before = Head();
  auto all = g_->ListTables(As("admin"), "main");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(TableNames(*all), (std::vector<std::string>{"main.clinical.patients", "main.clinical.visits",
                                                        "main.imaging.scans"}));
  AuditRecord rec = ExpectOneRecord(before, "admin", "table.list", "allowed");
  EXPECT_EQ(rec.row_count, 3);
  EXPECT_EQ(rec.securable, "main");

  before = Head();
  auto reader = g_->ListTables(As("reader"), "main", "clinical");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(TableNames(*reader), std::vector<std::string>{"main.clinical.patients"});
  ASSERT_EQ(reader->size(), 1u);
  EXPECT_EQ((*reader)[0].row_count, -1);  // not counted: the row filter would apply
  EXPECT_EQ((*reader)[0].current_version, 2);
  EXPECT_EQ((*reader)[0].schema.primary_key, "patient_id");
  rec = ExpectOneRecord(before, "reader", "table.list", "allowed");
  EXPECT_EQ(rec.securable, "main.clinical");
  auto params = nlohmann::json::parse(rec.parameters_json);
  EXPECT_EQ(params["candidates"], 2);
  EXPECT_EQ(params["visible"], 1);

  // modonly may not SELECT: nothing listed.
  auto modonly = g_->ListTables(As("modonly"), "main", "clinical");
  ASSERT_TRUE(modonly.ok());
  EXPECT_TRUE(modonly->empty());
}

TEST_F(GovernedCatalogTest, ListTablesChecksPrivilegesFirst) {
  int64_t before = Head();
  auto no_schema = g_->ListTables(As("reader"), "main", "imaging");
  EXPECT_EQ(no_schema.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(no_schema.status().message(), "USE SCHEMA")) << no_schema.status().message();
  ExpectOneRecord(before, "reader", "table.list", "denied");

  auto no_catalog = g_->ListTables(As("nobody"), "main");
  EXPECT_EQ(no_catalog.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(no_catalog.status().message(), "USE CATALOG"));

  before = Head();
  auto missing = g_->ListTables(As("admin"), "main", "nosuch");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ExpectOneRecord(before, "admin", "table.list", "error");
}

// --- RestoreTable --------------------------------------------------------------

TEST_F(GovernedCatalogTest, RestoreBringsBackAnOldVersion) {
  const int64_t before = Head();
  auto r = g_->RestoreTable(As("writer"), table_, 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 3);
  EXPECT_EQ(r->read_version, 2);
  EXPECT_EQ(r->rows_added, 1);  // P000 is back
  AuditRecord rec = ExpectOneRecord(before, "writer", "table.restore", "allowed");
  EXPECT_EQ(rec.row_count, r->rows_written());
  auto params = nlohmann::json::parse(rec.parameters_json);
  EXPECT_EQ(params["restore_version"], 1);
  EXPECT_EQ(params["version"], 3);

  auto rows = g_->store().Read(table_, {});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->rows.size(), 6u);
  auto history = g_->store().History(table_, 1);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].operation, "RESTORE");
  EXPECT_EQ((*history)[0].principal, "writer");
}

TEST_F(GovernedCatalogTest, RestoreNeedsModifyAndSelect) {
  int64_t before = Head();
  auto reader = g_->RestoreTable(As("reader"), table_, 1);
  EXPECT_EQ(reader.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(reader.status().message(), "MODIFY")) << reader.status().message();
  ExpectOneRecord(before, "reader", "table.restore", "denied");

  before = Head();
  auto modonly = g_->RestoreTable(As("modonly"), table_, 1);
  EXPECT_EQ(modonly.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(modonly.status().message(), "SELECT")) << modonly.status().message();
  ExpectOneRecord(before, "modonly", "table.restore", "denied");

  // Privileges before existence.
  auto missing = g_->RestoreTable(As("nobody"), TableName::Parse("main.clinical.nosuch").value(), 0);
  EXPECT_EQ(missing.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CurrentVersion(), 2);
}

TEST_F(GovernedCatalogTest, RestoreIsRefusedToACallerRestrictedByARowFilter) {
  const int64_t before = Head();
  auto r = g_->RestoreTable(As("site_a_user"), table_, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(r.status().message(), "row filter")) << r.status().message();
  AuditRecord rec = ExpectOneRecord(before, "site_a_user", "table.restore", "denied");
  auto params = nlohmann::json::parse(rec.parameters_json);
  EXPECT_EQ(params["policies"], nlohmann::json::array({"row_filter:main.clinical.patients"}));
  EXPECT_EQ(CurrentVersion(), 2);  // nothing committed

  // The same filter folds to TRUE for writer: allowed.
  auto w = g_->RestoreTable(As("writer"), table_, 1);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
}

TEST_F(GovernedCatalogTest, RestoreOfABadVersionFails) {
  int64_t before = Head();
  auto beyond = g_->RestoreTable(As("writer"), table_, 9);
  EXPECT_EQ(beyond.status().code(), StatusCode::kNotFound);
  ExpectOneRecord(before, "writer", "table.restore", "error");
  before = Head();
  auto negative = g_->RestoreTable(As("writer"), table_, -1);
  EXPECT_EQ(negative.status().code(), StatusCode::kInvalidArgument);
  ExpectOneRecord(before, "writer", "table.restore", "error");
  EXPECT_EQ(CurrentVersion(), 2);
}

// --- WriteDecodedRows -----------------------------------------------------------

TEST_F(GovernedCatalogTest, WriteDecodedRowsChecksModifyBeforeDecoding) {
  bool called = false;
  Governed::RowDecoder decode = [&](const Schema&) -> Result<std::vector<Row>> {
    called = true;
    return std::vector<Row>{Patient(10)};
  };
  const int64_t before = Head();
  auto r = g_->WriteDecodedRows(As("reader"), table_, false, decode);
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(r.status().message(), "MODIFY"));
  EXPECT_FALSE(called);  // the schema is not shown to a caller without MODIFY
  ExpectOneRecord(before, "reader", "table.append", "denied");
  EXPECT_EQ(CurrentVersion(), 2);
}

TEST_F(GovernedCatalogTest, WriteDecodedRowsAuditsADecodeErrorOnceAndCommitsNothing) {
  Governed::RowDecoder bad = [](const Schema& schema) -> Result<std::vector<Row>> {
    EXPECT_EQ(schema.primary_key, "patient_id");
    return Status::InvalidArgument("rows[1]: unknown column 'x'");
  };
  const int64_t before = Head();
  auto r = g_->WriteDecodedRows(As("writer"), table_, true, bad);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "rows[1]: unknown column 'x'");
  AuditRecord rec = ExpectOneRecord(before, "writer", "table.upsert", "error");
  EXPECT_EQ(nlohmann::json::parse(rec.parameters_json)["stage"], "decode");
  EXPECT_EQ(CurrentVersion(), 2);
}

TEST_F(GovernedCatalogTest, WriteDecodedRowsCommitsOnceAudited) {
  Governed::RowDecoder good = [](const Schema&) -> Result<std::vector<Row>> {
    return std::vector<Row>{Patient(10), Patient(11)};
  };
  const int64_t before = Head();
  auto r = g_->WriteDecodedRows(As("writer"), table_, false, good);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 3);
  EXPECT_EQ(r->read_version, 2);
  EXPECT_EQ(r->rows_added, 2);
  ExpectOneRecord(before, "writer", "table.append", "allowed");

  // A read version beyond the current one: NotFound, audited once.
  WriteOptions o;
  o.read_version = 42;
  const int64_t before2 = Head();
  auto beyond = g_->WriteDecodedRows(As("writer"), table_, false, good, o);
  EXPECT_EQ(beyond.status().code(), StatusCode::kNotFound);
  ExpectOneRecord(before2, "writer", "table.append", "error");
}

}  // namespace
}  // namespace vesta::access
