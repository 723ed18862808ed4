// The quickstart's demo principals (access/demo_principals.h) on the real
// demo cohort (data/, loaded once per suite): set up idempotently through the
// governed admin calls, and then what each principal sees through the
// governed reads (ReadTable, QueryIndex) and the tokens issued for them.
#include "access/demo_principals.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "access/governed.h"
#include "ingest/demo_cohort.h"
#include "ingest/index_sync.h"
#include "tests/access/access_test_util.h"
#include "tests/testing/temp_dir.h"

namespace vesta::access {
namespace {

using governance::MaskSpec;
using governance::PrincipalKind;
using governance::Securable;
using governance::SecurableType;
using governance::TableName;
using testing::Contains;
using testing::IsHex64;

const TableName kRadiomics = TableName::Parse("main.imaging.radiomics").value();
const TableName kStats = TableName::Parse("main.imaging.radiomics_feature_stats").value();
const TableName kPatients = TableName::Parse("main.clinical.patients").value();
const TableName kMutations = TableName::Parse("main.genomics.somatic_mutations").value();
const TableName kIndex = TableName::Parse("main.imaging.radiomics_idx").value();
const std::set<std::string> kSites = {"19", "76", "CS", "HT"};  // DemoPrincipalsOptions' default

// "TCGA-76-4925" -> "76".
std::string SiteOf(const Value& barcode) {
  return barcode.as_string().substr(5, 2);
}

// Every state change the governance components record (principals,
// memberships, tokens; row filters, masks; grants on the demo securables).
struct ChangeCounts {
  size_t principals = 0;
  size_t policies = 0;
  size_t grants = 0;
  bool operator==(const ChangeCounts&) const = default;
};

// One store with the demo cohort and a bootstrapped admin, shared by the
// suite (loading the cohort takes seconds); SetUpDemoPrincipals runs once
// here, and each test that changes something restores the demo state.
class DemoPrincipalsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ::vesta::testing::TempDir();
    const std::string path = dir_->File("demo.vesta");
    {
      auto store = governance::Store::Open(path, {});
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      ingest::DemoOptions o;
      o.data_dir = std::string(VESTA_SOURCE_DIR) + "/data";
      auto loaded = ingest::LoadDemoCohort(**store, o);
      ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    }
    auto g = Governed::Open(path);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    g_ = g->release();
    ASSERT_TRUE(g_->principals().Bootstrap("admin").ok());
    first_audit_ = {AuditHead() + 1, 0};
    auto first = SetUpDemoPrincipals(*g_, As("admin"));
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    first_audit_.second = AuditHead() + 1;
    first_ = new DemoPrincipalsReport(std::move(first).value());
  }
  static void TearDownTestSuite() {
    delete first_;
    first_ = nullptr;
    delete g_;
    g_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (g_ == nullptr || first_ == nullptr) GTEST_FAIL() << "the suite's set-up failed";
  }

  static Caller As(const std::string& user) {
    auto c = g_->CallerFor(user);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : Caller{};
  }
  // The token the first run issued for `user`, authenticated.
  static Caller ByToken(const std::string& user) {
    for (const DemoPrincipal& p : first_->principals) {
      if (p.user != user) continue;
      auto c = g_->Authenticate(p.token);
      EXPECT_TRUE(c.ok()) << user << ": " << c.status().ToString();
      return c.ok() ? *c : Caller{};
    }
    ADD_FAILURE() << "no principal " << user << " in the report";
    return Caller{};
  }
  static std::vector<Row> Read(const Caller& c, const TableName& t, std::vector<std::string> columns,
                               const std::string& predicate = "") {
    auto r = g_->ReadTable(c, t, {.columns = std::move(columns), .predicate = predicate});
    EXPECT_TRUE(r.ok()) << c.user << " reading " << t.ToString() << ": " << r.status().ToString();
    return r.ok() ? r->rows : std::vector<Row>{};
  }
  static int64_t AuditHead() {
    auto head = g_->audit().GetHead();
    EXPECT_TRUE(head.ok()) << head.status().ToString();
    return head.ok() ? head->seq : -1;
  }
  // Audit records with seq in [from, to), allowed, counted by action.
  static std::map<std::string, int> AllowedActions(std::pair<int64_t, int64_t> seqs) {
    governance::AuditQuery q;
    q.outcome = "allowed";
    q.from_seq = seqs.first;
    q.to_seq = seqs.second;
    q.limit = governance::AuditQuery::kMaxLimit;
    auto records = g_->audit().Query(q);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    std::map<std::string, int> by_action;
    if (!records.ok()) return {};
    for (const auto& r : *records) {
      EXPECT_EQ(r.principal, "admin") << r.action;
      ++by_action[r.action];
    }
    return by_action;
  }
  static ChangeCounts Counts() {
    ChangeCounts n;
    n.principals = g_->principals().History().value().size();
    n.policies = g_->policies().History().value().size();
    std::vector<Securable> securables = {Securable::Parse(SecurableType::kCatalog, "main").value(),
                                         Securable::Index(kIndex)};
    for (const char* s : {"main.imaging", "main.clinical", "main.genomics"}) {
      securables.push_back(Securable::Parse(SecurableType::kSchema, s).value());
    }
    for (const TableName& t : {kRadiomics, kStats, kPatients, kMutations}) {
      securables.push_back(Securable::Table(t));
    }
    for (const Securable& s : securables) n.grants += g_->privileges().History(s).value().size();
    return n;
  }

  static ::vesta::testing::TempDir* dir_;
  static Governed* g_;
  static DemoPrincipalsReport* first_;
  static std::pair<int64_t, int64_t> first_audit_;  // the first run's audit seqs, [from, to)
};

::vesta::testing::TempDir* DemoPrincipalsTest::dir_ = nullptr;
Governed* DemoPrincipalsTest::g_ = nullptr;
DemoPrincipalsReport* DemoPrincipalsTest::first_ = nullptr;
std::pair<int64_t, int64_t> DemoPrincipalsTest::first_audit_;

TEST_F(DemoPrincipalsTest, FirstRunCreatesPrincipalsPoliciesGrantsAndTokens) {
  ASSERT_EQ(first_->principals.size(), 3u);
  EXPECT_EQ(first_->principals[0].user, "admin");
  EXPECT_TRUE(first_->principals[0].token.empty());  // the admin keeps its own
  for (size_t i : {1, 2}) {
    const DemoPrincipal& p = first_->principals[i];
    EXPECT_TRUE(p.created) << p.user;
    EXPECT_EQ(p.token.rfind("vst_", 0), 0u) << p.user;
    auto tokens = g_->ListTokens(As("admin"), p.user);
    ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
    ASSERT_EQ(tokens->size(), 1u) << p.user;
    EXPECT_EQ((*tokens)[0].token_id, p.token_id);
    EXPECT_EQ((*tokens)[0].comment, "demo");
    EXPECT_FALSE((*tokens)[0].expires_at.has_value());
  }
  EXPECT_EQ(first_->principals[1].user, kDemoOncologist);
  EXPECT_EQ(first_->principals[1].group, kDemoOncologyGroup);
  EXPECT_EQ(first_->principals[2].user, kDemoResearcher);
  EXPECT_EQ(first_->principals[2].group, kDemoResearchersGroup);
  EXPECT_EQ(ByToken(kDemoOncologist).groups, std::vector<std::string>{"oncology"});
  EXPECT_EQ(ByToken(kDemoResearcher).groups, std::vector<std::string>{"researchers"});
  // The index did not exist yet: no grant on it.
  EXPECT_FALSE(first_->index_granted);
  // The policies as documented, read back through the governed calls.
  const std::string site = "NOT is_member('oncology') OR tissue_source_site IN ('19', '76', 'CS', 'HT')";
  const std::string barcode =
      "NOT is_member('oncology') OR patient_id LIKE 'TCGA-19-%' OR patient_id LIKE 'TCGA-76-%' OR "
      "patient_id LIKE 'TCGA-CS-%' OR patient_id LIKE 'TCGA-HT-%'";
  const Caller admin = As("admin");
  EXPECT_EQ(g_->GetRowFilter(admin, kRadiomics).value(), site);
  EXPECT_EQ(g_->GetRowFilter(admin, kPatients).value(), site);
  EXPECT_EQ(g_->GetRowFilter(admin, kMutations).value(), barcode);
  EXPECT_FALSE(g_->GetRowFilter(admin, kStats).value().has_value());
  std::map<std::string, std::string> masks;  // table.column -> kind
  for (const TableName& t : {kRadiomics, kPatients, kMutations}) {
    auto listed = g_->ListColumnMasks(admin, t);
    ASSERT_TRUE(listed.ok()) << listed.status().ToString();
    for (const auto& [column, spec] : *listed) {
      masks[t.ToString() + "." + column] = std::string(governance::MaskKindName(spec.kind));
      EXPECT_EQ(spec.exempt_groups, (std::vector<std::string>{"admins", "oncology"})) << column;
    }
  }
  EXPECT_EQ(masks, (std::map<std::string, std::string>{
                       {"main.imaging.radiomics.study_id", "KEYED_HASH"},
                       {"main.imaging.radiomics.patient_id", "KEYED_HASH"},
                       {"main.imaging.radiomics.scan_date", "NULL"},
                       {"main.clinical.patients.patient_id", "KEYED_HASH"},
                       {"main.genomics.somatic_mutations.mutation_id", "KEYED_HASH"},
                       {"main.genomics.somatic_mutations.patient_id", "KEYED_HASH"},
                       {"main.genomics.somatic_mutations.sample_barcode", "KEYED_HASH"}}));
  // Both groups may read the four tables (and nothing else was needed).
  for (const char* user : {kDemoOncologist, kDemoResearcher}) {
    for (const TableName& t : {kRadiomics, kStats, kPatients, kMutations}) {
      EXPECT_TRUE(g_->privileges()
                      .CheckRead(user, {user == std::string(kDemoOncologist) ? "oncology" : "researchers"},
                                 Securable::Table(t), false)
                      .ok())
          << user << " " << t.ToString();
    }
  }
}

TEST_F(DemoPrincipalsTest, SecondRunChangesNothingAndIssuesNoToken) {
  const ChangeCounts before = Counts();
  const int64_t head_before = AuditHead();
  auto again = SetUpDemoPrincipals(*g_, As("admin"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->changes.empty()) << again->changes.front();
  for (const DemoPrincipal& p : again->principals) {
    EXPECT_FALSE(p.created) << p.user;
    EXPECT_TRUE(p.token.empty()) << p.user;
    EXPECT_TRUE(p.token_id.empty()) << p.user;
  }
  EXPECT_EQ(Counts(), before);
  for (const char* user : {kDemoOncologist, kDemoResearcher}) {
    EXPECT_EQ(g_->ListTokens(As("admin"), user, /*include_inactive=*/true)->size(), 1u) << user;
  }
  // Every change of the first run is in the audit log as allowed, by admin;
  // the second run's records are reads only.
  std::map<std::string, int> first = AllowedActions(first_audit_);
  EXPECT_EQ(first["principal.create"], 4);  // oncology, researchers, oncologist, researcher
  EXPECT_EQ(first["group.member.add"], 2);
  EXPECT_EQ(first["policy.row_filter.set"], 3);
  EXPECT_EQ(first["policy.column_mask.set"], 7);
  EXPECT_EQ(first["grant.update"], 8);  // catalog, 3 schemas, 4 tables
  EXPECT_EQ(first["token.issue"], 2);
  std::map<std::string, int> second = AllowedActions({head_before + 1, AuditHead() + 1});
  for (const auto& [action, n] : second) {
    EXPECT_TRUE(action == "principal.list" || action == "principal.describe" || action == "table.list" ||
                action == "policy.row_filter.get" || action == "policy.column_mask.list" ||
                action == "grant.get" || action == "token.list")
        << action << " x" << n;
  }
  EXPECT_FALSE(second.empty());
}

TEST_F(DemoPrincipalsTest, OncologistSeesOnlyTheChosenSitesUnmasked) {
  const Caller admin = As("admin");
  const Caller onc = ByToken(kDemoOncologist);
  // Radiomics: exactly the admin's rows of those sites, raw.
  std::vector<std::string> expected_studies;
  for (const Row& r : Read(admin, kRadiomics, {"study_id", "tissue_source_site"})) {
    if (kSites.count(r[1].as_string())) expected_studies.push_back(r[0].as_string());
  }
  std::vector<std::string> studies;
  std::set<std::string> cohorts;
  for (const Row& r :
       Read(onc, kRadiomics, {"study_id", "patient_id", "scan_date", "tissue_source_site", "cohort"})) {
    EXPECT_TRUE(kSites.count(r[3].as_string())) << r[0].ToString();
    EXPECT_EQ(r[1].as_string().rfind("TCGA-", 0), 0u) << r[1].ToString();
    EXPECT_EQ(r[0].as_string().rfind(r[1].as_string() + ":", 0), 0u) << r[0].ToString();
    EXPECT_FALSE(r[2].is_null()) << r[0].ToString();
    studies.push_back(r[0].as_string());
    cohorts.insert(r[4].as_string());
  }
  std::sort(expected_studies.begin(), expected_studies.end());
  std::sort(studies.begin(), studies.end());
  EXPECT_EQ(studies, expected_studies);
  EXPECT_EQ(studies.size(), 46u);  // 22 GBM (19, 76) + 24 LGG (CS, HT) of 167
  EXPECT_EQ(cohorts, (std::set<std::string>{"GBM", "LGG"}));

  // Clinical.
  std::vector<std::string> expected_patients, patients;
  for (const Row& r : Read(admin, kPatients, {"patient_id", "tissue_source_site"})) {
    if (kSites.count(r[1].as_string())) expected_patients.push_back(r[0].as_string());
  }
  for (const Row& r : Read(onc, kPatients, {"patient_id", "tissue_source_site"})) {
    EXPECT_TRUE(kSites.count(r[1].as_string())) << r[0].ToString();
    EXPECT_EQ(SiteOf(r[0]), r[1].as_string());
    patients.push_back(r[0].as_string());
  }
  std::sort(expected_patients.begin(), expected_patients.end());
  std::sort(patients.begin(), patients.end());
  EXPECT_EQ(patients, expected_patients);
  EXPECT_EQ(patients.size(), 189u);

  // Mutations (filtered by the barcode's site).
  std::vector<std::string> expected_mutations, mutations;
  for (const Row& r : Read(admin, kMutations, {"mutation_id", "patient_id"})) {
    if (!r[1].is_null() && kSites.count(SiteOf(r[1]))) expected_mutations.push_back(r[0].as_string());
  }
  for (const Row& r : Read(onc, kMutations, {"mutation_id", "patient_id", "sample_barcode"})) {
    EXPECT_TRUE(kSites.count(SiteOf(r[1]))) << r[0].ToString();
    EXPECT_EQ(r[0].as_string().rfind(r[2].as_string() + ":", 0), 0u) << r[0].ToString();  // raw
    mutations.push_back(r[0].as_string());
  }
  std::sort(expected_mutations.begin(), expected_mutations.end());
  std::sort(mutations.begin(), mutations.end());
  EXPECT_EQ(mutations, expected_mutations);
  EXPECT_GT(mutations.size(), 10000u);
  EXPECT_LT(mutations.size(), Read(admin, kMutations, {"mutation_id"}).size() / 4);
  std::cout << "oncologist sees " << studies.size() << " studies, " << patients.size() << " patients, "
            << mutations.size() << " mutations\n";
}

TEST_F(DemoPrincipalsTest, ResearcherSeesEveryRowWithJoinableHashedIdentifiers) {
  const Caller admin = As("admin");
  const Caller res = ByToken(kDemoResearcher);
  const std::vector<Row> raw_studies = Read(admin, kRadiomics, {"patient_id", "features"});
  const std::vector<Row> studies = Read(res, kRadiomics, {"study_id", "patient_id", "scan_date", "features"});
  ASSERT_EQ(studies.size(), 167u);
  ASSERT_EQ(raw_studies.size(), 167u);
  for (const Row& r : studies) {
    EXPECT_TRUE(IsHex64(r[0])) << r[0].ToString();
    EXPECT_TRUE(IsHex64(r[1])) << r[1].ToString();
    EXPECT_TRUE(r[2].is_null()) << r[2].ToString();
  }
  // Pair each study with its raw patient through the (unmasked) feature
  // vector: raw patient -> the researcher's pseudonym. The mapping is a
  // function, and injective.
  std::map<std::string, std::string> pseudonym;
  std::set<std::string> hashes;
  for (const Row& r : studies) {
    auto raw = std::find_if(raw_studies.begin(), raw_studies.end(),
                            [&](const Row& a) { return a[1].as_vector() == r[3].as_vector(); });
    ASSERT_NE(raw, raw_studies.end());
    const std::string patient = (*raw)[0].as_string();
    auto [it, inserted] = pseudonym.emplace(patient, r[1].as_string());
    EXPECT_EQ(it->second, r[1].as_string()) << patient;
    hashes.insert(r[1].as_string());
  }
  EXPECT_EQ(hashes.size(), pseudonym.size());

  const std::vector<Row> clinical = Read(res, kPatients, {"patient_id"});
  EXPECT_EQ(clinical.size(), Read(admin, kPatients, {"patient_id"}).size());
  EXPECT_EQ(clinical.size(), 1096u);
  for (const Row& r : clinical) ASSERT_TRUE(IsHex64(r[0])) << r[0].ToString();
  const std::vector<Row> mutations = Read(res, kMutations, {"mutation_id", "patient_id", "sample_barcode"});
  EXPECT_EQ(mutations.size(), Read(admin, kMutations, {"mutation_id"}).size());
  for (const Row& r : mutations) {
    ASSERT_TRUE(IsHex64(r[0]) && IsHex64(r[1]) && IsHex64(r[2])) << r[0].ToString();
  }

  // Joins on the pseudonym: for every imaged patient, the researcher's
  // clinical and mutation rows under the pseudonym are exactly the admin's
  // rows under the raw id (compared on unmasked columns).
  auto by_patient = [](const std::vector<Row>& rows) {
    std::map<std::string, std::vector<std::string>> out;  // patient -> sorted row texts
    for (const Row& r : rows) {
      std::string text;
      for (size_t c = 1; c < r.size(); ++c) text += r[c].ToString() + "|";
      out[r[0].is_null() ? "NULL" : r[0].as_string()].push_back(text);
    }
    for (auto& [patient, texts] : out) std::sort(texts.begin(), texts.end());
    return out;
  };
  const std::vector<std::string> clinical_columns = {"patient_id", "age_at_diagnosis", "sex", "os_months",
                                                     "cohort"};
  const std::vector<std::string> mutation_columns = {"patient_id", "hugo_symbol", "hgvsp_short", "vaf"};
  const auto raw_clinical = by_patient(Read(admin, kPatients, clinical_columns));
  const auto hashed_clinical = by_patient(Read(res, kPatients, clinical_columns));
  const auto raw_mutations = by_patient(Read(admin, kMutations, mutation_columns));
  const auto hashed_mutations = by_patient(Read(res, kMutations, mutation_columns));
  auto rows_of = [](const std::map<std::string, std::vector<std::string>>& m, const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? std::vector<std::string>{} : it->second;
  };
  size_t joined_clinical = 0, joined_mutations = 0;
  for (const auto& [patient, hash] : pseudonym) {
    EXPECT_EQ(rows_of(hashed_clinical, hash), rows_of(raw_clinical, patient)) << patient;
    EXPECT_EQ(rows_of(hashed_mutations, hash), rows_of(raw_mutations, patient)) << patient;
    joined_clinical += rows_of(hashed_clinical, hash).size();
    joined_mutations += rows_of(hashed_mutations, hash).size();
  }
  EXPECT_GT(joined_clinical, 150u);
  EXPECT_GT(joined_mutations, 5000u);  // 6,867: mutations of the imaged patients
  // The join also works inside a read: the researcher's filter on the
  // pseudonym is evaluated on masked values.
  const auto& [patient, hash] = *pseudonym.begin();
  EXPECT_EQ(Read(res, kPatients, {"age_at_diagnosis"}, "patient_id = '" + hash + "'"),
            Read(admin, kPatients, {"age_at_diagnosis"}, "patient_id = '" + patient + "'"));
}

TEST_F(DemoPrincipalsTest, AdminSeesEverythingRaw) {
  const Caller admin = As("admin");
  const std::vector<Row> studies = Read(admin, kRadiomics, {"study_id", "patient_id", "scan_date"});
  ASSERT_EQ(studies.size(), 167u);
  int dated = 0;
  for (const Row& r : studies) {
    EXPECT_EQ(r[0].as_string().rfind(r[1].as_string() + ":", 0), 0u) << r[0].ToString();
    dated += r[2].is_null() ? 0 : 1;
  }
  EXPECT_GT(dated, 150);
  EXPECT_EQ(Read(admin, kPatients, {"patient_id"}).size(), 1096u);
  const auto info = g_->store().DescribeTable(kMutations);
  ASSERT_TRUE(info.ok());
  const std::vector<Row> mutations = Read(admin, kMutations, {"mutation_id", "patient_id"});
  EXPECT_EQ(static_cast<int64_t>(mutations.size()), info->row_count);
  for (const Row& r : mutations) ASSERT_EQ(r[1].as_string().rfind("TCGA-", 0), 0u) << r[0].ToString();
}

TEST_F(DemoPrincipalsTest, GrantsSelectOnTheIndexOnceItExistsAndItsQueriesAreGoverned) {
  const Caller admin = As("admin");
  ASSERT_TRUE(g_->AuthorizeCreateIndex(admin, kRadiomics, kIndex).ok());
  EXPECT_EQ(g_->DescribeIndex(As(kDemoOncologist), kIndex).code(), StatusCode::kPermissionDenied);
  auto run = SetUpDemoPrincipals(*g_, admin);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_TRUE(run->index_granted);
  EXPECT_EQ(run->changes, std::vector<std::string>{
                              "granted SELECT on index main.imaging.radiomics_idx to oncology, researchers"});
  EXPECT_TRUE(SetUpDemoPrincipals(*g_, admin)->changes.empty());

  // The index the service would build (serve_demo.sh's columns_to_sync).
  const ingest::IndexSource source{kRadiomics, "features", {"patient_id", "cohort", "tissue_source_site"}};
  auto spec = ingest::SpecForSource(g_->store(), source, index::IndexKind::kFlat, index::Metric::kL2);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto idx = index::VectorIndex::Create(*spec);
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  ASSERT_TRUE(ingest::BuildFromTable(g_->store(), source, **idx).ok());
  const IndexRef ref{kIndex, kRadiomics, idx->get()};
  const std::vector<Row> any = Read(admin, kRadiomics, {"features"}, "tissue_source_site = '06'");
  ASSERT_FALSE(any.empty());
  IndexQuery q;
  q.vector = any[0][0].as_vector();
  q.k = 200;
  q.columns = {"patient_id", "tissue_source_site"};

  auto onc = g_->QueryIndex(ByToken(kDemoOncologist), ref, q);
  ASSERT_TRUE(onc.ok()) << onc.status().ToString();
  EXPECT_EQ(onc->rows.size(), 46u);
  for (const Row& r : onc->rows) {
    EXPECT_TRUE(kSites.count(r[2].as_string())) << r[0].ToString();
    EXPECT_EQ(r[0].as_string().rfind(r[1].as_string() + ":", 0), 0u) << r[0].ToString();  // raw
  }
  auto res = g_->QueryIndex(ByToken(kDemoResearcher), ref, q);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->rows.size(), 167u);
  for (const Row& r : res->rows) EXPECT_TRUE(IsHex64(r[0]) && IsHex64(r[1])) << r[0].ToString();
}

TEST_F(DemoPrincipalsTest, ReplacesADifferentPolicyAndRestoresTheDemoState) {
  const Caller admin = As("admin");
  ASSERT_TRUE(g_->SetRowFilter(admin, kPatients, "cohort = 'GBM'").ok());
  ASSERT_TRUE(g_->SetColumnMask(admin, kPatients, "patient_id", {.kind = MaskSpec::kNull}).ok());
  auto run = SetUpDemoPrincipals(*g_, admin);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(run->changes.size(), 2u);
  EXPECT_TRUE(Contains(run->changes[0], "replaced the row filter of main.clinical.patients"))
      << run->changes[0];
  EXPECT_TRUE(Contains(run->changes[1], "replaced the mask of main.clinical.patients.patient_id: KEYED_HASH"))
      << run->changes[1];
  EXPECT_EQ(Read(As(kDemoResearcher), kPatients, {"patient_id"}).size(), 1096u);
  EXPECT_TRUE(SetUpDemoPrincipals(*g_, admin)->changes.empty());
}

TEST_F(DemoPrincipalsTest, RefusesACallerWhoIsNotAMetastoreAdmin) {
  const ChangeCounts before = Counts();
  auto r = SetUpDemoPrincipals(*g_, As(kDemoOncologist));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
  EXPECT_EQ(Counts(), before);
}

TEST_F(DemoPrincipalsTest, RejectsBadOptions) {
  DemoPrincipalsOptions o;
  o.oncology_sites = {"19", "7'"};
  EXPECT_EQ(SetUpDemoPrincipals(*g_, As("admin"), o).status().code(), StatusCode::kInvalidArgument);
  o.oncology_sites = {};
  EXPECT_EQ(o.Validate().code(), StatusCode::kInvalidArgument);
  o = {};
  o.index = "radiomics_idx";
  EXPECT_EQ(o.Validate().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(DemoPrincipalsOptions{}.Validate().ok());
}

// Without the demo cohort: NotFound before any change.
TEST(DemoPrincipals, NeedsTheDemoTablesAndChangesNothingWithoutThem) {
  ::vesta::testing::TempDir dir;
  const std::string path = dir.File("empty.vesta");
  ASSERT_TRUE(governance::Store::Open(path, {}).ok());
  auto g = Governed::Open(path);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_TRUE((*g)->principals().Bootstrap("admin").ok());
  auto r = SetUpDemoPrincipals(**g, (*g)->CallerFor("admin").value());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(r.status().message(), "vesta demo load")) << r.status().message();
  EXPECT_EQ((*g)->principals().List().value().size(), 2u);  // admin, admins
}

}  // namespace
}  // namespace vesta::access
