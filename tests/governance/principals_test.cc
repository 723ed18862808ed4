// Principals: users, groups (nested, acyclic), bearer tokens, bootstrap and
// the change history, on a real store file.
#include "governance/principals.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>
#include <vector>

#include "filter/filter.h"
#include "governance/internal/crypto.h"
#include "governance/store.h"
#include "tests/testing/temp_dir.h"

namespace vesta::governance {
namespace {

using ::vesta::testing::TempDir;

constexpr int64_t kHourUs = 3600LL * 1000000;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class PrincipalsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Open(path_, {});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    Reopen();
  }

  // Closes and reopens the Principals on the same store file.
  void Reopen() {
    principals_.reset();
    PrincipalsOptions options;
    options.clock = [this] { return Timestamp{now_us_.load()}; };
    auto p = Principals::Open(path_, options);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    principals_ = std::move(p).value();
  }

  void Advance(int64_t micros) { now_us_ += micros; }

  void MustOk(const Status& st) { ASSERT_TRUE(st.ok()) << st.ToString(); }

  std::vector<std::string> Names(const std::vector<PrincipalInfo>& ps) {
    std::vector<std::string> out;
    for (const auto& p : ps) out.push_back(p.name);
    return out;
  }

  // Every byte of the store: the main file, its WAL and shared memory.
  std::string StoreBytes() {
    std::string all;
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::ifstream in(path_ + suffix, std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return all;
  }

  TempDir dir_;
  std::string path_ = dir_.File("store.vesta");
  std::atomic<int64_t> now_us_{NowTimestamp().micros};
  std::unique_ptr<Store> store_;
  std::unique_ptr<Principals> principals_;
};

TEST(PrincipalsOpen, MissingStoreIsNotFound) {
  TempDir dir;
  auto p = Principals::Open(dir.File("nothing.vesta"));
  EXPECT_EQ(p.status().code(), StatusCode::kNotFound) << p.status().ToString();
}

TEST_F(PrincipalsTest, CreateGetListAndDrop) {
  MustOk(principals_->CreateUser("alice", "root"));
  Advance(1000);
  MustOk(principals_->CreateUser("bob@example.org", "alice"));
  MustOk(principals_->CreateGroup("oncology_site_a", "alice"));

  auto bob = principals_->Get("bob@example.org");
  ASSERT_TRUE(bob.ok()) << bob.status().ToString();
  EXPECT_EQ(bob->kind, PrincipalKind::kUser);
  EXPECT_EQ(bob->created_by, "alice");
  EXPECT_EQ(bob->created_at.micros, now_us_.load());

  auto all = principals_->List();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Names(*all), (std::vector<std::string>{"alice", "bob@example.org", "oncology_site_a"}));
  auto groups = principals_->List(PrincipalKind::kGroup);
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(Names(*groups), (std::vector<std::string>{"oncology_site_a"}));
  EXPECT_EQ(Names(principals_->List(PrincipalKind::kUser).value()),
            (std::vector<std::string>{"alice", "bob@example.org"}));

  MustOk(principals_->DropPrincipal("bob@example.org", "alice"));
  auto gone = principals_->Get("bob@example.org");
  EXPECT_TRUE(gone.status().IsNotFound());
  EXPECT_TRUE(Contains(gone.status().message(), "'bob@example.org'")) << gone.status().message();
  Status again = principals_->DropPrincipal("bob@example.org", "alice");
  EXPECT_TRUE(again.IsNotFound());
  EXPECT_EQ(principals_->List()->size(), 2u);
}

TEST_F(PrincipalsTest, NamesAreValidatedAndCompareCaseInsensitively) {
  for (std::string bad : {std::string(""), std::string("two words"), std::string("semi;colon"),
                          std::string("-leading"), std::string("quote'"), std::string(129, 'a')}) {
    Status st = principals_->CreateUser(bad, "root");
    EXPECT_TRUE(st.IsInvalidArgument()) << "'" << bad << "': " << st.ToString();
    EXPECT_TRUE(Contains(st.message(), "user name")) << st.message();
    EXPECT_TRUE(Contains(st.message(), "1..128 characters")) << st.message();
  }
  Status gst = principals_->CreateGroup("bad group", "root");
  EXPECT_TRUE(gst.IsInvalidArgument());
  EXPECT_TRUE(Contains(gst.message(), "group name 'bad group'")) << gst.message();
  MustOk(principals_->CreateUser(std::string(128, 'a'), "root"));
  MustOk(principals_->CreateUser("Dr.Jane-Doe_2@site.org", "root"));

  MustOk(principals_->CreateUser("Bob", "root"));
  Status dup = principals_->CreateUser("bob", "root");
  EXPECT_TRUE(dup.IsAlreadyExists()) << dup.ToString();
  EXPECT_TRUE(Contains(dup.message(), "'Bob'")) << dup.message();
  // Users and groups share one namespace.
  Status clash = principals_->CreateGroup("BOB", "root");
  EXPECT_TRUE(clash.IsAlreadyExists()) << clash.ToString();
  auto bob = principals_->Get("bOb");
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(bob->name, "Bob");  // the spelling given at creation
}

TEST_F(PrincipalsTest, NestedGroupsGiveTransitiveMembership) {
  // clinicians > oncology > site_a > bob; radiology > bob
  for (const char* g : {"clinicians", "oncology", "site_a", "radiology", "unrelated"}) {
    MustOk(principals_->CreateGroup(g, "root"));
  }
  MustOk(principals_->CreateUser("bob", "root"));
  MustOk(principals_->CreateUser("carol", "root"));
  MustOk(principals_->AddMember("clinicians", "oncology", "root"));
  MustOk(principals_->AddMember("oncology", "site_a", "root"));
  MustOk(principals_->AddMember("site_a", "bob", "root"));
  MustOk(principals_->AddMember("Radiology", "BOB", "root"));  // any case
  MustOk(principals_->AddMember("site_a", "carol", "root"));

  auto groups = principals_->GroupsOf("bob");
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  EXPECT_EQ(*groups, (std::vector<std::string>{"clinicians", "oncology", "radiology", "site_a"}));
  EXPECT_EQ(principals_->GroupsOf("site_a").value(), (std::vector<std::string>{"clinicians", "oncology"}));
  EXPECT_TRUE(principals_->GroupsOf("nobody").status().IsNotFound());

  EXPECT_TRUE(principals_->IsMember("bob", "clinicians").value());
  EXPECT_TRUE(principals_->IsMember("BOB", "CLINICIANS").value());
  EXPECT_TRUE(principals_->IsMember("bob", "site_a").value());
  EXPECT_FALSE(principals_->IsMember("bob", "unrelated").value());
  EXPECT_FALSE(principals_->IsMember("bob", "no_such_group").value());
  EXPECT_FALSE(principals_->IsMember("nobody", "clinicians").value());
  EXPECT_FALSE(principals_->IsMember("bob", "bob").value());

  auto members = principals_->MembersOf("site_a");  // direct only
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(Names(*members), (std::vector<std::string>{"bob", "carol"}));
  EXPECT_EQ(Names(principals_->MembersOf("clinicians").value()), (std::vector<std::string>{"oncology"}));
  EXPECT_EQ(principals_->MembersOf("clinicians")->front().kind, PrincipalKind::kGroup);
  EXPECT_TRUE(principals_->MembersOf("bob").status().IsInvalidArgument());

  // Cutting the middle link removes the transitive memberships above it.
  MustOk(principals_->RemoveMember("oncology", "site_a", "root"));
  EXPECT_EQ(principals_->GroupsOf("bob").value(), (std::vector<std::string>{"radiology", "site_a"}));
  EXPECT_FALSE(principals_->IsMember("bob", "clinicians").value());
}

TEST_F(PrincipalsTest, MembershipErrorsNameThePrincipals) {
  MustOk(principals_->CreateUser("bob", "root"));
  MustOk(principals_->CreateUser("carol", "root"));
  MustOk(principals_->CreateGroup("g", "root"));

  Status to_user = principals_->AddMember("bob", "carol", "root");
  EXPECT_TRUE(to_user.IsInvalidArgument()) << to_user.ToString();
  EXPECT_TRUE(Contains(to_user.message(), "'bob' is a user")) << to_user.message();
  Status no_group = principals_->AddMember("ghosts", "bob", "root");
  EXPECT_TRUE(no_group.IsNotFound());
  EXPECT_TRUE(Contains(no_group.message(), "'ghosts'")) << no_group.message();
  Status no_member = principals_->AddMember("g", "dave", "root");
  EXPECT_TRUE(no_member.IsNotFound());
  EXPECT_TRUE(Contains(no_member.message(), "'dave'")) << no_member.message();

  MustOk(principals_->AddMember("g", "bob", "root"));
  Status dup = principals_->AddMember("G", "Bob", "root");
  EXPECT_TRUE(dup.IsAlreadyExists()) << dup.ToString();
  EXPECT_TRUE(Contains(dup.message(), "'bob' is already a member of group 'g'")) << dup.message();

  Status not_member = principals_->RemoveMember("g", "carol", "root");
  EXPECT_TRUE(not_member.IsNotFound()) << not_member.ToString();
  EXPECT_TRUE(Contains(not_member.message(), "'carol' is not a direct member of group 'g'"));
  MustOk(principals_->RemoveMember("g", "bob", "root"));
  EXPECT_TRUE(principals_->RemoveMember("g", "bob", "root").IsNotFound());
}

TEST_F(PrincipalsTest, CyclesAreRejectedNamingThePath) {
  for (const char* g : {"a", "b", "c"}) MustOk(principals_->CreateGroup(g, "root"));

  Status self = principals_->AddMember("a", "a", "root");
  EXPECT_TRUE(self.IsFailedPrecondition()) << self.ToString();
  EXPECT_TRUE(Contains(self.message(), "a -> a")) << self.message();

  MustOk(principals_->AddMember("a", "b", "root"));  // a contains b
  Status direct = principals_->AddMember("b", "a", "root");
  EXPECT_TRUE(direct.IsFailedPrecondition()) << direct.ToString();
  EXPECT_TRUE(Contains(direct.message(), "cycle: b -> a -> b")) << direct.message();

  MustOk(principals_->AddMember("b", "c", "root"));  // a > b > c
  Status three = principals_->AddMember("c", "a", "root");
  EXPECT_TRUE(three.IsFailedPrecondition()) << three.ToString();
  EXPECT_TRUE(Contains(three.message(), "adding group 'a' to group 'c'")) << three.message();
  EXPECT_TRUE(Contains(three.message(), "cycle: c -> a -> b -> c")) << three.message();

  // Nothing was added: the graph is still a > b > c, and a diamond is fine.
  EXPECT_TRUE(principals_->MembersOf("c")->empty());
  MustOk(principals_->AddMember("a", "c", "root"));
  EXPECT_EQ(principals_->GroupsOf("c").value(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(PrincipalsTest, DropCleansMembershipsAndRevokesTokens) {
  MustOk(principals_->CreateGroup("outer", "root"));
  MustOk(principals_->CreateGroup("inner", "root"));
  MustOk(principals_->CreateUser("bob", "root"));
  MustOk(principals_->AddMember("outer", "inner", "root"));
  MustOk(principals_->AddMember("inner", "bob", "root"));
  auto token = principals_->IssueToken("bob", std::nullopt, "laptop", "root");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  ASSERT_TRUE(principals_->Authenticate(token->token).ok());

  // Dropping the middle group cuts bob off from both groups.
  MustOk(principals_->DropPrincipal("inner", "root"));
  EXPECT_TRUE(principals_->GroupsOf("bob")->empty());
  EXPECT_TRUE(principals_->MembersOf("outer")->empty());
  EXPECT_TRUE(principals_->Authenticate(token->token)->groups.empty());

  MustOk(principals_->AddMember("outer", "bob", "root"));
  MustOk(principals_->DropPrincipal("bob", "root"));
  EXPECT_TRUE(principals_->MembersOf("outer")->empty());
  auto after = principals_->Authenticate(token->token);
  EXPECT_EQ(after.status().code(), StatusCode::kUnauthenticated) << after.status().ToString();

  // A new "bob" neither inherits the memberships nor the old token.
  MustOk(principals_->CreateUser("bob", "root"));
  EXPECT_TRUE(principals_->GroupsOf("bob")->empty());
  EXPECT_EQ(principals_->Authenticate(token->token).status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(principals_->ListTokens("bob")->empty());
}

TEST_F(PrincipalsTest, IssuedTokenAuthenticatesAsItsUser) {
  MustOk(principals_->CreateUser("bob", "root"));
  MustOk(principals_->CreateGroup("site_a", "root"));
  MustOk(principals_->AddMember("site_a", "bob", "root"));
  auto token = principals_->IssueToken("BOB", std::chrono::hours(24), "notebook", "root");
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->user, "bob");
  ASSERT_EQ(token->token.size(), 4u + 64u);
  EXPECT_EQ(token->token.substr(0, 4), "vst_");
  EXPECT_EQ(token->token.find_first_not_of("0123456789abcdef", 4), std::string::npos);
  EXPECT_EQ(token->token_id.substr(0, 4), "tok_");
  ASSERT_TRUE(token->expires_at.has_value());
  EXPECT_EQ(token->expires_at->micros, now_us_.load() + 24 * kHourUs);

  auto who = principals_->Authenticate(token->token);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->user, "bob");
  EXPECT_EQ(who->token_id, token->token_id);
  EXPECT_EQ(who->groups, (std::vector<std::string>{"site_a"}));
  EXPECT_FALSE(who->metastore_admin);

  auto tokens = principals_->ListTokens("bob");
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ((*tokens)[0].token_id, token->token_id);
  EXPECT_EQ((*tokens)[0].comment, "notebook");
  EXPECT_EQ((*tokens)[0].issued_by, "root");
  EXPECT_FALSE((*tokens)[0].revoked);
  EXPECT_EQ((*tokens)[0].expires_at, token->expires_at);

  EXPECT_TRUE(principals_->IssueToken("site_a", std::nullopt, "", "root").status().IsInvalidArgument());
  EXPECT_TRUE(principals_->IssueToken("nobody", std::nullopt, "", "root").status().IsNotFound());
}

TEST_F(PrincipalsTest, WrongAndMalformedTokensAreUnauthenticatedWithoutEchoingThem) {
  MustOk(principals_->CreateUser("bob", "root"));
  auto token = principals_->IssueToken("bob", std::nullopt, "", "root");
  ASSERT_TRUE(token.ok());
  std::string wrong = token->token;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  std::string upper = token->token;
  for (size_t i = 4; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  for (const std::string& bad :
       {wrong, std::string("vst_") + std::string(64, 'z'), token->token.substr(0, 40), token->token + "0",
        std::string(""), "Bearer " + token->token, upper, "xyz_" + token->token.substr(4)}) {
    auto r = principals_->Authenticate(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated)
        << "'" << bad << "': " << r.status().ToString();
    if (bad.size() > 8) {
      EXPECT_FALSE(Contains(r.status().message(), bad.substr(4, 16))) << r.status().message();
    }
    EXPECT_FALSE(Contains(r.status().message(), token->token.substr(4, 16))) << r.status().message();
  }
}

TEST_F(PrincipalsTest, ExpiredTokenIsUnauthenticated) {
  MustOk(principals_->CreateUser("bob", "root"));
  auto token = principals_->IssueToken("bob", std::chrono::hours(1), "short", "root");
  ASSERT_TRUE(token.ok());
  Advance(kHourUs - 1);
  EXPECT_TRUE(principals_->Authenticate(token->token).ok());
  Advance(1);
  auto r = principals_->Authenticate(token->token);
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << r.status().ToString();
  EXPECT_TRUE(Contains(r.status().message(), "expired")) << r.status().message();
  EXPECT_TRUE(Contains(r.status().message(), token->token_id)) << r.status().message();

  // An absolute expiry, and expiries that are already past.
  auto at = principals_->IssueToken("bob", Timestamp{now_us_.load() + 10}, "", "root");
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  Advance(10);
  EXPECT_EQ(principals_->Authenticate(at->token).status().code(), StatusCode::kUnauthenticated);
  auto past = principals_->IssueToken("bob", Timestamp{now_us_.load() - 1}, "", "root");
  EXPECT_TRUE(past.status().IsInvalidArgument()) << past.status().ToString();
  EXPECT_TRUE(
      principals_->IssueToken("bob", std::chrono::seconds(0), "", "root").status().IsInvalidArgument());
  EXPECT_TRUE(
      principals_->IssueToken("bob", std::chrono::seconds(-5), "", "root").status().IsInvalidArgument());
}

TEST_F(PrincipalsTest, RevokedTokenIsUnauthenticated) {
  MustOk(principals_->CreateUser("bob", "root"));
  auto keep = principals_->IssueToken("bob", std::nullopt, "keep", "root");
  auto lose = principals_->IssueToken("bob", std::nullopt, "lose", "root");
  ASSERT_TRUE(keep.ok() && lose.ok());
  MustOk(principals_->RevokeToken(lose->token_id, "security"));
  auto r = principals_->Authenticate(lose->token);
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(Contains(r.status().message(), "revoked")) << r.status().message();
  EXPECT_TRUE(principals_->Authenticate(keep->token).ok());
  MustOk(principals_->RevokeToken(lose->token_id, "security"));  // idempotent
  EXPECT_TRUE(principals_->RevokeToken("tok_0000000000000000", "security").IsNotFound());

  auto tokens = principals_->ListTokens("bob");
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].comment, "keep");
  EXPECT_FALSE((*tokens)[0].revoked);
  EXPECT_TRUE((*tokens)[1].revoked);
  EXPECT_EQ((*tokens)[1].revoked_by, "security");
  EXPECT_TRUE((*tokens)[1].revoked_at.has_value());
}

TEST_F(PrincipalsTest, TokensAreStoredOnlyAsHashes) {
  MustOk(principals_->CreateUser("bob", "root"));
  auto token = principals_->IssueToken("bob", std::nullopt, "", "root");
  ASSERT_TRUE(token.ok());
  const std::string secret = token->token.substr(4);
  const std::string bytes = StoreBytes();
  ASSERT_FALSE(bytes.empty());
  EXPECT_FALSE(Contains(bytes, secret));
  EXPECT_FALSE(Contains(bytes, secret.substr(0, 24)));
  // The scan does see what is stored: the id and the hash.
  EXPECT_TRUE(Contains(bytes, token->token_id));
  EXPECT_TRUE(Contains(bytes, internal::Sha256Hex(token->token)));
  auto history = principals_->History();
  ASSERT_TRUE(history.ok());
  for (const auto& change : *history) {
    EXPECT_FALSE(Contains(change.details_json, secret.substr(0, 24))) << change.details_json;
  }
  auto tokens = principals_->ListTokens("bob");
  ASSERT_TRUE(tokens.ok());
  for (const auto& t : *tokens) {
    EXPECT_FALSE(Contains(t.comment + t.token_id, secret.substr(0, 24)));
  }
}

TEST_F(PrincipalsTest, TwoTokensDiffer) {
  MustOk(principals_->CreateUser("bob", "root"));
  std::set<std::string> tokens, ids;
  for (int i = 0; i < 8; ++i) {
    auto t = principals_->IssueToken("bob", std::nullopt, "", "root");
    ASSERT_TRUE(t.ok());
    tokens.insert(t->token);
    ids.insert(t->token_id);
    EXPECT_EQ(principals_->Authenticate(t->token)->token_id, t->token_id);
  }
  EXPECT_EQ(tokens.size(), 8u);
  EXPECT_EQ(ids.size(), 8u);
}

TEST_F(PrincipalsTest, BootstrapOnceThenFailedPrecondition) {
  EXPECT_FALSE(principals_->IsMetastoreAdmin("alice").value());
  EXPECT_TRUE(principals_->Bootstrap("admins").status().IsInvalidArgument());
  EXPECT_TRUE(principals_->Bootstrap("no way").status().IsInvalidArgument());
  auto admin = principals_->Bootstrap("alice");
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  EXPECT_EQ(admin->user, "alice");
  EXPECT_FALSE(admin->expires_at.has_value());

  auto who = principals_->Authenticate(admin->token);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->user, "alice");
  EXPECT_EQ(who->groups, (std::vector<std::string>{"admins"}));
  EXPECT_TRUE(who->metastore_admin);
  EXPECT_TRUE(principals_->IsMetastoreAdmin("alice").value());
  EXPECT_TRUE(principals_->IsMetastoreAdmin("ALICE").value());
  EXPECT_EQ(principals_->Get("admins")->kind, PrincipalKind::kGroup);

  // Membership of admins, also nested, makes a metastore admin.
  MustOk(principals_->CreateUser("bob", "alice"));
  EXPECT_FALSE(principals_->IsMetastoreAdmin("bob").value());
  MustOk(principals_->CreateGroup("ops", "alice"));
  MustOk(principals_->AddMember("admins", "ops", "alice"));
  MustOk(principals_->AddMember("ops", "bob", "alice"));
  EXPECT_TRUE(principals_->IsMetastoreAdmin("bob").value());
  EXPECT_FALSE(principals_->IsMetastoreAdmin("nobody").value());

  Status again = principals_->Bootstrap("mallory").status();
  EXPECT_TRUE(again.IsFailedPrecondition()) << again.ToString();
  EXPECT_TRUE(Contains(again.message(), "already bootstrapped")) << again.message();
  EXPECT_TRUE(principals_->Get("mallory").status().IsNotFound());
  Status drop = principals_->DropPrincipal("admins", "alice");
  EXPECT_TRUE(drop.IsFailedPrecondition()) << drop.ToString();
}

TEST_F(PrincipalsTest, BootstrapRefusedOnceAnyPrincipalExists) {
  MustOk(principals_->CreateGroup("early", "root"));
  EXPECT_TRUE(principals_->Bootstrap("alice").status().IsFailedPrecondition());
  EXPECT_TRUE(principals_->Get("alice").status().IsNotFound());
}

TEST_F(PrincipalsTest, ContextForAnswersIsMemberFromASnapshot) {
  MustOk(principals_->CreateUser("bob", "root"));
  MustOk(principals_->CreateGroup("oncology", "root"));
  MustOk(principals_->CreateGroup("Site_A", "root"));
  MustOk(principals_->AddMember("oncology", "Site_A", "root"));
  MustOk(principals_->AddMember("Site_A", "bob", "root"));

  auto ctx = principals_->ContextFor("BOB");
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  EXPECT_EQ(ctx->current_user, "bob");
  ASSERT_TRUE(ctx->is_member);
  EXPECT_TRUE(ctx->is_member("site_a"));
  EXPECT_TRUE(ctx->is_member("ONCOLOGY"));  // nested, any case
  EXPECT_FALSE(ctx->is_member("bob"));
  EXPECT_FALSE(ctx->is_member("phi_readers"));

  // Through the filter language, as a row filter would use it.
  Schema schema;
  schema.columns = {{"id", DataType::Bigint(), false, ""}};
  schema.primary_key = "id";
  auto expr = filter::ParseFilterString("is_member('site_a') AND current_user() = 'bob'");
  ASSERT_TRUE(expr.ok()) << expr.status().ToString();
  auto bound = filter::Bind(*expr, schema);
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  EXPECT_TRUE(filter::Matches(*bound, {Value::Int(1)}, *ctx));

  // A snapshot: later changes do not reach an existing context.
  MustOk(principals_->RemoveMember("Site_A", "bob", "root"));
  EXPECT_TRUE(ctx->is_member("site_a"));
  auto fresh = principals_->ContextFor("bob");
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(fresh->is_member("site_a"));
  EXPECT_FALSE(filter::Matches(*bound, {Value::Int(1)}, *fresh));

  EXPECT_TRUE(principals_->ContextFor("nobody").status().IsNotFound());
  EXPECT_TRUE(principals_->ContextFor("oncology").status().IsInvalidArgument());
}

TEST_F(PrincipalsTest, PersistsAcrossReopen) {
  MustOk(principals_->CreateUser("bob", "root"));
  MustOk(principals_->CreateGroup("g", "root"));
  MustOk(principals_->AddMember("g", "bob", "root"));
  auto token = principals_->IssueToken("bob", std::chrono::hours(1), "c", "root");
  auto revoked = principals_->IssueToken("bob", std::nullopt, "r", "root");
  ASSERT_TRUE(token.ok() && revoked.ok());
  MustOk(principals_->RevokeToken(revoked->token_id, "root"));
  const size_t history = principals_->History()->size();

  principals_.reset();
  store_.reset();
  auto s = Store::Open(path_, {.create_if_missing = false});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  store_ = std::move(s).value();
  Reopen();

  EXPECT_EQ(principals_->Get("bob")->kind, PrincipalKind::kUser);
  EXPECT_EQ(principals_->GroupsOf("bob").value(), (std::vector<std::string>{"g"}));
  auto who = principals_->Authenticate(token->token);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->user, "bob");
  EXPECT_EQ(principals_->Authenticate(revoked->token).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(principals_->ListTokens("bob")->size(), 2u);
  EXPECT_EQ(principals_->History()->size(), history);
}

TEST_F(PrincipalsTest, HistoryRecordsEveryChange) {
  MustOk(principals_->CreateUser("bob", "alice"));
  MustOk(principals_->CreateGroup("g", "alice"));
  MustOk(principals_->AddMember("g", "bob", "alice"));
  auto token = principals_->IssueToken("bob", std::nullopt, "nb", "alice");
  ASSERT_TRUE(token.ok());
  MustOk(principals_->RevokeToken(token->token_id, "carol"));
  MustOk(principals_->RemoveMember("g", "bob", "alice"));
  MustOk(principals_->DropPrincipal("bob", "carol"));
  // Failed calls record nothing.
  EXPECT_FALSE(principals_->CreateUser("g", "alice").ok());
  EXPECT_FALSE(principals_->AddMember("g", "g", "alice").ok());

  auto h = principals_->History();
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  std::vector<std::string> actions;
  for (const auto& c : *h) actions.push_back(c.action + " " + c.principal + " by " + c.actor);
  EXPECT_EQ(actions, (std::vector<std::string>{"DROP USER bob by carol", "REMOVE MEMBER g by alice",
                                               "REVOKE TOKEN bob by carol", "ISSUE TOKEN bob by alice",
                                               "ADD MEMBER g by alice", "CREATE GROUP g by alice",
                                               "CREATE USER bob by alice"}));
  EXPECT_GT((*h)[0].seq, (*h)[1].seq);
  EXPECT_TRUE(Contains((*h)[3].details_json, token->token_id)) << (*h)[3].details_json;
  EXPECT_TRUE(Contains((*h)[4].details_json, "\"member\":\"bob\"")) << (*h)[4].details_json;
  EXPECT_EQ((*h)[0].time.micros, now_us_.load());
  EXPECT_EQ(principals_->History(2)->size(), 2u);
}

TEST_F(PrincipalsTest, ConcurrentCallsAreSafe) {
  MustOk(principals_->CreateUser("bob", "root"));
  auto token = principals_->IssueToken("bob", std::nullopt, "", "root");
  ASSERT_TRUE(token.ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::string g = "g" + std::to_string(t) + "_" + std::to_string(i);
        if (!principals_->CreateGroup(g, "root").ok()) ++failures;
        if (!principals_->AddMember(g, "bob", "root").ok()) ++failures;
        if (!principals_->Authenticate(token->token).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(principals_->GroupsOf("bob")->size(), 80u);
}

}  // namespace
}  // namespace vesta::governance
