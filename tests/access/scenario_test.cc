// The demo-cohort governance scenario of issue #4 ("Done when"), on the real
// TCGA glioma cohort shipped in data/ and loaded by ingest::LoadDemoCohort:
//   - group oncology_site_a sees only its site's patients and MRI studies, in
//     table reads, time travel, the change feed and index queries;
//   - phi_readers see patient identifiers unmasked; everyone else (admins
//     included) sees them as keyed hashes and cannot probe them with filters;
//   - a researcher without SELECT is refused with PermissionDenied (the
//     service's 403) and gets nothing;
//   - the audit log has one record per call with principal, action, outcome
//     and the (raw) keys returned, verifies, and a tampered record is
//     detected.
//
// Site A. TCGA barcodes are TCGA-<tissue source site>-<participant>; the
// demo tables carry the two-character site code as tissue_source_site. Site
// A is "06", the most common site among the cohort's 1,096 patients (153 of
// them; next HT 103, 02 91, DU 84) and the second among the 167 MRI studies
// (34 of them, after DU with 35), so both the table and the index have many
// rows inside and outside the site. These figures were counted directly from
// the files in data/tcga-glioma with a short Python script (site = barcode
// characters 6-7), independently of Vesta's loader; the tests also count
// them from an admin read.
//
// The world is built once for the suite (loading the cohort and building the
// index take about 0.7 s of the suite's 0.8 s) and is described at
// ScenarioDemoCohort::BuildWorld. Tests that change it leave it as they found
// it, so each test also passes alone and in any order.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "access/governed.h"
#include "ingest/demo_cohort.h"
#include "ingest/index_sync.h"
#include "tests/access/access_test_util.h"
#include "tests/testing/temp_dir.h"

namespace vesta::access {
namespace {

using testing::Contains;
using testing::IsHex64;

using governance::AuditRecord;
using governance::MaskSpec;
using governance::Privilege;
using governance::ReadOptions;
using governance::ReadResult;
using governance::Securable;
using governance::SecurableType;
using governance::TableName;

constexpr const char* kSiteA = "06";
constexpr size_t kPatientsInCohort = 1096;  // 585 GBM + 511 LGG
constexpr size_t kPatientsOfSiteA = 153;    // counted from the files, see above
constexpr size_t kStudiesInCohort = 167;    // 102 GBM + 65 LGG
constexpr size_t kStudiesOfSiteA = 34;
// A real site-A patient with one MRI study (TCGA_GBM_radiomicFeatures.csv).
constexpr const char* kProbePatient = "TCGA-06-0139";
constexpr const char* kProbeStudy = "TCGA-06-0139:2004-06-10";

// The row filter on both tables. Read it as "members of oncology_site_a see
// site 06 only; the restriction does not concern anyone else who has SELECT".
// For an oncology_site_a member NOT is_member(...) folds to FALSE and the
// filter is tissue_source_site = '06' (a NULL site is hidden: NULL = '06' is
// NULL, and NULL means the row does not exist for the caller); for everyone
// else it folds to TRUE and no filter applies. Being in phi_readers does not
// widen the site restriction (onc_phi below): the PHI exemption is about
// masks, not rows.
const std::string kSiteRowFilter =
    std::string("NOT is_member('oncology_site_a') OR tissue_source_site = '") + kSiteA + "'";
// The tag mask policy: every column tagged PHI, in every table now and
// later, reads as a keyed hash unless the caller is in phi_readers.
constexpr const char* kPhiPolicy = "phi_keyed_hash";

const TableName kPatients = TableName::Parse("main.clinical.patients").value();
const TableName kRadiomics = TableName::Parse("main.imaging.radiomics").value();
const TableName kMutations = TableName::Parse("main.genomics.somatic_mutations").value();
const TableName kRadiomicsIndex = TableName::Parse("main.imaging.radiomics_index").value();

bool IsBarcode(const Value& v) {
  return v.is_string() && v.as_string().rfind("TCGA-", 0) == 0;
}
std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

size_t ColumnIndex(const std::vector<Column>& columns, const std::string& name) {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return i;
  }
  ADD_FAILURE() << "no column " << name;
  return 0;
}

// Column `name` of every row, as text, in row order.
std::vector<std::string> Col(const ReadResult& r, const std::string& name) {
  const size_t c = ColumnIndex(r.columns, name);
  std::vector<std::string> out;
  for (const Row& row : r.rows) out.push_back(row[c].is_null() ? "NULL" : row[c].ToString());
  return out;
}

// What one audit record must say.
struct ExpectedAudit {
  std::string principal;
  std::string action;
  std::string securable;
  std::string outcome;
  // The raw keys returned, compared in order; nullopt: not checked here (the
  // test checks them itself).
  std::optional<std::vector<std::string>> keys;
  // Rows returned. nullopt: as many as keys, which holds for table reads and
  // index queries; a change feed's record lists each key once however many
  // images of it were returned.
  std::optional<int64_t> row_count;
};

// Everything the scenario runs against, built once by BuildWorld.
struct World {
  ::vesta::testing::TempDir dir;
  std::string path;
  std::unique_ptr<Governed> g;
  std::unique_ptr<index::VectorIndex> index;
  std::map<std::string, std::string> tokens;  // user -> bearer token
  int64_t patients_loaded_version = 0;        // the version LoadDemoCohort left
  int64_t patients_current_version = 0;       // after the follow-up update
  // Ground truth, read raw through the Store (bypassing governance: the
  // test's own view of the data, not a governed read).
  ReadResult raw_patients;             // at patients_current_version
  ReadResult raw_radiomics;            // current
  std::string updated_site_a_patient;  // the two patients the follow-up update changed
  std::string updated_other_patient;
  double updated_site_a_old_os_months = 0;
};

class ScenarioDemoCohort : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    delete world_;
    world_ = nullptr;
  }

  void SetUp() override {
    if (world_ == nullptr) {
      auto w = std::make_unique<World>();
      BuildWorld(*w);
      ASSERT_FALSE(HasFatalFailure()) << "building the scenario's world failed";
      world_ = w.release();
    }
  }

  // The world:
  //   - a new store with the demo cohort (LoadDemoCohort from data/);
  //   - principals: admin (Bootstrap; group admins = metastore admins);
  //     groups oncology_site_a, phi_readers, researchers; users onc_a in
  //     oncology_site_a, phi in phi_readers, onc_phi in both, researcher in
  //     researchers, analyst in no group;
  //   - grants: oncology_site_a USE CATALOG + USE SCHEMA on main and SELECT
  //     on the schemas main.clinical and main.imaging (which covers the
  //     index main.imaging.radiomics_index, a child of main.imaging);
  //     phi_readers and analyst USE CATALOG, USE SCHEMA and SELECT on main
  //     (everything); researchers USE CATALOG and USE SCHEMA on main, no
  //     SELECT anywhere;
  //   - policies: kSiteRowFilter on patients and radiomics; tag PHI=true on
  //     patients.patient_id, radiomics.study_id and radiomics.patient_id
  //     (study ids are "<barcode>:<date>") and on the barcodes of
  //     somatic_mutations (mutation_id, patient_id, sample_barcode); the tag
  //     mask policy kPhiPolicy: keyed hash unless phi_readers;
  //   - an HNSW index over radiomics.features syncing patient_id, cohort and
  //     tissue_source_site (the row filter's column must be synced);
  //   - a follow-up update committed by the admin through the Store: the
  //     os_months of one site-A patient and one other patient, so patients
  //     has a version before it for time travel and a change feed after it.
  static void BuildWorld(World& w) {
    w.path = w.dir.File("demo.vesta");
    {
      auto store = governance::Store::Open(w.path, {});
      ASSERT_TRUE(store.ok()) << store.status().ToString();
    }
    auto opened = Governed::Open(w.path);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    w.g = std::move(opened).value();
    Governed& g = *w.g;

    ingest::DemoOptions demo;
    demo.data_dir = std::string(VESTA_SOURCE_DIR) + "/data";
    demo.principal = "admin";
    auto loaded = ingest::LoadDemoCohort(g.store(), demo);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    for (const ingest::DemoTableLoad& t : loaded->tables) {
      if (t.table.ToString() == kPatients.ToString()) w.patients_loaded_version = t.version;
    }
    ASSERT_GT(w.patients_loaded_version, 0);

    // Principals.
    governance::Principals& p = g.principals();
    auto admin = p.Bootstrap("admin");
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    w.tokens["admin"] = admin->token;
    for (const char* grp : {"oncology_site_a", "phi_readers", "researchers"}) {
      ASSERT_TRUE(p.CreateGroup(grp, "admin").ok()) << grp;
    }
    for (const char* u : {"onc_a", "phi", "onc_phi", "researcher", "analyst"}) {
      ASSERT_TRUE(p.CreateUser(u, "admin").ok()) << u;
    }
    for (const auto& [grp, user] :
         std::vector<std::pair<std::string, std::string>>{{"oncology_site_a", "onc_a"},
                                                          {"phi_readers", "phi"},
                                                          {"oncology_site_a", "onc_phi"},
                                                          {"phi_readers", "onc_phi"},
                                                          {"researchers", "researcher"}}) {
      Status st = p.AddMember(grp, user, "admin");
      ASSERT_TRUE(st.ok()) << grp << " += " << user << ": " << st.ToString();
    }
    for (const char* u : {"onc_a", "phi", "onc_phi", "researcher", "analyst"}) {
      auto token = p.IssueToken(u, std::chrono::hours(1), "scenario", "admin");
      ASSERT_TRUE(token.ok()) << token.status().ToString();
      w.tokens[u] = token->token;
    }

    // Grants.
    const Securable main = Securable::Parse(SecurableType::kCatalog, "main").value();
    auto grant = [&](const Securable& s, const std::string& who, std::vector<Privilege> ps) {
      Status st = g.privileges().Grant(s, who, ps, "admin");
      ASSERT_TRUE(st.ok()) << st.ToString();
    };
    grant(main, "oncology_site_a", {Privilege::kUseCatalog, Privilege::kUseSchema});
    for (const char* schema : {"main.clinical", "main.imaging"}) {
      grant(Securable::Parse(SecurableType::kSchema, schema).value(), "oncology_site_a",
            {Privilege::kSelect});
    }
    for (const char* who : {"phi_readers", "analyst"}) {
      grant(main, who, {Privilege::kUseCatalog, Privilege::kUseSchema, Privilege::kSelect});
    }
    grant(main, "researchers", {Privilege::kUseCatalog, Privilege::kUseSchema});

    // Policies.
    governance::Policies& pol = g.policies();
    for (const TableName& t : {kPatients, kRadiomics}) {
      Status st = pol.SetRowFilter(t, kSiteRowFilter, "admin");
      ASSERT_TRUE(st.ok()) << t.ToString() << ": " << st.ToString();
    }
    for (const auto& [table, column] :
         std::vector<std::pair<TableName, std::string>>{{kPatients, "patient_id"},
                                                        {kRadiomics, "study_id"},
                                                        {kRadiomics, "patient_id"},
                                                        {kMutations, "mutation_id"},
                                                        {kMutations, "patient_id"},
                                                        {kMutations, "sample_barcode"}}) {
      Status st = pol.SetTag(table, column, "PHI", "true", "admin");
      ASSERT_TRUE(st.ok()) << table.ToString() << "." << column << ": " << st.ToString();
    }
    Status st =
        pol.AddTagMaskPolicy(kPhiPolicy, "PHI", std::nullopt,
                             {.kind = MaskSpec::kKeyedHash, .exempt_groups = {"phi_readers"}}, "admin");
    ASSERT_TRUE(st.ok()) << st.ToString();

    // The index.
    const ingest::IndexSource source{kRadiomics, "features", {"patient_id", "cohort", "tissue_source_site"}};
    auto spec = ingest::SpecForSource(g.store(), source, index::IndexKind::kHnsw, index::Metric::kL2);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    auto idx = index::VectorIndex::Create(*spec);
    ASSERT_TRUE(idx.ok()) << idx.status().ToString();
    w.index = std::move(idx).value();
    auto built = ingest::BuildFromTable(g.store(), source, *w.index);
    ASSERT_TRUE(built.ok()) << built.status().ToString();
    ASSERT_EQ(built->inserted, static_cast<int64_t>(kStudiesInCohort));

    // The follow-up update: os_months + 1 for the first site-A patient and
    // the first patient of another site that have a survival time.
    auto before = g.store().Read(kPatients, {.order_by_primary_key = true});
    ASSERT_TRUE(before.ok()) << before.status().ToString();
    const size_t pid = ColumnIndex(before->columns, "patient_id");
    const size_t site = ColumnIndex(before->columns, "tissue_source_site");
    const size_t os = ColumnIndex(before->columns, "os_months");
    std::vector<Row> updates;
    for (const Row& row : before->rows) {
      if (!row[os].is_double() || !row[site].is_string()) continue;
      const bool in_a = row[site].as_string() == kSiteA;
      std::string& slot = in_a ? w.updated_site_a_patient : w.updated_other_patient;
      if (!slot.empty()) continue;
      slot = row[pid].as_string();
      if (in_a) w.updated_site_a_old_os_months = row[os].as_double();
      Row changed = row;
      changed[os] = Value::Real(row[os].as_double() + 1.0);
      updates.push_back(std::move(changed));
    }
    ASSERT_EQ(updates.size(), 2u);
    auto txn = g.store().Begin("admin");
    ASSERT_TRUE(txn->Upsert(kPatients, std::move(updates)).ok());
    auto committed = txn->Commit();
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
    auto info = g.store().DescribeTable(kPatients);
    ASSERT_TRUE(info.ok());
    w.patients_current_version = info->current_version;
    ASSERT_EQ(w.patients_current_version, w.patients_loaded_version + 1);

    auto raw_patients = g.store().Read(kPatients);
    ASSERT_TRUE(raw_patients.ok());
    w.raw_patients = std::move(raw_patients).value();
    auto raw_radiomics = g.store().Read(kRadiomics);
    ASSERT_TRUE(raw_radiomics.ok());
    w.raw_radiomics = std::move(raw_radiomics).value();
  }

  Governed& G() { return *world_->g; }
  World& W() { return *world_; }

  // The caller behind `user`'s bearer token (the service's path).
  Caller As(const std::string& user) {
    auto c = G().Authenticate(W().tokens.at(user));
    EXPECT_TRUE(c.ok()) << user << ": " << c.status().ToString();
    return c.ok() ? *c : Caller{};
  }

  ReadResult Read(const std::string& user, const TableName& table, const ReadOptions& options = {}) {
    auto r = G().ReadTable(As(user), table, options);
    EXPECT_TRUE(r.ok()) << user << " reading " << table.ToString() << ": " << r.status().ToString();
    return r.ok() ? *r : ReadResult{};
  }

  IndexRef Index() const { return {kRadiomicsIndex, kRadiomics, world_->index.get()}; }

  int64_t AuditHead() {
    auto head = G().audit().GetHead();
    EXPECT_TRUE(head.ok());
    return head.ok() ? head->seq : -1;
  }
  AuditRecord LastAudit() {
    auto recs = G().audit().Query({.limit = 1});
    EXPECT_TRUE(recs.ok() && recs->size() == 1);
    return recs.ok() && !recs->empty() ? recs->front() : AuditRecord{};
  }
  // Checks that the records after seq `after` are exactly `want`, in order.
  void ExpectAuditSince(int64_t after, const std::vector<ExpectedAudit>& want) {
    auto recs = G().audit().Query({.from_seq = after + 1, .newest_first = false});
    ASSERT_TRUE(recs.ok()) << recs.status().ToString();
    ASSERT_EQ(recs->size(), want.size()) << "one audit record per call";
    for (size_t i = 0; i < want.size(); ++i) {
      SCOPED_TRACE("audit record " + std::to_string((*recs)[i].seq));
      const AuditRecord& r = (*recs)[i];
      EXPECT_EQ(r.principal, want[i].principal);
      EXPECT_EQ(r.action, want[i].action);
      EXPECT_EQ(r.securable, want[i].securable);
      EXPECT_EQ(r.outcome, want[i].outcome);
      EXPECT_EQ(r.row_count, want[i].row_count.value_or(static_cast<int64_t>(r.keys.size())));
      if (want[i].outcome != "allowed") {
        EXPECT_FALSE(r.message.empty());
        EXPECT_TRUE(r.keys.empty());
      }
      if (want[i].keys) {
        EXPECT_EQ(r.keys, *want[i].keys);
      }
    }
  }

  // Raw patient ids (all, or those of one site), sorted.
  std::vector<std::string> RawPatientIds(const std::optional<std::string>& site = std::nullopt) {
    const ReadResult& r = W().raw_patients;
    const size_t s = ColumnIndex(r.columns, "tissue_source_site");
    const size_t p = ColumnIndex(r.columns, "patient_id");
    std::vector<std::string> out;
    for (const Row& row : r.rows) {
      if (!site || (row[s].is_string() && row[s].as_string() == *site)) out.push_back(row[p].as_string());
    }
    return Sorted(out);
  }
  std::vector<std::string> RawStudyIds(const std::optional<std::string>& site = std::nullopt) {
    const ReadResult& r = W().raw_radiomics;
    const size_t s = ColumnIndex(r.columns, "tissue_source_site");
    const size_t k = ColumnIndex(r.columns, "study_id");
    std::vector<std::string> out;
    for (const Row& row : r.rows) {
      if (!site || (row[s].is_string() && row[s].as_string() == *site)) out.push_back(row[k].as_string());
    }
    return Sorted(out);
  }
  // The raw radiomics row of a study.
  const Row& RawStudy(const std::string& study_id) {
    const ReadResult& r = W().raw_radiomics;
    const size_t k = ColumnIndex(r.columns, "study_id");
    for (const Row& row : r.rows) {
      if (row[k].as_string() == study_id) return row;
    }
    ADD_FAILURE() << "no study " << study_id;
    return r.rows.front();
  }
  // Exact k nearest studies of `q` (squared L2) among those of `site`
  // (nullopt: all): (distance, study_id), best first.
  std::vector<std::pair<float, std::string>> BruteForce(const std::vector<float>& q, size_t k,
                                                        const std::optional<std::string>& site) {
    const ReadResult& r = W().raw_radiomics;
    const size_t s = ColumnIndex(r.columns, "tissue_source_site");
    const size_t key = ColumnIndex(r.columns, "study_id");
    const size_t f = ColumnIndex(r.columns, "features");
    std::vector<std::pair<float, std::string>> out;
    for (const Row& row : r.rows) {
      if (site && !(row[s].is_string() && row[s].as_string() == *site)) continue;
      const std::vector<float>& v = row[f].as_vector();
      float d = 0;
      for (size_t j = 0; j < v.size(); ++j) d += (v[j] - q[j]) * (v[j] - q[j]);
      out.emplace_back(d, row[key].as_string());
    }
    std::sort(out.begin(), out.end());
    if (out.size() > k) out.resize(k);
    return out;
  }

  static World* world_;
};

World* ScenarioDemoCohort::world_ = nullptr;

// --- oncology_site_a: rows ------------------------------------------------------

TEST_F(ScenarioDemoCohort, SiteGroupReadsOnlyItsSitesPatientsAndStudiesWithHashedIds) {
  // The figures counted from the files hold for the loaded tables.
  ASSERT_EQ(RawPatientIds().size(), kPatientsInCohort);
  ASSERT_EQ(RawPatientIds(kSiteA).size(), kPatientsOfSiteA);
  ASSERT_EQ(RawStudyIds().size(), kStudiesInCohort);
  ASSERT_EQ(RawStudyIds(kSiteA).size(), kStudiesOfSiteA);
  const int64_t start = AuditHead();

  // The admin sees every patient (not in oncology_site_a) with hashed ids
  // (not in phi_readers); counting site A in its read is the independent count.
  ReadResult admin = Read("admin", kPatients);
  ASSERT_EQ(admin.rows.size(), kPatientsInCohort);
  std::multiset<std::string> admin_site_a_hashes;
  {
    const std::vector<std::string> sites = Col(admin, "tissue_source_site");
    const std::vector<std::string> ids = Col(admin, "patient_id");
    for (size_t i = 0; i < ids.size(); ++i) {
      if (sites[i] == kSiteA) admin_site_a_hashes.insert(ids[i]);
    }
  }
  EXPECT_EQ(admin_site_a_hashes.size(), kPatientsOfSiteA);
  const std::vector<std::string> admin_keys = LastAudit().keys;

  // onc_a: exactly the site-A patients, every id a keyed hash.
  ReadResult onc = Read("onc_a", kPatients);
  EXPECT_EQ(onc.rows.size(), admin_site_a_hashes.size());
  EXPECT_EQ(onc.rows.size(), kPatientsOfSiteA);
  EXPECT_EQ(onc.version, W().patients_current_version);
  const size_t pid = ColumnIndex(onc.columns, "patient_id");
  const size_t site = ColumnIndex(onc.columns, "tissue_source_site");
  std::multiset<std::string> onc_hashes;
  for (const Row& row : onc.rows) {
    EXPECT_EQ(row[site], Value::Str(kSiteA));
    EXPECT_TRUE(IsHex64(row[pid])) << row[pid].ToString();
    EXPECT_FALSE(IsBarcode(row[pid]));
    onc_hashes.insert(row[pid].as_string());
  }
  // The same patients under the same pseudonyms the admin sees, all distinct.
  EXPECT_EQ(onc_hashes, admin_site_a_hashes);
  EXPECT_EQ(std::set<std::string>(onc_hashes.begin(), onc_hashes.end()).size(), kPatientsOfSiteA);
  // The caller's own predicate is ANDed with the row filter, never ORed.
  EXPECT_TRUE(Read("onc_a", kPatients, {.predicate = "tissue_source_site = 'HT'"}).rows.empty());
  EXPECT_EQ(
      Read("onc_a", kPatients, {.predicate = "tissue_source_site != '06' OR cohort = 'GBM'"}).rows.size(),
      Read("onc_a", kPatients, {.predicate = "cohort = 'GBM'"}).rows.size());

  // Imaging: only site-A studies; study and patient ids hashed, and a study's
  // patient pseudonym is the patient's (pseudonyms join across tables).
  ReadResult studies = Read("onc_a", kRadiomics);
  EXPECT_EQ(studies.rows.size(), kStudiesOfSiteA);
  const size_t sid = ColumnIndex(studies.columns, "study_id");
  const size_t spid = ColumnIndex(studies.columns, "patient_id");
  const size_t ssite = ColumnIndex(studies.columns, "tissue_source_site");
  for (const Row& row : studies.rows) {
    EXPECT_EQ(row[ssite], Value::Str(kSiteA));
    EXPECT_TRUE(IsHex64(row[sid])) << row[sid].ToString();
    EXPECT_TRUE(IsHex64(row[spid])) << row[spid].ToString();
    EXPECT_TRUE(onc_hashes.count(row[spid].as_string())) << "a study's patient is not among onc_a's patients";
  }

  // onc_phi (oncology_site_a and phi_readers): the same site-A rows, unmasked.
  ReadResult onc_phi = Read("onc_phi", kPatients);
  EXPECT_EQ(Sorted(Col(onc_phi, "patient_id")), RawPatientIds(kSiteA));

  ExpectAuditSince(
      start, {
                 {"admin", "table.read", "main.clinical.patients", "allowed", std::nullopt},
                 {"onc_a", "table.read", "main.clinical.patients", "allowed", std::nullopt},
                 {"onc_a", "table.read", "main.clinical.patients", "allowed", std::vector<std::string>{}},
                 {"onc_a", "table.read", "main.clinical.patients", "allowed", std::nullopt},
                 {"onc_a", "table.read", "main.clinical.patients", "allowed", std::nullopt},
                 {"onc_a", "table.read", "main.imaging.radiomics", "allowed", std::nullopt},
                 {"onc_phi", "table.read", "main.clinical.patients", "allowed", std::nullopt},
             });
  // The audit keeps the raw keys of what was disclosed, even where the
  // caller saw hashes.
  EXPECT_EQ(Sorted(admin_keys), RawPatientIds());
  auto recs = G().audit().Query({.from_seq = start + 1, .newest_first = false});
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 7u);
  EXPECT_EQ(Sorted((*recs)[1].keys), RawPatientIds(kSiteA));
  EXPECT_EQ(Sorted((*recs)[5].keys), RawStudyIds(kSiteA));
  EXPECT_EQ(Sorted((*recs)[6].keys), RawPatientIds(kSiteA));
  auto params = nlohmann::json::parse((*recs)[1].parameters_json);
  EXPECT_EQ(params["version_read"], W().patients_current_version);
  std::set<std::string> policies;
  for (const auto& p : params["policies"]) policies.insert(p.get<std::string>());
  EXPECT_TRUE(policies.count("row_filter:main.clinical.patients")) << params.dump();
  EXPECT_TRUE(policies.count(std::string("tag_policy:") + kPhiPolicy)) << params.dump();
}

// --- phi_readers versus everyone else -------------------------------------------

TEST_F(ScenarioDemoCohort, PhiReadersSeeBarcodesOthersSeeHashesThatCannotBeProbed) {
  const int64_t start = AuditHead();
  const std::string probe = std::string("patient_id = '") + kProbePatient + "'";

  // phi: every patient, real TCGA barcodes.
  ReadResult phi = Read("phi", kPatients);
  EXPECT_EQ(Sorted(Col(phi, "patient_id")), RawPatientIds());
  ReadResult phi_probe = Read("phi", kPatients, {.predicate = probe});
  ASSERT_EQ(phi_probe.rows.size(), 1u);
  EXPECT_EQ(Col(phi_probe, "patient_id"), std::vector<std::string>{kProbePatient});
  EXPECT_EQ(Col(phi_probe, "tissue_source_site"), std::vector<std::string>{kSiteA});

  // analyst: every patient of every site, ids hashed.
  ReadResult analyst = Read("analyst", kPatients);
  ASSERT_EQ(analyst.rows.size(), kPatientsInCohort);
  const std::vector<std::string> raw_keys = LastAudit().keys;  // in row order
  ASSERT_EQ(raw_keys.size(), analyst.rows.size());
  const std::vector<std::string> raw_site_list = Col(W().raw_patients, "tissue_source_site");
  const std::vector<std::string> analyst_site_list = Col(analyst, "tissue_source_site");
  const std::set<std::string> raw_sites(raw_site_list.begin(), raw_site_list.end());
  EXPECT_EQ(std::set<std::string>(analyst_site_list.begin(), analyst_site_list.end()), raw_sites);
  EXPECT_GT(raw_sites.size(), 30u);
  std::map<std::string, std::string> hash_of;  // raw id -> the analyst's pseudonym
  const std::vector<std::string> analyst_ids = Col(analyst, "patient_id");
  const size_t pid = ColumnIndex(analyst.columns, "patient_id");
  for (size_t i = 0; i < analyst.rows.size(); ++i) {
    EXPECT_TRUE(IsHex64(analyst.rows[i][pid])) << analyst_ids[i];
    hash_of[raw_keys[i]] = analyst_ids[i];
  }
  EXPECT_EQ(std::set<std::string>(analyst_ids.begin(), analyst_ids.end()).size(), kPatientsInCohort);
  ASSERT_TRUE(hash_of.count(kProbePatient));
  const std::string probe_hash = hash_of[kProbePatient];

  // A filter on the masked column sees the masked value: the real barcode
  // finds nothing, whatever the form of the probe; the pseudonym finds the row.
  for (const std::string& predicate :
       {probe, std::string("patient_id LIKE 'TCGA-06-%'"),
        std::string("patient_id >= 'TCGA-' AND patient_id < 'TCGA.'"),
        std::string("patient_id IN ('") + kProbePatient + "', 'TCGA-02-0001')"}) {
    SCOPED_TRACE(predicate);
    EXPECT_TRUE(Read("analyst", kPatients, {.predicate = predicate}).rows.empty());
    EXPECT_TRUE(Read("onc_a", kPatients, {.predicate = predicate}).rows.empty());
  }
  ReadResult by_hash = Read("analyst", kPatients, {.predicate = "patient_id = '" + probe_hash + "'"});
  ASSERT_EQ(by_hash.rows.size(), 1u);
  EXPECT_EQ(LastAudit().keys, std::vector<std::string>{kProbePatient});
  // The hash is not a hash the phi reader's filter matches: for phi the
  // column holds barcodes.
  EXPECT_TRUE(Read("phi", kPatients, {.predicate = "patient_id = '" + probe_hash + "'"}).rows.empty());

  // Imaging: phi sees "<barcode>:<date>" study ids; the analyst sees hashes,
  // and the study's patient pseudonym equals the patient's.
  ReadResult phi_study = Read("phi", kRadiomics, {.predicate = probe});
  EXPECT_EQ(Col(phi_study, "study_id"), std::vector<std::string>{kProbeStudy});
  EXPECT_TRUE(Read("analyst", kRadiomics, {.predicate = probe}).rows.empty());
  ReadResult analyst_study = Read("analyst", kRadiomics, {.predicate = "patient_id = '" + probe_hash + "'"});
  ASSERT_EQ(analyst_study.rows.size(), 1u);
  EXPECT_TRUE(IsHex64(analyst_study.rows[0][ColumnIndex(analyst_study.columns, "study_id")]));
  EXPECT_EQ(LastAudit().keys, std::vector<std::string>{kProbeStudy});

  // The tag policy reaches every PHI-tagged column, in the genomics table too.
  ReadResult muts = Read("analyst", kMutations, {.limit = 5});
  ASSERT_EQ(muts.rows.size(), 5u);
  for (const char* column : {"mutation_id", "patient_id", "sample_barcode"}) {
    const size_t c = ColumnIndex(muts.columns, column);
    for (const Row& row : muts.rows) EXPECT_TRUE(IsHex64(row[c])) << column << ": " << row[c].ToString();
  }
  ReadResult phi_muts = Read("phi", kMutations, {.limit = 5});
  ASSERT_EQ(phi_muts.rows.size(), 5u);
  for (const std::string& id : Col(phi_muts, "sample_barcode")) EXPECT_EQ(id.rfind("TCGA-", 0), 0u) << id;

  const std::string P = "main.clinical.patients", R = "main.imaging.radiomics",
                    M = "main.genomics.somatic_mutations";
  const std::vector<std::string> none;
  ExpectAuditSince(start,
                   {
                       {"phi", "table.read", P, "allowed", std::nullopt},
                       {"phi", "table.read", P, "allowed", std::vector<std::string>{kProbePatient}},
                       {"analyst", "table.read", P, "allowed", std::nullopt},
                       {"analyst", "table.read", P, "allowed", none},
                       {"onc_a", "table.read", P, "allowed", none},
                       {"analyst", "table.read", P, "allowed", none},
                       {"onc_a", "table.read", P, "allowed", none},
                       {"analyst", "table.read", P, "allowed", none},
                       {"onc_a", "table.read", P, "allowed", none},
                       {"analyst", "table.read", P, "allowed", none},
                       {"onc_a", "table.read", P, "allowed", none},
                       {"analyst", "table.read", P, "allowed", std::vector<std::string>{kProbePatient}},
                       {"phi", "table.read", P, "allowed", none},
                       {"phi", "table.read", R, "allowed", std::vector<std::string>{kProbeStudy}},
                       {"analyst", "table.read", R, "allowed", none},
                       {"analyst", "table.read", R, "allowed", std::vector<std::string>{kProbeStudy}},
                       {"analyst", "table.read", M, "allowed", std::nullopt},
                       {"phi", "table.read", M, "allowed", std::nullopt},
                   });
}

// --- Index queries --------------------------------------------------------------

TEST_F(ScenarioDemoCohort, IndexQueryReturnsOnlySiteStudiesWithHashedIds) {
  const int64_t start = AuditHead();
  const ReadResult& raw = W().raw_radiomics;
  const size_t raw_site = ColumnIndex(raw.columns, "tissue_source_site");
  const size_t raw_key = ColumnIndex(raw.columns, "study_id");
  const size_t raw_features = ColumnIndex(raw.columns, "features");
  // Query vectors: a study outside site A (its nearest neighbour overall is
  // itself, which onc_a must not get) and one inside.
  std::string outside, inside;
  for (const Row& row : raw.rows) {
    const bool in_a = row[raw_site].is_string() && row[raw_site].as_string() == kSiteA;
    std::string& slot = in_a ? inside : outside;
    if (slot.empty() && row[raw_site].is_string()) slot = row[raw_key].as_string();
  }
  ASSERT_FALSE(outside.empty());
  ASSERT_FALSE(inside.empty());
  const std::string outside_site = RawStudy(outside)[raw_site].as_string();
  std::vector<std::vector<std::string>> audit_keys;

  for (const std::string& study : {outside, inside}) {
    SCOPED_TRACE("query: the features of " + study);
    const std::vector<float>& q = RawStudy(study)[raw_features].as_vector();
    auto r = G().QueryIndex(As("onc_a"), Index(), {.vector = q, .k = 10});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->columns,
              (std::vector<std::string>{"study_id", "patient_id", "cohort", "tissue_source_site", "score"}));
    ASSERT_EQ(r->rows.size(), 10u);
    for (const Row& row : r->rows) {
      EXPECT_TRUE(IsHex64(row[0])) << row[0].ToString();
      EXPECT_TRUE(IsHex64(row[1])) << row[1].ToString();
      EXPECT_EQ(row[3], Value::Str(kSiteA));
    }
    // The same 10 studies exact search finds among site A's, best first.
    const std::vector<std::string> keys = LastAudit().keys;
    audit_keys.push_back(keys);
    const auto want = BruteForce(q, 10, std::string(kSiteA));
    ASSERT_EQ(keys.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(keys[i], want[i].second);
      EXPECT_NEAR(r->scores[i], want[i].first, 1e-2 * std::max(1.0f, want[i].first));
    }
    EXPECT_TRUE(std::find(r->policies_applied.begin(), r->policies_applied.end(),
                          "row_filter:main.imaging.radiomics") != r->policies_applied.end());
    EXPECT_TRUE(std::find(r->policies_applied.begin(), r->policies_applied.end(),
                          std::string("tag_policy:") + kPhiPolicy) != r->policies_applied.end());
  }
  EXPECT_NE(audit_keys[0].front(), outside);
  EXPECT_EQ(audit_keys[1].front(), inside);

  // Asking for more than there is returns exactly site A's studies.
  auto all =
      G().QueryIndex(As("onc_a"), Index(), {.vector = RawStudy(outside)[raw_features].as_vector(), .k = 500});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->rows.size(), kStudiesOfSiteA);
  EXPECT_EQ(Sorted(LastAudit().keys), RawStudyIds(kSiteA));
  // The user filter is ANDed with the row filter inside the search.
  auto other_site = G().QueryIndex(As("onc_a"), Index(),
                                   {.vector = RawStudy(outside)[raw_features].as_vector(),
                                    .k = 10,
                                    .filter = "tissue_source_site = '" + outside_site + "'"});
  ASSERT_TRUE(other_site.ok()) << other_site.status().ToString();
  EXPECT_TRUE(other_site->rows.empty());

  // phi: any site, real ids; the nearest study to `outside` is itself.
  const std::vector<float>& q = RawStudy(outside)[raw_features].as_vector();
  auto phi = G().QueryIndex(As("phi"), Index(), {.vector = q, .k = 5});
  ASSERT_TRUE(phi.ok()) << phi.status().ToString();
  ASSERT_EQ(phi->rows.size(), 5u);
  EXPECT_EQ(phi->rows[0][0], Value::Str(outside));
  EXPECT_EQ(phi->rows[0][3], Value::Str(outside_site));
  EXPECT_NEAR(phi->scores[0], 0.0f, 1e-3);
  for (const Row& row : phi->rows) EXPECT_TRUE(IsBarcode(row[1])) << row[1].ToString();
  std::vector<std::string> phi_keys;
  for (const Row& row : phi->rows) phi_keys.push_back(row[0].as_string());
  std::vector<std::string> brute_keys;
  for (const auto& [d, k] : BruteForce(q, 5, std::nullopt)) brute_keys.push_back(k);
  EXPECT_EQ(phi_keys, brute_keys);

  // analyst: the same studies, under hashes.
  auto analyst = G().QueryIndex(As("analyst"), Index(), {.vector = q, .k = 5});
  ASSERT_TRUE(analyst.ok()) << analyst.status().ToString();
  ASSERT_EQ(analyst->rows.size(), 5u);
  for (const Row& row : analyst->rows) {
    EXPECT_TRUE(IsHex64(row[0]));
    EXPECT_TRUE(IsHex64(row[1]));
  }
  EXPECT_EQ(analyst->rows[0][3], Value::Str(outside_site));
  EXPECT_EQ(LastAudit().keys, phi_keys);

  // A filter on a keyed-hash column cannot be evaluated inside the search:
  // it is refused (fail closed) rather than run on raw values; the exempt
  // reader's same filter runs on raw values.
  const std::string probe = std::string("patient_id = '") + kProbePatient + "'";
  auto masked_probe = G().QueryIndex(As("analyst"), Index(), {.vector = q, .k = 5, .filter = probe});
  EXPECT_EQ(masked_probe.status().code(), StatusCode::kFailedPrecondition)
      << masked_probe.status().ToString();
  auto phi_probe = G().QueryIndex(As("phi"), Index(), {.vector = q, .k = 5, .filter = probe});
  ASSERT_TRUE(phi_probe.ok()) << phi_probe.status().ToString();
  ASSERT_EQ(phi_probe->rows.size(), 1u);
  EXPECT_EQ(phi_probe->rows[0][0], Value::Str(kProbeStudy));

  const std::string I = "main.imaging.radiomics_index";
  ExpectAuditSince(start, {
                              {"onc_a", "index.query", I, "allowed", audit_keys[0]},
                              {"onc_a", "index.query", I, "allowed", audit_keys[1]},
                              {"onc_a", "index.query", I, "allowed", std::nullopt},
                              {"onc_a", "index.query", I, "allowed", std::vector<std::string>{}},
                              {"phi", "index.query", I, "allowed", phi_keys},
                              {"analyst", "index.query", I, "allowed", phi_keys},
                              {"analyst", "index.query", I, "error", std::nullopt},
                              {"phi", "index.query", I, "allowed", std::vector<std::string>{kProbeStudy}},
                          });
}

// --- A researcher without SELECT ------------------------------------------------

TEST_F(ScenarioDemoCohort, ResearcherWithoutSelectIsRefusedEverywhereAndGetsNothing) {
  const int64_t start = AuditHead();
  // The researcher is authenticated (a 401 would be a different failure)...
  Caller researcher = As("researcher");
  EXPECT_EQ(researcher.user, "researcher");
  EXPECT_EQ(researcher.groups, std::vector<std::string>{"researchers"});

  // ...and refused, naming the privilege and the securable, on every path.
  const std::string lacks_table = "researcher lacks SELECT on table main.clinical.patients";
  auto read = G().ReadTable(researcher, kPatients, {});
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(read.status().message(), lacks_table)) << read.status().message();

  auto old = G().ReadTable(researcher, kPatients, {.at = {.version = W().patients_loaded_version}});
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(old.status().message(), lacks_table)) << old.status().message();

  auto changes =
      G().Changes(researcher, kPatients, W().patients_loaded_version, W().patients_current_version);
  ASSERT_FALSE(changes.ok());
  EXPECT_EQ(changes.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(changes.status().message(), lacks_table)) << changes.status().message();

  auto query = G().QueryIndex(researcher, Index(), {.vector = std::vector<float>(724, 0.0f), .k = 5});
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(
      Contains(query.status().message(), "researcher lacks SELECT on index main.imaging.radiomics_index"))
      << query.status().message();

  // A table that does not exist is refused the same way: no probing the catalog.
  auto missing = G().ReadTable(researcher, TableName::Parse("main.clinical.no_such_table").value(), {});
  EXPECT_EQ(missing.status().code(), StatusCode::kPermissionDenied);

  // An unknown token is a different refusal (the service's 401).
  auto bad = G().Authenticate("vst_" + std::string(64, 'f'));
  EXPECT_EQ(bad.status().code(), StatusCode::kUnauthenticated);

  const std::string P = "main.clinical.patients";
  ExpectAuditSince(
      start,
      {
          {"researcher", "table.read", P, "denied", std::vector<std::string>{}},
          {"researcher", "table.read", P, "denied", std::vector<std::string>{}},
          {"researcher", "table.changes", P, "denied", std::vector<std::string>{}},
          {"researcher", "index.query", "main.imaging.radiomics_index", "denied", std::vector<std::string>{}},
          {"researcher", "table.read", "main.clinical.no_such_table", "denied", std::vector<std::string>{}},
          {"", "auth.token", "", "denied", std::vector<std::string>{}},
      });
  auto recs = G().audit().Query({.from_seq = start + 1, .to_seq = start + 2});
  ASSERT_TRUE(recs.ok() && recs->size() == 1);
  EXPECT_EQ(recs->front().message, read.status().message());
}

// --- Time travel and the change feed ---------------------------------------------

TEST_F(ScenarioDemoCohort, TimeTravelAndChangeFeedKeepTheSiteRestriction) {
  const int64_t start = AuditHead();
  const int64_t v_old = W().patients_loaded_version, v_new = W().patients_current_version;
  const std::string& updated_a = W().updated_site_a_patient;
  const std::string& updated_other = W().updated_other_patient;

  // onc_a at the version before the follow-up update: site A only, the old value.
  ReadResult old = Read("onc_a", kPatients, {.at = {.version = v_old}});
  EXPECT_EQ(old.version, v_old);
  EXPECT_EQ(old.rows.size(), kPatientsOfSiteA);
  for (const std::string& s : Col(old, "tissue_source_site")) EXPECT_EQ(s, kSiteA);
  for (const std::string& id : Col(old, "patient_id")) EXPECT_FALSE(id.rfind("TCGA-", 0) == 0) << id;
  const std::vector<std::string> old_keys = LastAudit().keys;  // raw, in row order
  EXPECT_EQ(Sorted(old_keys), RawPatientIds(kSiteA));
  EXPECT_EQ(nlohmann::json::parse(LastAudit().parameters_json)["version_read"], v_old);
  const size_t os = ColumnIndex(old.columns, "os_months");
  auto at = std::find(old_keys.begin(), old_keys.end(), updated_a);
  ASSERT_NE(at, old_keys.end());
  EXPECT_EQ(old.rows[static_cast<size_t>(at - old_keys.begin())][os],
            Value::Real(W().updated_site_a_old_os_months));

  ReadResult now = Read("onc_a", kPatients);
  EXPECT_EQ(now.version, v_new);
  const std::vector<std::string> now_keys = LastAudit().keys;
  at = std::find(now_keys.begin(), now_keys.end(), updated_a);
  ASSERT_NE(at, now_keys.end());
  EXPECT_EQ(now.rows[static_cast<size_t>(at - now_keys.begin())][os],
            Value::Real(W().updated_site_a_old_os_months + 1.0));

  // The change feed: onc_a sees the site-A patient's update (pre- and
  // postimage) under its pseudonym, and nothing of the other site's update.
  auto feed = G().Changes(As("onc_a"), kPatients, v_new, v_new);
  ASSERT_TRUE(feed.ok()) << feed.status().ToString();
  ASSERT_EQ(feed->changes.size(), 2u);
  const size_t fpid = ColumnIndex(feed->columns, "patient_id");
  const size_t fsite = ColumnIndex(feed->columns, "tissue_source_site");
  EXPECT_EQ(feed->changes[0].type, governance::ChangeType::kUpdatePreimage);
  EXPECT_EQ(feed->changes[1].type, governance::ChangeType::kUpdatePostimage);
  for (const governance::ChangeRow& c : feed->changes) {
    EXPECT_TRUE(IsHex64(c.row[fpid])) << c.row[fpid].ToString();
    EXPECT_EQ(c.row[fsite], Value::Str(kSiteA));
  }
  EXPECT_EQ(LastAudit().keys, std::vector<std::string>{updated_a});
  EXPECT_EQ(LastAudit().row_count, 2);

  // phi sees both updates with barcodes; the analyst both, hashed.
  auto phi = G().Changes(As("phi"), kPatients, v_new, v_new);
  ASSERT_TRUE(phi.ok()) << phi.status().ToString();
  std::set<std::string> phi_ids;
  for (const governance::ChangeRow& c : phi->changes) phi_ids.insert(c.row[fpid].as_string());
  EXPECT_EQ(phi->changes.size(), 4u);
  EXPECT_EQ(phi_ids, (std::set<std::string>{updated_a, updated_other}));
  auto analyst = G().Changes(As("analyst"), kPatients, v_new, v_new);
  ASSERT_TRUE(analyst.ok()) << analyst.status().ToString();
  EXPECT_EQ(analyst->changes.size(), 4u);
  for (const governance::ChangeRow& c : analyst->changes) EXPECT_TRUE(IsHex64(c.row[fpid]));

  const std::string P = "main.clinical.patients";
  ExpectAuditSince(start,
                   {
                       {"onc_a", "table.read", P, "allowed", old_keys},
                       {"onc_a", "table.read", P, "allowed", now_keys},
                       {"onc_a", "table.changes", P, "allowed", std::vector<std::string>{updated_a}, 2},
                       {"phi", "table.changes", P, "allowed", Sorted({updated_a, updated_other}), 4},
                       {"analyst", "table.changes", P, "allowed", Sorted({updated_a, updated_other}), 4},
                   });
}

// --- The audit log verifies and tampering is detected ----------------------------

TEST_F(ScenarioDemoCohort, AuditLogVerifiesAndATamperedRecordIsDetected) {
  // One call of each kind the scenario is about, to have them in the chain
  // whatever tests ran before.
  const int64_t start = AuditHead();
  ASSERT_EQ(Read("onc_a", kPatients).rows.size(), kPatientsOfSiteA);
  auto denied = G().ReadTable(As("researcher"), kPatients, {});
  ASSERT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  ASSERT_EQ(
      Read("phi", kPatients, {.predicate = std::string("patient_id = '") + kProbePatient + "'"}).rows.size(),
      1u);
  ExpectAuditSince(
      start,
      {
          {"onc_a", "table.read", "main.clinical.patients", "allowed", std::nullopt},
          {"researcher", "table.read", "main.clinical.patients", "denied", std::vector<std::string>{}},
          {"phi", "table.read", "main.clinical.patients", "allowed", std::vector<std::string>{kProbePatient}},
      });
  const int64_t denied_seq = start + 2;

  int64_t checked = 0, first_bad = 0;
  Status ok = G().audit().Verify(&checked, &first_bad);
  ASSERT_TRUE(ok.ok()) << ok.ToString();
  EXPECT_EQ(checked, AuditHead());
  EXPECT_EQ(first_bad, -1);

  // Someone with the store file rewrites who was refused.
  auto exec = [&](const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(W().path.c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    EXPECT_EQ(sqlite3_changes(db), 1);
    sqlite3_free(err);
    sqlite3_close(db);
  };
  exec("UPDATE gov_audit SET principal = 'mallory' WHERE seq = " + std::to_string(denied_seq));
  Status tampered = G().audit().Verify(&checked, &first_bad);
  EXPECT_EQ(tampered.code(), StatusCode::kDataLoss) << tampered.ToString();
  EXPECT_TRUE(Contains(tampered.message(), "audit record " + std::to_string(denied_seq) + ":"))
      << tampered.message();
  EXPECT_TRUE(Contains(tampered.message(), "edited")) << tampered.message();
  EXPECT_EQ(first_bad, denied_seq);
  EXPECT_EQ(checked, denied_seq - 1);  // everything before it still verifies

  // Putting the record back restores the chain (and leaves the suite's store
  // valid for the tests that follow).
  exec("UPDATE gov_audit SET principal = 'researcher' WHERE seq = " + std::to_string(denied_seq));
  Status restored = G().audit().Verify(&checked, &first_bad);
  EXPECT_TRUE(restored.ok()) << restored.ToString();
  EXPECT_EQ(first_bad, -1);
}

}  // namespace
}  // namespace vesta::access
