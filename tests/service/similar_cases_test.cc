// "Find similar cases" end to end on the real TCGA glioma cohort (issue #6):
// the project's data/ loaded by ingest::LoadDemoCohort into a temporary
// store, the real server on 127.0.0.1 (ephemeral port), HTTP requests to
// POST /api/2.0/vector-search/indexes/{index}/similar-cases. Each summary
// number checked here is recomputed in this file from rows read directly
// from the store (trusted reads, not the service's code path), with
// textbook formulas written out independently of stats/.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/governed.h"
#include "governance/privileges.h"
#include "ingest/demo_cohort.h"
#include "service/server.h"
#include "tests/testing/temp_dir.h"

namespace vesta::service {
namespace {

using governance::Privilege;
using governance::Securable;
using governance::SecurableType;
using governance::TableName;
using json = nlohmann::json;

const TableName kRadiomics{"main", "imaging", "radiomics"};
const TableName kClinical{"main", "clinical", "patients"};
const TableName kMutations{"main", "genomics", "somatic_mutations"};
const TableName kIndex{"main", "imaging", "radiomics_idx"};
const std::vector<std::string> kGenes = {"IDH1", "EGFR", "TP53", "PTEN", "ATRX"};

bool IsHex64(const json& v) {
  if (!v.is_string()) return false;
  const std::string s = v.get<std::string>();
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// --- Independent statistics (textbook formulas, not stats/) -----------------

// Two-sided Fisher exact p of [[a, b], [c, d]]: the sum of the hypergeometric
// probabilities no larger than the observed one (Agresti, "Categorical Data
// Analysis", 2nd ed., 2002, section 3.5.1; R's fisher.test uses the same
// rule with a relative tolerance of 1e-7).
double FisherP(int64_t a, int64_t b, int64_t c, int64_t d) {
  const int64_t r1 = a + b, c1 = a + c, n = a + b + c + d;
  auto logp = [&](int64_t x) {
    auto lc = [](int64_t nn, int64_t kk) {
      return std::lgamma(nn + 1.0) - std::lgamma(kk + 1.0) - std::lgamma(nn - kk + 1.0);
    };
    return lc(c1, x) + lc(n - c1, r1 - x) - lc(n, r1);
  };
  const double obs = logp(a);
  double p = 0;
  for (int64_t x = std::max<int64_t>(0, r1 - (n - c1)); x <= std::min(r1, c1); ++x) {
    const double lx = logp(x);
    if (lx <= obs + 1e-7) p += std::exp(lx);
  }
  return std::min(1.0, p);
}

// Quantile type 7 (Hyndman & Fan 1996): h = (n - 1) p, linear interpolation.
double Q7(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double h = (static_cast<double>(v.size()) - 1) * p;
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

// --- The fixture: one store, one server, for the whole suite --------------------

class SimilarCasesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    path_ = new std::string(dir_->File("demo.vesta"));
    {
      auto store = governance::Store::Open(*path_, {});
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      ingest::DemoOptions o;
      o.data_dir = std::string(VESTA_SOURCE_DIR) + "/data";
      auto rep = ingest::LoadDemoCohort(**store, o);
      ASSERT_TRUE(rep.ok()) << rep.status().ToString();
    }
    auto g = access::Governed::Open(*path_);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    g_ = g->release();
    auto admin = g_->principals().Bootstrap("admin");
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_token_ = new std::string(admin->token);

    // The two tissue source sites with the most imaging studies.
    auto rad = g_->store().Read(kRadiomics, {});
    ASSERT_TRUE(rad.ok());
    std::map<std::string, int> by_site;
    for (const Row& r : rad->rows) ++by_site[r[4].as_string()];
    std::vector<std::pair<int, std::string>> ranked;
    for (const auto& [s, n] : by_site) ranked.push_back({-n, s});
    std::sort(ranked.begin(), ranked.end());
    sites_ = new std::vector<std::string>{ranked[0].second, ranked[1].second};

    // Principals: "restricted" (group site_research: rows of two sites only,
    // identifiers as keyed hashes), "nomut" (no SELECT on mutations).
    governance::Principals& p = g_->principals();
    ASSERT_TRUE(p.CreateGroup("phi_readers", "admin").ok());
    ASSERT_TRUE(p.AddMember("phi_readers", "admin", "admin").ok());
    ASSERT_TRUE(p.CreateGroup("site_research", "admin").ok());
    ASSERT_TRUE(p.CreateUser("restricted", "admin").ok());
    ASSERT_TRUE(p.AddMember("site_research", "restricted", "admin").ok());
    ASSERT_TRUE(p.CreateUser("nomut", "admin").ok());
    restricted_token_ = new std::string(p.IssueToken("restricted", std::nullopt, "test", "admin")->token);
    nomut_token_ = new std::string(p.IssueToken("nomut", std::nullopt, "test", "admin")->token);
    governance::Privileges& pr = g_->privileges();
    for (const std::string who : {"site_research", "nomut"}) {
      ASSERT_TRUE(pr.Grant(Securable::Parse(SecurableType::kCatalog, "main").value(), who,
                           {Privilege::kUseCatalog}, "admin")
                      .ok());
      for (const char* s : {"main.imaging", "main.clinical", "main.genomics"}) {
        ASSERT_TRUE(pr.Grant(Securable::Parse(SecurableType::kSchema, s).value(), who,
                             {Privilege::kUseSchema}, "admin")
                        .ok());
      }
      for (const TableName& t : {kRadiomics, kClinical}) {
        ASSERT_TRUE(pr.Grant(Securable::Table(t), who, {Privilege::kSelect}, "admin").ok());
      }
    }
    ASSERT_TRUE(pr.Grant(Securable::Table(kMutations), "site_research", {Privilege::kSelect}, "admin").ok());
    const std::string in_sites = "tissue_source_site IN ('" + (*sites_)[0] + "', '" + (*sites_)[1] + "')";
    governance::Policies& pol = g_->policies();
    for (const TableName& t : {kRadiomics, kClinical}) {
      ASSERT_TRUE(pol.SetRowFilter(t, "NOT is_member('site_research') OR " + in_sites, "admin").ok());
    }
    ASSERT_TRUE(pol.SetRowFilter(kMutations,
                                 "NOT is_member('site_research') OR patient_id LIKE 'TCGA-" + (*sites_)[0] +
                                     "-%' OR patient_id LIKE 'TCGA-" + (*sites_)[1] + "-%'",
                                 "admin")
                    .ok());
    governance::MaskSpec hash;
    hash.kind = governance::MaskSpec::kKeyedHash;
    hash.exempt_groups = {"phi_readers"};
    for (const TableName& t : {kRadiomics, kClinical, kMutations}) {
      ASSERT_TRUE(pol.SetColumnMask(t, "patient_id", hash, "admin").ok());
    }
    ASSERT_TRUE(pol.SetColumnMask(kRadiomics, "study_id", hash, "admin").ok());

    ServerOptions so;
    so.host = "127.0.0.1";
    so.port = 0;
    so.worker_threads = 2;
    so.access_log = false;
    so.index_dir = dir_->File("indexes");
    server_ = new Server(*g_, so);
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    // The quickstart's index (tools/serve_demo.sh), TRIGGERED so the tests control its syncs.
    json create = {{"name", kIndex.ToString()},
                   {"endpoint_name", "vesta"},
                   {"primary_key", "study_id"},
                   {"index_type", "DELTA_SYNC"},
                   {"delta_sync_index_spec",
                    {{"source_table", kRadiomics.ToString()},
                     {"pipeline_type", "TRIGGERED"},
                     {"embedding_vector_columns", {{{"name", "features"}, {"embedding_dimension", 724}}}},
                     {"columns_to_sync", {"patient_id", "cohort", "tissue_source_site"}}}}};
    json r = Post("/api/2.0/vector-search/indexes", create, *admin_token_, 200);
    ASSERT_FALSE(r.is_null());
    // Grants on an index are made once it exists.
    for (const std::string who : {"site_research", "nomut"}) {
      ASSERT_TRUE(pr.Grant(Securable::Index(kIndex), who, {Privilege::kSelect}, "admin").ok());
    }
  }

  static void TearDownTestSuite() {
    if (server_) server_->Stop();
    delete server_;
    delete g_;
    delete dir_;
    delete path_;
    delete admin_token_;
    delete restricted_token_;
    delete nomut_token_;
    delete sites_;
    server_ = nullptr;
    g_ = nullptr;
  }

  // POSTs `body`; expects `status`; returns the JSON answer (null on a mismatch).
  static json Post(const std::string& path, const json& body, const std::string& token, int status,
                   std::string* raw = nullptr) {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(60);
    auto r = c.Post(path, {{"Authorization", "Bearer " + token}}, body.dump(), "application/json");
    EXPECT_TRUE(r) << httplib::to_string(r.error());
    if (!r) return json();
    if (raw) *raw = r->body;
    EXPECT_EQ(r->status, status) << path << ": " << r->body.substr(0, 2000);
    if (r->status != status) return json();
    return json::parse(r->body);
  }
  static json Similar(const json& body, const std::string& token, int status = 200) {
    return Post("/api/2.0/vector-search/indexes/" + kIndex.ToString() + "/similar-cases", body, token,
                status);
  }

  // A GBM patient with an imaging study and mutations, found by trusted reads.
  static std::string GbmPatient() {
    auto rad = g_->store().Read(kRadiomics, {.predicate = "cohort = 'GBM'", .order_by_primary_key = true});
    auto mut = g_->store().Read(kMutations, {.columns = {"patient_id"}});
    std::set<std::string> mutated;
    for (const Row& r : mut->rows) mutated.insert(r[0].as_string());
    for (const Row& r : rad->rows) {
      if (mutated.count(r[1].as_string())) return r[1].as_string();
    }
    return "";
  }

  static json FullRequest(const std::string& patient) {
    std::string genes;
    for (const std::string& g : kGenes) genes += (genes.empty() ? "'" : ", '") + g + "'";
    return {{"example", {{"column", "patient_id"}, {"value", patient}}},
            {"num_results", 10},
            {"columns", {"study_id", "patient_id", "cohort", "tissue_source_site"}},
            {"joins",
             {{{"name", "clinical"},
               {"table", kClinical.ToString()},
               {"columns",
                {"patient_id", "tissue_source_site", "age_at_diagnosis", "sex", "subtype", "os_months",
                 "os_event"}}},
              {{"name", "mutations"},
               {"table", kMutations.ToString()},
               {"columns", {"patient_id", "hugo_symbol", "hgvsp_short", "variant_classification", "vaf"}},
               {"filter", "hugo_symbol IN (" + genes + ")"}}}},
            {"summary",
             {{"categorical", {{{"join", "clinical"}, {"column", "sex"}}}},
              {"numeric", {{{"join", "clinical"}, {"column", "age_at_diagnosis"}}}},
              {"genes", {{"join", "mutations"}, {"genes", kGenes}}},
              {"survival", {{"join", "clinical"}}}}}};
  }

  static testing::TempDir* dir_;
  static std::string* path_;
  static access::Governed* g_;
  static Server* server_;
  static std::string* admin_token_;
  static std::string* restricted_token_;
  static std::string* nomut_token_;
  static std::vector<std::string>* sites_;
};

testing::TempDir* SimilarCasesTest::dir_ = nullptr;
std::string* SimilarCasesTest::path_ = nullptr;
access::Governed* SimilarCasesTest::g_ = nullptr;
Server* SimilarCasesTest::server_ = nullptr;
std::string* SimilarCasesTest::admin_token_ = nullptr;
std::string* SimilarCasesTest::restricted_token_ = nullptr;
std::string* SimilarCasesTest::nomut_token_ = nullptr;
std::vector<std::string>* SimilarCasesTest::sites_ = nullptr;

TEST_F(SimilarCasesTest, GbmCaseGetsJoinedClinicalAndMutationsAtStatedVersionsAndASummaryThatChecksOut) {
  const std::string patient = GbmPatient();
  ASSERT_FALSE(patient.empty());
  json a = Similar(FullRequest(patient), *admin_token_);
  ASSERT_TRUE(a.is_object());
  const json& data = a["result"]["data_array"];
  ASSERT_EQ(data.size(), 10u);
  ASSERT_EQ(a["manifest"]["columns"].back()["name"], "score");
  std::vector<std::string> case_patients;
  for (const json& row : data) {
    EXPECT_NE(row[1], patient) << "the example's own studies are excluded";
    case_patients.push_back(row[1].get<std::string>());
  }
  // Scores best first.
  for (size_t i = 1; i < data.size(); ++i)
    EXPECT_GE(data[i - 1].back().get<double>(), data[i].back().get<double>());

  // Versions: each joined table at its current version, stated; the index at its snapshot.
  const int64_t clinical_v = g_->store().DescribeTable(kClinical)->current_version;
  const int64_t mutations_v = g_->store().DescribeTable(kMutations)->current_version;
  const int64_t radiomics_v = g_->store().DescribeTable(kRadiomics)->current_version;
  EXPECT_EQ(a["joins"]["clinical"]["version"], clinical_v);
  EXPECT_EQ(a["joins"]["mutations"]["version"], mutations_v);
  EXPECT_EQ(a["provenance"]["source_version"], radiomics_v);
  EXPECT_EQ(a["provenance"]["index_version"], radiomics_v);
  std::set<std::string> roles;
  for (const json& r : a["provenance"]["reads"]) {
    roles.insert(r["role"].get<std::string>());
    EXPECT_EQ(r["query_id"].get<std::string>().rfind("q-", 0), 0u);
  }
  for (const char* role :
       {"example", "search", "population", "join:clinical", "join:mutations", "profiled:mutations"}) {
    EXPECT_TRUE(roles.count(role)) << role;
  }

  // Joined rows belong to their case's patient; mutations only of the panel.
  const json& clinical = a["joins"]["clinical"];
  const json& mutations = a["joins"]["mutations"];
  ASSERT_EQ(clinical["rows_per_case"].size(), 10u);
  int with_mutations = 0;
  for (size_t i = 0; i < 10; ++i) {
    ASSERT_EQ(clinical["rows_per_case"][i].size(), 1u) << case_patients[i];
    EXPECT_EQ(clinical["rows_per_case"][i][0][0], case_patients[i]);
    for (const json& m : mutations["rows_per_case"][i]) {
      EXPECT_EQ(m[0], case_patients[i]);
      EXPECT_TRUE(std::count(kGenes.begin(), kGenes.end(), m[1].get<std::string>())) << m.dump();
    }
    with_mutations += mutations["rows_per_case"][i].empty() ? 0 : 1;
  }
  EXPECT_GT(with_mutations, 0);

  // Lineage: the call's node has every table read upstream.
  auto up = g_->lineage().Upstream({"query", a["provenance"]["id"].get<std::string>(), -1}, 3);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  std::set<std::string> upstream;
  for (const auto& e : *up) upstream.insert(e.from.ToString());
  EXPECT_TRUE(upstream.count("table main.clinical.patients@" + std::to_string(clinical_v)));
  EXPECT_TRUE(upstream.count("table main.genomics.somatic_mutations@" + std::to_string(mutations_v)));
  EXPECT_TRUE(upstream.count("index main.imaging.radiomics_idx@" + std::to_string(radiomics_v)));

  // --- The summary, recomputed from trusted reads of the same versions.
  std::set<std::string> similar(case_patients.begin(), case_patients.end());
  std::set<std::string> population;
  const auto read1 = g_->store().Read(kRadiomics, {.at = {.version = radiomics_v}});
  ASSERT_TRUE(read1.ok());
  for (const Row& r : read1->rows) {
    if (r[1].as_string() != patient) population.insert(r[1].as_string());
  }
  std::vector<std::string> rest;
  for (const auto& p : population) {
    if (!similar.count(p)) rest.push_back(p);
  }
  const json& s = a["summary"];
  EXPECT_EQ(s["similar"]["patients"], similar.size());
  EXPECT_EQ(s["population"]["patients"], population.size());

  std::map<std::string, Row> clin;
  const auto read2 = g_->store().Read(kClinical, {.at = {.version = clinical_v}});
  ASSERT_TRUE(read2.ok());
  for (const Row& r : read2->rows) clin[r[0].as_string()] = r;
  const auto clin_schema = g_->store().DescribeTable(kClinical)->schema;
  const int age_at = clin_schema.FindColumn("age_at_diagnosis"), sex_at = clin_schema.FindColumn("sex");
  // Numeric: age median and IQR (type 7).
  auto ages = [&](const std::vector<std::string>& keys) {
    std::vector<double> v;
    for (const auto& k : keys) {
      auto it = clin.find(k);
      if (it != clin.end() && !it->second[age_at].is_null()) v.push_back(it->second[age_at].as_number());
    }
    return v;
  };
  const std::vector<std::string> sim_list(similar.begin(), similar.end()),
      pop_list(population.begin(), population.end());
  const json& age = s["numeric"][0];
  EXPECT_NEAR(age["similar"]["median"].get<double>(), Q7(ages(sim_list), 0.5), 1e-9);
  EXPECT_NEAR(age["similar"]["q1"].get<double>(), Q7(ages(sim_list), 0.25), 1e-9);
  EXPECT_NEAR(age["similar"]["q3"].get<double>(), Q7(ages(sim_list), 0.75), 1e-9);
  EXPECT_NEAR(age["population"]["median"].get<double>(), Q7(ages(pop_list), 0.5), 1e-9);
  EXPECT_EQ(age["population"]["n"], ages(pop_list).size());
  // Categorical: sex counts and Fisher's p for each level, similar vs rest.
  for (const json& level : s["categorical"][0]["levels"]) {
    const std::string v = level["value"];
    int64_t a1 = 0, n1 = 0, c1 = 0, n2 = 0;
    for (const auto& k : sim_list) {
      if (clin.count(k) && !clin[k][sex_at].is_null()) ++n1, a1 += clin[k][sex_at].as_string() == v;
    }
    for (const auto& k : rest) {
      if (clin.count(k) && !clin[k][sex_at].is_null()) ++n2, c1 += clin[k][sex_at].as_string() == v;
    }
    EXPECT_EQ(level["similar"]["count"], a1) << v;
    EXPECT_EQ(level["similar"]["n"], n1) << v;
    EXPECT_EQ(level["rest"]["count"], c1) << v;
    EXPECT_NEAR(level["fisher_p"].get<double>(), FisherP(a1, n1 - a1, c1, n2 - c1), 1e-9) << v;
  }
  // Genes: mutated among profiled (any row in the mutations table), similar vs rest.
  std::map<std::string, std::set<std::string>> genes_of;  // patient -> genes (all rows)
  const auto mut_schema = g_->store().DescribeTable(kMutations)->schema;
  const int mp = mut_schema.FindColumn("patient_id"), mg = mut_schema.FindColumn("hugo_symbol");
  const auto read3 = g_->store().Read(kMutations, {.at = {.version = mutations_v}});
  ASSERT_TRUE(read3.ok());
  for (const Row& r : read3->rows) {
    if (!r[mp].is_null()) genes_of[r[mp].as_string()].insert(r[mg].is_null() ? "" : r[mg].as_string());
  }
  for (const json& gene : s["genes"]["genes"]) {
    const std::string g = gene["gene"];
    int64_t a1 = 0, n1 = 0, c1 = 0, n2 = 0;
    for (const auto& k : sim_list) {
      if (genes_of.count(k)) ++n1, a1 += genes_of[k].count(g);
    }
    for (const auto& k : rest) {
      if (genes_of.count(k)) ++n2, c1 += genes_of[k].count(g);
    }
    EXPECT_EQ(gene["similar"]["count"], a1) << g;
    EXPECT_EQ(gene["similar"]["n"], n1) << g;
    EXPECT_EQ(gene["rest"]["count"], c1) << g;
    EXPECT_EQ(gene["rest"]["n"], n2) << g;
    EXPECT_NEAR(gene["fisher_p"].get<double>(), FisherP(a1, n1 - a1, c1, n2 - c1), 1e-9) << g;
  }
  // Survival: observed events and the log-rank expected count, by the
  // formula E1 = sum over event times of d_t * n1_t / n_t (Mantel 1966).
  const int tm = clin_schema.FindColumn("os_months"), ev = clin_schema.FindColumn("os_event");
  struct Obs {
    double t;
    bool e;
    int g;
  };
  std::vector<Obs> obs;
  for (int grp = 0; grp < 2; ++grp) {
    for (const auto& k : grp == 0 ? sim_list : rest) {
      if (!clin.count(k) || clin[k][tm].is_null() || clin[k][ev].is_null()) continue;
      obs.push_back({clin[k][tm].as_number(), clin[k][ev].as_bool(), grp});
    }
  }
  std::set<double> times;
  double o1 = 0, e1 = 0;
  for (const Obs& o : obs) {
    if (o.e) times.insert(o.t);
    if (o.e && o.g == 0) ++o1;
  }
  for (double t : times) {
    double n = 0, n1 = 0, d = 0;
    for (const Obs& o : obs) {
      if (o.t >= t) ++n, n1 += o.g == 0;
      if (o.t == t && o.e) ++d;
    }
    e1 += d * n1 / n;
  }
  const json& lr = s["survival"]["log_rank"];
  ASSERT_TRUE(lr.is_object()) << s["survival"].dump();
  EXPECT_NEAR(lr["observed_similar"].get<double>(), o1, 1e-9);
  EXPECT_NEAR(lr["expected_similar"].get<double>(), e1, 1e-6);
  EXPECT_EQ(
      s["survival"]["similar"]["n"],
      static_cast<int64_t>(std::count_if(obs.begin(), obs.end(), [](const Obs& o) { return o.g == 0; })));
}

TEST_F(SimilarCasesTest, RestrictedPrincipalGetsOnlyItsSitesWithMaskedIdentifiersAndJoinsStillWork) {
  // The restricted caller picks an example among what it sees (a hashed patient id).
  httplib::Client c("127.0.0.1", server_->port());
  auto seen = c.Post("/api/2.0/vesta/tables/main.imaging.radiomics/read",
                     {{"Authorization", "Bearer " + *restricted_token_}},
                     json{{"columns", {"study_id", "patient_id", "cohort", "tissue_source_site"}},
                          {"filter", "cohort = 'GBM'"}}
                         .dump(),
                     "application/json");
  ASSERT_TRUE(seen);
  ASSERT_EQ(seen->status, 200) << seen->body;
  json rows = json::parse(seen->body);
  ASSERT_TRUE(rows.contains("data_array")) << seen->body.substr(0, 500);
  ASSERT_FALSE(rows["data_array"].empty());
  const json first = rows["data_array"][0];
  const json hashed_patient = first[1];
  ASSERT_TRUE(IsHex64(hashed_patient)) << first.dump();

  json req = FullRequest(hashed_patient.get<std::string>());
  json a = Similar(req, *restricted_token_);
  ASSERT_TRUE(a.is_object());
  const json& data = a["result"]["data_array"];
  ASSERT_FALSE(data.empty());
  int joined_mutations = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    const json& row = data[i];
    EXPECT_TRUE(IsHex64(row[0])) << row.dump();  // study_id
    EXPECT_TRUE(IsHex64(row[1])) << row.dump();  // patient_id
    EXPECT_NE(row[1], hashed_patient);
    EXPECT_TRUE(std::count(sites_->begin(), sites_->end(), row[3].get<std::string>())) << row.dump();
    for (const json& cl : a["joins"]["clinical"]["rows_per_case"][i]) {
      EXPECT_EQ(cl[0], row[1]);  // the same keyed hash in both tables
      EXPECT_TRUE(std::count(sites_->begin(), sites_->end(), cl[1].get<std::string>())) << cl.dump();
    }
    joined_mutations += a["joins"]["mutations"]["rows_per_case"][i].size();
  }
  EXPECT_GT(joined_mutations, 0) << "mutations join on the hashed patient_id";
  // The population is what the caller sees: only its sites.
  int64_t visible = 0;
  std::set<std::string> patients;
  const auto read4 = g_->store().Read(kRadiomics, {});
  ASSERT_TRUE(read4.ok());
  for (const Row& r : read4->rows) {
    if (std::count(sites_->begin(), sites_->end(), r[4].as_string())) patients.insert(r[1].as_string());
  }
  visible = static_cast<int64_t>(patients.size()) - 1;  // without the example's patient
  EXPECT_EQ(a["summary"]["population"]["patients"], visible);
  // Nothing raw leaks anywhere in the answer.
  const std::string text = a.dump();
  const auto read5 = g_->store().Read(kRadiomics, {});
  ASSERT_TRUE(read5.ok());
  for (const Row& r : read5->rows) {
    EXPECT_EQ(text.find(r[1].as_string()), std::string::npos) << "raw patient id " << r[1].as_string();
  }
}

TEST_F(SimilarCasesTest, JoinWithoutSelectIs403BeforeAnySearch) {
  governance::AuditQuery all;
  all.limit = governance::AuditQuery::kMaxLimit;
  all.newest_first = false;
  const auto before = g_->audit().Query(all);
  ASSERT_TRUE(before.ok());
  json req = FullRequest(GbmPatient());
  json err = Similar(req, *nomut_token_, 403);
  ASSERT_TRUE(err.is_object());
  EXPECT_NE(err["message"].get<std::string>().find("main.genomics.somatic_mutations"), std::string::npos)
      << err.dump();
  const auto after = g_->audit().Query(all);
  ASSERT_TRUE(after.ok());
  for (size_t i = before->size(); i < after->size(); ++i) {
    const auto& rec = (*after)[i];
    if (rec.principal != "nomut") continue;
    EXPECT_NE(rec.action, "index.query") << "searched before the join's privileges were checked";
    EXPECT_NE(rec.action, "table.read") << rec.securable;
  }
}

// A caller without privileges on the index learns nothing about it: every
// request is 403, whatever it names (columns, values), before any check of
// the request against the index.
TEST_F(SimilarCasesTest, CallerWithoutPrivilegesGets403WhateverTheRequestNames) {
  ASSERT_TRUE(g_->principals().CreateUser("stranger", "admin").ok());
  auto t = g_->principals().IssueToken("stranger", std::nullopt, "test", "admin");
  ASSERT_TRUE(t.ok());
  for (const json& body : {json{{"example", {{"column", "no_such_column"}, {"value", "x"}}}},
                           json{{"example", {{"column", "patient_id"}, {"value", 42}}}},
                           json{{"example", "TCGA-06-0139"}, {"columns", {"no_such_column"}}}}) {
    json e = Similar(body, t->token, 403);
    ASSERT_TRUE(e.is_object()) << body.dump();
    EXPECT_EQ(e["error_code"], "PERMISSION_DENIED") << e.dump();
    EXPECT_EQ(e["message"].get<std::string>().find("no_such_column"), std::string::npos) << e.dump();
  }
}

// A join the summary does not use is read for the cases' keys only: its
// governed read (audited with every key it returned) discloses the rows
// shown and no more.
TEST_F(SimilarCasesTest, AJoinOutsideTheSummaryIsReadForTheCasesOnly) {
  json req = FullRequest(GbmPatient());
  req["summary"].erase("genes");
  json a = Similar(req, *admin_token_);
  ASSERT_TRUE(a.is_object());
  size_t shown = 0;
  for (const json& rows : a["joins"]["mutations"]["rows_per_case"]) shown += rows.size();
  std::string query_id;
  for (const json& r : a["provenance"]["reads"]) {
    if (r["role"] == "join:mutations") query_id = r["query_id"];
  }
  ASSERT_FALSE(query_id.empty());
  governance::AuditQuery q;
  q.action = "table.read";
  q.securable = kMutations.ToString();
  auto records = g_->audit().Query(q);
  ASSERT_TRUE(records.ok());
  int found = 0;
  for (const auto& rec : *records) {
    if (rec.parameters_json.find(query_id) == std::string::npos) continue;
    ++found;
    EXPECT_EQ(rec.row_count, static_cast<int64_t>(shown));
  }
  EXPECT_EQ(found, 1);
  EXPECT_GT(shown, 0u);
}

TEST_F(SimilarCasesTest, NamedVersionsRepeatTheSameAnswerAfterTheTablesMoveOn) {
  const std::string patient = GbmPatient();
  json req = FullRequest(patient);
  json first = Similar(req, *admin_token_);
  ASSERT_TRUE(first.is_object());
  const int64_t src_v = first["provenance"]["source_version"];
  const int64_t clin_v = first["joins"]["clinical"]["version"];
  const int64_t mut_v = first["joins"]["mutations"]["version"];

  // Move both tables on: a returned case's age changes; one study's vector changes; the index syncs.
  const std::string other = first["result"]["data_array"][0][1];
  {
    auto row = g_->store().Read(kClinical, {.predicate = "patient_id = '" + other + "'"});
    ASSERT_TRUE(row.ok() && row->rows.size() == 1);
    Row r = row->rows[0];
    const int age_at = g_->store().DescribeTable(kClinical)->schema.FindColumn("age_at_diagnosis");
    r[age_at] = Value::Real(r[age_at].is_null() ? 1.0 : r[age_at].as_number() + 11.5);
    auto t = g_->store().Begin("admin");
    ASSERT_TRUE(t->Upsert(kClinical, {r}).ok());
    ASSERT_TRUE(t->Commit().ok());
  }
  {
    auto row = g_->store().Read(kRadiomics, {.predicate = "patient_id = '" + other + "'"});
    ASSERT_TRUE(row.ok() && !row->rows.empty());
    Row r = row->rows[0];
    std::vector<float> v = r[6].as_vector();
    for (float& x : v) x = -x;
    r[6] = Value::Vec(v);
    auto t = g_->store().Begin("admin");
    ASSERT_TRUE(t->Upsert(kRadiomics, {r}).ok());
    ASSERT_TRUE(t->Commit().ok());
  }
  json synced = Post("/api/2.0/vector-search/indexes/" + kIndex.ToString() + "/sync", json::object(),
                     *admin_token_, 200);
  ASSERT_FALSE(synced.is_null());

  // Without versions: the new state.
  json now = Similar(req, *admin_token_);
  ASSERT_TRUE(now.is_object());
  EXPECT_GT(now["provenance"]["source_version"].get<int64_t>(), src_v);
  EXPECT_GT(now["joins"]["clinical"]["version"].get<int64_t>(), clin_v);
  // Naming the first answer's versions: the same answer (searched over the table at that version).
  json pinned = req;
  pinned["source_version"] = src_v;
  pinned["joins"][0]["version"] = clin_v;
  pinned["joins"][1]["version"] = mut_v;
  json again = Similar(pinned, *admin_token_);
  ASSERT_TRUE(again.is_object());
  EXPECT_EQ(again["provenance"]["plan"], "table_scan");
  EXPECT_TRUE(again["provenance"]["index_version"].is_null());
  EXPECT_EQ(again["provenance"]["source_version"], src_v);
  ASSERT_EQ(again["result"]["data_array"].size(), first["result"]["data_array"].size());
  for (size_t i = 0; i < first["result"]["data_array"].size(); ++i) {
    const json& x = first["result"]["data_array"][i];
    const json& y = again["result"]["data_array"][i];
    for (size_t j = 0; j + 1 < x.size(); ++j) EXPECT_EQ(x[j], y[j]) << i;
    EXPECT_NEAR(x.back().get<double>(), y.back().get<double>(), 1e-5) << i;
  }
  EXPECT_EQ(again["joins"], first["joins"]);
  EXPECT_EQ(again["summary"]["categorical"], first["summary"]["categorical"]);
  EXPECT_EQ(again["summary"]["genes"], first["summary"]["genes"]);
  EXPECT_EQ(again["summary"]["numeric"], first["summary"]["numeric"]);
}

TEST_F(SimilarCasesTest, RawFeaturesAreStandardisedWithTheStoredParameters) {
  // A study's raw features, rebuilt from its standardised vector: x = z * sd + mean.
  auto stats = g_->store().Read(TableName{"main", "imaging", "radiomics_feature_stats"},
                                {.order_by_primary_key = true});
  ASSERT_TRUE(stats.ok());
  auto rad = g_->store().Read(kRadiomics, {.predicate = "cohort = 'LGG'", .order_by_primary_key = true});
  ASSERT_TRUE(rad.ok() && !rad->rows.empty());
  const Row& study = rad->rows[0];
  const std::vector<float>& z = study[6].as_vector();
  json raw = json::array();
  for (size_t i = 0; i < z.size(); ++i) {
    const Row& s = stats->rows[i];
    const double mean = s[2].is_null() ? 0 : s[2].as_number(), sd = s[3].is_null() ? 0 : s[3].as_number();
    raw.push_back(sd > 0 ? z[i] * sd + mean : mean);
  }
  json a = Similar({{"raw_features", raw}, {"num_results", 3}, {"columns", {"study_id"}}}, *admin_token_);
  ASSERT_TRUE(a.is_object());
  EXPECT_EQ(a["result"]["data_array"][0][0], study[0].as_string());
  EXPECT_LT(a["distances"][0].get<double>(), 1e-3);
  bool read_stats = false;
  for (const json& r : a["provenance"]["reads"]) read_stats |= r["role"] == "feature_stats";
  EXPECT_TRUE(read_stats);
  // Wrong length: 400 naming the field.
  json bad = Similar({{"raw_features", {1.0, 2.0}}}, *admin_token_, 400);
  EXPECT_NE(bad.value("message", "").find("raw_features"), std::string::npos) << bad.dump();
}

TEST_F(SimilarCasesTest, BadRequestsNameTheProblem) {
  struct Case {
    json body;
    int status;
    std::string mentions;
  };
  const std::string patient = GbmPatient();
  const json ex = {{"column", "patient_id"}, {"value", patient}};
  const std::vector<Case> cases = {
      {{{"num_results", 3}}, 400, "exactly one of"},
      {{{"example", ex}, {"query_vector", std::vector<float>(724, 0.f)}}, 400, "exactly one of"},
      {{{"example", ex}, {"num_results", 0}}, 400, "num_results"},
      {{{"query_vector", {1, 2, 3}}}, 400, "query_vector"},
      {{{"example", {{"column", "patient_id"}, {"value", "TCGA-NO-SUCH"}}}}, 404, "example"},
      {{{"example", {{"column", "nope"}, {"value", "x"}}}}, 400, "example.column"},
      {{{"example", ex}, {"columns", {"features_x"}}}, 400, "columns"},
      {{{"example", ex},
        {"joins", {{{"name", "c"}, {"table", "main.clinical.patients"}, {"columns", {"nope"}}}}}},
       400,
       "joins[0].columns"},
      {{{"example", ex}, {"joins", {{{"name", "c"}, {"table", "main.clinical.nope"}}}}},
       404,
       "main.clinical.nope"},
      {{{"example", ex}, {"summary", {{"numeric", {{{"join", "zzz"}, {"column", "age"}}}}}}}, 400, "zzz"},
      {{{"example", ex}, {"filter_string", "cohort = "}}, 400, "filter_string"},
      {{{"example", ex}, {"source_version", 999}}, 400, "source_version"},
      {{{"example", ex}, {"filter_string", "age_at_diagnosis > 40"}}, 400, "not synced"},
  };
  for (const Case& c : cases) {
    json e = Similar(c.body, *admin_token_, c.status);
    ASSERT_TRUE(e.is_object()) << c.body.dump();
    EXPECT_NE(e.value("message", "").find(c.mentions), std::string::npos)
        << c.body.dump() << " -> " << e.dump();
  }
}

}  // namespace
}  // namespace vesta::service
