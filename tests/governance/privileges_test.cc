#include "governance/privileges.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "governance/store.h"
#include "tests/testing/temp_dir.h"

namespace vesta::governance {
namespace {

using ::vesta::testing::TempDir;
using P = Privilege;

Securable Cat(const std::string& n) { return Securable::Parse(SecurableType::kCatalog, n).value(); }
Securable Sch(const std::string& n) { return Securable::Parse(SecurableType::kSchema, n).value(); }
Securable Tbl(const std::string& n) { return Securable::Parse(SecurableType::kTable, n).value(); }
Securable Idx(const std::string& n) { return Securable::Parse(SecurableType::kIndex, n).value(); }

class PrivilegesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Open(dir_.File("store.vesta"), {});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    Reopen();
  }

  void Reopen() {
    privs_.reset();
    auto p = Privileges::Open(store_->path());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    privs_ = std::move(p).value();
  }

  void Grant(const Securable& s, const std::string& who, std::vector<Privilege> ps) {
    Status st = privs_->Grant(s, who, ps, "admin");
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // Gives `who` USE CATALOG on main and USE SCHEMA on main.clinical.
  void GrantUsage(const std::string& who) {
    Grant(Cat("main"), who, {P::kUseCatalog});
    Grant(Sch("main.clinical"), who, {P::kUseSchema});
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Privileges> privs_;
  const Securable patients_ = Tbl("main.clinical.patients");
};

// --- Names and spellings ---------------------------------------------------------------

TEST(PrivilegesSecurable, ParsesValidatesAndNamesTheBadField) {
  auto t = Securable::Parse("TABLE", "main.clinical.patients");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->type, SecurableType::kTable);
  EXPECT_EQ(t->ToString(), "table main.clinical.patients");
  EXPECT_EQ(t->Parent()->ToString(), "schema main.clinical");
  EXPECT_EQ(t->Parent()->Parent()->ToString(), "catalog main");
  EXPECT_FALSE(t->Parent()->Parent()->Parent().has_value());
  EXPECT_EQ(Idx("main.clinical.patients_index").Parent()->ToString(), "schema main.clinical");
  EXPECT_EQ(t->SelfAndAncestors().size(), 3u);

  auto two = Securable::Parse(SecurableType::kTable, "main.clinical");
  ASSERT_TRUE(two.status().IsInvalidArgument());
  EXPECT_NE(two.status().message().find("must have 3 parts: catalog.schema.table"), std::string::npos)
      << two.status().message();
  auto schema3 = Securable::Parse(SecurableType::kSchema, "a.b.c");
  EXPECT_NE(schema3.status().message().find("must have 2 parts"), std::string::npos);
  auto bad_schema = Securable::Parse(SecurableType::kTable, "main.cli-nical.patients");
  EXPECT_NE(bad_schema.status().message().find("schema name 'cli-nical'"), std::string::npos)
      << bad_schema.status().message();
  auto bad_index = Securable::Parse(SecurableType::kIndex, "main.clinical.9idx");
  EXPECT_NE(bad_index.status().message().find("index name '9idx'"), std::string::npos);
  auto empty_cat = Securable::Parse(SecurableType::kCatalog, "");
  EXPECT_NE(empty_cat.status().message().find("catalog name ''"), std::string::npos);

  auto type = Securable::Parse("view", "main.a.b");
  EXPECT_TRUE(type.status().IsInvalidArgument());
  EXPECT_NE(type.status().message().find("securable type 'view'"), std::string::npos);
  EXPECT_EQ(ParseSecurableType("Schema").value(), SecurableType::kSchema);
  EXPECT_EQ(ParseSecurableType("index").value(), SecurableType::kIndex);

  EXPECT_EQ(Tbl("Main.Clinical.Patients"), Tbl("main.clinical.patients"));
  EXPECT_FALSE(Tbl("main.clinical.patients") == Idx("main.clinical.patients"));
  EXPECT_EQ(Tbl("Main.Clinical.Patients").Key(), "main.clinical.patients");
  EXPECT_EQ(Securable::Table(TableName::Parse("main.a.b").value()).ToString(), "table main.a.b");
}

TEST(PrivilegesSecurable, PrivilegeSpellingsAndWhereTheyApply) {
  EXPECT_EQ(ParsePrivilege("USE CATALOG").value(), P::kUseCatalog);
  EXPECT_EQ(ParsePrivilege("use_catalog").value(), P::kUseCatalog);
  EXPECT_EQ(ParsePrivilege("  Use   Schema ").value(), P::kUseSchema);
  EXPECT_EQ(ParsePrivilege("ALL_PRIVILEGES").value(), P::kAllPrivileges);
  EXPECT_EQ(ParsePrivilege("all privileges").value(), P::kAllPrivileges);
  EXPECT_EQ(ParsePrivilege("create index").value(), P::kCreateIndex);
  auto bad = ParsePrivilege("READ");
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("'READ'"), std::string::npos);
  for (Privilege p : AllPrivilegeValues()) {
    EXPECT_EQ(ParsePrivilege(PrivilegeName(p)).value(), p);
    EXPECT_EQ(ParsePrivilege(PrivilegeApiName(p)).value(), p);
  }
  EXPECT_EQ(PrivilegeName(P::kCreateTable), "CREATE TABLE");
  EXPECT_EQ(PrivilegeApiName(P::kCreateTable), "CREATE_TABLE");

  EXPECT_TRUE(PrivilegeAppliesTo(P::kUseCatalog, SecurableType::kCatalog));
  EXPECT_FALSE(PrivilegeAppliesTo(P::kUseCatalog, SecurableType::kSchema));
  EXPECT_TRUE(PrivilegeAppliesTo(P::kUseSchema, SecurableType::kCatalog));
  EXPECT_FALSE(PrivilegeAppliesTo(P::kUseSchema, SecurableType::kTable));
  EXPECT_TRUE(PrivilegeAppliesTo(P::kCreateIndex, SecurableType::kCatalog));
  EXPECT_FALSE(PrivilegeAppliesTo(P::kCreateTable, SecurableType::kIndex));
  EXPECT_TRUE(PrivilegeAppliesTo(P::kSelect, SecurableType::kIndex));
  EXPECT_TRUE(PrivilegeAppliesTo(P::kModify, SecurableType::kCatalog));
  EXPECT_TRUE(PrivilegeCovers(P::kAllPrivileges, P::kSelect));
  EXPECT_FALSE(PrivilegeCovers(P::kAllPrivileges, P::kManage));
  EXPECT_FALSE(PrivilegeCovers(P::kSelect, P::kModify));
}

// --- Grants and inheritance ---------------------------------------------------------------

TEST_F(PrivilegesTest, CatalogGrantIsInheritedByCurrentAndFutureChildren) {
  Grant(Cat("main"), "alice", {P::kSelect});
  // Nothing below main was ever mentioned: inheritance is by name.
  EXPECT_TRUE(privs_->Has("alice", {}, Cat("main"), P::kSelect));
  EXPECT_TRUE(privs_->Has("alice", {}, Sch("main.clinical"), P::kSelect));
  EXPECT_TRUE(privs_->Has("alice", {}, patients_, P::kSelect));
  EXPECT_TRUE(privs_->Has("alice", {}, Tbl("main.created_later.new_table"), P::kSelect));
  EXPECT_TRUE(privs_->Has("alice", {}, Idx("main.clinical.patients_index"), P::kSelect));
  EXPECT_FALSE(privs_->Has("alice", {}, patients_, P::kModify));
  EXPECT_FALSE(privs_->Has("alice", {}, Tbl("other.clinical.patients"), P::kSelect));
  EXPECT_FALSE(privs_->Has("bob", {}, patients_, P::kSelect));
  // A grant does not flow upward or sideways.
  Grant(Tbl("main.clinical.visits"), "bob", {P::kSelect});
  EXPECT_TRUE(privs_->Has("bob", {}, Tbl("main.clinical.visits"), P::kSelect));
  EXPECT_FALSE(privs_->Has("bob", {}, Sch("main.clinical"), P::kSelect));
  EXPECT_FALSE(privs_->Has("bob", {}, patients_, P::kSelect));
  EXPECT_FALSE(privs_->Has("bob", {}, Idx("main.clinical.visits"), P::kSelect));
  // A catalog whose name is a prefix of another is a different catalog.
  Grant(Cat("ma"), "carol", {P::kSelect});
  EXPECT_FALSE(privs_->Has("carol", {}, patients_, P::kSelect));
}

TEST_F(PrivilegesTest, RevokeRemovesAndRevokingWhatIsNotGrantedChangesNothing) {
  Grant(Sch("main.clinical"), "alice", {P::kSelect, P::kModify});
  EXPECT_TRUE(privs_->Has("alice", {}, patients_, P::kModify));
  ASSERT_TRUE(privs_->Revoke(Sch("main.clinical"), "alice", {P::kModify}, "admin").ok());
  EXPECT_FALSE(privs_->Has("alice", {}, patients_, P::kModify));
  EXPECT_TRUE(privs_->Has("alice", {}, patients_, P::kSelect));
  size_t history = privs_->History(Sch("main.clinical")).value().size();
  // Not granted / granted elsewhere / never heard of: OK, no change.
  EXPECT_TRUE(privs_->Revoke(Sch("main.clinical"), "alice", {P::kModify}, "admin").ok());
  EXPECT_TRUE(privs_->Revoke(Sch("main.clinical"), "nobody", {P::kSelect}, "admin").ok());
  EXPECT_TRUE(privs_->Revoke(patients_, "alice", {P::kSelect}, "admin").ok());
  EXPECT_TRUE(privs_->Has("alice", {}, patients_, P::kSelect));  // the schema grant stays
  EXPECT_EQ(privs_->History(Sch("main.clinical")).value().size(), history);
  // Granting what is held changes nothing either.
  Grant(Sch("main.clinical"), "alice", {P::kSelect});
  EXPECT_EQ(privs_->History(Sch("main.clinical")).value().size(), history);
  // Empty lists and principals are refused.
  EXPECT_TRUE(privs_->Grant(patients_, "alice", {}, "admin").IsInvalidArgument());
  EXPECT_TRUE(privs_->Revoke(patients_, "alice", {}, "admin").IsInvalidArgument());
  Status empty = privs_->Grant(patients_, "", {P::kSelect}, "admin");
  EXPECT_TRUE(empty.IsInvalidArgument());
  EXPECT_NE(empty.message().find("principal"), std::string::npos);
}

TEST_F(PrivilegesTest, AllPrivilegesCoversAllButManageAndIsRevokedAsAWhole) {
  Grant(Sch("main.clinical"), "alice", {P::kAllPrivileges});
  for (Privilege p : {P::kUseSchema, P::kSelect, P::kModify, P::kCreateTable, P::kCreateIndex}) {
    EXPECT_TRUE(privs_->Has("alice", {}, Sch("main.clinical"), p)) << PrivilegeName(p);
  }
  EXPECT_TRUE(privs_->Has("alice", {}, patients_, P::kModify));
  EXPECT_FALSE(privs_->Has("alice", {}, patients_, P::kManage));
  EXPECT_FALSE(privs_->Has("alice", {}, Cat("main"), P::kUseCatalog));
  // Revoking one privilege covered by ALL PRIVILEGES leaves ALL PRIVILEGES.
  ASSERT_TRUE(privs_->Revoke(Sch("main.clinical"), "alice", {P::kSelect}, "admin").ok());
  EXPECT_TRUE(privs_->Has("alice", {}, patients_, P::kSelect));
  // Revoking ALL PRIVILEGES takes it and the privileges it covers, not MANAGE.
  Grant(Sch("main.clinical"), "alice", {P::kSelect, P::kManage});
  ASSERT_TRUE(privs_->Revoke(Sch("main.clinical"), "alice", {P::kAllPrivileges}, "admin").ok());
  EXPECT_FALSE(privs_->Has("alice", {}, patients_, P::kSelect));
  auto grants = privs_->ListGrants(Sch("main.clinical")).value();
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0].privileges, std::vector<Privilege>{P::kManage});
}

TEST_F(PrivilegesTest, GroupGrantsApplyThroughTheGroupsTheCallerPasses) {
  Grant(Sch("main.clinical"), "oncology", {P::kSelect});
  EXPECT_TRUE(privs_->Has("alice", {"oncology"}, patients_, P::kSelect));
  EXPECT_TRUE(privs_->Has("alice", {"staff", "oncology"}, patients_, P::kSelect));
  EXPECT_FALSE(privs_->Has("alice", {}, patients_, P::kSelect));
  EXPECT_FALSE(privs_->Has("alice", {"radiology"}, patients_, P::kSelect));
  // A grant names a principal, whatever its kind: a user called "oncology" matches it.
  EXPECT_TRUE(privs_->Has("oncology", {}, patients_, P::kSelect));
  // Principal names compare exactly.
  EXPECT_FALSE(privs_->Has("alice", {"Oncology"}, patients_, P::kSelect));
}

TEST_F(PrivilegesTest, OwnersHaveEveryPrivilegeOnTheObjectAndBelow) {
  ASSERT_TRUE(privs_->SetOwner(Sch("main.clinical"), "carol", "admin").ok());
  EXPECT_EQ(privs_->Owner(Sch("main.clinical")).value(), "carol");
  EXPECT_TRUE(privs_->Owner(patients_).status().IsNotFound());
  for (Privilege p : AllPrivilegeValues()) {
    EXPECT_TRUE(privs_->Has("carol", {}, patients_, p)) << PrivilegeName(p);
    EXPECT_TRUE(privs_->Has("carol", {}, Sch("main.clinical"), p)) << PrivilegeName(p);
  }
  EXPECT_FALSE(privs_->Has("carol", {}, Cat("main"), P::kUseCatalog));
  EXPECT_FALSE(privs_->Has("carol", {}, Tbl("main.genomics.mutations"), P::kSelect));
  // Ownership can be held by a group, and transferred.
  ASSERT_TRUE(privs_->SetOwner(patients_, "stewards", "carol").ok());
  EXPECT_TRUE(privs_->Has("dave", {"stewards"}, patients_, P::kManage));
  ASSERT_TRUE(privs_->SetOwner(Sch("main.clinical"), "erin", "admin").ok());
  EXPECT_FALSE(privs_->Has("carol", {}, patients_, P::kSelect));
  EXPECT_TRUE(privs_->Has("erin", {}, patients_, P::kSelect));
  EXPECT_TRUE(privs_->SetOwner(patients_, "", "admin").IsInvalidArgument());
}

TEST_F(PrivilegesTest, MetastoreAdminHasEveryPrivilegeEverywhere) {
  EXPECT_TRUE(privs_->Has("root", {}, patients_, P::kManage, /*metastore_admin=*/true));
  EXPECT_TRUE(privs_->Has("root", {}, Cat("anything"), P::kUseCatalog, true));
  EXPECT_FALSE(privs_->Has("root", {}, patients_, P::kSelect, false));
  EXPECT_TRUE(privs_->CheckRead("root", {}, patients_, true).ok());
  EXPECT_TRUE(privs_->CheckManage("root", {}, patients_, true).ok());
  EXPECT_TRUE(privs_->CheckRead("root", {}, patients_).code() == StatusCode::kPermissionDenied);
}

// --- Composite checks ---------------------------------------------------------------

TEST_F(PrivilegesTest, CheckReadNeedsUseCatalogUseSchemaAndSelect) {
  auto read = [&] { return privs_->CheckRead("alice", {"analysts"}, patients_); };
  Status st = read();
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message(), "alice lacks USE CATALOG on catalog main");

  Grant(Cat("main"), "analysts", {P::kUseCatalog});
  Grant(Sch("main.clinical"), "alice", {P::kUseSchema});
  Grant(patients_, "analysts", {P::kSelect});
  EXPECT_TRUE(read().ok()) << read().ToString();

  // Each one missing in turn.
  ASSERT_TRUE(privs_->Revoke(Cat("main"), "analysts", {P::kUseCatalog}, "admin").ok());
  EXPECT_EQ(read().message(), "alice lacks USE CATALOG on catalog main");
  Grant(Cat("main"), "analysts", {P::kUseCatalog});
  ASSERT_TRUE(privs_->Revoke(Sch("main.clinical"), "alice", {P::kUseSchema}, "admin").ok());
  EXPECT_EQ(read().message(), "alice lacks USE SCHEMA on schema main.clinical");
  Grant(Sch("main.clinical"), "alice", {P::kUseSchema});
  ASSERT_TRUE(privs_->Revoke(patients_, "analysts", {P::kSelect}, "admin").ok());
  st = read();
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message(), "alice lacks SELECT on table main.clinical.patients");
  // MODIFY is not SELECT; USE SCHEMA granted on the catalog covers its schemas.
  Grant(patients_, "alice", {P::kModify});
  EXPECT_FALSE(read().ok());
  EXPECT_TRUE(privs_->CheckWrite("alice", {"analysts"}, patients_).ok());
  ASSERT_TRUE(privs_->Revoke(Sch("main.clinical"), "alice", {P::kUseSchema}, "admin").ok());
  Grant(Cat("main"), "alice", {P::kUseSchema});
  EXPECT_TRUE(privs_->CheckWrite("alice", {"analysts"}, patients_).ok());
  // Reading needs a table or an index.
  EXPECT_TRUE(privs_->CheckRead("alice", {}, Sch("main.clinical")).IsInvalidArgument());
  EXPECT_TRUE(privs_->CheckRead("alice", {}, Securable{SecurableType::kTable, "main.x"}).IsInvalidArgument());
}

TEST_F(PrivilegesTest, CheckReadOnAnIndexNeedsSelectOnTheIndex) {
  Securable index = Idx("main.clinical.patients_index");
  GrantUsage("alice");
  Grant(patients_, "alice", {P::kSelect});
  EXPECT_EQ(privs_->CheckRead("alice", {}, index).message(),
            "alice lacks SELECT on index main.clinical.patients_index");
  Grant(index, "alice", {P::kSelect});
  EXPECT_TRUE(privs_->CheckRead("alice", {}, index).ok());
  EXPECT_EQ(privs_->CheckWrite("alice", {}, index).message(),
            "alice lacks MODIFY on index main.clinical.patients_index");
}

TEST_F(PrivilegesTest, CheckCreateIndexNeedsCreateIndexOnTheSchemaAndSelectOnTheTable) {
  Securable vectors = Sch("main.vectors");
  auto create = [&] { return privs_->CheckCreateIndex("alice", {}, patients_, vectors); };
  GrantUsage("alice");
  Grant(patients_, "alice", {P::kSelect});
  EXPECT_EQ(create().message(), "alice lacks USE SCHEMA on schema main.vectors");
  Grant(vectors, "alice", {P::kUseSchema});
  EXPECT_EQ(create().message(), "alice lacks CREATE INDEX on schema main.vectors");
  Grant(vectors, "alice", {P::kCreateIndex});
  EXPECT_TRUE(create().ok()) << create().ToString();
  ASSERT_TRUE(privs_->Revoke(patients_, "alice", {P::kSelect}, "admin").ok());
  EXPECT_EQ(create().message(), "alice lacks SELECT on table main.clinical.patients");
  // In the table's own schema, with CREATE INDEX inherited from the catalog.
  Grant(patients_, "alice", {P::kSelect});
  EXPECT_EQ(privs_->CheckCreateIndex("alice", {}, patients_, Sch("main.clinical")).message(),
            "alice lacks CREATE INDEX on schema main.clinical");
  Grant(Cat("main"), "alice", {P::kCreateIndex});
  EXPECT_TRUE(privs_->CheckCreateIndex("alice", {}, patients_, Sch("main.clinical")).ok());
  EXPECT_TRUE(privs_->CheckCreateIndex("alice", {}, Sch("main.clinical"), vectors).IsInvalidArgument());
  EXPECT_TRUE(privs_->CheckCreateIndex("alice", {}, patients_, patients_).IsInvalidArgument());
}

TEST_F(PrivilegesTest, CheckCreateTableNeedsCreateTableOnTheSchema) {
  GrantUsage("alice");
  EXPECT_EQ(privs_->CheckCreateTable("alice", {}, Sch("main.clinical")).message(),
            "alice lacks CREATE TABLE on schema main.clinical");
  Grant(Sch("main.clinical"), "alice", {P::kCreateTable});
  EXPECT_TRUE(privs_->CheckCreateTable("alice", {}, Sch("main.clinical")).ok());
  EXPECT_EQ(privs_->CheckCreateTable("alice", {}, Sch("main.genomics")).message(),
            "alice lacks USE SCHEMA on schema main.genomics");
  EXPECT_TRUE(privs_->CheckCreateTable("alice", {}, patients_).IsInvalidArgument());
}

TEST_F(PrivilegesTest, CheckManageAllowsOwnersManageHoldersAndAdmins) {
  auto manage = [&](const std::string& who, std::set<std::string> groups = {}) {
    return privs_->CheckManage(who, groups, patients_);
  };
  EXPECT_EQ(manage("alice").message(), "alice lacks USE CATALOG on catalog main");
  GrantUsage("alice");
  EXPECT_EQ(manage("alice").message(), "alice lacks MANAGE on table main.clinical.patients");
  Grant(patients_, "alice", {P::kAllPrivileges});
  EXPECT_EQ(manage("alice").message(), "alice lacks MANAGE on table main.clinical.patients");
  Grant(Sch("main.clinical"), "alice", {P::kManage});
  EXPECT_TRUE(manage("alice").ok());
  // An owner of the catalog has everything below it, usage included.
  ASSERT_TRUE(privs_->SetOwner(Cat("main"), "owners", "admin").ok());
  EXPECT_TRUE(manage("bob", {"owners"}).ok());
  EXPECT_TRUE(privs_->CheckManage("bob", {"owners"}, Cat("main")).ok());
  EXPECT_FALSE(privs_->CheckManage("bob", {}, Cat("main")).ok());
  EXPECT_TRUE(manage("root", {}).code() == StatusCode::kPermissionDenied);
  EXPECT_TRUE(privs_->CheckManage("root", {}, patients_, true).ok());
}

TEST_F(PrivilegesTest, GrantingAPrivilegeWhereItCannotApplyNamesBoth) {
  Status st = privs_->Grant(patients_, "alice", {P::kSelect, P::kUseCatalog}, "admin");
  ASSERT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("USE CATALOG"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("table main.clinical.patients"), std::string::npos) << st.message();
  EXPECT_FALSE(privs_->Has("alice", {}, patients_, P::kSelect));  // nothing of the call applied
  st = privs_->Grant(Idx("main.clinical.patients_index"), "alice", {P::kCreateTable}, "admin");
  EXPECT_NE(st.message().find("CREATE TABLE cannot be granted on index main.clinical.patients_index"),
            std::string::npos)
      << st.message();
  EXPECT_TRUE(privs_->Grant(Sch("main.clinical"), "alice", {P::kUseCatalog}, "admin").IsInvalidArgument());
  EXPECT_TRUE(privs_->Revoke(Sch("main.clinical"), "alice", {P::kUseCatalog}, "admin").IsInvalidArgument());
  EXPECT_TRUE(privs_->Grant(Securable{SecurableType::kSchema, "main"}, "alice", {P::kSelect}, "admin")
                  .IsInvalidArgument());
}

// --- Effective permissions ---------------------------------------------------------------

TEST_F(PrivilegesTest, EffectivePermissionsExplainEverySource) {
  Grant(patients_, "alice", {P::kSelect});                 // direct
  Grant(patients_, "analysts", {P::kSelect});              // group
  Grant(Cat("main"), "alice", {P::kAllPrivileges});        // inherited, via ALL PRIVILEGES
  ASSERT_TRUE(privs_->SetOwner(Sch("main.clinical"), "stewards", "admin").ok());  // group owner above
  Grant(Cat("main"), "bob", {P::kModify});                 // someone else: not listed

  auto eff = privs_->EffectivePermissions("alice", {"analysts", "stewards"}, patients_);
  ASSERT_TRUE(eff.ok()) << eff.status().ToString();
  const Securable schema = Sch("main.clinical");
  const Securable main = Cat("main");
  std::vector<EffectivePrivilege> want = {
      {P::kSelect, "alice", patients_, "grant", false, P::kSelect},
      {P::kSelect, "analysts", patients_, "grant", false, P::kSelect},
      {P::kSelect, "stewards", schema, "owner", true, P::kSelect},
      {P::kSelect, "alice", main, "grant", true, P::kAllPrivileges},
      {P::kModify, "stewards", schema, "owner", true, P::kModify},
      {P::kModify, "alice", main, "grant", true, P::kAllPrivileges},
      {P::kManage, "stewards", schema, "owner", true, P::kManage},
  };
  ASSERT_EQ(eff->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& g = (*eff)[i];
    EXPECT_EQ(g, want[i]) << "entry " << i << ": " << PrivilegeName(g.privilege) << " via " << g.via_principal
                          << " on " << g.source.ToString() << " (" << g.kind << ")";
  }
  // Without the groups only alice's own grants remain.
  auto mine = privs_->EffectivePermissions("alice", {}, patients_).value();
  ASSERT_EQ(mine.size(), 3u);
  EXPECT_EQ(mine[0].via_principal, "alice");
  EXPECT_FALSE(mine[0].inherited);
  // On a schema the schema-level privileges are listed; on a catalog USE CATALOG.
  auto on_schema = privs_->EffectivePermissions("alice", {}, schema).value();
  EXPECT_EQ(on_schema.front().privilege, P::kUseSchema);
  EXPECT_EQ(privs_->EffectivePermissions("alice", {}, main).value().front().privilege, P::kUseCatalog);
  // A metastore admin is told so.
  auto admin = privs_->EffectivePermissions("root", {}, patients_, true).value();
  ASSERT_EQ(admin.size(), 3u);  // SELECT, MODIFY, MANAGE
  EXPECT_EQ(admin[0].kind, "metastore_admin");
  EXPECT_EQ(admin[0].source, patients_);
  EXPECT_TRUE(privs_->EffectivePermissions("nobody", {}, patients_).value().empty());
}

// --- UpdatePermissions -------------------------------------------------------------------

TEST_F(PrivilegesTest, UpdatePermissionsIsAllOrNothing) {
  Grant(patients_, "bob", {P::kSelect, P::kModify});
  std::vector<PermissionsChange> changes = {
      {"alice", {P::kSelect}, {}},
      {"bob", {}, {P::kModify}},
      {"carol", {P::kCreateTable}, {}},  // cannot apply to a table
  };
  Status st = privs_->UpdatePermissions(patients_, changes, "admin");
  ASSERT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("changes[2]"), std::string::npos) << st.message();
  EXPECT_FALSE(privs_->Has("alice", {}, patients_, P::kSelect));
  EXPECT_TRUE(privs_->Has("bob", {}, patients_, P::kModify));
  EXPECT_EQ(privs_->History(patients_).value().size(), 1u);

  changes[2] = {"", {P::kSelect}, {}};
  EXPECT_NE(privs_->UpdatePermissions(patients_, changes, "admin").message().find("changes[2]: principal"),
            std::string::npos);
  changes[2] = {"carol", {P::kSelect}, {P::kAllPrivileges}};
  EXPECT_NE(privs_->UpdatePermissions(patients_, changes, "admin").message().find("both added and removed"),
            std::string::npos);
  EXPECT_FALSE(privs_->Has("alice", {}, patients_, P::kSelect));

  changes[2] = {"carol", {P::kSelect, P::kModify}, {P::kModify}};  // fine? no: MODIFY in both
  EXPECT_TRUE(privs_->UpdatePermissions(patients_, changes, "admin").IsInvalidArgument());
  changes[2] = {"carol", {P::kManage}, {P::kSelect}};
  ASSERT_TRUE(privs_->UpdatePermissions(patients_, changes, "admin").ok());
  auto grants = privs_->ListGrants(patients_).value();
  ASSERT_EQ(grants.size(), 3u);
  EXPECT_EQ(grants[0].principal, "alice");
  EXPECT_EQ(grants[0].privileges, std::vector<Privilege>{P::kSelect});
  EXPECT_EQ(grants[1].principal, "bob");
  EXPECT_EQ(grants[1].privileges, std::vector<Privilege>{P::kSelect});
  EXPECT_EQ(grants[2].principal, "carol");
  EXPECT_EQ(grants[2].privileges, std::vector<Privilege>{P::kManage});
  EXPECT_TRUE(privs_->UpdatePermissions(patients_, {}, "admin").ok());
}

TEST_F(PrivilegesTest, NamesCompareIgnoringCase) {
  Grant(Sch("MAIN.Clinical"), "alice", {P::kSelect});
  EXPECT_TRUE(privs_->Has("alice", {}, Tbl("main.clinical.PATIENTS"), P::kSelect));
  EXPECT_TRUE(privs_->Has("alice", {}, Sch("main.CLINICAL"), P::kSelect));
  Grant(Sch("main.clinical"), "alice", {P::kSelect});  // the same grant: no new row
  ASSERT_EQ(privs_->ListGrants(Sch("Main.Clinical")).value().size(), 1u);
  EXPECT_EQ(privs_->History(Sch("main.clinical")).value().size(), 1u);
  ASSERT_TRUE(privs_->Revoke(Sch("main.CLINICAL"), "alice", {P::kSelect}, "admin").ok());
  EXPECT_FALSE(privs_->Has("alice", {}, patients_, P::kSelect));
  ASSERT_TRUE(privs_->SetOwner(Tbl("Main.Clinical.Patients"), "carol", "admin").ok());
  EXPECT_EQ(privs_->Owner(patients_).value(), "carol");
}

// --- History, persistence, drop ----------------------------------------------------------

TEST_F(PrivilegesTest, HistoryRecordsEveryChangeAndReplaysToTheCurrentGrants) {
  Grant(patients_, "alice", {P::kSelect, P::kModify});
  Grant(patients_, "alice", {P::kSelect, P::kManage});  // only MANAGE is new
  ASSERT_TRUE(privs_->Revoke(patients_, "alice", {P::kModify, P::kSelect}, "carol").ok());
  ASSERT_TRUE(privs_->SetOwner(patients_, "dave", "admin").ok());
  ASSERT_TRUE(privs_->SetOwner(patients_, "dave", "admin").ok());  // unchanged: not recorded
  Grant(patients_, "group_b", {P::kAllPrivileges});

  auto h = privs_->History(patients_);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_EQ(h->size(), 5u);
  // Newest first.
  EXPECT_EQ((*h)[4].action, "GRANT");
  EXPECT_EQ((*h)[4].actor, "admin");
  EXPECT_EQ((*h)[4].principal, "alice");
  EXPECT_EQ((*h)[4].privileges, (std::vector<Privilege>{P::kSelect, P::kModify}));
  EXPECT_EQ((*h)[4].securable, patients_);
  EXPECT_EQ((*h)[3].privileges, std::vector<Privilege>{P::kManage});
  EXPECT_EQ((*h)[2].action, "REVOKE");
  EXPECT_EQ((*h)[2].actor, "carol");
  EXPECT_EQ((*h)[2].privileges, (std::vector<Privilege>{P::kSelect, P::kModify}));
  EXPECT_EQ((*h)[1].action, "SET OWNER");
  EXPECT_EQ((*h)[1].principal, "dave");
  EXPECT_EQ((*h)[0].principal, "group_b");
  for (size_t i = 0; i + 1 < h->size(); ++i) {
    EXPECT_GT((*h)[i].seq, (*h)[i + 1].seq);
    EXPECT_GE((*h)[i].time, (*h)[i + 1].time);
  }
  EXPECT_EQ(privs_->History(patients_, 2).value().size(), 2u);
  EXPECT_TRUE(privs_->History(patients_, -2).status().IsInvalidArgument());

  // Replaying the history gives the current grants.
  std::map<std::string, std::set<Privilege>> replay;
  for (auto it = h->rbegin(); it != h->rend(); ++it) {
    for (Privilege p : it->privileges) {
      if (it->action == "GRANT") replay[it->principal].insert(p);
      if (it->action == "REVOKE") replay[it->principal].erase(p);
    }
  }
  std::map<std::string, std::set<Privilege>> current;
  auto listed = privs_->ListGrants(patients_);
  ASSERT_TRUE(listed.ok());
  for (const auto& a : *listed) {
    current[a.principal] = {a.privileges.begin(), a.privileges.end()};
  }
  std::erase_if(replay, [](const auto& kv) { return kv.second.empty(); });
  EXPECT_EQ(replay, current);
}

TEST_F(PrivilegesTest, GrantsOwnersAndHistoryPersistAcrossReopen) {
  Grant(Cat("main"), "alice", {P::kUseCatalog});
  Grant(patients_, "analysts", {P::kSelect});
  ASSERT_TRUE(privs_->SetOwner(Sch("main.clinical"), "carol", "admin").ok());
  Reopen();
  EXPECT_TRUE(privs_->Has("alice", {}, Cat("main"), P::kUseCatalog));
  EXPECT_TRUE(privs_->Has("x", {"analysts"}, patients_, P::kSelect));
  EXPECT_EQ(privs_->Owner(Sch("main.clinical")).value(), "carol");
  EXPECT_EQ(privs_->History(patients_).value().size(), 1u);
  // The Store opens the same file with its own tables intact, and a second
  // Privileges on the same file sees the first one's grants at once.
  store_.reset();
  auto s = Store::Open(dir_.File("store.vesta"), {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto other = Privileges::Open(dir_.File("store.vesta")).value();
  Grant(patients_, "bob", {P::kModify});
  EXPECT_TRUE(other->Has("bob", {}, patients_, P::kModify));
}

TEST(PrivilegesOpen, RefusesAMissingStoreAndAForeignFile) {
  TempDir dir;
  auto missing = Privileges::Open(dir.File("absent.vesta"));
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();
  {
    auto store = Store::Open(dir.File("empty.vesta"), {});
    ASSERT_TRUE(store.ok());
  }
  EXPECT_TRUE(Privileges::Open(dir.File("empty.vesta")).ok());
  std::ofstream(dir.File("junk.db")) << "";
  auto foreign = Privileges::Open(dir.File("junk.db"));
  EXPECT_EQ(foreign.status().code(), StatusCode::kFailedPrecondition) << foreign.status().ToString();
}

TEST_F(PrivilegesTest, DropSecurableRemovesGrantsOnItAndBelowOnly) {
  Grant(Sch("main.clinical"), "alice", {P::kSelect});
  Grant(patients_, "bob", {P::kModify});
  Grant(Idx("main.clinical.patients_index"), "bob", {P::kSelect});
  Grant(Tbl("main.clinical2.t"), "bob", {P::kSelect});   // a schema whose name extends "clinical"
  Grant(Tbl("main.a_b.t"), "bob", {P::kSelect});
  Grant(Tbl("main.axb.t"), "bob", {P::kSelect});  // would match a LIKE 'main.a_b.%'
  Grant(Cat("main"), "carol", {P::kUseCatalog});
  ASSERT_TRUE(privs_->SetOwner(patients_, "dave", "admin").ok());

  // A table's drop leaves the index on it alone.
  ASSERT_TRUE(privs_->DropSecurable(patients_, "admin").ok());
  EXPECT_FALSE(privs_->Has("bob", {}, patients_, P::kModify));
  EXPECT_TRUE(privs_->Owner(patients_).status().IsNotFound());
  EXPECT_TRUE(privs_->Has("bob", {}, Idx("main.clinical.patients_index"), P::kSelect));
  auto h = privs_->History(patients_).value();
  ASSERT_GE(h.size(), 2u);
  EXPECT_EQ(h[0].action, "DROP OWNER");
  EXPECT_EQ(h[1].action, "DROP");
  EXPECT_EQ(h[1].principal, "bob");

  ASSERT_TRUE(privs_->DropSecurable(Sch("Main.Clinical"), "admin").ok());
  EXPECT_FALSE(privs_->Has("alice", {}, patients_, P::kSelect));
  EXPECT_FALSE(privs_->Has("bob", {}, Idx("main.clinical.patients_index"), P::kSelect));
  EXPECT_TRUE(privs_->Has("bob", {}, Tbl("main.clinical2.t"), P::kSelect));
  ASSERT_TRUE(privs_->DropSecurable(Sch("main.a_b"), "admin").ok());
  EXPECT_FALSE(privs_->Has("bob", {}, Tbl("main.a_b.t"), P::kSelect));
  EXPECT_TRUE(privs_->Has("bob", {}, Tbl("main.axb.t"), P::kSelect));
  EXPECT_TRUE(privs_->Has("carol", {}, Cat("main"), P::kUseCatalog));
  EXPECT_TRUE(privs_->DropSecurable(Sch("main.clinical"), "admin").ok());  // nothing left: OK

  ASSERT_TRUE(privs_->DropSecurable(Cat("main"), "admin").ok());
  EXPECT_FALSE(privs_->Has("bob", {}, Tbl("main.clinical2.t"), P::kSelect));
  EXPECT_FALSE(privs_->Has("carol", {}, Cat("main"), P::kUseCatalog));
}

TEST_F(PrivilegesTest, ConcurrentGrantsAndChecksAreSafe) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::string who = "user" + std::to_string(t);
      for (int i = 0; i < 25; ++i) {
        Securable s = Tbl("main.clinical.t" + std::to_string(i));
        EXPECT_TRUE(privs_->Grant(s, who, {P::kSelect}, "admin").ok());
        EXPECT_TRUE(privs_->Has(who, {}, s, P::kSelect));
        EXPECT_FALSE(privs_->Has(who, {}, s, P::kModify));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(privs_->ListGrants(Tbl("main.clinical.t7")).value().size(), 4u);
}

// --- Property test against an independent model --------------------------------------------

// The model: direct grants and owners keyed by "type:lower-name", and the
// rules of the header written out plainly.
struct Model {
  std::map<std::string, std::map<std::string, std::set<Privilege>>> grants;
  std::map<std::string, std::string> owners;

  static std::string Lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  }
  static std::string K(const std::string& type, const std::string& name) { return type + ":" + Lower(name); }

  // "type:name" keys of the securable and its ancestors.
  static std::vector<std::string> Chain(const std::string& type, const std::string& name) {
    std::vector<std::string> out{K(type, name)};
    std::string n = Lower(name);
    size_t dots = std::count(n.begin(), n.end(), '.');
    if (dots == 2) out.push_back(K("schema", n.substr(0, n.rfind('.'))));
    if (dots >= 1) out.push_back(K("catalog", n.substr(0, n.find('.'))));
    return out;
  }

  bool Has(const std::string& user, const std::set<std::string>& groups, bool admin, const std::string& type,
           const std::string& name, Privilege p) const {
    if (admin) return true;
    auto member = [&](const std::string& who) { return who == user || groups.count(who); };
    for (const std::string& k : Chain(type, name)) {
      auto o = owners.find(k);
      if (o != owners.end() && member(o->second)) return true;
      auto g = grants.find(k);
      if (g == grants.end()) continue;
      for (const auto& [who, privs] : g->second) {
        if (!member(who)) continue;
        if (privs.count(p)) return true;
        if (p != P::kManage && privs.count(P::kAllPrivileges)) return true;
      }
    }
    return false;
  }
};

std::string RandomCase(std::string s, std::mt19937& rng) {
  for (char& c : s) {
    if (rng() % 2) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

TEST_F(PrivilegesTest, PropertyHasAgreesWithAnIndependentModel) {
  std::mt19937 rng(20261121);
  struct Node {
    std::string type, name;
  };
  std::vector<Node> nodes;
  for (int c = 0; c < 2; ++c) {
    std::string cat = "cat" + std::to_string(c);
    nodes.push_back({"catalog", cat});
    for (int s = 0; s < 3; ++s) {
      std::string sch = cat + ".s" + std::to_string(s);
      nodes.push_back({"schema", sch});
      for (int t = 0; t < 4; ++t) nodes.push_back({"table", sch + ".t" + std::to_string(t)});
    }
  }
  ASSERT_EQ(nodes.size(), 32u);
  const std::vector<std::string> users = {"u0", "u1", "u2", "u3", "u4"};
  const std::vector<std::string> groups = {"g0", "g1", "g2"};
  std::vector<std::string> principals = users;
  principals.insert(principals.end(), groups.begin(), groups.end());

  auto securable = [&](const Node& n) {
    return Securable::Parse(n.type, RandomCase(n.name, rng)).value();
  };
  auto applicable = [&](const Node& n) {
    std::vector<Privilege> out;
    SecurableType t = ParseSecurableType(n.type).value();
    for (Privilege p : AllPrivilegeValues()) {
      if (PrivilegeAppliesTo(p, t)) out.push_back(p);
    }
    return out;
  };

  Model model;
  int checks = 0;
  int allowed = 0;
  for (int round = 0; round < 4; ++round) {
    for (int op = 0; op < 60; ++op) {
      const Node& n = nodes[rng() % nodes.size()];
      const std::string& who = principals[rng() % principals.size()];
      auto ps = applicable(n);
      Privilege p = ps[rng() % ps.size()];
      std::string key = Model::K(n.type, n.name);
      int kind = static_cast<int>(rng() % 100);
      if (kind < 60) {
        ASSERT_TRUE(privs_->Grant(securable(n), who, {p}, "admin").ok());
        model.grants[key][who].insert(p);
      } else if (kind < 85) {
        ASSERT_TRUE(privs_->Revoke(securable(n), who, {p}, "admin").ok());
        auto& held = model.grants[key][who];
        held.erase(p);
        if (p == P::kAllPrivileges) {
          std::erase_if(held, [](Privilege q) { return q != P::kManage; });
        }
      } else if (kind < 97) {
        ASSERT_TRUE(privs_->SetOwner(securable(n), who, "admin").ok());
        model.owners[key] = who;
      } else {
        ASSERT_TRUE(privs_->DropSecurable(securable(n), "admin").ok());
        std::string prefix = Model::Lower(n.name) + ".";
        auto gone = [&](const std::string& k) {
          if (k == key) return true;
          if (n.type == "table") return false;
          std::string name = k.substr(k.find(':') + 1);
          return name.compare(0, prefix.size(), prefix) == 0;
        };
        std::erase_if(model.grants, [&](const auto& kv) { return gone(kv.first); });
        std::erase_if(model.owners, [&](const auto& kv) { return gone(kv.first); });
      }
    }
    for (const std::string& user : users) {
      std::set<std::string> member_of;
      for (const std::string& g : groups) {
        if (rng() % 2) member_of.insert(g);
      }
      bool admin = rng() % 16 == 0;
      for (const Node& n : nodes) {
        Securable s = securable(n);
        for (Privilege p : AllPrivilegeValues()) {
          bool want = model.Has(user, member_of, admin, n.type, n.name, p);
          ASSERT_EQ(privs_->Has(user, member_of, s, p, admin), want)
              << user << " " << PrivilegeName(p) << " on " << s.ToString() << " round " << round;
          ++checks;
          allowed += want;
        }
        if (n.type == "table") {
          std::string cat = n.name.substr(0, n.name.find('.'));
          std::string sch = n.name.substr(0, n.name.rfind('.'));
          bool want = model.Has(user, member_of, admin, "catalog", cat, P::kUseCatalog) &&
                      model.Has(user, member_of, admin, "schema", sch, P::kUseSchema) &&
                      model.Has(user, member_of, admin, "table", n.name, P::kSelect);
          Status st = privs_->CheckRead(user, member_of, s, admin);
          ASSERT_EQ(st.ok(), want) << st.ToString();
          if (!want) {
            ASSERT_EQ(st.code(), StatusCode::kPermissionDenied);
          }
          ++checks;
        }
      }
    }
  }
  EXPECT_GE(checks, 1000);
  // The random grants must leave both outcomes well represented.
  EXPECT_GT(allowed, checks / 20);
  EXPECT_LT(allowed, checks - checks / 20);
}

}  // namespace
}  // namespace vesta::governance
