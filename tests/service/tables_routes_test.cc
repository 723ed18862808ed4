// The table routes (service/routes_tables.cc) over real HTTP on 127.0.0.1:
// Unity Catalog catalogs / schemas / tables, and Vesta's rows, delete,
// history, read (time travel, paging), changes and restore. Every route:
// the happy path, 401, 403 naming the privilege, 404, and bad input that is
// answered 4xx naming the field, changes nothing and is audited once.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "tests/service/http_fixture.h"

namespace vesta::service::testing {
namespace {

using governance::Privilege;
using governance::Securable;
using governance::SecurableType;
using governance::TableName;

constexpr char kUc[] = "/api/2.1/unity-catalog";
constexpr char kTable[] = "main.clinical.patients";

std::string Pid(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "P%03d", i);
  return buf;
}

json ValueToJsonForTest(const Value& v) {
  if (v.is_string()) return v.as_string();
  if (v.is_int()) return v.as_int();
  return nullptr;
}

std::string Site(int i) {
  return std::string(1, static_cast<char>('A' + i % 3));
}

json PatientJson(int i) {
  return {
      {"patient_id", Pid(i)}, {"site", Site(i)}, {"age", 20 + i}, {"embedding", {1.0 * i, 0.0, 0.0, 0.5}}};
}

std::string UrlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// main.clinical.patients (patient_id STRING key, site STRING, age BIGINT,
// embedding VECTOR(4)); version 1: P000..P005. Users with tokens: bob (USE
// CATALOG main + USE SCHEMA main.clinical only), reader (+ SELECT on the
// table), writer (+ SELECT and MODIFY on the table).
class TablesRoutes : public HttpFixture {
 protected:
  void SetUp() override {
    HttpFixture::SetUp();
    governance::Store& store = g_->store();
    ASSERT_TRUE(store.CreateCatalog("main", "admin").ok());
    ASSERT_TRUE(store.CreateSchema("main", "clinical", "admin").ok());
    Schema schema;
    schema.columns = {{"patient_id", DataType::String(), false, ""},
                      {"site", DataType::String(), true, ""},
                      {"age", DataType::Bigint(), true, ""},
                      {"embedding", DataType::Vector(4), true, ""}};
    schema.primary_key = "patient_id";
    ASSERT_TRUE(store.CreateTable(table_, schema, {}, "admin").ok());
    {
      std::vector<Row> rows;
      for (int i = 0; i < 6; ++i) rows.push_back(PatientRow(i));
      auto t = store.Begin("admin");
      ASSERT_TRUE(t->Append(table_, rows).ok());
      ASSERT_TRUE(t->Commit().ok());
    }
    bob_ = NewUser("bob");
    reader_ = NewUser("reader");
    writer_ = NewUser("writer");
    for (const char* u : {"bob", "reader", "writer"}) {
      Grant(Securable::Parse(SecurableType::kCatalog, "main").value(), u, {Privilege::kUseCatalog});
      Grant(Securable::Parse(SecurableType::kSchema, "main.clinical").value(), u, {Privilege::kUseSchema});
    }
    Grant(Securable::Table(table_), "reader", {Privilege::kSelect});
    Grant(Securable::Table(table_), "writer", {Privilege::kSelect, Privilege::kModify});
    StartServer();
  }

  static Row PatientRow(int i) {
    return {Value::Str(Pid(i)), Value::Str(Site(i)), Value::Int(20 + i),
            Value::Vec({static_cast<float>(i), 0.0f, 0.0f, 0.5f})};
  }
  void Grant(const Securable& s, const std::string& who, std::vector<Privilege> ps) {
    Status st = g_->privileges().Grant(s, who, ps, "admin");
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  static std::string T(const std::string& suffix, const std::string& table = kTable) {
    return "/api/2.0/vesta/tables/" + table + suffix;
  }
  int64_t Version() {
    auto info = g_->store().DescribeTable(table_);
    return info.ok() ? info->current_version : -1;
  }
  void AppendDirect(int from, int to) {
    std::vector<Row> rows;
    for (int i = from; i < to; ++i) rows.push_back(PatientRow(i));
    auto t = g_->store().Begin("admin");
    ASSERT_TRUE(t->Append(table_, rows).ok());
    ASSERT_TRUE(t->Commit().ok());
  }
  // A refused request: the error shape, the table unchanged, one audit record.
  void ExpectRefused(const Reply& r, int status, const std::string& code, const std::string& mentions,
                     int64_t version_before, int64_t audit_before) {
    ExpectError(r, status, code, mentions);
    EXPECT_EQ(Version(), version_before) << r.raw;
    EXPECT_EQ(AuditCount(), audit_before + 1) << r.raw;
  }
  // The primary keys of a read answer (first column must be patient_id).
  static std::vector<std::string> Keys(const Reply& r) {
    std::vector<std::string> out;
    for (const auto& row : r.body["data_array"]) out.push_back(row[0].get<std::string>());
    return out;
  }

  TableName table_ = TableName::Parse(kTable).value();
  std::string bob_, reader_, writer_;
};

// --- Catalogs and schemas --------------------------------------------------------

TEST_F(TablesRoutes, CatalogsCreateAndList) {
  Reply r = Post(std::string(kUc) + "/catalogs", admin_token_, {{"name", "research"}, {"comment", "lab"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["name"], "research");
  EXPECT_EQ(r.body["owner"], "admin");

  r = Get(std::string(kUc) + "/catalogs", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["catalogs"].size(), 2u);
  EXPECT_EQ(r.body["catalogs"][0]["name"], "main");
  EXPECT_EQ(r.body["catalogs"][1]["name"], "research");
  EXPECT_EQ(r.body["catalogs"][1]["owner"], "admin");

  // bob may use main only.
  r = Get(std::string(kUc) + "/catalogs", bob_);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["catalogs"].size(), 1u);
  EXPECT_EQ(r.body["catalogs"][0]["name"], "main");

  ExpectError(Post(std::string(kUc) + "/catalogs", admin_token_, {{"name", "research"}}), 409,
              "ALREADY_EXISTS");
}

TEST_F(TablesRoutes, CatalogsRefuseBadRequests) {
  const std::string path = std::string(kUc) + "/catalogs";
  int64_t a = AuditCount();
  ExpectError(Get(path, ""), 401, "UNAUTHENTICATED");
  EXPECT_EQ(AuditCount(), a + 1);
  a = AuditCount();
  ExpectError(Post(path, bob_, {{"name", "mine"}}), 403, "PERMISSION_DENIED", "metastore admin");
  EXPECT_EQ(AuditCount(), a + 1);
  a = AuditCount();
  ExpectError(Post(path, admin_token_, {{"name", "x; DROP TABLE y"}}), 400, "INVALID_ARGUMENT", "name");
  EXPECT_EQ(AuditCount(), a + 1);
  ExpectError(Post(path, admin_token_, json::object()), 400, "INVALID_ARGUMENT", "name");
  ExpectError(Post(path, admin_token_, {{"name", 7}}), 400, "INVALID_ARGUMENT", "name");
  ExpectError(Send("POST", path, admin_token_, json{{"name", "x"}}, "text/plain"), 415,
              "UNSUPPORTED_MEDIA_TYPE");
  auto catalogs = g_->store().ListCatalogs();
  ASSERT_TRUE(catalogs.ok());
  EXPECT_EQ(catalogs->size(), 1u);
}

TEST_F(TablesRoutes, SchemasCreateAndList) {
  Reply r =
      Post(std::string(kUc) + "/schemas", admin_token_, {{"name", "imaging"}, {"catalog_name", "main"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["full_name"], "main.imaging");
  EXPECT_EQ(r.body["catalog_name"], "main");
  EXPECT_EQ(r.body["owner"], "admin");

  r = Get(std::string(kUc) + "/schemas?catalog_name=main", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["schemas"].size(), 2u);
  EXPECT_EQ(r.body["schemas"][0]["name"], "clinical");
  EXPECT_EQ(r.body["schemas"][1]["full_name"], "main.imaging");

  // bob has USE SCHEMA on main.clinical only.
  r = Get(std::string(kUc) + "/schemas?catalog_name=main", bob_);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["schemas"].size(), 1u);
  EXPECT_EQ(r.body["schemas"][0]["name"], "clinical");
}

TEST_F(TablesRoutes, SchemasRefuseBadRequests) {
  const std::string path = std::string(kUc) + "/schemas";
  const std::string nobody = NewUser("nobody");
  ExpectError(Get(path + "?catalog_name=main", ""), 401, "UNAUTHENTICATED");
  int64_t a = AuditCount();
  ExpectError(Get(path + "?catalog_name=main", nobody), 403, "PERMISSION_DENIED", "USE CATALOG");
  EXPECT_EQ(AuditCount(), a + 1);
  ExpectError(Post(path, bob_, {{"name", "mine"}, {"catalog_name", "main"}}), 403, "PERMISSION_DENIED",
              "MANAGE");
  ExpectError(Get(path + "?catalog_name=nosuch", admin_token_), 404, "NOT_FOUND", "nosuch");
  ExpectError(Post(path, admin_token_, {{"name", "s"}, {"catalog_name", "nosuch"}}), 404, "NOT_FOUND");
  a = AuditCount();
  ExpectError(Get(path, admin_token_), 400, "INVALID_ARGUMENT", "catalog_name");
  EXPECT_EQ(AuditCount(), a + 1);
  ExpectError(Get(path + "?catalog_name=" + UrlEncode("main' OR 1=1 --"), admin_token_), 400,
              "INVALID_ARGUMENT", "catalog_name");
  ExpectError(Post(path, admin_token_, {{"name", "a-b"}, {"catalog_name", "main"}}), 400, "INVALID_ARGUMENT",
              "name");
  auto schemas = g_->store().ListSchemas("main");
  ASSERT_TRUE(schemas.ok());
  EXPECT_EQ(schemas->size(), 1u);
}

// --- Tables ------------------------------------------------------------------------

json NewTableBody() {
  return {{"name", "scans"},
          {"catalog_name", "main"},
          {"schema_name", "clinical"},
          {"columns",
           {{{"name", "scan_id"}, {"type_text", "bigint"}, {"nullable", false}, {"comment", "id"}},
            {{"name", "modality"}, {"type_text", "string"}},
            {{"name", "features"}, {"type_text", "vector(724)"}, {"nullable", true}}}},
          {"primary_key", "scan_id"},
          {"comment", "radiomics"},
          {"properties", {{"source", "pacs"}}}};
}

TEST_F(TablesRoutes, TablesCreateDescribeListDrop) {
  Reply r = Post(std::string(kUc) + "/tables", admin_token_, NewTableBody());
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["full_name"], "main.clinical.scans");
  EXPECT_EQ(r.body["primary_key"], "scan_id");
  EXPECT_EQ(r.body["version"], 0);
  EXPECT_EQ(r.body["comment"], "radiomics");
  EXPECT_EQ(r.body["properties"]["source"], "pacs");
  ASSERT_EQ(r.body["columns"].size(), 3u);
  EXPECT_EQ(r.body["columns"][2]["type_text"], "vector(724)");
  EXPECT_EQ(r.body["columns"][0]["nullable"], false);

  r = Get(std::string(kUc) + "/tables/main.clinical.scans", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["owner"], "admin");
  int64_t a = AuditCount();
  ExpectError(Get(std::string(kUc) + "/tables/main.clinical.scans", reader_), 403, "PERMISSION_DENIED",
              "SELECT");
  EXPECT_EQ(AuditCount(), a + 1);
  ExpectError(Get(std::string(kUc) + "/tables/main.clinical.scans", ""), 401, "UNAUTHENTICATED");

  // reader may read patients only.
  r = Get(std::string(kUc) + "/tables?catalog_name=main&schema_name=clinical", reader_);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["tables"].size(), 1u);
  EXPECT_EQ(r.body["tables"][0]["full_name"], kTable);
  EXPECT_FALSE(r.body["tables"][0].contains("row_count"));
  r = Get(std::string(kUc) + "/tables?catalog_name=main&schema_name=clinical", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["tables"].size(), 2u);
  r = Get(std::string(kUc) + "/tables?catalog_name=main&schema_name=clinical", bob_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(r.body["tables"].empty());

  a = AuditCount();
  ExpectError(Delete(std::string(kUc) + "/tables/main.clinical.scans", writer_), 403, "PERMISSION_DENIED",
              "MANAGE");
  EXPECT_EQ(AuditCount(), a + 1);
  r = Delete(std::string(kUc) + "/tables/main.clinical.scans", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  ExpectError(Get(std::string(kUc) + "/tables/main.clinical.scans", admin_token_), 404, "NOT_FOUND");
  ExpectError(Delete(std::string(kUc) + "/tables/main.clinical.scans", admin_token_), 404, "NOT_FOUND");
  ExpectError(Delete(std::string(kUc) + "/tables/main.clinical.scans", ""), 401, "UNAUTHENTICATED");
}

TEST_F(TablesRoutes, TablesCreateRefusesBadRequests) {
  const std::string path = std::string(kUc) + "/tables";
  auto expect_bad = [&](json body, const std::string& mentions) {
    const int64_t a = AuditCount();
    ExpectError(Post(path, admin_token_, body), 400, "INVALID_ARGUMENT", mentions);
    EXPECT_EQ(AuditCount(), a + 1) << mentions;
  };
  json b = NewTableBody();
  b["columns"][2]["type_text"] = "vector(0)";
  expect_bad(b, "columns[2].type_text");
  b = NewTableBody();
  b["columns"][1]["type_text"] = "varchar(10); DROP TABLE x";
  expect_bad(b, "columns[1].type_text");
  b = NewTableBody();
  b.erase("primary_key");
  expect_bad(b, "primary_key");
  b = NewTableBody();
  b["primary_key"] = "nosuch";
  expect_bad(b, "nosuch");
  b = NewTableBody();
  b["columns"][0]["nullable"] = "no";
  expect_bad(b, "columns[0].nullable");
  b = NewTableBody();
  b["name"] = "scans; DROP TABLE patients";
  expect_bad(b, "name");
  b = NewTableBody();
  b["properties"] = {{"k", 1}};
  expect_bad(b, "properties.k");
  b = NewTableBody();
  b["columns"] = json::array();
  expect_bad(b, "columns");

  ExpectError(Post(path, bob_, NewTableBody()), 403, "PERMISSION_DENIED", "CREATE TABLE");
  json other = NewTableBody();
  other["schema_name"] = "nosuch";
  ExpectError(Post(path, admin_token_, other), 404, "NOT_FOUND");
  ExpectError(Post(path, "", NewTableBody()), 401, "UNAUTHENTICATED");
  ExpectError(SendRaw("POST", path, admin_token_, "{\"name\": ", "application/json"), 400, "INVALID_ARGUMENT",
              "not valid JSON");
  auto tables = g_->store().ListTables("main", "clinical");
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(tables->size(), 1u);

  ExpectError(Get(path, admin_token_), 400, "INVALID_ARGUMENT", "catalog_name");
  ExpectError(Get(path + "?catalog_name=main&schema_name=secret", bob_), 403, "PERMISSION_DENIED",
              "USE SCHEMA");
  ExpectError(Get(path + "?catalog_name=main&schema_name=nosuch", admin_token_), 404, "NOT_FOUND");
}

// --- Rows: append and upsert -------------------------------------------------------

TEST_F(TablesRoutes, RowsAppendAndUpsert) {
  Reply r = Post(T("/rows"), writer_, {{"rows", {PatientJson(10), PatientJson(11)}}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["table"], kTable);
  EXPECT_EQ(r.body["version"], 2);
  EXPECT_EQ(r.body["read_version"], 1);
  EXPECT_EQ(r.body["rows_added"], 2);
  EXPECT_EQ(r.body["rows_updated"], 0);
  EXPECT_EQ(r.body["rows_removed"], 0);

  json changed = PatientJson(10);
  changed["age"] = 99;
  r = Post(T("/rows"), writer_,
           {{"rows", {changed, PatientJson(12)}}, {"mode", "upsert"}, {"read_version", 2}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["version"], 3);
  EXPECT_EQ(r.body["rows_added"], 1);
  EXPECT_EQ(r.body["rows_updated"], 1);

  // Appending an existing key: 409, nothing committed.
  const int64_t a = AuditCount();
  ExpectRefused(Post(T("/rows"), writer_, {{"rows", {PatientJson(1)}}}), 409, "ALREADY_EXISTS", "", 3, a);

  // Columns missing from a row are NULL; keys are case-insensitive.
  r = Post(T("/rows"), writer_, {{"rows", {{{"PATIENT_ID", "P050"}}}}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["rows_added"], 1);
}

TEST_F(TablesRoutes, RowsRefuseBadInputChangingNothing) {
  struct Case {
    json body;
    std::string mentions;
  };
  json wrong_type = PatientJson(20);
  wrong_type["age"] = "forty";
  json unknown = PatientJson(21);
  unknown["weight"] = 80;
  json null_pk = PatientJson(22);
  null_pk["patient_id"] = nullptr;
  json short_vec = PatientJson(23);
  short_vec["embedding"] = {1.0, 2.0, 3.0};
  json str_vec = PatientJson(24);
  str_vec["embedding"] = {1.0, "x", 3.0, 4.0};
  const std::vector<Case> cases = {
      {{{"rows", {PatientJson(30), wrong_type}}}, "rows[1].age"},
      {{{"rows", {unknown}}}, "unknown column 'weight'"},
      {{{"rows", {PatientJson(31), PatientJson(32), null_pk}}}, "rows[2]"},
      {{{"rows", {short_vec}}}, "rows[0].embedding"},
      {{{"rows", {str_vec}}}, "rows[0].embedding[1]"},
      {{{"rows", {PatientJson(33)}}, {"mode", "merge"}}, "mode"},
      {{{"rows", {PatientJson(34)}}, {"read_version", "1"}}, "read_version"},
      {{{"rows", {PatientJson(35)}}, {"read_version", -2}}, "read_version"},
      {{{"rows", "P001"}}, "rows"},
      {{{"rows", {"P001"}}}, "rows[0]"},
      {json::object(), "rows"},
  };
  for (const Case& c : cases) {
    const int64_t a = AuditCount();
    ExpectRefused(Post(T("/rows"), writer_, c.body), 400, "INVALID_ARGUMENT", c.mentions, 1, a);
  }
  // NaN and Infinity are not JSON.
  int64_t a = AuditCount();
  ExpectRefused(
      SendRaw("POST", T("/rows"), writer_,
              R"({"rows": [{"patient_id": "P040", "embedding": [NaN, 0, 0, 0]}]})", "application/json"),
      400, "INVALID_ARGUMENT", "not valid JSON", 1, a);
  a = AuditCount();
  ExpectRefused(SendRaw("POST", T("/rows"), writer_, R"({"rows": [{"patient_id": "P041", "age": Infinity}]})",
                        "application/json"),
                400, "INVALID_ARGUMENT", "not valid JSON", 1, a);
  a = AuditCount();
  ExpectRefused(SendRaw("POST", T("/rows"), writer_, "{\"rows\": [", "application/json"), 400,
                "INVALID_ARGUMENT", "not valid JSON", 1, a);
  a = AuditCount();
  ExpectRefused(SendRaw("POST", T("/rows"), writer_, "[1, 2]", "application/json"), 400, "INVALID_ARGUMENT",
                "JSON object", 1, a);
  a = AuditCount();
  ExpectRefused(Send("POST", T("/rows"), writer_, json{{"rows", {PatientJson(42)}}}, "text/csv"), 415,
                "UNSUPPORTED_MEDIA_TYPE", "", 1, a);
  // Privileges and existence.
  a = AuditCount();
  ExpectRefused(Post(T("/rows"), "", {{"rows", {PatientJson(43)}}}), 401, "UNAUTHENTICATED", "", 1, a);
  a = AuditCount();
  ExpectRefused(Post(T("/rows"), "vst_not_a_token", {{"rows", {PatientJson(43)}}}), 401, "UNAUTHENTICATED",
                "", 1, a);
  a = AuditCount();
  ExpectRefused(Post(T("/rows"), reader_, {{"rows", {PatientJson(44)}}}), 403, "PERMISSION_DENIED", "MODIFY",
                1, a);
  // A caller without MODIFY learns nothing of the schema from a bad row.
  a = AuditCount();
  Reply r = Post(T("/rows"), reader_, {{"rows", {unknown}}});
  ExpectRefused(r, 403, "PERMISSION_DENIED", "MODIFY", 1, a);
  EXPECT_EQ(r.body.value("message", "").find("weight"), std::string::npos);
  a = AuditCount();
  ExpectRefused(Post(T("/rows", "main.clinical.nosuch"), admin_token_, {{"rows", {PatientJson(45)}}}), 404,
                "NOT_FOUND", "nosuch", 1, a);
  a = AuditCount();
  ExpectRefused(Post(T("/rows", "main.clinical.nosuch"), writer_, {{"rows", {PatientJson(45)}}}), 403,
                "PERMISSION_DENIED", "MODIFY", 1, a);

  auto rows = g_->store().Read(table_, {});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->rows.size(), 6u);
}

TEST_F(TablesRoutes, InjectionInNamesIsRefusedAndChangesNothing) {
  for (const std::string& name :
       {std::string("main.clinical.patients; DROP TABLE x"), std::string("main.clinical.p'--"),
        std::string("main.clinical.patients\" OR 1=1"), std::string("main.clinical"), std::string("..")}) {
    for (const std::string& suffix : {std::string("/rows"), std::string("/restore")}) {
      const int64_t a = AuditCount();
      Reply r = Post(T(suffix, UrlEncode(name)), admin_token_, {{"rows", {PatientJson(60)}}, {"version", 0}});
      ExpectRefused(r, 400, "INVALID_ARGUMENT", "full_name", 1, a);
    }
    const int64_t a = AuditCount();
    ExpectRefused(Get(T("/read", UrlEncode(name)), admin_token_), 400, "INVALID_ARGUMENT", "full_name", 1, a);
    ExpectRefused(Delete(std::string(kUc) + "/tables/" + UrlEncode(name), admin_token_), 400,
                  "INVALID_ARGUMENT", "full_name", 1, a + 1);
  }
  auto tables = g_->store().ListTables();
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(tables->size(), 1u);
}

// --- Delete -------------------------------------------------------------------------

TEST_F(TablesRoutes, DeleteByKeysAndByPredicate) {
  Reply r = Post(T("/delete"), writer_, {{"primary_keys", {"P000", "P001", "P999"}}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["version"], 2);
  EXPECT_EQ(r.body["rows_removed"], 2);

  r = Post(T("/delete"), writer_, {{"predicate", "age >= 24 AND site = 'C'"}, {"read_version", 2}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["version"], 3);
  EXPECT_EQ(r.body["rows_removed"], 1);  // P005 (age 25, site C)

  // Mosaic-style DELETE with a body.
  r = Delete(T("/rows"), writer_, json{{"primary_keys", {"P002"}}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["rows_removed"], 1);

  // Nothing matched: no commit.
  r = Post(T("/delete"), writer_, {{"predicate", "age > 1000"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["version"], -1);
  EXPECT_EQ(Version(), 4);
}

TEST_F(TablesRoutes, DeleteRefusesBadRequests) {
  struct Case {
    json body;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {json::object(), "exactly one"},
      {{{"primary_keys", {"P001"}}, {"predicate", "age > 1"}}, "exactly one"},
      {{{"primary_keys", "P001"}}, "primary_keys"},
      {{{"primary_keys", json::array()}}, "primary_keys"},
      {{{"primary_keys", {"P001", 1.5}}}, "primary_keys[1]"},
      {{{"primary_keys", {nullptr}}}, "primary_keys[0]"},
      {{{"predicate", 7}}, "predicate"},
      {{{"predicate", "age > 1; DROP TABLE patients"}}, ""},
      {{{"predicate", "' OR 1=1 --"}}, ""},
      {{{"predicate", "nosuch = 1"}}, "nosuch"},
      {{{"predicate", ""}}, ""},
  };
  for (const Case& c : cases) {
    const int64_t a = AuditCount();
    ExpectRefused(Post(T("/delete"), writer_, c.body), 400, "INVALID_ARGUMENT", c.mentions, 1, a);
  }
  int64_t a = AuditCount();
  ExpectRefused(Post(T("/delete"), "", {{"primary_keys", {"P001"}}}), 401, "UNAUTHENTICATED", "", 1, a);
  a = AuditCount();
  ExpectRefused(Post(T("/delete"), reader_, {{"primary_keys", {"P001"}}}), 403, "PERMISSION_DENIED", "MODIFY",
                1, a);
  // A delete reads the table to choose its rows: SELECT is needed too.
  NewUser("modonly");
  Grant(Securable::Parse(SecurableType::kCatalog, "main").value(), "modonly", {Privilege::kUseCatalog});
  Grant(Securable::Parse(SecurableType::kSchema, "main.clinical").value(), "modonly",
        {Privilege::kUseSchema});
  Grant(Securable::Table(table_), "modonly", {Privilege::kModify});
  auto modonly = g_->principals().IssueToken("modonly", std::nullopt, "test", "admin");
  ASSERT_TRUE(modonly.ok());
  a = AuditCount();
  ExpectRefused(Post(T("/delete"), modonly->token, {{"predicate", "age > 1"}}), 403, "PERMISSION_DENIED",
                "SELECT", 1, a);
  a = AuditCount();
  ExpectRefused(Post(T("/delete", "main.clinical.nosuch"), admin_token_, {{"primary_keys", {"P001"}}}), 404,
                "NOT_FOUND", "", 1, a);
  a = AuditCount();
  ExpectRefused(Send("DELETE", T("/rows"), writer_, json{{"primary_keys", {"P001"}}}, "text/plain"), 415,
                "UNSUPPORTED_MEDIA_TYPE", "", 1, a);
  auto rows = g_->store().Read(table_, {});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->rows.size(), 6u);
}

// --- History ------------------------------------------------------------------------

TEST_F(TablesRoutes, HistoryListsCommitsNewestFirst) {
  ASSERT_EQ(Post(T("/delete"), writer_, {{"primary_keys", {"P000"}}}).status, 200);
  Reply r = Get(T("/history"), admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["history"].size(), 3u);
  const json& last = r.body["history"][0];
  EXPECT_EQ(last["version"], 2);
  EXPECT_EQ(last["operation"], "DELETE");
  EXPECT_EQ(last["principal"], "writer");
  EXPECT_EQ(last["read_version"], 1);
  EXPECT_EQ(last["rows_removed"], 1);
  EXPECT_TRUE(last["parameters"].is_object());
  EXPECT_TRUE(last["timestamp"].is_string());
  EXPECT_EQ(r.body["history"][2]["operation"], "CREATE TABLE");

  r = Get(T("/history?limit=1"), reader_);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["history"].size(), 1u);
  EXPECT_EQ(r.body["history"][0]["parameters"], json::object());  // redacted without MANAGE

  for (const std::string& q : {std::string("?limit=0"), std::string("?limit=10001"),
                               std::string("?limit=ten"), std::string("?limit=1%3B%20DROP")}) {
    const int64_t a = AuditCount();
    ExpectRefused(Get(T("/history" + q), reader_), 400, "INVALID_ARGUMENT", "limit", 2, a);
  }
  ExpectError(Get(T("/history"), ""), 401, "UNAUTHENTICATED");
  const int64_t a = AuditCount();
  ExpectRefused(Get(T("/history"), bob_), 403, "PERMISSION_DENIED", "SELECT", 2, a);
  ExpectError(Get(T("/history", "main.clinical.nosuch"), admin_token_), 404, "NOT_FOUND");
}

// --- Read ---------------------------------------------------------------------------

TEST_F(TablesRoutes, ReadReturnsRowsInKeyOrder) {
  Reply r = Get(T("/read"), reader_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["version"], 1);
  EXPECT_EQ(r.body["row_count"], 6);
  EXPECT_EQ(r.body["next_page_token"], "");
  ASSERT_EQ(r.body["columns"].size(), 4u);
  EXPECT_EQ(r.body["columns"][3]["name"], "embedding");
  EXPECT_EQ(r.body["columns"][3]["type_text"], "vector(4)");
  EXPECT_EQ(Keys(r), (std::vector<std::string>{"P000", "P001", "P002", "P003", "P004", "P005"}));
  EXPECT_EQ(r.body["data_array"][2][2], 22);
  EXPECT_EQ(r.body["data_array"][2][3], json({2.0, 0.0, 0.0, 0.5}));

  // POST with a body: columns and filter.
  r = Post(T("/read"), reader_, {{"columns", {"patient_id", "age"}}, {"filter", "site = 'A' AND age > 20"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["columns"].size(), 2u);
  EXPECT_EQ(Keys(r), std::vector<std::string>{"P003"});
  EXPECT_EQ(r.body["data_array"][0], json({"P003", 23}));

  // URL parameters; GET with a JSON body (as Mosaic's client sends).
  r = Get(T("/read?columns=patient_id,site&filter_string=" + UrlEncode("site = 'B'")), reader_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(Keys(r), (std::vector<std::string>{"P001", "P004"}));
  r = Get(T("/read"), reader_, json{{"filter", "age IN (20, 25)"}, {"limit", 1}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(Keys(r), std::vector<std::string>{"P000"});
  EXPECT_NE(r.body["next_page_token"], "");

  // A full page carries a token even when no row follows; the next page is
  // then empty and ends the walk.
  r = Get(T("/read?limit=3"), reader_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(Keys(r), (std::vector<std::string>{"P000", "P001", "P002"}));
  r = Post(T("/read"), reader_, {{"limit", 3}, {"page_token", r.body["next_page_token"]}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(Keys(r), (std::vector<std::string>{"P003", "P004", "P005"}));
  ASSERT_NE(r.body["next_page_token"], "");
  r = Post(T("/read"), reader_, {{"limit", 3}, {"page_token", r.body["next_page_token"]}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["row_count"], 0);
  EXPECT_EQ(r.body["next_page_token"], "");
}

TEST_F(TablesRoutes, ReadTimeTravelReturnsOldRows) {
  const Timestamp after_v1 = NowTimestamp();
  ASSERT_EQ(Post(T("/rows"), writer_, {{"rows", {PatientJson(10)}}}).status, 200);           // v2
  ASSERT_EQ(Post(T("/delete"), writer_, {{"primary_keys", {"P000", "P001"}}}).status, 200);  // v3
  Reply r = Get(T("/read?version=1"), reader_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["version"], 1);
  EXPECT_EQ(Keys(r), (std::vector<std::string>{"P000", "P001", "P002", "P003", "P004", "P005"}));
  r = Post(T("/read"), reader_, {{"timestamp", FormatTimestamp(after_v1)}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["version"], 1);
  EXPECT_EQ(r.body["row_count"], 6);
  r = Get(T("/read"), reader_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["version"], 3);
  EXPECT_EQ(Keys(r), (std::vector<std::string>{"P002", "P003", "P004", "P005", "P010"}));
  ExpectError(Get(T("/read?version=9"), reader_), 404, "NOT_FOUND");
}

TEST_F(TablesRoutes, ReadPagesReturnEveryRowOnceOnThePinnedVersion) {
  AppendDirect(6, 25);  // v2: P000..P024
  for (const int pass : {0, 1}) {
    // Pass 1 asks for a column list without the key: the token still works.
    const bool drop_key_column = pass == 1;
    std::vector<json> got;  // the key (pass 0) or the age (pass 1) of each row read
    int pages = 0;
    int64_t pinned = -1;
    json request = {{"limit", 10}};
    if (drop_key_column) request["columns"] = {"age"};
    Reply r = Post(T("/read"), reader_, request);
    while (true) {
      ASSERT_EQ(r.status, 200) << r.raw;
      ++pages;
      if (pinned < 0) pinned = r.body["version"];
      EXPECT_EQ(r.body["version"], pinned);
      for (const auto& row : r.body["data_array"]) {
        ASSERT_EQ(row.size(), drop_key_column ? 1u : 4u);
        got.push_back(row[0]);
      }
      const std::string token = r.body["next_page_token"];
      if (token.empty()) break;
      if (pages == 1) {
        // A commit lands between pages: a new key among those still to come,
        // and a delete of a key still to come.
        ASSERT_EQ(Post(T("/rows"), writer_,
                       {{"rows", {{{"patient_id", "P0155" + std::to_string(pass)}, {"age", 500 + pass}}}}})
                      .status,
                  200);
        ASSERT_EQ(Post(T("/delete"), writer_, {{"primary_keys", {Pid(20 + pass)}}}).status, 200);
      }
      request["page_token"] = token;
      r = Post(T("/read"), reader_, request);
      ASSERT_LE(pages, 5);
    }
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(Version(), pinned + 2);
    // Exactly the rows of the pinned version, in key order, each once.
    governance::ReadOptions ro;
    ro.at.version = pinned;
    ro.order_by_primary_key = true;
    auto expected = g_->store().Read(table_, ro);
    ASSERT_TRUE(expected.ok());
    ASSERT_EQ(got.size(), expected->rows.size());
    ASSERT_EQ(got.size(), 25u);
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i], ValueToJsonForTest(expected->rows[i][drop_key_column ? 2 : 0])) << i;
    }
    std::set<std::string> unique;
    for (const json& k : got) unique.insert(k.dump());
    EXPECT_EQ(unique.size(), 25u);
  }
  // The token may be repeated with the same version, not another.
  Reply r = Post(T("/read"), reader_, {{"limit", 10}});
  const std::string token = r.body["next_page_token"];
  ASSERT_FALSE(token.empty());
  const int64_t v = r.body["version"];
  EXPECT_EQ(Post(T("/read"), reader_, {{"page_token", token}, {"version", v}}).status, 200);
  const int64_t a = AuditCount();
  ExpectError(Post(T("/read"), reader_, {{"page_token", token}, {"version", 1}}), 400, "INVALID_ARGUMENT",
              "version");
  ExpectError(Post(T("/read"), reader_, {{"page_token", token}, {"timestamp", "2020-01-01"}}), 400,
              "INVALID_ARGUMENT", "timestamp");
  ExpectError(Post(T("/read"), reader_, {{"page_token", "not a token!"}}), 400, "INVALID_ARGUMENT",
              "page_token");
  ExpectError(Post(T("/read"), reader_, {{"page_token", "eyJ0IjoxfQ"}}), 400, "INVALID_ARGUMENT",
              "page_token");
  EXPECT_EQ(AuditCount(), a + 4);
  // A token of another table is refused.
  ASSERT_EQ(Post(std::string(kUc) + "/tables", admin_token_, NewTableBody()).status, 200);
  ExpectError(Post(T("/read", "main.clinical.scans"), admin_token_, {{"page_token", token}}), 400,
              "INVALID_ARGUMENT", "issued for table main.clinical.patients");
}

TEST_F(TablesRoutes, ReadRefusesBadRequests) {
  struct Case {
    std::string query;
    json body;
    int status;
    std::string code;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {"?limit=0", nullptr, 400, "INVALID_ARGUMENT", "limit"},
      {"?limit=10001", nullptr, 400, "INVALID_ARGUMENT", "limit"},
      {"", {{"limit", -5}}, 400, "INVALID_ARGUMENT", "limit"},
      {"", {{"limit", "10"}}, 400, "INVALID_ARGUMENT", "limit"},
      {"?version=1&timestamp=2020-01-01", nullptr, 400, "INVALID_ARGUMENT", "version, timestamp"},
      {"", {{"version", 1}, {"timestamp", "2020-01-01"}}, 400, "INVALID_ARGUMENT", "version, timestamp"},
      {"?version=-1", nullptr, 400, "INVALID_ARGUMENT", "version"},
      {"?version=1x", nullptr, 400, "INVALID_ARGUMENT", "version"},
      {"?timestamp=yesterday", nullptr, 400, "INVALID_ARGUMENT", "timestamp"},
      {"?limit=5", {{"limit", 5}}, 400, "INVALID_ARGUMENT", "limit"},
      {"", {{"columns", "age"}}, 400, "INVALID_ARGUMENT", "columns"},
      {"?columns=age,,site", nullptr, 400, "INVALID_ARGUMENT", "columns"},
      {"", {{"columns", {"age", "weight"}}}, 404, "NOT_FOUND", "weight"},
      {"", {{"filter", "age > 1; DROP TABLE patients"}}, 400, "INVALID_ARGUMENT", ""},
      {"", {{"filter", "' OR 1=1 --"}}, 400, "INVALID_ARGUMENT", ""},
      {"?filter=" + UrlEncode("site = 'A' OR 1=1; --"), nullptr, 400, "INVALID_ARGUMENT", ""},
      {"", {{"filter", "weight > 1"}}, 400, "INVALID_ARGUMENT", "weight"},
      {"", {{"filter", "age > 'x'"}}, 400, "INVALID_ARGUMENT", ""},
      {"", {{"filter", "a"}, {"filter_string", "b"}}, 400, "INVALID_ARGUMENT", "filter"},
  };
  for (const Case& c : cases) {
    const int64_t a = AuditCount();
    Reply r =
        c.body.is_null() ? Get(T("/read" + c.query), reader_) : Post(T("/read" + c.query), reader_, c.body);
    ExpectRefused(r, c.status, c.code, c.mentions, 1, a);
  }
  int64_t a = AuditCount();
  ExpectRefused(SendRaw("POST", T("/read"), reader_, R"({"limit": NaN})", "application/json"), 400,
                "INVALID_ARGUMENT", "not valid JSON", 1, a);
  a = AuditCount();
  ExpectRefused(Send("POST", T("/read"), reader_, json{{"limit", 5}}, "application/x-www-form-urlencoded"),
                415, "UNSUPPORTED_MEDIA_TYPE", "", 1, a);
  a = AuditCount();
  ExpectRefused(Get(T("/read"), ""), 401, "UNAUTHENTICATED", "", 1, a);
  a = AuditCount();
  ExpectRefused(Get(T("/read"), bob_), 403, "PERMISSION_DENIED", "SELECT", 1, a);
  a = AuditCount();
  ExpectRefused(Get(T("/read", "main.clinical.nosuch"), admin_token_), 404, "NOT_FOUND", "", 1, a);
  a = AuditCount();
  ExpectRefused(Get(T("/read", "main.clinical.nosuch"), bob_), 403, "PERMISSION_DENIED", "SELECT", 1, a);
}

TEST_F(TablesRoutes, ReadAppliesRowFiltersAndMasks) {
  ASSERT_TRUE(g_->policies().SetRowFilter(table_, "site = 'A' OR is_member('admins')", "admin").ok());
  governance::MaskSpec mask;
  mask.kind = governance::MaskSpec::kNull;
  mask.exempt_groups = {"admins"};
  ASSERT_TRUE(g_->policies().SetColumnMask(table_, "age", mask, "admin").ok());

  Reply r = Get(T("/read?columns=patient_id,age"), reader_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(Keys(r), (std::vector<std::string>{"P000", "P003"}));
  for (const auto& row : r.body["data_array"]) EXPECT_TRUE(row[1].is_null()) << row;
  // A filter on the masked column sees the masked (NULL) value.
  r = Post(T("/read"), reader_, {{"filter", "age > 0"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["row_count"], 0);
  // Time travel does not escape today's policies.
  r = Get(T("/read?version=1"), reader_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["row_count"], 2);
  // The admin is exempt.
  r = Get(T("/read"), admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["row_count"], 6);
  EXPECT_EQ(r.body["data_array"][1][2], 21);
  // The change feed is filtered and masked the same way.
  r = Get(T("/changes?start_version=1&end_version=1"), reader_);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["changes"].size(), 2u);
  EXPECT_TRUE(r.body["changes"][0]["age"].is_null());
  // Describe counts only visible rows.
  r = Get(std::string(kUc) + "/tables/" + kTable, reader_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["row_count"], 2);
}

// --- Changes ---------------------------------------------------------------------

TEST_F(TablesRoutes, ChangesUseDeltaColumnNames) {
  json changed = PatientJson(1);
  changed["age"] = 77;
  ASSERT_EQ(Post(T("/rows"), writer_, {{"rows", {changed}}, {"mode", "upsert"}}).status, 200);  // v2
  ASSERT_EQ(Post(T("/delete"), writer_, {{"primary_keys", {"P002"}}}).status, 200);             // v3
  Reply r = Get(T("/changes?start_version=2&end_version=3"), reader_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["start_version"], 2);
  EXPECT_EQ(r.body["end_version"], 3);
  EXPECT_EQ(r.body["columns"].size(), 4u);
  const json& ch = r.body["changes"];
  ASSERT_EQ(ch.size(), 3u) << r.raw;
  EXPECT_EQ(ch[0]["_change_type"], "update_preimage");
  EXPECT_EQ(ch[0]["age"], 21);
  EXPECT_EQ(ch[1]["_change_type"], "update_postimage");
  EXPECT_EQ(ch[1]["age"], 77);
  EXPECT_EQ(ch[1]["_commit_version"], 2);
  EXPECT_TRUE(ch[1]["_commit_timestamp"].is_string());
  EXPECT_EQ(ch[2]["_change_type"], "delete");
  EXPECT_EQ(ch[2]["patient_id"], "P002");
  // Body form.
  r = Get(T("/changes"), reader_, json{{"start_version", 1}, {"end_version", 1}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["changes"].size(), 6u);

  for (const std::string& q :
       {std::string(""), std::string("?start_version=1"), std::string("?end_version=1"),
        std::string("?start_version=3&end_version=2"), std::string("?start_version=-1&end_version=2"),
        std::string("?start_version=a&end_version=2")}) {
    const int64_t a = AuditCount();
    ExpectRefused(Get(T("/changes" + q), reader_), 400, "INVALID_ARGUMENT", "_version", 3, a);
  }
  ExpectError(Get(T("/changes?start_version=1&end_version=9"), reader_), 404, "NOT_FOUND");
  ExpectError(Get(T("/changes?start_version=1&end_version=1"), ""), 401, "UNAUTHENTICATED");
  ExpectError(Get(T("/changes?start_version=1&end_version=1"), bob_), 403, "PERMISSION_DENIED", "SELECT");
  ExpectError(Get(T("/changes?start_version=0&end_version=0", "main.clinical.nosuch"), admin_token_), 404,
              "NOT_FOUND");
}

// --- Restore ------------------------------------------------------------------------

TEST_F(TablesRoutes, RestoreMakesAnOldVersionCurrent) {
  ASSERT_EQ(Post(T("/delete"), writer_, {{"predicate", "age < 23"}}).status, 200);  // v2
  Reply r = Post(T("/restore"), writer_, {{"version", 1}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["version"], 3);
  EXPECT_EQ(r.body["read_version"], 2);
  EXPECT_EQ(r.body["rows_added"], 3);
  r = Get(T("/read"), reader_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["row_count"], 6);
  r = Get(T("/history?limit=1"), admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["history"][0]["operation"], "RESTORE");
}

TEST_F(TablesRoutes, RestoreRefusesBadRequests) {
  struct Case {
    json body;
    std::string mentions;
  };
  for (const Case& c : std::vector<Case>{{json::object(), "version"},
                                         {{{"version", "1"}}, "version"},
                                         {{{"version", -1}}, "version"},
                                         {{{"version", 1.5}}, "version"}}) {
    const int64_t a = AuditCount();
    ExpectRefused(Post(T("/restore"), writer_, c.body), 400, "INVALID_ARGUMENT", c.mentions, 1, a);
  }
  int64_t a = AuditCount();
  ExpectRefused(Post(T("/restore"), writer_, {{"version", 7}}), 404, "NOT_FOUND", "version 7", 1, a);
  a = AuditCount();
  ExpectRefused(Post(T("/restore"), "", {{"version", 0}}), 401, "UNAUTHENTICATED", "", 1, a);
  a = AuditCount();
  ExpectRefused(Post(T("/restore"), reader_, {{"version", 0}}), 403, "PERMISSION_DENIED", "MODIFY", 1, a);
  a = AuditCount();
  ExpectRefused(Post(T("/restore", "main.clinical.nosuch"), admin_token_, {{"version", 0}}), 404, "NOT_FOUND",
                "", 1, a);
  a = AuditCount();
  ExpectRefused(Send("POST", T("/restore"), writer_, json{{"version", 0}}, "text/plain"), 415,
                "UNSUPPORTED_MEDIA_TYPE", "", 1, a);
  // A caller restricted by a row filter may not restore.
  ASSERT_TRUE(g_->policies().SetRowFilter(table_, "site = 'A' OR current_user() <> 'writer'", "admin").ok());
  a = AuditCount();
  ExpectRefused(Post(T("/restore"), writer_, {{"version", 0}}), 403, "PERMISSION_DENIED", "row filter", 1, a);
  EXPECT_EQ(Post(T("/restore"), admin_token_, {{"version", 0}}).status, 200);
  EXPECT_EQ(Version(), 2);
}

}  // namespace
}  // namespace vesta::service::testing
