// The governance routes (service/routes_governance.cc) against the real
// server on 127.0.0.1: principals and groups, tokens, permissions, owners,
// row filters, column masks, tags, tag policies, audit and lineage. Each
// route: the happy path, 401 without a token, 403 naming what is missing,
// 404, and bad input (a 4xx naming the field, nothing changed, audited).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/service/http_fixture.h"

namespace vesta::service::testing {
namespace {

using governance::Privilege;
using governance::Securable;
using governance::SecurableType;
using governance::TableName;

constexpr char kTable[] = "main.clinical.patients";
constexpr char kPerms[] = "/api/2.1/unity-catalog/permissions/table/main.clinical.patients";
constexpr char kEffective[] = "/api/2.1/unity-catalog/effective-permissions/table/main.clinical.patients";
constexpr char kPolicyBase[] = "/api/2.0/vesta/tables/main.clinical.patients";
// "main.x.y; DROP TABLE z" and "bob' OR '1'='1", URL-encoded.
constexpr char kInjectedTable[] = "main.x.y%3B%20DROP%20TABLE%20z";
constexpr char kInjectedUser[] = "bob'%20OR%20'1'%3D'1";

// main.clinical.patients (patient_id, site, age): 6 rows, sites A and B.
// admin (the fixture's metastore admin); bob with a token and USE CATALOG,
// USE SCHEMA, SELECT on the table; eve with a token and nothing.
class GovernanceRoutes : public HttpFixture {
 protected:
  void SetUp() override {
    HttpFixture::SetUp();
    governance::Store& store = g_->store();
    ASSERT_TRUE(store.CreateCatalog("main", "admin").ok());
    ASSERT_TRUE(store.CreateSchema("main", "clinical", "admin").ok());
    Schema schema;
    schema.columns = {{"patient_id", DataType::String(), false, ""},
                      {"site", DataType::String(), true, ""},
                      {"age", DataType::Bigint(), true, ""}};
    schema.primary_key = "patient_id";
    ASSERT_TRUE(store.CreateTable(table_, schema, {}, "admin").ok());
    {
      std::vector<Row> rows;
      for (int i = 0; i < 6; ++i) {
        rows.push_back(
            {Value::Str("P00" + std::to_string(i)), Value::Str(i % 2 ? "B" : "A"), Value::Int(30 + i)});
      }
      auto t = store.Begin("admin");
      ASSERT_TRUE(t->Append(table_, rows).ok());
      ASSERT_TRUE(t->Commit().ok());
    }
    bob_ = NewUser("bob");
    eve_ = NewUser("eve");
    Grant(Securable::Parse(SecurableType::kCatalog, "main").value(), "bob", {Privilege::kUseCatalog});
    Grant(Securable::Parse(SecurableType::kSchema, "main.clinical").value(), "bob", {Privilege::kUseSchema});
    Grant(Securable::Table(table_), "bob", {Privilege::kSelect});
    StartServer();
  }

  void Grant(const Securable& s, const std::string& who, std::vector<Privilege> ps) {
    ASSERT_TRUE(g_->privileges().Grant(s, who, ps, "admin").ok());
  }

  // A refused request: the error shape, and exactly one audit record.
  void ExpectRefused(const Reply& r, int64_t audit_before, int status, const std::string& code,
                     const std::string& mentions = "") {
    ExpectError(r, status, code, mentions);
    EXPECT_EQ(AuditCount(), audit_before + 1) << r.raw;
  }

  // The last audit record.
  governance::AuditRecord LastRecord() {
    auto recs = g_->audit().Query({.limit = 1});
    EXPECT_TRUE(recs.ok() && !recs->empty());
    return recs.ok() && !recs->empty() ? recs->front() : governance::AuditRecord{};
  }

  size_t GrantCount() {
    auto g = g_->privileges().ListGrants(Securable::Table(table_));
    return g.ok() ? g->size() : 0;
  }

  const TableName table_{"main", "clinical", "patients"};
  std::string bob_, eve_;
};

// --- Principals and groups -----------------------------------------------------------

TEST_F(GovernanceRoutes, PrincipalsHappyPath) {
  Reply r = Post("/api/2.0/vesta/principals", admin_token_, {{"name", "carol"}, {"kind", "user"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["name"], "carol");
  EXPECT_EQ(r.body["kind"], "user");
  EXPECT_EQ(r.body["created_by"], "admin");
  EXPECT_EQ(LastRecord().action, "principal.create");
  ASSERT_EQ(Post("/api/2.0/vesta/principals", admin_token_, {{"name", "oncology"}, {"kind", "group"}}).status,
            200);

  r = Post("/api/2.0/vesta/groups/oncology/members", admin_token_, {{"member", "carol"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  r = Get("/api/2.0/vesta/principals/carol", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["groups"], json::array({"oncology"}));
  r = Get("/api/2.0/vesta/principals/oncology", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["members"].size(), 1u);
  EXPECT_EQ(r.body["members"][0]["name"], "carol");
  EXPECT_EQ(r.body["members"][0]["kind"], "user");

  r = Get("/api/2.0/vesta/principals?kind=group", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  std::vector<std::string> names;
  for (const json& p : r.body["principals"]) names.push_back(p["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"admins", "oncology"}));
  r = Get("/api/2.0/vesta/principals", admin_token_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["principals"].size(), 6u);  // admin, admins, bob, carol, eve, oncology

  // A user may describe themselves.
  r = Get("/api/2.0/vesta/principals/bob", bob_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["name"], "bob");

  r = Delete("/api/2.0/vesta/groups/oncology/members/carol", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(LastRecord().action, "group.member.remove");
  r = Delete("/api/2.0/vesta/principals/carol", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(LastRecord().action, "principal.drop");
  EXPECT_EQ(g_->principals().Get("carol").status().code(), StatusCode::kNotFound);
}

TEST_F(GovernanceRoutes, PrincipalsRefused) {
  int64_t before = AuditCount();
  ExpectRefused(Post("/api/2.0/vesta/principals", "", {{"name", "carol"}, {"kind", "user"}}), before, 401,
                "UNAUTHENTICATED");
  before = AuditCount();
  ExpectRefused(Get("/api/2.0/vesta/principals", "vst_0000"), before, 401, "UNAUTHENTICATED");

  before = AuditCount();
  ExpectRefused(Post("/api/2.0/vesta/principals", bob_, {{"name", "carol"}, {"kind", "user"}}), before, 403,
                "PERMISSION_DENIED", "bob lacks metastore admin");
  EXPECT_EQ(LastRecord().action, "principal.create");
  for (const std::string& path :
       {std::string("/api/2.0/vesta/principals"), std::string("/api/2.0/vesta/principals/eve")}) {
    before = AuditCount();
    ExpectRefused(Get(path, bob_), before, 403, "PERMISSION_DENIED", "metastore admin");
  }
  before = AuditCount();
  ExpectRefused(Delete("/api/2.0/vesta/principals/eve", bob_), before, 403, "PERMISSION_DENIED");
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/vesta/groups/admins/members", bob_, {{"member", "bob"}}), before, 403,
                "PERMISSION_DENIED");
  EXPECT_FALSE(g_->principals().IsMetastoreAdmin("bob").value());
  before = AuditCount();
  ExpectRefused(Delete("/api/2.0/vesta/groups/admins/members/admin", bob_), before, 403, "PERMISSION_DENIED");

  // 404.
  before = AuditCount();
  ExpectRefused(Get("/api/2.0/vesta/principals/nobody", admin_token_), before, 404, "NOT_FOUND", "nobody");
  before = AuditCount();
  ExpectRefused(Delete("/api/2.0/vesta/principals/nobody", admin_token_), before, 404, "NOT_FOUND");
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/vesta/groups/nogroup/members", admin_token_, {{"member", "bob"}}), before, 404,
                "NOT_FOUND", "nogroup");
  before = AuditCount();
  ExpectRefused(Delete("/api/2.0/vesta/groups/admins/members/bob", admin_token_), before, 404, "NOT_FOUND");

  // Bad input: named field, nothing created.
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/vesta/principals", admin_token_, {{"kind", "user"}}), before, 400,
                "INVALID_ARGUMENT", "name");
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/vesta/principals", admin_token_, {{"name", "carol"}, {"kind", 7}}), before,
                400, "INVALID_ARGUMENT", "kind");
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/vesta/principals", admin_token_, {{"name", "carol"}, {"kind", "robot"}}),
                before, 400, "INVALID_ARGUMENT", "kind");
  before = AuditCount();
  ExpectRefused(
      Post("/api/2.0/vesta/principals", admin_token_, {{"name", "bob' OR '1'='1"}, {"kind", "user"}}), before,
      400, "INVALID_ARGUMENT", "name");
  before = AuditCount();
  ExpectRefused(Get(std::string("/api/2.0/vesta/principals/") + kInjectedUser, admin_token_), before, 400,
                "INVALID_ARGUMENT", "name");
  before = AuditCount();
  ExpectRefused(Get("/api/2.0/vesta/principals?kind=robots", admin_token_), before, 400, "INVALID_ARGUMENT",
                "kind");
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/vesta/groups/admins/members", admin_token_, {{"member", 3}}), before, 400,
                "INVALID_ARGUMENT", "member");
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/vesta/principals", admin_token_, {{"name", "bob"}, {"kind", "user"}}), before,
                409, "ALREADY_EXISTS");
  before = AuditCount();
  ExpectRefused(Delete("/api/2.0/vesta/principals/admin", admin_token_), before, 400, "FAILED_PRECONDITION",
                "themselves");
  auto all = g_->principals().List();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);  // admin, admins, bob, eve
}

// --- Tokens ------------------------------------------------------------------------------

TEST_F(GovernanceRoutes, TokensHappyPath) {
  Reply r = Post("/api/2.0/token/create", bob_, {{"comment", "notebook"}, {"lifetime_seconds", 3600}});
  ASSERT_EQ(r.status, 200) << r.raw;
  const std::string token = r.body["token_value"];
  const std::string id = r.body["token_info"]["token_id"];
  EXPECT_EQ(token.rfind("vst_", 0), 0u);
  EXPECT_EQ(r.body["token_info"]["comment"], "notebook");
  EXPECT_EQ(r.body["token_info"]["principal"], "bob");
  const int64_t created = r.body["token_info"]["creation_time"];
  const int64_t expiry = r.body["token_info"]["expiry_time"];
  EXPECT_NEAR(static_cast<double>(expiry - created), 3600e3, 5e3);
  // The new token works.
  r = Get("/api/2.0/token/list", token);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["token_infos"].size(), 2u);  // the fixture's and the new one
  EXPECT_EQ(r.raw.find("vst_"), std::string::npos) << r.raw;

  // Never in the audit log.
  auto recs = g_->audit().Query({.limit = 100000});
  ASSERT_TRUE(recs.ok());
  for (const auto& rec : *recs) {
    EXPECT_EQ(rec.parameters_json.find(token), std::string::npos);
    EXPECT_EQ(rec.message.find(token), std::string::npos);
  }

  r = Post("/api/2.0/token/delete", bob_, {{"token_id", id}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(Get("/api/2.0/token/list", token).status, 401);
  r = Get("/api/2.0/token/list?include_inactive=true", bob_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["token_infos"].size(), 2u);
  EXPECT_EQ(r.body["token_infos"][1]["revoked"], true);

  // Admins issue and list for others.
  r = Post("/api/2.0/token/create", admin_token_, {{"principal", "eve"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["token_info"]["expiry_time"], -1);
  r = Get("/api/2.0/token/list?principal=eve", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["token_infos"].size(), 2u);
}

TEST_F(GovernanceRoutes, TokensRefused) {
  int64_t before = AuditCount();
  ExpectRefused(Post("/api/2.0/token/create", "", {{"comment", "x"}}), before, 401, "UNAUTHENTICATED");
  before = AuditCount();
  ExpectRefused(Get("/api/2.0/token/list", ""), before, 401, "UNAUTHENTICATED");

  before = AuditCount();
  ExpectRefused(Post("/api/2.0/token/create", bob_, {{"principal", "eve"}}), before, 403, "PERMISSION_DENIED",
                "bob lacks metastore admin, needed to issue a token for eve");
  before = AuditCount();
  ExpectRefused(Get("/api/2.0/token/list?principal=eve", bob_), before, 403, "PERMISSION_DENIED",
                "metastore admin");
  auto eves = g_->principals().ListTokens("eve");
  ASSERT_TRUE(eves.ok());
  ASSERT_EQ(eves->size(), 1u);
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/token/delete", bob_, {{"token_id", (*eves)[0].token_id}}), before, 403,
                "PERMISSION_DENIED");
  EXPECT_EQ(Get("/api/2.0/token/list", eve_).status, 200);  // still valid

  before = AuditCount();
  ExpectRefused(Post("/api/2.0/token/create", admin_token_, {{"principal", "nobody"}}), before, 404,
                "NOT_FOUND");
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/token/delete", admin_token_, {{"token_id", "tok_0000000000000000"}}), before,
                404, "NOT_FOUND");

  before = AuditCount();
  ExpectRefused(Post("/api/2.0/token/create", bob_, {{"lifetime_seconds", "ten"}}), before, 400,
                "INVALID_ARGUMENT", "lifetime_seconds");
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/token/create", bob_, {{"lifetime_seconds", -5}}), before, 400,
                "INVALID_ARGUMENT", "lifetime_seconds");
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/token/create", bob_, {{"comment", json::array()}}), before, 400,
                "INVALID_ARGUMENT", "comment");
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/token/delete", bob_, json::object()), before, 400, "INVALID_ARGUMENT",
                "token_id");
  before = AuditCount();
  ExpectRefused(Get("/api/2.0/token/list?include_inactive=maybe", bob_), before, 400, "INVALID_ARGUMENT",
                "include_inactive");
  EXPECT_EQ(g_->principals().ListTokens("bob")->size(), 1u);
}

TEST_F(GovernanceRoutes, ExpiredTokenAnswers401) {
  Reply r = Post("/api/2.0/token/create", bob_, {{"lifetime_seconds", 1}});
  ASSERT_EQ(r.status, 200) << r.raw;
  const std::string token = r.body["token_value"];
  EXPECT_EQ(Get("/api/2.0/token/list", token).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  const int64_t before = AuditCount();
  ExpectRefused(Get("/api/2.0/token/list", token), before, 401, "UNAUTHENTICATED");
  EXPECT_EQ(LastRecord().action, "auth.token");
}

// --- Permissions and owners ------------------------------------------------------------

TEST_F(GovernanceRoutes, PermissionsHappyPath) {
  Reply r = Get(kPerms, admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body,
            json::parse(R"({"privilege_assignments":[{"principal":"bob","privileges":["SELECT"]}]})"));

  r = Patch(kPerms, admin_token_,
            {{"changes",
              {{{"principal", "EVE"}, {"add", {"SELECT", "modify"}}},
               {{"principal", "bob"}, {"remove", {"SELECT"}}, {"add", {"MODIFY"}}}}}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body, json::parse(R"({"privilege_assignments":[{"principal":"bob","privileges":["MODIFY"]},
                                    {"principal":"eve","privileges":["SELECT","MODIFY"]}]})"));
  EXPECT_EQ(LastRecord().action, "grant.update");

  // A non-manager sees only their own assignments.
  r = Get(kPerms, bob_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body,
            json::parse(R"({"privilege_assignments":[{"principal":"bob","privileges":["MODIFY"]}]})"));
  r = Get(std::string(kPerms) + "?principal=eve", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["privilege_assignments"].size(), 1u);

  // Effective permissions: bob about himself (USE CATALOG / USE SCHEMA do
  // not apply to a table, so only MODIFY).
  r = Get(kEffective, bob_);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["privilege_assignments"].size(), 1u);
  EXPECT_EQ(r.body["privilege_assignments"][0]["principal"], "bob");
  EXPECT_EQ(r.body["privilege_assignments"][0]["privileges"][0]["privilege"], "MODIFY");
  EXPECT_TRUE(r.body["privilege_assignments"][0]["privileges"][0]["inherited_from_name"].is_null());
  // An inherited grant names its source.
  Grant(Securable::Parse(SecurableType::kSchema, "main.clinical").value(), "eve", {Privilege::kModify});
  r = Get(std::string(kEffective) + "?principal=eve", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  bool inherited = false;
  for (const json& p : r.body["privilege_assignments"][0]["privileges"]) {
    if (p["inherited_from_type"] == "schema" && p["inherited_from_name"] == "main.clinical") inherited = true;
  }
  EXPECT_TRUE(inherited) << r.raw;
  EXPECT_EQ(LastRecord().action, "grant.effective");

  // Owner.
  r = Put("/api/2.0/vesta/owners/table/main.clinical.patients", admin_token_, {{"owner", "eve"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["owner"], "eve");
  EXPECT_EQ(g_->privileges().Owner(Securable::Table(table_)).value(), "eve");
  // eve now manages it.
  r = Patch(kPerms, eve_, {{"changes", {{{"principal", "bob"}, {"remove", {"MODIFY"}}}}}});
  EXPECT_EQ(r.status, 403) << r.raw;  // she lacks USE CATALOG
  Grant(Securable::Parse(SecurableType::kCatalog, "main").value(), "eve", {Privilege::kUseCatalog});
  Grant(Securable::Parse(SecurableType::kSchema, "main.clinical").value(), "eve", {Privilege::kUseSchema});
  r = Patch(kPerms, eve_, {{"changes", {{{"principal", "bob"}, {"remove", {"MODIFY"}}}}}});
  EXPECT_EQ(r.status, 200) << r.raw;
  // Catalog and schema securables.
  r = Get("/api/2.1/unity-catalog/permissions/catalog/main", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["privilege_assignments"].size(), 2u);
}

TEST_F(GovernanceRoutes, PermissionsRefused) {
  const size_t grants = GrantCount();
  const json grant_self = {{"changes", {{{"principal", "bob"}, {"add", {"MODIFY", "MANAGE"}}}}}};
  int64_t before = AuditCount();
  ExpectRefused(Patch(kPerms, "", grant_self), before, 401, "UNAUTHENTICATED");
  before = AuditCount();
  ExpectRefused(Get(kPerms, ""), before, 401, "UNAUTHENTICATED");
  before = AuditCount();
  ExpectRefused(Get(kEffective, ""), before, 401, "UNAUTHENTICATED");

  // A non-manager cannot grant themselves anything.
  before = AuditCount();
  ExpectRefused(Patch(kPerms, bob_, grant_self), before, 403, "PERMISSION_DENIED",
                "bob lacks MANAGE on table main.clinical.patients");
  EXPECT_EQ(LastRecord().action, "grant.update");
  before = AuditCount();
  ExpectRefused(Patch("/api/2.1/unity-catalog/permissions/catalog/main", eve_,
                      {{"changes", {{{"principal", "eve"}, {"add", {"ALL_PRIVILEGES"}}}}}}),
                before, 403, "PERMISSION_DENIED");
  before = AuditCount();
  ExpectRefused(Get(std::string(kEffective) + "?principal=admin", bob_), before, 403, "PERMISSION_DENIED",
                "MANAGE");
  before = AuditCount();
  ExpectRefused(Put("/api/2.0/vesta/owners/table/main.clinical.patients", bob_, {{"owner", "bob"}}), before,
                403, "PERMISSION_DENIED", "MANAGE");

  // 404.
  before = AuditCount();
  ExpectRefused(Get("/api/2.1/unity-catalog/permissions/table/main.clinical.nope", admin_token_), before, 404,
                "NOT_FOUND", "main.clinical.nope");
  before = AuditCount();
  ExpectRefused(Patch("/api/2.1/unity-catalog/permissions/schema/main.nope", admin_token_,
                      {{"changes", {{{"principal", "bob"}, {"add", {"SELECT"}}}}}}),
                before, 404, "NOT_FOUND");
  before = AuditCount();
  ExpectRefused(Patch(kPerms, admin_token_, {{"changes", {{{"principal", "nobody"}, {"add", {"SELECT"}}}}}}),
                before, 404, "NOT_FOUND", "changes[0].principal");
  before = AuditCount();
  ExpectRefused(Get(std::string(kEffective) + "?principal=nobody", admin_token_), before, 404, "NOT_FOUND");
  before = AuditCount();
  ExpectRefused(
      Put("/api/2.0/vesta/owners/table/main.clinical.patients", admin_token_, {{"owner", "nobody"}}), before,
      404, "NOT_FOUND", "owner");
  before = AuditCount();
  ExpectRefused(Put("/api/2.0/vesta/owners/index/main.clinical.no_index", admin_token_, {{"owner", "bob"}}),
                before, 404, "NOT_FOUND");

  // Bad input, each naming the field.
  before = AuditCount();
  ExpectRefused(
      Patch(kPerms, admin_token_, {{"changes", {{{"principal", "bob"}, {"add", {"SELECT", "SELEKT"}}}}}}),
      before, 400, "INVALID_ARGUMENT", "changes[0].add[1]");
  before = AuditCount();
  ExpectRefused(Patch(kPerms, admin_token_, {{"changes", {{{"principal", "bob"}, {"remove", "SELECT"}}}}}),
                before, 400, "INVALID_ARGUMENT", "changes[0].remove");
  before = AuditCount();
  ExpectRefused(Patch(kPerms, admin_token_, {{"changes", "everything"}}), before, 400, "INVALID_ARGUMENT",
                "changes");
  before = AuditCount();
  ExpectRefused(Patch(kPerms, admin_token_, json::object()), before, 400, "INVALID_ARGUMENT", "changes");
  before = AuditCount();
  ExpectRefused(Patch(kPerms, admin_token_, {{"changes", {{{"add", {"SELECT"}}}}}}), before, 400,
                "INVALID_ARGUMENT", "changes[0].principal");
  before = AuditCount();
  ExpectRefused(
      Patch(kPerms, admin_token_, {{"changes", {{{"principal", "bob' OR '1'='1"}, {"add", {"SELECT"}}}}}}),
      before, 400, "INVALID_ARGUMENT", "changes[0].principal");
  before = AuditCount();
  ExpectRefused(
      Patch(kPerms, admin_token_, {{"changes", {{{"principal", "bob"}, {"add", {"USE_CATALOG"}}}}}}), before,
      400, "INVALID_ARGUMENT", "USE CATALOG");
  before = AuditCount();
  ExpectRefused(Get("/api/2.1/unity-catalog/permissions/tabel/main.clinical.patients", admin_token_), before,
                400, "INVALID_ARGUMENT", "securable_type");
  before = AuditCount();
  ExpectRefused(Patch(std::string("/api/2.1/unity-catalog/permissions/table/") + kInjectedTable, admin_token_,
                      grant_self),
                before, 400, "INVALID_ARGUMENT", "full_name");
  before = AuditCount();
  ExpectRefused(Get(std::string(kEffective) + "?principal=" + kInjectedUser, admin_token_), before, 400,
                "INVALID_ARGUMENT", "principal");
  before = AuditCount();
  ExpectRefused(Put("/api/2.0/vesta/owners/table/main.clinical.patients", admin_token_, {{"owner", 1}}),
                before, 400, "INVALID_ARGUMENT", "owner");
  before = AuditCount();
  ExpectRefused(SendRaw("PATCH", kPerms, admin_token_, "{\"changes\": [", "application/json"), before, 400,
                "INVALID_ARGUMENT", "JSON");

  EXPECT_EQ(GrantCount(), grants);
  EXPECT_FALSE(g_->privileges().Has("bob", {}, Securable::Table(table_), Privilege::kModify));
  EXPECT_EQ(g_->privileges().Owner(Securable::Table(table_)).status().code(), StatusCode::kNotFound);
}

// --- Row filters and masks -----------------------------------------------------------

TEST_F(GovernanceRoutes, RowFilterRoutes) {
  const std::string path = std::string(kPolicyBase) + "/row-filter";
  Reply r = Get(path, admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(r.body["filter"].is_null());
  r = Put(path, admin_token_, {{"filter", "site = 'A' OR is_member('admins')"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(LastRecord().action, "policy.row_filter.set");
  r = Get(path, admin_token_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["filter"], "site = 'A' OR is_member('admins')");

  int64_t before = AuditCount();
  ExpectRefused(Put(path, "", {{"filter", "TRUE"}}), before, 401, "UNAUTHENTICATED");
  before = AuditCount();
  ExpectRefused(Put(path, bob_, {{"filter", "TRUE"}}), before, 403, "PERMISSION_DENIED",
                "bob lacks MANAGE on table main.clinical.patients");
  before = AuditCount();
  ExpectRefused(Get(path, bob_), before, 403, "PERMISSION_DENIED");
  before = AuditCount();
  ExpectRefused(Delete(path, bob_), before, 403, "PERMISSION_DENIED");
  before = AuditCount();
  ExpectRefused(
      Put("/api/2.0/vesta/tables/main.clinical.nope/row-filter", admin_token_, {{"filter", "TRUE"}}), before,
      404, "NOT_FOUND");
  before = AuditCount();
  ExpectRefused(Put(path, admin_token_, {{"filter", "site = = 'A'"}}), before, 400, "INVALID_ARGUMENT",
                "filter");
  before = AuditCount();
  ExpectRefused(Put(path, admin_token_, {{"filter", "stie = 'A'"}}), before, 400, "INVALID_ARGUMENT", "stie");
  before = AuditCount();
  ExpectRefused(Put(path, admin_token_, {{"filter", "site = 'A'; DROP TABLE patients"}}), before, 400,
                "INVALID_ARGUMENT", "filter");
  before = AuditCount();
  ExpectRefused(Put(path, admin_token_, {{"filter", 5}}), before, 400, "INVALID_ARGUMENT", "filter");
  before = AuditCount();
  ExpectRefused(Put(std::string("/api/2.0/vesta/tables/") + kInjectedTable + "/row-filter", admin_token_,
                    {{"filter", "TRUE"}}),
                before, 400, "INVALID_ARGUMENT", "full_name");
  EXPECT_EQ(g_->policies().RowFilterOf(table_).value(),
            std::optional<std::string>("site = 'A' OR is_member('admins')"));

  r = Delete(path, admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  before = AuditCount();
  ExpectRefused(Delete(path, admin_token_), before, 404, "NOT_FOUND", "no row filter");
}

TEST_F(GovernanceRoutes, ColumnMaskRoutes) {
  const std::string base = std::string(kPolicyBase) + "/column-masks";
  Reply r = Put(base + "/site", admin_token_, {{"mask", {{"kind", "hash"}}}, {"exempt_groups", {"admins"}}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["mask"]["kind"], "hash");
  r = Put(base + "/age", admin_token_, {{"mask", {{"kind", "constant"}, {"constant", 0}}}});
  ASSERT_EQ(r.status, 200) << r.raw;
  r = Put(base + "/patient_id", admin_token_, {{"mask", {{"kind", "partial"}, {"reveal_last", 2}}}});
  ASSERT_EQ(r.status, 200) << r.raw;
  r = Get(base, admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["column_masks"].size(), 3u);
  EXPECT_EQ(r.body["column_masks"][0]["column"], "age");
  EXPECT_EQ(r.body["column_masks"][0]["mask"]["constant"], 0);
  EXPECT_EQ(r.body["column_masks"][1]["mask"]["reveal_last"], 2);
  EXPECT_EQ(r.body["column_masks"][2]["exempt_groups"], json::array({"admins"}));

  // bob (SELECT) reads masked values.
  auto rows = g_->ReadTable(g_->CallerFor("bob").value(), table_, {});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->rows[0][0].as_string(), "**00");
  EXPECT_EQ(rows->rows[0][2].as_int(), 0);

  int64_t before = AuditCount();
  ExpectRefused(Put(base + "/site", "", {{"mask", {{"kind", "null"}}}}), before, 401, "UNAUTHENTICATED");
  before = AuditCount();
  ExpectRefused(Put(base + "/site", bob_, {{"mask", {{"kind", "null"}}}}), before, 403, "PERMISSION_DENIED",
                "MANAGE");
  before = AuditCount();
  ExpectRefused(Get(base, bob_), before, 403, "PERMISSION_DENIED");
  before = AuditCount();
  ExpectRefused(Delete(base + "/site", bob_), before, 403, "PERMISSION_DENIED");
  before = AuditCount();
  ExpectRefused(Put(base + "/sight", admin_token_, {{"mask", {{"kind", "null"}}}}), before, 404, "NOT_FOUND",
                "sight");
  before = AuditCount();
  ExpectRefused(Put("/api/2.0/vesta/tables/main.clinical.nope/column-masks/site", admin_token_,
                    {{"mask", {{"kind", "null"}}}}),
                before, 404, "NOT_FOUND");
  before = AuditCount();
  ExpectRefused(Put(base + "/site", admin_token_, {{"mask", {{"kind", "scramble"}}}}), before, 400,
                "INVALID_ARGUMENT", "mask.kind");
  before = AuditCount();
  ExpectRefused(Put(base + "/site", admin_token_, json::object()), before, 400, "INVALID_ARGUMENT", "mask");
  before = AuditCount();
  ExpectRefused(Put(base + "/site", admin_token_, {{"mask", {{"kind", "partial"}, {"reveal_last", -1}}}}),
                before, 400, "INVALID_ARGUMENT", "mask.reveal_last");
  before = AuditCount();
  ExpectRefused(Put(base + "/age", admin_token_, {{"mask", {{"kind", "hash"}}}}), before, 400,
                "INVALID_ARGUMENT", "STRING");
  before = AuditCount();
  ExpectRefused(Put(base + "/age", admin_token_, {{"mask", {{"kind", "constant"}, {"constant", "old"}}}}),
                before, 400, "INVALID_ARGUMENT", "constant");
  before = AuditCount();
  ExpectRefused(
      Put(base + "/site", admin_token_, {{"mask", {{"kind", "null"}}}, {"exempt_groups", {"a' OR 1=1"}}}),
      before, 400, "INVALID_ARGUMENT", "exempt_groups[0]");
  auto masks = g_->policies().ColumnMasksOf(table_);
  ASSERT_TRUE(masks.ok());
  ASSERT_EQ(masks->size(), 3u);
  EXPECT_EQ((*masks)[2].second.kind, governance::MaskSpec::kKeyedHash);

  r = Delete(base + "/site", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  before = AuditCount();
  ExpectRefused(Delete(base + "/site", admin_token_), before, 404, "NOT_FOUND");
}

// --- Tags and tag policies -------------------------------------------------------------

TEST_F(GovernanceRoutes, TagRoutes) {
  const std::string base = std::string(kPolicyBase) + "/tags";
  Reply r = Put(base, admin_token_, {{"key", "PHI"}, {"value", "true"}, {"column", "patient_id"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  r = Put(base, admin_token_, {{"key", "domain"}, {"value", "clinical"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(r.body["column"].is_null());
  r = Get(base, bob_);  // SELECT suffices to list
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["tags"], json::parse(R"([{"key":"domain","value":"clinical","column":null},
                                            {"key":"PHI","value":"true","column":"patient_id"}])"));

  int64_t before = AuditCount();
  ExpectRefused(Get(base, ""), before, 401, "UNAUTHENTICATED");
  before = AuditCount();
  ExpectRefused(Put(base, bob_, {{"key", "x"}, {"value", "y"}}), before, 403, "PERMISSION_DENIED", "MANAGE");
  before = AuditCount();
  ExpectRefused(Get(base, eve_), before, 403, "PERMISSION_DENIED", "eve lacks");
  before = AuditCount();
  ExpectRefused(Delete(base + "/domain", bob_), before, 403, "PERMISSION_DENIED");
  before = AuditCount();
  ExpectRefused(Put(base, admin_token_, {{"key", "x"}, {"column", "nope"}}), before, 404, "NOT_FOUND",
                "nope");
  before = AuditCount();
  ExpectRefused(Get("/api/2.0/vesta/tables/main.clinical.nope/tags", admin_token_), before, 404, "NOT_FOUND");
  before = AuditCount();
  ExpectRefused(Put(base, admin_token_, {{"value", "y"}}), before, 400, "INVALID_ARGUMENT", "key");
  before = AuditCount();
  ExpectRefused(Put(base, admin_token_, {{"key", ""}}), before, 400, "INVALID_ARGUMENT", "tag key");
  before = AuditCount();
  ExpectRefused(Put(base, admin_token_, {{"key", "k"}, {"value", 3}}), before, 400, "INVALID_ARGUMENT",
                "value");
  EXPECT_EQ(g_->policies().TagsOf(table_)->size(), 2u);

  r = Delete(base + "/PHI?column=patient_id", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(LastRecord().action, "tag.unset");
  before = AuditCount();
  ExpectRefused(Delete(base + "/PHI?column=patient_id", admin_token_), before, 404, "NOT_FOUND");
  EXPECT_EQ(g_->policies().TagsOf(table_)->size(), 1u);
}

TEST_F(GovernanceRoutes, TagPolicyRoutes) {
  ASSERT_EQ(
      Put(std::string(kPolicyBase) + "/tags", admin_token_, {{"key", "PHI"}, {"column", "site"}}).status,
      200);
  Reply r = Post("/api/2.0/vesta/tag-policies", admin_token_,
                 {{"name", "phi_mask"},
                  {"kind", "mask"},
                  {"tag_key", "PHI"},
                  {"mask", {{"kind", "null"}}},
                  {"exempt_groups", {"admins"}}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["name"], "phi_mask");
  EXPECT_EQ(r.body["mask"]["kind"], "null");
  EXPECT_EQ(r.body["exempt_groups"], json::array({"admins"}));
  EXPECT_EQ(r.body["created_by"], "admin");
  r = Post("/api/2.0/vesta/tag-policies", admin_token_,
           {{"name", "site_rows"},
            {"kind", "row_filter"},
            {"tag_key", "domain"},
            {"tag_value", "clinical"},
            {"filter", "site = 'A'"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["tag_value"], "clinical");
  r = Get("/api/2.0/vesta/tag-policies", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["tag_policies"].size(), 2u);
  EXPECT_EQ(r.body["tag_policies"][1]["filter"], "site = 'A'");
  // The mask policy applies to bob.
  auto rows = g_->ReadTable(g_->CallerFor("bob").value(), table_, {});
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->rows[0][1].is_null());

  int64_t before = AuditCount();
  ExpectRefused(Get("/api/2.0/vesta/tag-policies", ""), before, 401, "UNAUTHENTICATED");
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/vesta/tag-policies", bob_,
                     {{"name", "x"}, {"kind", "row_filter"}, {"tag_key", "PHI"}, {"filter", "TRUE"}}),
                before, 403, "PERMISSION_DENIED", "bob lacks metastore admin");
  before = AuditCount();
  ExpectRefused(Get("/api/2.0/vesta/tag-policies", bob_), before, 403, "PERMISSION_DENIED");
  before = AuditCount();
  ExpectRefused(Delete("/api/2.0/vesta/tag-policies/phi_mask", bob_), before, 403, "PERMISSION_DENIED");
  before = AuditCount();
  ExpectRefused(Delete("/api/2.0/vesta/tag-policies/nope", admin_token_), before, 404, "NOT_FOUND");
  before = AuditCount();
  ExpectRefused(
      Post("/api/2.0/vesta/tag-policies", admin_token_,
           {{"name", "phi_mask"}, {"kind", "mask"}, {"tag_key", "PHI"}, {"mask", {{"kind", "null"}}}}),
      before, 409, "ALREADY_EXISTS");
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/vesta/tag-policies", admin_token_,
                     {{"name", "p2"}, {"kind", "magic"}, {"tag_key", "PHI"}}),
                before, 400, "INVALID_ARGUMENT", "kind");
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/vesta/tag-policies", admin_token_,
                     {{"name", "p2"}, {"kind", "mask"}, {"tag_key", "PHI"}}),
                before, 400, "INVALID_ARGUMENT", "mask");
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/vesta/tag-policies", admin_token_,
                     {{"name", "p2"}, {"kind", "row_filter"}, {"tag_key", "PHI"}, {"filter", "site = = 1"}}),
                before, 400, "INVALID_ARGUMENT");
  before = AuditCount();
  ExpectRefused(
      Post("/api/2.0/vesta/tag-policies", admin_token_,
           {{"name", "p2; DROP TABLE x"}, {"kind", "row_filter"}, {"tag_key", "PHI"}, {"filter", "TRUE"}}),
      before, 400, "INVALID_ARGUMENT");
  EXPECT_EQ(g_->policies().ListTagPolicies()->size(), 2u);

  r = Delete("/api/2.0/vesta/tag-policies/phi_mask", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(g_->policies().ListTagPolicies()->size(), 1u);
}

// --- Audit and lineage ------------------------------------------------------------------

TEST_F(GovernanceRoutes, AuditRoutes) {
  ASSERT_EQ(Get(kPerms, bob_).status, 200);
  Reply r = Get("/api/2.0/vesta/audit?principal=bob&action=grant.get&limit=5", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["records"].size(), 1u);
  const json& rec = r.body["records"][0];
  EXPECT_EQ(rec["principal"], "bob");
  EXPECT_EQ(rec["securable"], kTable);
  EXPECT_EQ(rec["outcome"], "allowed");
  EXPECT_TRUE(rec["parameters"].is_object());
  EXPECT_EQ(rec["hash"].get<std::string>().size(), 64u);
  r = Get("/api/2.0/vesta/audit?since=2000-01-01T00:00:00Z&until=2001-01-01T00:00:00Z", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(r.body["records"].empty());
  r = Get("/api/2.0/vesta/audit?order=asc&limit=2", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["records"].size(), 2u);
  EXPECT_LT(r.body["records"][0]["seq"].get<int64_t>(), r.body["records"][1]["seq"].get<int64_t>());

  r = Post("/api/2.0/vesta/audit/verify", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["intact"], true);
  EXPECT_GT(r.body["records_checked"].get<int64_t>(), 0);
  EXPECT_EQ(r.body["first_bad_seq"], -1);
  EXPECT_EQ(r.body["problem"], "");

  int64_t before = AuditCount();
  ExpectRefused(Get("/api/2.0/vesta/audit", ""), before, 401, "UNAUTHENTICATED");
  before = AuditCount();
  ExpectRefused(Get("/api/2.0/vesta/audit", bob_), before, 403, "PERMISSION_DENIED",
                "bob lacks metastore admin, needed to read the audit log");
  before = AuditCount();
  ExpectRefused(Post("/api/2.0/vesta/audit/verify", bob_), before, 403, "PERMISSION_DENIED");
  before = AuditCount();
  ExpectRefused(Get("/api/2.0/vesta/audit?limit=0", admin_token_), before, 400, "INVALID_ARGUMENT", "limit");
  before = AuditCount();
  ExpectRefused(Get("/api/2.0/vesta/audit?limit=ten", admin_token_), before, 400, "INVALID_ARGUMENT",
                "limit");
  before = AuditCount();
  ExpectRefused(Get("/api/2.0/vesta/audit?since=yesterday", admin_token_), before, 400, "INVALID_ARGUMENT",
                "since");
  before = AuditCount();
  ExpectRefused(Get("/api/2.0/vesta/audit?order=sideways", admin_token_), before, 400, "INVALID_ARGUMENT",
                "order");
  before = AuditCount();
  ExpectRefused(Get("/api/2.0/vesta/audit?outcome=maybe", admin_token_), before, 400, "INVALID_ARGUMENT",
                "outcome");
  before = AuditCount();
  ExpectRefused(Get("/api/2.0/vesta/audit?principal=" + std::string(kInjectedUser) + "&from_seq=9&to_seq=3",
                    admin_token_),
                before, 400, "INVALID_ARGUMENT");
}

TEST_F(GovernanceRoutes, LineageRoutes) {
  ASSERT_TRUE(g_->lineage()
                  .Record({.from = {"table", kTable, 1},
                           .to = {"index", "main.clinical.patients_idx", 1},
                           .relation = "synced_from",
                           .principal = "admin"})
                  .ok());
  Reply r = Get("/api/2.0/vesta/lineage?kind=index&name=main.clinical.patients_idx&version=1", admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["edges"].size(), 1u);
  EXPECT_EQ(r.body["edges"][0]["from"],
            json::parse(R"({"kind":"table","name":"main.clinical.patients","version":1})"));
  EXPECT_EQ(r.body["edges"][0]["relation"], "synced_from");
  EXPECT_EQ(r.body["edges"][0]["depth"], 1);
  r = Get(std::string("/api/2.0/vesta/lineage?name=") + kTable + "&direction=downstream&max_depth=2",
          admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["edges"].size(), 1u);
  EXPECT_EQ(LastRecord().action, "lineage.query");
  // bob may read the table, but not the (hidden) index.
  r = Get(std::string("/api/2.0/vesta/lineage?name=") + kTable + "&direction=downstream", bob_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(r.body["edges"].empty());

  int64_t before = AuditCount();
  ExpectRefused(Get(std::string("/api/2.0/vesta/lineage?name=") + kTable, ""), before, 401,
                "UNAUTHENTICATED");
  before = AuditCount();
  ExpectRefused(Get(std::string("/api/2.0/vesta/lineage?name=") + kTable, eve_), before, 403,
                "PERMISSION_DENIED", "eve lacks");
  before = AuditCount();
  ExpectRefused(Get("/api/2.0/vesta/lineage", admin_token_), before, 400, "INVALID_ARGUMENT", "name");
  before = AuditCount();
  ExpectRefused(
      Get(std::string("/api/2.0/vesta/lineage?name=") + kTable + "&direction=sideways", admin_token_), before,
      400, "INVALID_ARGUMENT", "direction");
  before = AuditCount();
  ExpectRefused(Get(std::string("/api/2.0/vesta/lineage?name=") + kTable + "&max_depth=0", admin_token_),
                before, 400, "INVALID_ARGUMENT", "max_depth");
  before = AuditCount();
  ExpectRefused(Get(std::string("/api/2.0/vesta/lineage?kind=view&name=") + kTable, admin_token_), before,
                400, "INVALID_ARGUMENT", "kind");
  before = AuditCount();
  ExpectRefused(Get(std::string("/api/2.0/vesta/lineage?name=") + kInjectedTable, admin_token_), before, 400,
                "INVALID_ARGUMENT", "name");
  before = AuditCount();
  ExpectRefused(Get(std::string("/api/2.0/vesta/lineage?name=") + kTable + "&version=x", admin_token_),
                before, 400, "INVALID_ARGUMENT", "version");
}

// --- End to end ------------------------------------------------------------------------

// An admin creates a user and a token over HTTP, grants SELECT with PATCH
// permissions; the user describes the table; a row filter set over HTTP
// restricts the row count they see.
TEST_F(GovernanceRoutes, EndToEndGrantThenRowFilter) {
  Reply r = Post("/api/2.0/vesta/principals", admin_token_, {{"name", "dana"}, {"kind", "user"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  r = Post("/api/2.0/token/create", admin_token_, {{"principal", "dana"}, {"comment", "e2e"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  const std::string dana = r.body["token_value"];
  const std::string describe = std::string("/api/2.1/unity-catalog/tables/") + kTable;

  ExpectError(Get(describe, dana), 403, "PERMISSION_DENIED", "dana lacks USE CATALOG on catalog main");

  auto grant = [&](const std::string& type, const std::string& name, const std::string& privilege) {
    Reply g = Patch("/api/2.1/unity-catalog/permissions/" + type + "/" + name, admin_token_,
                    {{"changes", {{{"principal", "dana"}, {"add", {privilege}}}}}});
    ASSERT_EQ(g.status, 200) << g.raw;
  };
  grant("catalog", "main", "USE_CATALOG");
  grant("schema", "main.clinical", "USE_SCHEMA");
  ExpectError(Get(describe, dana), 403, "PERMISSION_DENIED",
              "dana lacks SELECT on table main.clinical.patients");
  grant("table", kTable, "SELECT");

  r = Get(describe, dana);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["full_name"], kTable);
  EXPECT_EQ(r.body["row_count"], 6);

  r = Put(std::string(kPolicyBase) + "/row-filter", admin_token_,
          {{"filter", "site = 'A' OR is_member('admins')"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  r = Get(describe, dana);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["row_count"], 3);
  r = Get(describe, admin_token_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["row_count"], 6);

  // Revoking SELECT over HTTP takes effect at once.
  r = Patch(kPerms, admin_token_, {{"changes", {{{"principal", "dana"}, {"remove", {"SELECT"}}}}}});
  ASSERT_EQ(r.status, 200) << r.raw;
  ExpectError(Get(describe, dana), 403, "PERMISSION_DENIED", "SELECT");
  // The audit chain is intact after all of it.
  r = Post("/api/2.0/vesta/audit/verify", admin_token_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["intact"], true);
}

}  // namespace
}  // namespace vesta::service::testing
