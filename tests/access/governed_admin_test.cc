// Governed administration (access/governed.h, "Governed administration"):
// who may change principals, tokens, grants, owners, row filters, masks,
// tags and tag policies, and that every call is audited exactly once
// (never with a token's plaintext).
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "access/governed.h"
#include "tests/access/access_test_util.h"
#include "tests/testing/temp_dir.h"

namespace vesta::access {
namespace {

using testing::Cat;
using testing::Contains;
using testing::Sch;

using governance::AuditRecord;
using governance::MaskSpec;
using governance::PermissionsChange;
using governance::PrincipalKind;
using governance::Privilege;
using governance::Securable;
using governance::SecurableType;
using governance::TableName;
using governance::TagPolicy;
using ::vesta::testing::TempDir;

// main.clinical.patients (patient_id, site, age), 6 rows (sites A, B).
// Users: admin (metastore admin), alice (MANAGE + USE CATALOG/SCHEMA on the
// table), bob (USE CATALOG + USE SCHEMA + SELECT on the table), eve (no
// grants). Group readers (bob).
class GovernedAdminTest : public ::testing::Test {
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
    Schema schema;
    schema.columns = {{"patient_id", DataType::String(), false, ""},
                      {"site", DataType::String(), true, ""},
                      {"age", DataType::Bigint(), true, ""}};
    schema.primary_key = "patient_id";
    ASSERT_TRUE(store.CreateTable(table_, schema, {}, "admin").ok());
    {
      std::vector<Row> rows;
      for (int i = 0; i < 6; ++i) {
        rows.push_back({Value::Str(testing::Pid(i)), Value::Str(i % 2 ? "B" : "A"), Value::Int(30 + i)});
      }
      auto t = store.Begin("admin");
      ASSERT_TRUE(t->Append(table_, rows).ok());
      ASSERT_TRUE(t->Commit().ok());
    }
    governance::Principals& p = g_->principals();
    ASSERT_TRUE(p.Bootstrap("admin").ok());
    for (const char* u : {"alice", "bob", "eve"}) ASSERT_TRUE(p.CreateUser(u, "admin").ok());
    ASSERT_TRUE(p.CreateGroup("readers", "admin").ok());
    ASSERT_TRUE(p.AddMember("readers", "bob", "admin").ok());
    for (const char* u : {"alice", "bob"}) {
      Grant(Cat("main"), u, {Privilege::kUseCatalog});
      Grant(Sch("main.clinical"), u, {Privilege::kUseSchema});
    }
    Grant(Securable::Table(table_), "alice", {Privilege::kManage});
    Grant(Securable::Table(table_), "bob", {Privilege::kSelect});
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
  // Exactly one record since `before`, with this principal, action and
  // outcome; returned for further checks.
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
    return r;
  }
  std::vector<governance::PrivilegeAssignment> Grants(const Securable& s) {
    auto r = g_->privileges().ListGrants(s);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<governance::PrivilegeAssignment>{};
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Governed> g_;
  const TableName table_{"main", "clinical", "patients"};
};

// --- Principals --------------------------------------------------------------------

TEST_F(GovernedAdminTest, NonAdminCannotCreateOrDropPrincipals) {
  int64_t before = Head();
  auto created = g_->CreatePrincipal(As("alice"), "mallory", PrincipalKind::kUser);
  ASSERT_EQ(created.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(created.status().message(), "alice lacks metastore admin"))
      << created.status().message();
  ExpectOneRecord(before, "alice", "principal.create", "denied");
  EXPECT_EQ(g_->principals().Get("mallory").status().code(), StatusCode::kNotFound);

  before = Head();
  EXPECT_EQ(g_->DropPrincipal(As("alice"), "bob").code(), StatusCode::kPermissionDenied);
  ExpectOneRecord(before, "alice", "principal.drop", "denied");
  EXPECT_TRUE(g_->principals().Get("bob").ok());

  before = Head();
  EXPECT_EQ(g_->AddMember(As("bob"), "admins", "bob").code(), StatusCode::kPermissionDenied);
  ExpectOneRecord(before, "bob", "group.member.add", "denied");
  EXPECT_FALSE(g_->principals().IsMetastoreAdmin("bob").value());

  before = Head();
  EXPECT_EQ(g_->ListPrincipals(As("bob")).status().code(), StatusCode::kPermissionDenied);
  ExpectOneRecord(before, "bob", "principal.list", "denied");
}

TEST_F(GovernedAdminTest, AdminManagesPrincipalsAndGroups) {
  const Caller admin = As("admin");
  int64_t before = Head();
  auto carol = g_->CreatePrincipal(admin, "Carol", PrincipalKind::kUser);
  ASSERT_TRUE(carol.ok()) << carol.status().ToString();
  EXPECT_EQ(carol->name, "Carol");
  EXPECT_EQ(carol->created_by, "admin");
  ExpectOneRecord(before, "admin", "principal.create", "allowed");

  ASSERT_TRUE(g_->CreatePrincipal(admin, "oncology", PrincipalKind::kGroup).ok());
  before = Head();
  ASSERT_TRUE(g_->AddMember(admin, "oncology", "carol").ok());  // any case
  ExpectOneRecord(before, "admin", "group.member.add", "allowed");
  ASSERT_TRUE(g_->AddMember(admin, "readers", "oncology").ok());

  auto d = g_->DescribePrincipal(admin, "carol");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->info.name, "Carol");
  EXPECT_EQ(d->groups, (std::vector<std::string>{"oncology", "readers"}));
  auto grp = g_->DescribePrincipal(admin, "oncology");
  ASSERT_TRUE(grp.ok());
  ASSERT_EQ(grp->members.size(), 1u);
  EXPECT_EQ(grp->members[0].name, "Carol");

  auto groups = g_->ListPrincipals(admin, PrincipalKind::kGroup);
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(groups->size(), 3u);  // admins, oncology, readers

  // Errors, each audited once.
  before = Head();
  EXPECT_EQ(g_->CreatePrincipal(admin, "carol", PrincipalKind::kUser).status().code(),
            StatusCode::kAlreadyExists);
  ExpectOneRecord(before, "admin", "principal.create", "error");
  before = Head();
  auto bad = g_->CreatePrincipal(admin, "bob' OR '1'='1", PrincipalKind::kUser);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(bad.status().message(), "name")) << bad.status().message();
  ExpectOneRecord(before, "admin", "principal.create", "error");
  EXPECT_EQ(g_->AddMember(admin, "oncology", "nobody").code(), StatusCode::kNotFound);
  EXPECT_EQ(g_->AddMember(admin, "bob", "carol").code(), StatusCode::kInvalidArgument);  // bob is a user
  EXPECT_EQ(g_->AddMember(admin, "oncology", "readers").code(), StatusCode::kFailedPrecondition);  // cycle
  EXPECT_EQ(g_->DropPrincipal(admin, "admin").code(), StatusCode::kFailedPrecondition);  // themselves
  EXPECT_EQ(g_->DropPrincipal(admin, "admins").code(), StatusCode::kFailedPrecondition);

  // A user may describe themselves, not others.
  EXPECT_TRUE(g_->DescribePrincipal(As("bob"), "bob").ok());
  EXPECT_EQ(g_->DescribePrincipal(As("bob"), "alice").status().code(), StatusCode::kPermissionDenied);

  before = Head();
  ASSERT_TRUE(g_->RemoveMember(admin, "oncology", "Carol").ok());
  ExpectOneRecord(before, "admin", "group.member.remove", "allowed");
  EXPECT_EQ(g_->RemoveMember(admin, "oncology", "Carol").code(), StatusCode::kNotFound);
  before = Head();
  ASSERT_TRUE(g_->DropPrincipal(admin, "carol").ok());
  ExpectOneRecord(before, "admin", "principal.drop", "allowed");
  EXPECT_EQ(g_->principals().Get("carol").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(g_->DropPrincipal(admin, "carol").code(), StatusCode::kNotFound);
}

// A principal re-created under a dropped one's name inherits none of its
// grants or ownerships.
TEST_F(GovernedAdminTest, DroppedPrincipalsGrantsAndOwnershipsGo) {
  const Caller admin = As("admin");
  ASSERT_TRUE(g_->privileges().SetOwner(Securable::Table(table_), "bob", "admin").ok());
  ASSERT_TRUE(g_->privileges().CheckRead("bob", {}, Securable::Table(table_)).ok());
  ASSERT_TRUE(g_->DropPrincipal(admin, "BOB").ok());
  ASSERT_TRUE(g_->CreatePrincipal(admin, "bob", PrincipalKind::kUser).ok());
  EXPECT_EQ(g_->privileges().CheckRead("bob", {}, Securable::Table(table_)).code(), StatusCode::kPermissionDenied);
  auto owner = g_->privileges().Owner(Securable::Table(table_));
  EXPECT_TRUE(!owner.ok() || owner->empty() || *owner != "bob") << (owner.ok() ? *owner : owner.status().ToString());
  auto grants = g_->privileges().ListGrants(Securable::Table(table_));
  ASSERT_TRUE(grants.ok());
  for (const auto& a : *grants) EXPECT_FALSE(EqualsIgnoreCase(a.principal, "bob"));
}

// --- Tokens ---------------------------------------------------------------------------

TEST_F(GovernedAdminTest, UserIssuesOwnTokenNeverAudited) {
  int64_t before = Head();
  auto t = g_->IssueToken(As("bob"), "", 3600, "notebook");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->token.rfind("vst_", 0), 0u);
  EXPECT_EQ(t->info.user, "bob");
  EXPECT_EQ(t->info.comment, "notebook");
  ASSERT_TRUE(t->info.expires_at.has_value());
  EXPECT_NEAR(static_cast<double>(t->info.expires_at->micros - t->info.created_at.micros), 3600e6, 5e6);
  AuditRecord r = ExpectOneRecord(before, "bob", "token.issue", "allowed");
  EXPECT_TRUE(Contains(r.parameters_json, t->info.token_id));
  EXPECT_FALSE(Contains(r.parameters_json, t->token));
  EXPECT_FALSE(Contains(r.parameters_json, "vst_"));

  auto who = g_->Authenticate(t->token);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->user, "bob");

  // Nowhere in the audit log.
  auto all = g_->audit().Query({.limit = 100000});
  ASSERT_TRUE(all.ok());
  for (const AuditRecord& rec : *all) {
    EXPECT_FALSE(Contains(rec.parameters_json, t->token));
    EXPECT_FALSE(Contains(rec.message, t->token));
  }
}

TEST_F(GovernedAdminTest, NonAdminCannotIssueListOrRevokeOthersTokens) {
  auto alices = g_->IssueToken(As("admin"), "alice", std::nullopt, "for alice");
  ASSERT_TRUE(alices.ok()) << alices.status().ToString();
  EXPECT_EQ(alices->info.issued_by, "admin");

  int64_t before = Head();
  auto issued = g_->IssueToken(As("bob"), "alice", 60, "");
  ASSERT_EQ(issued.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(issued.status().message(), "metastore admin"));
  ExpectOneRecord(before, "bob", "token.issue", "denied");

  before = Head();
  auto listed = g_->ListTokens(As("bob"), "alice");
  ASSERT_EQ(listed.status().code(), StatusCode::kPermissionDenied);
  ExpectOneRecord(before, "bob", "token.list", "denied");

  before = Head();
  Status revoked = g_->RevokeToken(As("bob"), alices->info.token_id);
  ASSERT_EQ(revoked.code(), StatusCode::kPermissionDenied);
  ExpectOneRecord(before, "bob", "token.revoke", "denied");
  EXPECT_TRUE(g_->Authenticate(alices->token).ok());
  // An unknown id looks the same to a non-admin.
  EXPECT_EQ(g_->RevokeToken(As("bob"), "tok_0000000000000000").code(), StatusCode::kPermissionDenied);

  // Alice lists and revokes her own; the admin sees it with include_inactive.
  auto own = g_->ListTokens(As("alice"), "");
  ASSERT_TRUE(own.ok());
  ASSERT_EQ(own->size(), 1u);
  before = Head();
  ASSERT_TRUE(g_->RevokeToken(As("alice"), alices->info.token_id).ok());
  ExpectOneRecord(before, "alice", "token.revoke", "allowed");
  EXPECT_EQ(g_->Authenticate(alices->token).status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(g_->ListTokens(As("alice"), "")->empty());
  auto inactive = g_->ListTokens(As("admin"), "alice", true);
  ASSERT_TRUE(inactive.ok());
  ASSERT_EQ(inactive->size(), 1u);
  EXPECT_TRUE((*inactive)[0].revoked);

  // Admin errors.
  EXPECT_EQ(g_->RevokeToken(As("admin"), "tok_0000000000000000").code(), StatusCode::kNotFound);
  EXPECT_EQ(g_->IssueToken(As("admin"), "readers", 60, "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(g_->IssueToken(As("admin"), "nobody", 60, "").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(g_->IssueToken(As("bob"), "", 0, "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(g_->IssueToken(As("bob"), "", Governed::kMaxTokenLifetimeSeconds + 1, "").status().code(),
            StatusCode::kInvalidArgument);
}

// --- Grants and owners ---------------------------------------------------------------

TEST_F(GovernedAdminTest, NonAdminCannotGrantThemselvesAnything) {
  const Securable table = Securable::Table(table_);
  const auto grants_before = Grants(table);
  for (const char* who : {"bob", "eve"}) {
    int64_t before = Head();
    auto r = g_->UpdatePermissions(As(who), table, {{who, {Privilege::kModify, Privilege::kManage}, {}}});
    ASSERT_EQ(r.status().code(), StatusCode::kPermissionDenied) << who;
    AuditRecord rec = ExpectOneRecord(before, who, "grant.update", "denied");
    EXPECT_EQ(rec.securable, "main.clinical.patients");
    // Nor on the schema or the catalog.
    EXPECT_EQ(g_->UpdatePermissions(As(who), Sch("main.clinical"), {{who, {Privilege::kSelect}, {}}})
                  .status()
                  .code(),
              StatusCode::kPermissionDenied);
    EXPECT_EQ(
        g_->UpdatePermissions(As(who), Cat("main"), {{who, {Privilege::kAllPrivileges}, {}}}).status().code(),
        StatusCode::kPermissionDenied);
    // Nor take ownership.
    EXPECT_EQ(g_->SetOwner(As(who), table, who).code(), StatusCode::kPermissionDenied);
  }
  auto msg = g_->UpdatePermissions(As("bob"), table, {{"bob", {Privilege::kModify}, {}}}).status().message();
  EXPECT_TRUE(Contains(msg, "bob lacks MANAGE on table main.clinical.patients")) << msg;
  EXPECT_EQ(Grants(table).size(), grants_before.size());
  EXPECT_FALSE(g_->privileges().Has("bob", {"readers"}, table, Privilege::kModify));
  EXPECT_EQ(g_->privileges().Owner(table).status().code(), StatusCode::kNotFound);
}

TEST_F(GovernedAdminTest, ManagerGrantsWithCanonicalPrincipalNames) {
  const Securable table = Securable::Table(table_);
  int64_t before = Head();
  // alice holds MANAGE: she grants eve SELECT, spelled "EVE".
  Grant(Cat("main"), "eve", {Privilege::kUseCatalog});
  Grant(Sch("main.clinical"), "eve", {Privilege::kUseSchema});
  before = Head();
  auto r = g_->UpdatePermissions(As("alice"), table, {{"EVE", {Privilege::kSelect}, {}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  AuditRecord rec = ExpectOneRecord(before, "alice", "grant.update", "allowed");
  EXPECT_TRUE(Contains(rec.parameters_json, "SELECT"));
  bool found = false;
  for (const auto& a : *r) found = found || (a.principal == "eve");
  EXPECT_TRUE(found);
  EXPECT_TRUE(g_->privileges().CheckRead("eve", {}, table).ok());

  // Errors: unknown principal (adding), unknown securable, nothing to do.
  before = Head();
  auto unknown = g_->UpdatePermissions(As("alice"), table, {{"nobody", {Privilege::kSelect}, {}}});
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(unknown.status().message(), "changes[0].principal")) << unknown.status().message();
  ExpectOneRecord(before, "alice", "grant.update", "error");
  // A remove-only change may name a principal that no longer exists.
  EXPECT_TRUE(g_->UpdatePermissions(As("alice"), table, {{"ghost", {}, {Privilege::kSelect}}}).ok());
  auto missing = g_->UpdatePermissions(As("admin"), Securable::Table(TableName{"main", "clinical", "nope"}),
                                       {{"eve", {Privilege::kSelect}, {}}});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(g_->UpdatePermissions(As("alice"), table, {}).status().code(), StatusCode::kInvalidArgument);
  // A privilege that cannot apply to a table: nothing is applied.
  auto wrong = g_->UpdatePermissions(
      As("alice"), table, {{"eve", {Privilege::kModify}, {}}, {"eve", {Privilege::kUseCatalog}, {}}});
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(g_->privileges().Has("eve", {}, table, Privilege::kModify));
}

TEST_F(GovernedAdminTest, GetPermissionsShowsOthersOnlyToManagers) {
  const Securable table = Securable::Table(table_);
  auto all = g_->GetPermissions(As("alice"), table);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->size(), 2u);  // alice MANAGE, bob SELECT

  int64_t before = Head();
  auto own = g_->GetPermissions(As("bob"), table);
  ASSERT_TRUE(own.ok());
  ASSERT_EQ(own->size(), 1u);
  EXPECT_EQ((*own)[0].principal, "bob");
  AuditRecord rec = ExpectOneRecord(before, "bob", "grant.get", "allowed");
  EXPECT_TRUE(Contains(rec.parameters_json, "\"only_own\":true")) << rec.parameters_json;

  // eve sees nothing, and cannot tell a missing table from a real one.
  EXPECT_TRUE(g_->GetPermissions(As("eve"), table)->empty());
  EXPECT_TRUE(
      g_->GetPermissions(As("eve"), Securable::Table(TableName{"main", "clinical", "nope"}))->empty());
  EXPECT_EQ(g_->GetPermissions(As("admin"), Securable::Table(TableName{"main", "clinical", "nope"}))
                .status()
                .code(),
            StatusCode::kNotFound);
  // ?principal= filter.
  auto only_bob = g_->GetPermissions(As("admin"), table, std::string("BOB"));
  ASSERT_TRUE(only_bob.ok());
  ASSERT_EQ(only_bob->size(), 1u);
}

TEST_F(GovernedAdminTest, EffectivePermissionsOfOthersNeedManage) {
  const Securable table = Securable::Table(table_);
  auto self = g_->EffectivePermissions(As("bob"), table);
  ASSERT_TRUE(self.ok());
  bool select = false;
  for (const auto& e : *self) select = select || e.privilege == Privilege::kSelect;
  EXPECT_TRUE(select);

  int64_t before = Head();
  auto other = g_->EffectivePermissions(As("bob"), table, "alice");
  ASSERT_EQ(other.status().code(), StatusCode::kPermissionDenied);
  ExpectOneRecord(before, "bob", "grant.effective", "denied");

  auto by_manager = g_->EffectivePermissions(As("alice"), table, "bob");
  ASSERT_TRUE(by_manager.ok()) << by_manager.status().ToString();
  EXPECT_FALSE(by_manager->empty());
  auto group = g_->EffectivePermissions(As("admin"), table, "readers");
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  EXPECT_TRUE(group->empty());
  EXPECT_EQ(g_->EffectivePermissions(As("admin"), table, "nobody").status().code(), StatusCode::kNotFound);
}

TEST_F(GovernedAdminTest, SetOwnerNeedsManageAndAnExistingOwner) {
  const Securable table = Securable::Table(table_);
  int64_t before = Head();
  ASSERT_TRUE(g_->SetOwner(As("alice"), table, "readers").ok());
  ExpectOneRecord(before, "alice", "owner.set", "allowed");
  EXPECT_EQ(g_->privileges().Owner(table).value(), "readers");
  // bob, in readers, now owns it.
  EXPECT_TRUE(g_->privileges().CheckManage("bob", {"readers"}, table).ok());
  EXPECT_EQ(g_->SetOwner(As("admin"), table, "nobody").code(), StatusCode::kNotFound);
  EXPECT_EQ(g_->SetOwner(As("eve"), table, "eve").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(g_->SetOwner(As("admin"), Cat("nocatalog"), "eve").code(), StatusCode::kNotFound);
  EXPECT_EQ(g_->privileges().Owner(table).value(), "readers");
}

// --- Policies ----------------------------------------------------------------------------

TEST_F(GovernedAdminTest, RowFilterNeedsManage) {
  int64_t before = Head();
  Status st = g_->SetRowFilter(As("bob"), table_, "site = 'A'");
  ASSERT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(st.message(), "MANAGE")) << st.message();
  ExpectOneRecord(before, "bob", "policy.row_filter.set", "denied");
  EXPECT_FALSE(g_->policies().RowFilterOf(table_)->has_value());
  EXPECT_EQ(g_->GetRowFilter(As("bob"), table_).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(g_->DropRowFilter(As("bob"), table_).code(), StatusCode::kPermissionDenied);

  before = Head();
  ASSERT_TRUE(g_->SetRowFilter(As("alice"), table_, "site = 'A'").ok());
  AuditRecord rec = ExpectOneRecord(before, "alice", "policy.row_filter.set", "allowed");
  EXPECT_TRUE(Contains(rec.parameters_json, "site = 'A'"));
  auto info = g_->DescribeTable(As("bob"), table_);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->row_count, 3);

  before = Head();
  EXPECT_EQ(g_->SetRowFilter(As("alice"), table_, "stie = 'A'").code(), StatusCode::kInvalidArgument);
  ExpectOneRecord(before, "alice", "policy.row_filter.set", "error");
  EXPECT_EQ(g_->SetRowFilter(As("alice"), table_, "site = 'A'; DROP TABLE x").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(g_->GetRowFilter(As("alice"), table_).value(), std::optional<std::string>("site = 'A'"));
  EXPECT_EQ(g_->SetRowFilter(As("admin"), TableName{"main", "clinical", "nope"}, "x = 1").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(g_->GetRowFilter(As("admin"), TableName{"main", "clinical", "nope"}).status().code(),
            StatusCode::kNotFound);

  ASSERT_TRUE(g_->DropRowFilter(As("alice"), table_).ok());
  EXPECT_EQ(g_->DropRowFilter(As("alice"), table_).code(), StatusCode::kNotFound);
  EXPECT_EQ(g_->GetRowFilter(As("alice"), table_).value(), std::nullopt);
}

TEST_F(GovernedAdminTest, ColumnMasksNeedManage) {
  MaskSpec hash{.kind = MaskSpec::kKeyedHash, .exempt_groups = {"readers"}};
  int64_t before = Head();
  EXPECT_EQ(g_->SetColumnMask(As("bob"), table_, "site", hash).code(), StatusCode::kPermissionDenied);
  ExpectOneRecord(before, "bob", "policy.column_mask.set", "denied");
  EXPECT_TRUE(g_->policies().ColumnMasksOf(table_)->empty());

  before = Head();
  ASSERT_TRUE(g_->SetColumnMask(As("alice"), table_, "site", hash).ok());
  ExpectOneRecord(before, "alice", "policy.column_mask.set", "allowed");
  auto unknown = g_->SetColumnMask(As("alice"), table_, "sight", hash);
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(unknown.message(), "sight")) << unknown.message();
  EXPECT_EQ(g_->SetColumnMask(As("alice"), table_, "age", hash).code(), StatusCode::kInvalidArgument);
  // A constant given as text is converted to the column's type.
  MaskSpec constant{.kind = MaskSpec::kConstant, .constant = Value::Str("0")};
  ASSERT_TRUE(g_->SetColumnMask(As("alice"), table_, "age", constant).ok());

  auto masks = g_->ListColumnMasks(As("alice"), table_);
  ASSERT_TRUE(masks.ok());
  ASSERT_EQ(masks->size(), 2u);
  EXPECT_EQ((*masks)[0].first, "age");
  EXPECT_EQ((*masks)[0].second.constant, Value::Int(0));
  EXPECT_EQ(g_->ListColumnMasks(As("bob"), table_).status().code(), StatusCode::kPermissionDenied);

  ASSERT_TRUE(g_->DropColumnMask(As("alice"), table_, "age").ok());
  EXPECT_EQ(g_->DropColumnMask(As("alice"), table_, "age").code(), StatusCode::kNotFound);
}

TEST_F(GovernedAdminTest, TagsAndTagPolicies) {
  int64_t before = Head();
  EXPECT_EQ(g_->SetTag(As("bob"), table_, std::string("site"), "PHI", "true").code(),
            StatusCode::kPermissionDenied);
  ExpectOneRecord(before, "bob", "tag.set", "denied");
  ASSERT_TRUE(g_->SetTag(As("alice"), table_, std::string("site"), "PHI", "true").ok());
  ASSERT_TRUE(g_->SetTag(As("alice"), table_, std::nullopt, "domain", "clinical").ok());
  EXPECT_EQ(g_->SetTag(As("alice"), table_, std::string("nope"), "PHI", "true").code(),
            StatusCode::kNotFound);

  // bob (SELECT) may list; eve may not.
  auto tags = g_->ListTags(As("bob"), table_);
  ASSERT_TRUE(tags.ok()) << tags.status().ToString();
  ASSERT_EQ(tags->size(), 2u);
  EXPECT_FALSE((*tags)[0].column.has_value());
  EXPECT_EQ(g_->ListTags(As("eve"), table_).status().code(), StatusCode::kPermissionDenied);

  // Tag policies: metastore admins only.
  TagPolicy p;
  p.name = "phi_mask";
  p.kind = TagPolicy::Kind::kMask;
  p.tag_key = "PHI";
  p.mask = MaskSpec{.kind = MaskSpec::kNull};
  before = Head();
  EXPECT_EQ(g_->CreateTagPolicy(As("alice"), p).status().code(), StatusCode::kPermissionDenied);
  ExpectOneRecord(before, "alice", "tag_policy.create", "denied");
  auto created = g_->CreateTagPolicy(As("admin"), p);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->created_by, "admin");
  EXPECT_EQ(g_->CreateTagPolicy(As("admin"), p).status().code(), StatusCode::kAlreadyExists);
  // The policy masks bob's site.
  auto rows = g_->ReadTable(As("bob"), table_, {});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_FALSE(rows->rows.empty());
  EXPECT_TRUE(rows->rows[0][1].is_null());

  TagPolicy bad;
  bad.name = "bad_filter";
  bad.kind = TagPolicy::Kind::kRowFilter;
  bad.tag_key = "domain";
  bad.filter = "site = = 'A'";
  EXPECT_EQ(g_->CreateTagPolicy(As("admin"), bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(g_->ListTagPolicies(As("admin"))->size(), 1u);
  EXPECT_EQ(g_->ListTagPolicies(As("bob")).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(g_->DropTagPolicy(As("bob"), "phi_mask").code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(g_->DropTagPolicy(As("admin"), "phi_mask").ok());
  EXPECT_EQ(g_->DropTagPolicy(As("admin"), "phi_mask").code(), StatusCode::kNotFound);

  ASSERT_TRUE(g_->UnsetTag(As("alice"), table_, std::string("site"), "phi").ok());
  EXPECT_EQ(g_->UnsetTag(As("alice"), table_, std::string("site"), "phi").code(), StatusCode::kNotFound);
}

// Every call appends exactly one record, whatever its outcome.
TEST_F(GovernedAdminTest, EveryCallIsAuditedExactlyOnce) {
  const Caller admin = As("admin");
  const Caller bob = As("bob");
  const Securable table = Securable::Table(table_);
  std::vector<std::pair<std::string, std::function<void()>>> calls = {
      {"principal.create", [&] { (void)g_->CreatePrincipal(admin, "zed", PrincipalKind::kUser); }},
      {"principal.list", [&] { (void)g_->ListPrincipals(bob); }},
      {"principal.describe", [&] { (void)g_->DescribePrincipal(admin, "nobody"); }},
      {"group.member.add", [&] { (void)g_->AddMember(admin, "readers", "zed"); }},
      {"group.member.remove", [&] { (void)g_->RemoveMember(bob, "readers", "zed"); }},
      {"principal.drop", [&] { (void)g_->DropPrincipal(admin, "zed"); }},
      {"token.issue", [&] { (void)g_->IssueToken(bob, "", 60, "x"); }},
      {"token.list", [&] { (void)g_->ListTokens(bob, ""); }},
      {"token.revoke", [&] { (void)g_->RevokeToken(bob, ""); }},
      {"grant.get", [&] { (void)g_->GetPermissions(bob, table); }},
      {"grant.update",
       [&] {
         (void)g_->UpdatePermissions(admin, table, {{"bob", {Privilege::kModify}, {}}});
       }},
      {"grant.effective", [&] { (void)g_->EffectivePermissions(bob, table); }},
      {"owner.set", [&] { (void)g_->SetOwner(bob, table, "bob"); }},
      {"policy.row_filter.set", [&] { (void)g_->SetRowFilter(admin, table_, "bad filter ("); }},
      {"policy.row_filter.get", [&] { (void)g_->GetRowFilter(admin, table_); }},
      {"policy.row_filter.drop", [&] { (void)g_->DropRowFilter(admin, table_); }},
      {"policy.column_mask.set", [&] { (void)g_->SetColumnMask(bob, table_, "site", {}); }},
      {"policy.column_mask.list", [&] { (void)g_->ListColumnMasks(admin, table_); }},
      {"policy.column_mask.drop", [&] { (void)g_->DropColumnMask(admin, table_, "site"); }},
      {"tag.set", [&] { (void)g_->SetTag(admin, table_, std::nullopt, "k", "v"); }},
      {"tag.list", [&] { (void)g_->ListTags(admin, table_); }},
      {"tag.unset", [&] { (void)g_->UnsetTag(admin, table_, std::nullopt, "k"); }},
      {"tag_policy.create", [&] { (void)g_->CreateTagPolicy(bob, TagPolicy{}); }},
      {"tag_policy.list", [&] { (void)g_->ListTagPolicies(admin); }},
      {"tag_policy.drop", [&] { (void)g_->DropTagPolicy(admin, "none"); }},
  };
  for (auto& [action, call] : calls) {
    const int64_t before = Head();
    call();
    auto recs = g_->audit().Query({.from_seq = before + 1, .newest_first = false});
    ASSERT_TRUE(recs.ok());
    ASSERT_EQ(recs->size(), 1u) << action;
    EXPECT_EQ((*recs)[0].action, action);
  }
  EXPECT_TRUE(g_->audit().Verify().ok());
}

}  // namespace
}  // namespace vesta::access
