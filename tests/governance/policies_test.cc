#include "governance/policies.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include "filter/filter.h"
#include "governance/store.h"
#include "tests/testing/temp_dir.h"

namespace vesta::governance {
namespace {

using filter::Bind;
using filter::BoundExpr;
using filter::CompareOp;
using filter::EvalContext;
using filter::Evaluate;
using filter::Expr;
using filter::Operand;
using filter::Truth;
using ::vesta::testing::TempDir;

// Column indices of PatientSchema().
constexpr int kId = 0, kSite = 1, kAge = 2, kName = 3, kScore = 4, kConsent = 5, kVisit = 6, kEmbedding = 7;

Schema PatientSchema() {
  Schema s;
  s.columns = {{"patient_id", DataType::String(), false, ""}, {"site", DataType::String(), true, ""},
               {"age", DataType::Bigint(), true, ""},         {"name", DataType::String(), true, ""},
               {"score", DataType::Double(), true, ""},       {"consent", DataType::Boolean(), true, ""},
               {"visit", DataType::DateT(), true, ""},        {"embedding", DataType::Vector(2), true, ""}};
  s.primary_key = "patient_id";
  return s;
}

Row P(const std::string& id, const std::string& site, int64_t age, const std::string& name) {
  return {Value::Str(id), Value::Str(site), Value::Int(age), Value::Str(name), Value::Real(1.0),
          Value::Bool(true), Value::DateV(Date{10}), Value::Vec({1, 2})};
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

bool HasApplied(const EffectivePolicy& ep, const std::string& name) {
  return std::find(ep.applied.begin(), ep.applied.end(), name) != ep.applied.end();
}

class PoliciesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OpenAll();
    ASSERT_TRUE(store_->CreateCatalog("main", "admin").ok());
    ASSERT_TRUE(store_->CreateSchema("main", "clinical", "admin").ok());
    auto t = store_->CreateTable(name_, PatientSchema(), {}, "admin");
    ASSERT_TRUE(t.ok()) << t.status().ToString();
  }

  void OpenAll() {
    auto s = Store::Open(dir_.File("store.vesta"), {});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    auto p = Policies::Open(*store_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    policies_ = std::move(p).value();
  }

  void Reopen() {
    policies_.reset();
    store_.reset();
    OpenAll();
  }

  EffectivePolicy Resolve(const EvalContext& ctx, const TableName* table = nullptr) {
    const TableName& t = table ? *table : name_;
    auto info = store_->DescribeTable(t);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    auto ep = policies_->Resolve(t, info->schema, ctx);
    EXPECT_TRUE(ep.ok()) << ep.status().ToString();
    return ep.ok() ? std::move(ep).value() : EffectivePolicy{};
  }

  // The patient ids of `rows` that pass the caller's resolved row filter
  // (evaluated without any context: identity functions are resolved).
  static std::vector<std::string> Visible(const EffectivePolicy& ep, const std::vector<Row>& rows) {
    std::vector<std::string> out;
    for (const Row& r : rows) {
      if (!ep.row_filter || Evaluate(*ep.row_filter, r, EvalContext{}) == Truth::kTrue)
        out.push_back(r[kId].as_string());
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Policies> policies_;
  TableName name_ = TableName::Parse("main.clinical.patients").value();
};

// --- Row filters --------------------------------------------------------------------

TEST_F(PoliciesTest, RowFilterSetReplaceDrop) {
  ASSERT_TRUE(policies_->SetRowFilter(name_, "site = 'A'", "alice").ok());
  EXPECT_EQ(policies_->RowFilterOf(name_).value(), std::optional<std::string>("site = 'A'"));
  ASSERT_TRUE(policies_->SetRowFilter(name_, "age >= 18", "alice").ok());
  EXPECT_EQ(policies_->RowFilterOf(name_).value(), std::optional<std::string>("age >= 18"));

  EffectivePolicy ep = Resolve(EvalContext::ForUser("bob"));
  ASSERT_TRUE(ep.row_filter.has_value());
  EXPECT_EQ(ep.row_filter->ToString(), "age >= 18");
  EXPECT_TRUE(HasApplied(ep, "row_filter:main.clinical.patients"));
  std::vector<Row> rows = {P("p1", "A", 10, "x"), P("p2", "B", 30, "y")};
  EXPECT_EQ(Visible(ep, rows), std::vector<std::string>{"p2"});

  ASSERT_TRUE(policies_->DropRowFilter(name_, "alice").ok());
  EXPECT_FALSE(policies_->RowFilterOf(name_).value().has_value());
  EXPECT_TRUE(policies_->DropRowFilter(name_, "alice").IsNotFound());
  ep = Resolve(EvalContext::ForUser("bob"));
  EXPECT_FALSE(ep.row_filter.has_value());
  EXPECT_TRUE(ep.applied.empty());
}

TEST_F(PoliciesTest, BadRowFiltersAreRejectedWithUsefulMessagesAndNothingStored) {
  Status st = policies_->SetRowFilter(name_, "stie = 'A'", "alice");
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_TRUE(Contains(st.message(), "row filter for main.clinical.patients")) << st.message();
  EXPECT_TRUE(Contains(st.message(), "unknown column 'stie'")) << st.message();
  EXPECT_TRUE(Contains(st.message(), "patient_id, site, age, name")) << st.message();

  st = policies_->SetRowFilter(name_, "age = 'old'", "alice");
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_TRUE(Contains(st.message(), "cannot compare column 'age' (BIGINT)")) << st.message();

  st = policies_->SetRowFilter(name_, "age = current_user()", "alice");
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_TRUE(Contains(st.message(), "current_user()")) << st.message();

  st = policies_->SetRowFilter(name_, "site = ", "alice");
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_TRUE(Contains(st.message(), "filter_string: at position")) << st.message();

  st = policies_->SetRowFilter(name_, "embedding IS NULL", "alice");
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_TRUE(Contains(st.message(), "vector columns")) << st.message();

  EXPECT_TRUE(policies_->SetRowFilter(TableName::Parse("main.clinical.nope").value(), "TRUE", "a").IsNotFound());

  EXPECT_FALSE(policies_->RowFilterOf(name_).value().has_value());
  EXPECT_TRUE(policies_->History().value().empty());
}

TEST_F(PoliciesTest, IdentityFunctionsAreResolvedPerCaller) {
  ASSERT_TRUE(policies_->SetRowFilter(name_, "name = current_user() OR (is_member('site_a') AND site = 'A')", "admin")
                  .ok());
  std::vector<Row> rows = {P("p1", "A", 40, "alice"), P("p2", "B", 50, "bob"), P("p3", "A", 60, "carol"),
                           P("p4", "B", 70, "dave")};
  EvalContext alice = EvalContext::ForUser("alice");
  EvalContext bob = EvalContext::ForUser("bob", {"site_a"});
  EffectivePolicy ep_alice = Resolve(alice);
  EffectivePolicy ep_bob = Resolve(bob);
  EXPECT_EQ(Visible(ep_alice, rows), (std::vector<std::string>{"p1"}));
  EXPECT_EQ(Visible(ep_bob, rows), (std::vector<std::string>{"p1", "p2", "p3"}));
  for (const EffectivePolicy* ep : {&ep_alice, &ep_bob}) {
    ASSERT_TRUE(ep->row_filter.has_value());
    EXPECT_FALSE(Contains(ep->row_filter->ToString(), "current_user")) << ep->row_filter->ToString();
    EXPECT_FALSE(Contains(ep->row_filter->ToString(), "is_member")) << ep->row_filter->ToString();
  }
  EXPECT_EQ(ep_alice.row_filter->ToString(), "name = 'alice'");

  // The original filter evaluated with each caller's context agrees.
  auto original = Bind(filter::ParseFilterString(policies_->RowFilterOf(name_).value().value()).value(),
                       PatientSchema());
  ASSERT_TRUE(original.ok());
  for (const Row& r : rows) {
    EXPECT_EQ(Evaluate(*ep_alice.row_filter, r, {}), Evaluate(*original, r, alice));
    EXPECT_EQ(Evaluate(*ep_bob.row_filter, r, {}), Evaluate(*original, r, bob));
  }

  // No identity: current_user() is NULL and hides every row.
  EffectivePolicy anon = Resolve(EvalContext{});
  EXPECT_TRUE(Visible(anon, rows).empty());

  // A filter that folds to TRUE for a caller leaves no filter, but is still
  // reported as applied.
  ASSERT_TRUE(policies_->SetRowFilter(name_, "is_member('admins') OR site = 'A'", "admin").ok());
  EffectivePolicy admin = Resolve(EvalContext::ForUser("root", {"admins"}));
  EXPECT_FALSE(admin.row_filter.has_value());
  EXPECT_TRUE(HasApplied(admin, "row_filter:main.clinical.patients"));
  EffectivePolicy other = Resolve(EvalContext::ForUser("eve"));
  ASSERT_TRUE(other.row_filter.has_value());
  EXPECT_EQ(other.row_filter->ToString(), "site = 'A'");
}

// --- Masks --------------------------------------------------------------------------

TEST_F(PoliciesTest, MasksOfEachKindWithExemptGroupsAndNulls) {
  ASSERT_TRUE(
      policies_->SetColumnMask(name_, "name", {.kind = MaskSpec::kKeyedHash, .exempt_groups = {"phi_readers"}}, "a")
          .ok());
  ASSERT_TRUE(policies_->SetColumnMask(name_, "site", {.kind = MaskSpec::kPartialReveal, .reveal_last = 2}, "a").ok());
  ASSERT_TRUE(policies_->SetColumnMask(name_, "AGE", {.kind = MaskSpec::kNull}, "a").ok());
  ASSERT_TRUE(
      policies_->SetColumnMask(name_, "score", {.kind = MaskSpec::kConstant, .constant = Value::Real(-1)}, "a").ok());
  ASSERT_TRUE(policies_
                  ->SetColumnMask(name_, "visit",
                                  {.kind = MaskSpec::kConstant, .constant = Value::DateV(Date{0})}, "a")
                  .ok());

  EffectivePolicy bob = Resolve(EvalContext::ForUser("bob"));
  ASSERT_EQ(bob.masks.size(), 8u);
  EXPECT_TRUE(bob.has_masks());
  EXPECT_FALSE(bob.masks[kId].has_value());
  EXPECT_FALSE(bob.masks[kConsent].has_value());
  ASSERT_TRUE(bob.masks[kName] && bob.masks[kSite] && bob.masks[kAge] && bob.masks[kScore] && bob.masks[kVisit]);
  EXPECT_EQ(bob.masks[kName]->kind(), MaskSpec::kKeyedHash);
  EXPECT_EQ(bob.masks[kAge]->kind(), MaskSpec::kNull);
  EXPECT_EQ(bob.masks[kAge]->policy(), "column_mask:main.clinical.patients.age");
  EXPECT_EQ(bob.masked_eval_columns, (std::vector<int>{kSite, kName}));

  Value h = bob.masks[kName]->Apply(Value::Str("alice"));
  ASSERT_TRUE(h.is_string());
  EXPECT_EQ(h.as_string().size(), 64u);
  EXPECT_EQ(h.as_string().find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(bob.masks[kName]->Apply(Value::Str("alice")), h);
  EXPECT_NE(bob.masks[kName]->Apply(Value::Str("alicf")), h);
  EXPECT_EQ(bob.masks[kSite]->Apply(Value::Str("ABCDE")), Value::Str("***DE"));
  EXPECT_EQ(bob.masks[kAge]->Apply(Value::Int(42)), Value());
  EXPECT_EQ(bob.masks[kScore]->Apply(Value::Real(3.5)), Value::Real(-1));
  EXPECT_EQ(bob.masks[kVisit]->Apply(Value::DateV(Date{99})), Value::DateV(Date{0}));
  for (int c : {kName, kSite, kAge, kScore, kVisit}) {
    EXPECT_TRUE(bob.masks[static_cast<size_t>(c)]->Apply(Value()).is_null()) << c;
  }
  Row row = P("p1", "SITE-A", 42, "alice");
  bob.ApplyMasks(&row);
  EXPECT_EQ(row[kId], Value::Str("p1"));
  EXPECT_EQ(row[kName], h);
  EXPECT_EQ(row[kSite], Value::Str("****-A"));
  EXPECT_TRUE(row[kAge].is_null());
  EXPECT_TRUE(HasApplied(bob, "column_mask:main.clinical.patients.name"));

  EffectivePolicy reader = Resolve(EvalContext::ForUser("carol", {"phi_readers"}));
  EXPECT_FALSE(reader.masks[kName].has_value());
  EXPECT_TRUE(reader.masks[kAge].has_value());
  EXPECT_FALSE(HasApplied(reader, "column_mask:main.clinical.patients.name"));
  EXPECT_EQ(reader.masked_eval_columns, std::vector<int>{kSite});

  ASSERT_TRUE(policies_->DropColumnMask(name_, "Age", "a").ok());
  EXPECT_TRUE(policies_->DropColumnMask(name_, "age", "a").IsNotFound());
  EXPECT_FALSE(Resolve(EvalContext::ForUser("bob")).masks[kAge].has_value());
}

TEST_F(PoliciesTest, PartialRevealCountsCodePoints) {
  ASSERT_TRUE(policies_->SetColumnMask(name_, "name", {.kind = MaskSpec::kPartialReveal, .reveal_last = 4}, "a").ok());
  ASSERT_TRUE(policies_->SetColumnMask(name_, "site", {.kind = MaskSpec::kPartialReveal, .reveal_last = 0}, "a").ok());
  EffectivePolicy ep = Resolve(EvalContext::ForUser("bob"));
  const ColumnMask& m = *ep.masks[kName];
  EXPECT_EQ(m.Apply(Value::Str("héllo wörld")), Value::Str("*******örld"));
  EXPECT_EQ(m.Apply(Value::Str("ab😀c€")), Value::Str("*b😀c€"));
  EXPECT_EQ(m.Apply(Value::Str("1234-5678")), Value::Str("*****5678"));
  // A value no longer than the revealed part is not revealed whole.
  EXPECT_EQ(m.Apply(Value::Str("äbc")), Value::Str("***"));
  EXPECT_EQ(m.Apply(Value::Str("abcd")), Value::Str("****"));
  EXPECT_EQ(m.Apply(Value::Str("")), Value::Str(""));
  EXPECT_EQ(ep.masks[kSite]->Apply(Value::Str("Zürich")), Value::Str("******"));
}

TEST_F(PoliciesTest, KeyedHashIsStableAcrossReopenAndPerStore) {
  ASSERT_TRUE(policies_->SetColumnMask(name_, "name", {.kind = MaskSpec::kKeyedHash}, "a").ok());
  Value alice = Resolve(EvalContext::ForUser("bob")).masks[kName]->Apply(Value::Str("alice"));
  Value bob = Resolve(EvalContext::ForUser("bob")).masks[kName]->Apply(Value::Str("bob"));
  EXPECT_NE(alice, bob);
  Reopen();
  EXPECT_EQ(Resolve(EvalContext::ForUser("x")).masks[kName]->Apply(Value::Str("alice")), alice);

  // Another store has another key.
  TempDir other_dir;
  auto other = Store::Open(other_dir.File("other.vesta"), {}).value();
  ASSERT_TRUE(other->CreateCatalog("main", "admin").ok());
  ASSERT_TRUE(other->CreateSchema("main", "clinical", "admin").ok());
  ASSERT_TRUE(other->CreateTable(name_, PatientSchema(), {}, "admin").ok());
  auto other_policies = Policies::Open(*other).value();
  ASSERT_TRUE(other_policies->SetColumnMask(name_, "name", {.kind = MaskSpec::kKeyedHash}, "a").ok());
  auto ep = other_policies->Resolve(name_, PatientSchema(), EvalContext::ForUser("bob"));
  ASSERT_TRUE(ep.ok());
  EXPECT_NE(ep->masks[kName]->Apply(Value::Str("alice")), alice);
}

TEST_F(PoliciesTest, ColumnMaskValidation) {
  Status st = policies_->SetColumnMask(name_, "age", {.kind = MaskSpec::kConstant, .constant = Value::Str("x")}, "a");
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_TRUE(Contains(st.message(), "does not fit the column type BIGINT")) << st.message();
  st = policies_->SetColumnMask(name_, "score", {.kind = MaskSpec::kConstant, .constant = Value::Int(0)}, "a");
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
  st = policies_->SetColumnMask(name_, "age", {.kind = MaskSpec::kKeyedHash}, "a");
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_TRUE(Contains(st.message(), "STRING columns only")) << st.message();
  st = policies_->SetColumnMask(name_, "visit", {.kind = MaskSpec::kPartialReveal}, "a");
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_TRUE(Contains(st.message(), "main.clinical.patients.visit")) << st.message();
  st = policies_->SetColumnMask(name_, "nmae", {.kind = MaskSpec::kNull}, "a");
  EXPECT_TRUE(st.IsNotFound());
  EXPECT_TRUE(Contains(st.message(), "columns: patient_id, site")) << st.message();
  st = policies_->SetColumnMask(name_, "name", {.kind = MaskSpec::kPartialReveal, .reveal_last = -1}, "a");
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_TRUE(Contains(st.message(), "reveal_last")) << st.message();
  st = policies_->SetColumnMask(name_, "name", {.kind = MaskSpec::kNull, .exempt_groups = {""}}, "a");
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_TRUE(policies_->ColumnMasksOf(name_).value().empty());
  EXPECT_TRUE(policies_->History().value().empty());

  EXPECT_TRUE(policies_->SetColumnMask(name_, "age", {.kind = MaskSpec::kConstant, .constant = Value::Int(0)}, "a")
                  .ok());
  EXPECT_TRUE(policies_->SetColumnMask(name_, "embedding", {.kind = MaskSpec::kNull}, "a").ok());
  auto masks = policies_->ColumnMasksOf(name_).value();
  ASSERT_EQ(masks.size(), 2u);
  EXPECT_EQ(masks[0].first, "age");
  EXPECT_EQ(masks[0].second.constant, Value::Int(0));
}

// --- Tags and tag policies ------------------------------------------------------------

TEST_F(PoliciesTest, TagsSetReplaceUnsetAndList) {
  ASSERT_TRUE(policies_->SetTag(name_, std::nullopt, "study", "X", "a").ok());
  ASSERT_TRUE(policies_->SetTag(name_, "name", "PHI", "", "a").ok());
  ASSERT_TRUE(policies_->SetTag(name_, "site", "class", "internal", "a").ok());
  ASSERT_TRUE(policies_->SetTag(name_, "NAME", "phi", "direct", "a").ok());  // same key, ignoring case
  auto tags = policies_->TagsOf(name_).value();
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_FALSE(tags[0].column.has_value());
  EXPECT_EQ(tags[0].key, "study");
  EXPECT_EQ(tags[1].column, std::optional<std::string>("name"));
  EXPECT_EQ(tags[1].key, "phi");
  EXPECT_EQ(tags[1].value, "direct");
  EXPECT_EQ(tags[2].column, std::optional<std::string>("site"));

  EXPECT_TRUE(policies_->SetTag(name_, "nope", "PHI", "", "a").IsNotFound());
  EXPECT_TRUE(policies_->SetTag(name_, std::nullopt, "", "x", "a").IsInvalidArgument());
  EXPECT_TRUE(policies_->SetTag(TableName::Parse("main.clinical.nope").value(), std::nullopt, "k", "v", "a")
                  .IsNotFound());
  ASSERT_TRUE(policies_->UnsetTag(name_, "name", "PHI", "a").ok());
  EXPECT_TRUE(policies_->UnsetTag(name_, "name", "PHI", "a").IsNotFound());
  EXPECT_EQ(policies_->TagsOf(name_).value().size(), 2u);
}

TEST_F(PoliciesTest, TagMaskPolicyAppliesToTableCreatedAfterIt) {
  ASSERT_TRUE(policies_
                  ->AddTagMaskPolicy("phi_null", "PHI", std::nullopt,
                                     {.kind = MaskSpec::kNull, .exempt_groups = {"phi_readers"}}, "admin")
                  .ok());
  ASSERT_TRUE(
      policies_->AddTagMaskPolicy("pii_hash", "class", "pii", {.kind = MaskSpec::kKeyedHash}, "admin").ok());

  TableName notes = TableName::Parse("main.clinical.notes").value();
  Schema s;
  s.columns = {{"note_id", DataType::Bigint(), false, ""},
               {"author", DataType::String(), true, ""},
               {"email", DataType::String(), true, ""},
               {"phone", DataType::String(), true, ""},
               {"mrn", DataType::Bigint(), true, ""}};
  s.primary_key = "note_id";
  ASSERT_TRUE(store_->CreateTable(notes, s, {}, "admin").ok());
  EXPECT_FALSE(Resolve(EvalContext::ForUser("bob"), &notes).has_masks());

  ASSERT_TRUE(policies_->SetTag(notes, "author", "phi", "yes", "admin").ok());  // key matches ignoring case
  ASSERT_TRUE(policies_->SetTag(notes, "email", "class", "pii", "admin").ok());
  ASSERT_TRUE(policies_->SetTag(notes, "phone", "class", "public", "admin").ok());
  ASSERT_TRUE(policies_->SetTag(notes, "mrn", "class", "pii", "admin").ok());
  EffectivePolicy bob = Resolve(EvalContext::ForUser("bob"), &notes);
  ASSERT_TRUE(bob.masks[1].has_value());
  EXPECT_EQ(bob.masks[1]->kind(), MaskSpec::kNull);
  EXPECT_EQ(bob.masks[1]->policy(), "tag_policy:phi_null");
  ASSERT_TRUE(bob.masks[2].has_value());
  EXPECT_EQ(bob.masks[2]->kind(), MaskSpec::kKeyedHash);
  EXPECT_FALSE(bob.masks[3].has_value());  // class=public does not match class=pii
  ASSERT_TRUE(bob.masks[4].has_value());    // a keyed hash cannot mask a BIGINT: NULL instead
  EXPECT_EQ(bob.masks[4]->kind(), MaskSpec::kNull);
  EXPECT_TRUE(bob.masks[4]->Apply(Value::Int(7)).is_null());
  EXPECT_TRUE(HasApplied(bob, "tag_policy:phi_null"));
  EXPECT_TRUE(HasApplied(bob, "tag_policy:pii_hash"));

  EffectivePolicy reader = Resolve(EvalContext::ForUser("carol", {"phi_readers"}), &notes);
  EXPECT_FALSE(reader.masks[1].has_value());
  EXPECT_TRUE(reader.masks[2].has_value());
  EXPECT_FALSE(HasApplied(reader, "tag_policy:phi_null"));

  // A table tag does not mask columns.
  ASSERT_TRUE(policies_->SetTag(name_, std::nullopt, "PHI", "yes", "admin").ok());
  EXPECT_FALSE(Resolve(EvalContext::ForUser("bob")).has_masks());
}

TEST_F(PoliciesTest, DirectMaskWinsAndTheMostRestrictiveTagMaskApplies) {
  ASSERT_TRUE(policies_->AddTagMaskPolicy("reveal", "PHI", std::nullopt, {.kind = MaskSpec::kPartialReveal}, "a").ok());
  ASSERT_TRUE(policies_
                  ->AddTagMaskPolicy("hide", "PHI", "strict",
                                     {.kind = MaskSpec::kNull, .exempt_groups = {"trusted"}}, "a")
                  .ok());
  ASSERT_TRUE(policies_->SetTag(name_, "name", "PHI", "strict", "a").ok());
  ASSERT_TRUE(policies_->SetTag(name_, "site", "PHI", "strict", "a").ok());
  EffectivePolicy bob = Resolve(EvalContext::ForUser("bob"));
  EXPECT_EQ(bob.masks[kName]->kind(), MaskSpec::kNull);
  EXPECT_EQ(bob.masks[kName]->policy(), "tag_policy:hide");
  EffectivePolicy trusted = Resolve(EvalContext::ForUser("t", {"trusted"}));
  EXPECT_EQ(trusted.masks[kName]->kind(), MaskSpec::kPartialReveal);
  EXPECT_EQ(trusted.masks[kName]->policy(), "tag_policy:reveal");

  ASSERT_TRUE(policies_
                  ->SetColumnMask(name_, "site",
                                  {.kind = MaskSpec::kConstant, .constant = Value::Str("?"), .exempt_groups = {"g"}},
                                  "a")
                  .ok());
  bob = Resolve(EvalContext::ForUser("bob"));
  EXPECT_EQ(bob.masks[kSite]->kind(), MaskSpec::kConstant);
  EXPECT_EQ(bob.masks[kSite]->policy(), "column_mask:main.clinical.patients.site");
  EXPECT_TRUE(HasApplied(bob, "tag_policy:hide"));  // still masking name
  EffectivePolicy g = Resolve(EvalContext::ForUser("gina", {"g"}));
  EXPECT_FALSE(g.masks[kSite].has_value());  // the direct mask wins, and gina is exempt from it
}

TEST_F(PoliciesTest, TagRowFilterPolicyIsAndedWithTheTableFilter) {
  ASSERT_TRUE(policies_->SetRowFilter(name_, "age >= 18", "a").ok());
  ASSERT_TRUE(policies_->AddTagRowFilterPolicy("study_x", "study", "X", "site = 'A' OR is_member('x_all')", "a").ok());
  std::vector<Row> rows = {P("p1", "A", 10, "n"), P("p2", "A", 30, "n"), P("p3", "B", 30, "n")};
  EXPECT_EQ(Visible(Resolve(EvalContext::ForUser("bob")), rows), (std::vector<std::string>{"p2", "p3"}));

  ASSERT_TRUE(policies_->SetTag(name_, std::nullopt, "study", "X", "a").ok());
  EffectivePolicy bob = Resolve(EvalContext::ForUser("bob"));
  EXPECT_EQ(Visible(bob, rows), (std::vector<std::string>{"p2"}));
  EXPECT_TRUE(HasApplied(bob, "row_filter:main.clinical.patients"));
  EXPECT_TRUE(HasApplied(bob, "tag_policy:study_x"));
  EXPECT_EQ(Visible(Resolve(EvalContext::ForUser("x", {"x_all"})), rows), (std::vector<std::string>{"p2", "p3"}));

  ASSERT_TRUE(policies_->SetTag(name_, std::nullopt, "study", "Y", "a").ok());
  EXPECT_EQ(Visible(Resolve(EvalContext::ForUser("bob")), rows), (std::vector<std::string>{"p2", "p3"}));
}

TEST_F(PoliciesTest, PolicyNamingAMissingColumnMakesTheTableUnreadable) {
  ASSERT_TRUE(policies_->AddTagRowFilterPolicy("trial", "study", std::nullopt, "trial_arm = 'B'", "a").ok());
  ASSERT_TRUE(policies_->SetTag(name_, std::nullopt, "study", "any", "a").ok());
  auto ep = policies_->Resolve(name_, PatientSchema(), EvalContext::ForUser("bob"));
  ASSERT_TRUE(ep.status().IsFailedPrecondition()) << ep.status().ToString();
  EXPECT_TRUE(Contains(ep.status().message(), "tag policy 'trial'")) << ep.status().message();
  EXPECT_TRUE(Contains(ep.status().message(), "unknown column 'trial_arm'")) << ep.status().message();
  ASSERT_TRUE(policies_->UnsetTag(name_, std::nullopt, "study", "a").ok());
  EXPECT_TRUE(policies_->Resolve(name_, PatientSchema(), EvalContext::ForUser("bob")).ok());

  // The table's own filter, read with a schema lacking its column (an old
  // version), refuses too.
  ASSERT_TRUE(policies_->SetRowFilter(name_, "visit > DATE '2020-01-01'", "a").ok());
  Schema old = PatientSchema();
  old.columns.erase(old.columns.begin() + kVisit);
  ep = policies_->Resolve(name_, old, EvalContext::ForUser("bob"));
  ASSERT_TRUE(ep.status().IsFailedPrecondition());
  EXPECT_TRUE(Contains(ep.status().message(), "row filter of main.clinical.patients")) << ep.status().message();
  EXPECT_TRUE(Contains(ep.status().message(), "'visit'")) << ep.status().message();
}

TEST_F(PoliciesTest, TagPolicyManagement) {
  ASSERT_TRUE(policies_->AddTagMaskPolicy("phi", "PHI", std::nullopt, {.kind = MaskSpec::kNull}, "a").ok());
  EXPECT_TRUE(policies_->AddTagMaskPolicy("PHI", "x", std::nullopt, {}, "a").IsAlreadyExists());
  EXPECT_TRUE(policies_->AddTagRowFilterPolicy("phi", "x", std::nullopt, "TRUE", "a").IsAlreadyExists());
  EXPECT_TRUE(policies_->AddTagMaskPolicy("bad name", "x", std::nullopt, {}, "a").IsInvalidArgument());
  EXPECT_TRUE(policies_->AddTagMaskPolicy("p2", "", std::nullopt, {}, "a").IsInvalidArgument());
  EXPECT_TRUE(policies_
                  ->AddTagMaskPolicy("p3", "k", std::nullopt, {.kind = MaskSpec::kPartialReveal, .reveal_last = 5000},
                                     "a")
                  .IsInvalidArgument());
  Status st = policies_->AddTagRowFilterPolicy("rf", "study", "X", "site = = 'A'", "a");
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_TRUE(Contains(st.message(), "tag policy 'rf': filter_string: at position")) << st.message();
  ASSERT_TRUE(policies_->AddTagRowFilterPolicy("rf", "study", "X", "site = 'A'", "a").ok());

  auto list = policies_->ListTagPolicies().value();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "phi");
  EXPECT_EQ(list[0].kind, TagPolicy::Kind::kMask);
  EXPECT_FALSE(list[0].tag_value.has_value());
  EXPECT_EQ(list[1].name, "rf");
  EXPECT_EQ(list[1].kind, TagPolicy::Kind::kRowFilter);
  EXPECT_EQ(list[1].tag_value, std::optional<std::string>("X"));
  EXPECT_EQ(list[1].filter, "site = 'A'");
  EXPECT_EQ(list[1].created_by, "a");

  ASSERT_TRUE(policies_->DropTagPolicy("PHI", "a").ok());
  EXPECT_TRUE(policies_->DropTagPolicy("phi", "a").IsNotFound());
  EXPECT_EQ(policies_->ListTagPolicies().value().size(), 1u);
}

// --- Filters over masked columns ------------------------------------------------------

// Random values, rows and filters over the non-key, non-vector columns.
class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}

  int Int(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  Value Of(int column, bool allow_null = true) {
    if (allow_null && Chance(0.2)) return Value();
    static const char* kStrings[] = {"A", "B", "alice", "bob", "", "A-1"};
    switch (column) {
      case kSite:
      case kName:
        return Value::Str(kStrings[Int(6)]);
      case kAge:
        return Value::Int(Int(5));
      case kScore:
        return Value::Real(0.5 * Int(6));
      case kConsent:
        return Value::Bool(Chance(0.5));
      case kVisit:
        return Value::DateV(Date{Int(4)});
    }
    return Value();
  }

  Row RandomRow(int i) {
    Row r(8);
    r[kId] = Value::Str("p" + std::to_string(i));
    for (int c : {kSite, kAge, kName, kScore, kConsent, kVisit}) r[static_cast<size_t>(c)] = Of(c);
    return r;
  }

  Expr Predicate() {
    static const int kCols[] = {kSite, kAge, kName, kScore, kConsent, kVisit};
    const int c = kCols[Int(6)];
    const std::string col = PatientSchema().columns[static_cast<size_t>(c)].name;
    const Operand subject = Operand::Column(col);
    const bool is_string = c == kSite || c == kName;
    switch (Int(is_string ? 9 : 7)) {
      case 0:
        return Expr::IsNull(subject, Chance(0.5));
      case 1:
        return Expr::Between(subject, Operand::Literal(Of(c)), Operand::Literal(Of(c)), Chance(0.3));
      case 2: {
        std::vector<Operand> items;
        for (int i = 0, n = 1 + Int(3); i < n; ++i) items.push_back(Operand::Literal(Of(c)));
        return Expr::In(subject, std::move(items), Chance(0.4));
      }
      case 3:
        if (c == kConsent) return Chance(0.5) ? Expr::IsTrue(subject, Chance(0.5)) : Expr::IsFalse(subject, Chance(0.5));
        [[fallthrough]];
      case 4:
      case 5:
      case 6:
        if (is_string && Chance(0.3)) return Expr::Compare(subject, RandomOp(), Operand::CurrentUser());
        return Expr::Compare(subject, RandomOp(), Operand::Literal(Of(c)));
      case 7: {
        static const char* kPatterns[] = {"A%", "%b", "_", "%", "a_i%"};
        return Expr::Like(subject, kPatterns[Int(5)], Chance(0.3));
      }
      default:
        return Expr::HasToken(subject, Chance(0.5) ? "A" : "1");
    }
  }

  // A filter of nested AND / OR / NOT over predicates, identity functions and
  // constants.
  Expr Filter(int depth) {
    if (depth == 0 || Chance(0.3)) {
      const int k = Int(20);
      if (k == 0) return Expr::Constant(static_cast<Truth>(Int(3)));
      if (k == 1) return Expr::IsMember(Chance(0.5) ? "g1" : "g2");
      if (k == 2) return Expr::Compare(Operand::CurrentUser(), RandomOp(), Operand::Literal(Value::Str("alice")));
      return Predicate();
    }
    switch (Int(3)) {
      case 0:
        return Expr::Not(Filter(depth - 1));
      case 1:
        return Expr::And({Filter(depth - 1), Filter(depth - 1)});
      default:
        return Expr::Or({Filter(depth - 1), Filter(depth - 1), Filter(depth - 1)});
    }
  }

 private:
  CompareOp RandomOp() { return static_cast<CompareOp>(Int(6)); }
  std::mt19937 rng_;
};

TEST_F(PoliciesTest, MaskedFilterRewriteIsExactForNullAndConstantMasks) {
  Gen gen(20261121);
  const Schema schema = PatientSchema();
  std::vector<Row> rows;
  for (int i = 0; i < 60; ++i) rows.push_back(gen.RandomRow(i));
  const EvalContext ctx = EvalContext::ForUser("alice", {"g1"});
  int filters = 0, folded = 0;
  for (int config = 0; config < 6; ++config) {
    // A random NULL / constant mask (or none) on each filterable column.
    for (int c : {kSite, kAge, kName, kScore, kConsent, kVisit}) {
      const std::string col = schema.columns[static_cast<size_t>(c)].name;
      const int kind = gen.Int(3);
      Status st = kind == 0   ? policies_->DropColumnMask(name_, col, "t")
                  : kind == 1 ? policies_->SetColumnMask(name_, col, {.kind = MaskSpec::kNull}, "t")
                              : policies_->SetColumnMask(
                                    name_, col, {.kind = MaskSpec::kConstant, .constant = gen.Of(c, config > 0)}, "t");
      ASSERT_TRUE(st.ok() || st.IsNotFound()) << st.ToString();
    }
    EffectivePolicy ep = Resolve(ctx);
    ASSERT_TRUE(ep.masked_eval_columns.empty());
    std::vector<Row> masked = rows;
    for (Row& r : masked) ep.ApplyMasks(&r);
    for (int f = 0; f < 100; ++f, ++filters) {
      auto original = Bind(gen.Filter(3), schema);
      ASSERT_TRUE(original.ok()) << original.status().ToString();
      auto rewritten = RewriteFilterForMasks(*original, ep);
      ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
      EXPECT_FALSE(NeedsMaskedRowEvaluation(*rewritten, ep));
      for (int c : rewritten->ReferencedColumns()) {
        // Only IS [NOT] NULL survives on a constant-masked column; nothing on a NULL-masked one.
        const auto& m = ep.masks[static_cast<size_t>(c)];
        ASSERT_TRUE(!m || m->kind() == MaskSpec::kConstant) << rewritten->ToString();
      }
      if (rewritten->ToString() != original->ToString()) ++folded;
      for (size_t i = 0; i < rows.size(); ++i) {
        ASSERT_EQ(Evaluate(*rewritten, rows[i], ctx), Evaluate(*original, masked[i], ctx))
            << "filter: " << original->ToString() << "\nrewritten: " << rewritten->ToString() << "\nrow " << i;
      }
    }
  }
  EXPECT_EQ(filters, 600);
  EXPECT_GT(folded, 300);  // the property is not vacuous
}

TEST_F(PoliciesTest, ResolveCallerFunctionsIsExact) {
  Gen gen(7);
  const Schema schema = PatientSchema();
  std::vector<Row> rows;
  for (int i = 0; i < 40; ++i) rows.push_back(gen.RandomRow(i));
  const std::vector<EvalContext> callers = {EvalContext::ForUser("alice", {"g1"}), EvalContext::ForUser("bob", {"g2"}),
                                            EvalContext{}};
  for (int f = 0; f < 500; ++f) {
    auto original = Bind(gen.Filter(3), schema);
    ASSERT_TRUE(original.ok());
    const EvalContext& ctx = callers[static_cast<size_t>(f) % callers.size()];
    auto resolved = Bind(ResolveCallerFunctions(original->expr(), ctx), schema);
    ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
    ASSERT_FALSE(Contains(resolved->ToString(), "current_user()") || Contains(resolved->ToString(), "is_member("));
    for (const Row& r : rows) {
      ASSERT_EQ(Evaluate(*resolved, r, EvalContext{}), Evaluate(*original, r, ctx))
          << original->ToString() << "\nresolved: " << resolved->ToString();
    }
  }
}

TEST_F(PoliciesTest, HashAndRevealMasksAskForRowWiseEvaluation) {
  ASSERT_TRUE(policies_->SetColumnMask(name_, "name", {.kind = MaskSpec::kKeyedHash}, "a").ok());
  ASSERT_TRUE(policies_->SetColumnMask(name_, "age", {.kind = MaskSpec::kNull}, "a").ok());
  EffectivePolicy ep = Resolve(EvalContext::ForUser("bob"));
  EXPECT_EQ(ep.masked_eval_columns, std::vector<int>{kName});
  const Schema schema = PatientSchema();

  auto on_name = Bind(filter::ParseFilterString("name = 'alice' AND age > 3").value(), schema).value();
  auto rewritten = RewriteFilterForMasks(on_name, ep);
  ASSERT_TRUE(rewritten.ok());
  EXPECT_EQ(rewritten->ToString(), "name = 'alice' AND NULL");
  EXPECT_TRUE(NeedsMaskedRowEvaluation(*rewritten, ep));
  // Evaluated on masked rows, the raw value cannot be probed.
  Row row = P("p1", "A", 40, "alice");
  ep.ApplyMasks(&row);
  EXPECT_NE(Evaluate(*rewritten, row, {}), Truth::kTrue);

  auto on_site = Bind(filter::ParseFilterString("site = 'A' OR age IS NULL").value(), schema).value();
  rewritten = RewriteFilterForMasks(on_site, ep);
  ASSERT_TRUE(rewritten.ok());
  EXPECT_EQ(rewritten->ToString(), "TRUE");
  EXPECT_FALSE(NeedsMaskedRowEvaluation(*rewritten, ep));

  Schema narrow = schema;
  narrow.columns.pop_back();
  auto narrow_filter = Bind(filter::ParseFilterString("age > 1").value(), narrow).value();
  EXPECT_TRUE(RewriteFilterForMasks(narrow_filter, ep).status().IsInvalidArgument());
}

// --- History and persistence ------------------------------------------------------------

TEST_F(PoliciesTest, HistoryRecordsEveryChange) {
  ASSERT_TRUE(policies_->SetRowFilter(name_, "age > 1", "alice").ok());
  ASSERT_TRUE(policies_->SetRowFilter(name_, "age > 2", "bob").ok());
  ASSERT_TRUE(policies_->SetColumnMask(name_, "name", {.kind = MaskSpec::kPartialReveal, .reveal_last = 2}, "alice")
                  .ok());
  ASSERT_TRUE(policies_->SetTag(name_, "name", "PHI", "yes", "alice").ok());
  ASSERT_TRUE(policies_->AddTagMaskPolicy("phi", "PHI", std::nullopt, {.kind = MaskSpec::kNull}, "carol").ok());
  ASSERT_TRUE(policies_->DropTagPolicy("phi", "carol").ok());
  ASSERT_TRUE(policies_->UnsetTag(name_, "name", "PHI", "alice").ok());
  ASSERT_TRUE(policies_->DropColumnMask(name_, "name", "alice").ok());
  ASSERT_TRUE(policies_->DropRowFilter(name_, "dave").ok());

  auto all = policies_->History().value();
  ASSERT_EQ(all.size(), 9u);
  std::vector<std::string> actions;
  for (const PolicyChange& c : all) actions.push_back(c.action);
  EXPECT_EQ(actions, (std::vector<std::string>{"DROP ROW FILTER", "DROP COLUMN MASK", "UNSET TAG", "DROP TAG POLICY",
                                               "ADD TAG POLICY", "SET TAG", "SET COLUMN MASK", "SET ROW FILTER",
                                               "SET ROW FILTER"}));
  EXPECT_GT(all[0].id, all[1].id);
  EXPECT_GE(all[0].time.micros, all[8].time.micros);
  EXPECT_EQ(all[0].actor, "dave");
  EXPECT_EQ(all[0].object, "main.clinical.patients");
  EXPECT_TRUE(Contains(all[0].before_json, "age > 2"));
  EXPECT_EQ(all[0].after_json, "null");
  EXPECT_EQ(all[7].actor, "bob");
  EXPECT_TRUE(Contains(all[7].before_json, "age > 1"));
  EXPECT_TRUE(Contains(all[7].after_json, "age > 2"));
  EXPECT_EQ(all[8].before_json, "null");
  EXPECT_EQ(all[6].object, "main.clinical.patients.name");
  EXPECT_TRUE(Contains(all[6].after_json, "PARTIAL_REVEAL"));
  EXPECT_EQ(all[4].object, "tag_policy:phi");
  EXPECT_TRUE(all[4].table.empty());

  EXPECT_EQ(policies_->History(3).value().size(), 3u);
  auto for_table = policies_->History(-1, name_).value();
  EXPECT_EQ(for_table.size(), 7u);
  EXPECT_TRUE(policies_->History(-1, TableName::Parse("main.clinical.other").value()).value().empty());
}

TEST_F(PoliciesTest, EverythingPersistsAcrossReopen) {
  const Value ts = Value::Ts(Timestamp{1700000000123456});
  ASSERT_TRUE(policies_->SetRowFilter(name_, "site = 'A'", "a").ok());
  ASSERT_TRUE(policies_
                  ->SetColumnMask(name_, "score",
                                  {.kind = MaskSpec::kConstant, .constant = Value::Real(0.1), .exempt_groups = {"b", "a"}},
                                  "a")
                  .ok());
  ASSERT_TRUE(policies_->SetColumnMask(name_, "visit", {.kind = MaskSpec::kConstant, .constant = Value::DateV(Date{-5})},
                                       "a")
                  .ok());
  ASSERT_TRUE(policies_->SetTag(name_, "name", "PHI", "yes", "a").ok());
  ASSERT_TRUE(policies_->AddTagMaskPolicy("phi", "PHI", "yes", {.kind = MaskSpec::kPartialReveal, .reveal_last = 3}, "a")
                  .ok());
  ASSERT_TRUE(policies_->AddTagRowFilterPolicy("adults", "study", std::nullopt, "age >= 18", "a").ok());
  Reopen();

  EXPECT_EQ(policies_->RowFilterOf(name_).value(), std::optional<std::string>("site = 'A'"));
  auto masks = policies_->ColumnMasksOf(name_).value();
  ASSERT_EQ(masks.size(), 2u);
  EXPECT_EQ(masks[0].first, "score");
  EXPECT_EQ(masks[0].second.kind, MaskSpec::kConstant);
  EXPECT_EQ(masks[0].second.constant, Value::Real(0.1));
  EXPECT_EQ(masks[0].second.exempt_groups, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(masks[1].second.constant, Value::DateV(Date{-5}));
  EXPECT_EQ(policies_->TagsOf(name_).value().size(), 1u);
  auto list = policies_->ListTagPolicies().value();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].mask.kind, MaskSpec::kPartialReveal);
  EXPECT_EQ(list[1].mask.reveal_last, 3);
  EXPECT_EQ(list[1].tag_value, std::optional<std::string>("yes"));
  EXPECT_EQ(policies_->History().value().size(), 6u);

  EffectivePolicy ep = Resolve(EvalContext::ForUser("bob", {"a"}));
  EXPECT_FALSE(ep.masks[kScore].has_value());
  EXPECT_EQ(ep.masks[kName]->Apply(Value::Str("abcdef")), Value::Str("***def"));
  EXPECT_EQ(ep.row_filter->ToString(), "site = 'A'");

  // A timestamp constant round-trips exactly too.
  TableName events = TableName::Parse("main.clinical.events").value();
  Schema s;
  s.columns = {{"id", DataType::Bigint(), false, ""}, {"at", DataType::TimestampT(), true, ""}};
  s.primary_key = "id";
  ASSERT_TRUE(store_->CreateTable(events, s, {}, "a").ok());
  ASSERT_TRUE(policies_->SetColumnMask(events, "at", {.kind = MaskSpec::kConstant, .constant = ts}, "a").ok());
  Reopen();
  EXPECT_EQ(policies_->ColumnMasksOf(events).value()[0].second.constant, ts);
}

TEST_F(PoliciesTest, ConcurrentChangesAndResolutions) {
  ASSERT_TRUE(policies_->SetColumnMask(name_, "name", {.kind = MaskSpec::kKeyedHash}, "a").ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        if (t % 2 == 0) {
          if (!policies_->SetTag(name_, "site", "k" + std::to_string(t), std::to_string(i), "a").ok()) ++failures;
        } else {
          auto ep = policies_->Resolve(name_, PatientSchema(), EvalContext::ForUser("u"));
          if (!ep.ok() || !ep->masks[kName]) ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(policies_->History(-1, name_).value().size(), 41u);
}

}  // namespace
}  // namespace vesta::governance
