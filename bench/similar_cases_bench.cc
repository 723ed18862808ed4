// similar_cases_bench: latency of "find similar cases" (issue #6,
// service/similar_cases.h) on the TCGA glioma demo cohort, in-process
// (SimilarCases::Run, no HTTP), for each demo principal and three request
// sizes.
//
// Setup: a fresh temporary store; the demo cohort (ingest::LoadDemoCohort
// from --data); "admin" bootstrapped; service::IndexManager in-process (no
// CONTINUOUS thread) with the quickstart's index main.imaging.radiomics_idx
// (HNSW defaults, L2; 167 rows, so every search is an exact scan); the demo
// principals (access::SetUpDemoPrincipals: the oncologist sees 4 tissue
// source sites through row filters, the researcher every row with
// identifiers as keyed hashes).
//
// Requests (k 10, example = the caller's first visible GBM study's patient,
// by patient_id as the caller sees it):
//   search    the example's read and the index search only;
//   joins     + main.clinical.patients (7 columns) and the mutations of a
//             5-gene panel joined to each case;
//   summary   + the evidence summary: sex and subtype, age and OS months,
//             the panel's mutation status, overall survival (population
//             reads of the source and both joined tables).
// Each (principal, request) runs --warmup times, then --runs times, one at a
// time on one thread (OpenMP / OpenBLAS 1 thread). Reported: p50, p90 and
// max in ms, and the governed reads per request (each an audited call with
// lineage). Written to --out/similar_cases.md (default bench/results).
//
//   build/bench/similar_cases_bench [--data data] [--runs 50] [--warmup 3] [--out bench/results]
//
// Exit status: 0, or 1 on any error (printed on stderr).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "access/demo_principals.h"
#include "access/governed.h"
#include "bench/bench_util.h"
#include "bench/machine.h"
#include "ingest/demo_cohort.h"
#include "service/index_manager.h"
#include "service/similar_cases.h"

extern "C" void openblas_set_num_threads(int num_threads);

namespace vesta::bench {
namespace {

using Clock = std::chrono::steady_clock;
using governance::TableName;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

service::SimilarCasesRequest Request(const std::string& level, const Value& example) {
  service::SimilarCasesRequest r;
  r.index = TableName{"main", "imaging", "radiomics_idx"};
  r.example = service::CaseExample{"patient_id", example};
  r.k = 10;
  r.columns = {"study_id", "patient_id", "cohort", "tissue_source_site"};
  if (level == "search") return r;
  service::CaseJoin clinical;
  clinical.name = "clinical";
  clinical.table = TableName{"main", "clinical", "patients"};
  clinical.columns = {"age_at_diagnosis", "sex", "subtype", "histological_type", "os_months", "os_event"};
  service::CaseJoin mutations;
  mutations.name = "mutations";
  mutations.table = TableName{"main", "genomics", "somatic_mutations"};
  mutations.columns = {"hugo_symbol", "hgvsp_short", "variant_classification", "vaf"};
  mutations.filter = "hugo_symbol IN ('IDH1', 'EGFR', 'TP53', 'PTEN', 'ATRX')";
  r.joins = {clinical, mutations};
  if (level == "joins") return r;
  r.summary.categorical = {{"clinical", "sex"}, {"clinical", "subtype"}};
  r.summary.numeric = {{"clinical", "age_at_diagnosis"}, {"clinical", "os_months"}};
  r.summary.gene_join = "mutations";
  r.summary.genes = {"IDH1", "EGFR", "TP53", "PTEN", "ATRX"};
  r.summary.survival_join = "clinical";
  return r;
}

struct Options {
  std::string data = std::string(VESTA_SOURCE_DIR) + "/data";
  std::string out = std::string(VESTA_SOURCE_DIR) + "/bench/results";
  int runs = 50;
  int warmup = 3;
};

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) Die("option " + a + " needs a value (see the top of bench/similar_cases_bench.cc)");
    const std::string v = argv[++i];
    if (a == "--data") {
      o.data = v;
    } else if (a == "--out") {
      o.out = v;
    } else if (a == "--runs" || a == "--warmup") {
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (*end != '\0' || n < (a == "--runs" ? 1 : 0) || n > 100000)
        Die(a + ": expected a count, got '" + v + "'");
      (a == "--runs" ? o.runs : o.warmup) = static_cast<int>(n);
    } else {
      Die("unknown option " + a + " (see the top of bench/similar_cases_bench.cc)");
    }
  }
  return o;
}

int Main(int argc, char** argv) {
  SetProgram("similar_cases_bench");
  const Options o = ParseArgs(argc, argv);
  openblas_set_num_threads(1);
  omp_set_num_threads(1);

  const std::string path = MakeTempDir("similar_cases_bench") + "/store.vesta";
  Take(governance::Store::Open(path, {}), "creating the store");
  auto governed = Take(access::Governed::Open(path), "opening the store");
  access::Governed& g = *governed;
  ingest::DemoOptions demo;
  demo.data_dir = o.data;
  demo.principal = "admin";
  Take(ingest::LoadDemoCohort(g.store(), demo), "loading " + o.data);
  Take(g.principals().Bootstrap("admin"), "bootstrap admin");
  const access::Caller admin = Take(g.CallerFor("admin"), "caller admin");

  service::IndexManagerOptions io;
  io.index_dir = path + ".indexes";
  io.background_sync = false;
  auto indexes = Take(service::IndexManager::Open(g, io), "opening the indexes");
  service::IndexDefinition def;
  def.name = TableName{"main", "imaging", "radiomics_idx"};
  def.endpoint_name = "vesta";
  def.type = service::IndexType::kDeltaSync;
  def.primary_key = "study_id";
  def.source_table = TableName{"main", "imaging", "radiomics"};
  def.pipeline = service::PipelineType::kTriggered;
  def.vector_column = "features";
  def.embedding_dimension = 724;
  def.columns_to_sync = {"patient_id", "cohort", "tissue_source_site"};
  Take(indexes->Create(admin, def), "creating the index");
  Take(access::SetUpDemoPrincipals(g, admin, {}), "setting up the demo principals");
  service::SimilarCases engine(g, *indexes);

  struct Row {
    std::string principal, level;
    double p50, p90, max;
    size_t reads;
    size_t cases;
  };
  std::vector<Row> rows;
  for (const std::string principal : {"admin", "oncologist", "researcher"}) {
    const access::Caller caller = Take(g.CallerFor(principal), "caller " + principal);
    governance::ReadOptions ro;
    ro.columns = {"patient_id"};
    ro.predicate = "cohort = 'GBM'";
    ro.limit = 1;
    const governance::ReadResult first = Take(
        g.ReadTable(caller, TableName{"main", "imaging", "radiomics"}, ro), "a GBM study for " + principal);
    if (first.rows.empty()) Die(principal + " sees no GBM study");
    const Value example = first.rows[0][0];
    for (const std::string level : {"search", "joins", "summary"}) {
      const service::SimilarCasesRequest req = Request(level, example);
      std::vector<double> ms;
      size_t reads = 0, cases = 0;
      for (int i = 0; i < o.warmup + o.runs; ++i) {
        const auto t0 = Clock::now();
        const service::SimilarCasesAnswer a = Take(engine.Run(caller, req), principal + " " + level);
        const auto t1 = Clock::now();
        if (i >= o.warmup) ms.push_back(Ms(t0, t1));
        reads = a.reads.size();
        cases = a.rows.size();
      }
      rows.push_back({principal, level, Percentile(ms, 0.5), Percentile(ms, 0.9),
                      *std::max_element(ms.begin(), ms.end()), reads, cases});
      std::printf("%-10s %-8s p50 %8.2f ms  p90 %8.2f ms  max %8.2f ms  reads %zu  cases %zu\n",
                  principal.c_str(), level.c_str(), rows.back().p50, rows.back().p90, rows.back().max, reads,
                  cases);
    }
  }

  std::ostringstream md;
  md << "# Similar cases: latency on the demo cohort\n\n"
     << "Written by `build/bench/similar_cases_bench` (method at the top of "
        "`bench/similar_cases_bench.cc`).\n\n"
     << "- Machine: " << MachineText()
     << "; OpenMP and OpenBLAS at 1 thread; one request at a time, in-process (no HTTP)\n"
     << "- Commit: " << CommitText(VESTA_SOURCE_DIR) << "; date: " << UtcNow() << "\n"
     << "- Runs: " << o.warmup << " warm-up + " << o.runs << " measured per row\n"
     << "- Data: the demo cohort (167 imaging studies, 1,096 patients, 75,512 mutations); index "
        "main.imaging.radiomics_idx (167 rows: exact scans); k 10; the example is the caller's first visible "
        "GBM "
        "study's patient\n"
     << "- Principals (access/demo_principals.h): admin (everything, raw); oncologist (4 tissue source "
        "sites, row "
        "filters); researcher (every row, identifiers as keyed hashes: joins filter on hashed keys, "
        "evaluated on "
        "masked rows)\n\n"
     << "| principal | request | p50 ms | p90 ms | max ms | governed reads | cases "
        "|\n|---|---|---|---|---|---|---|\n";
  char buf[256];
  for (const Row& r : rows) {
    std::snprintf(buf, sizeof(buf), "| %s | %s | %.2f | %.2f | %.2f | %zu | %zu |\n", r.principal.c_str(),
                  r.level.c_str(), r.p50, r.p90, r.max, r.reads, r.cases);
    md << buf;
  }
  md << "\nRequests: **search** = the example's read + the index search; **joins** = + the clinical row and "
        "the "
        "5-gene panel's mutations of each case; **summary** = + the evidence summary (population reads of "
        "the "
        "source and both joined tables, Fisher's tests, Kaplan-Meier, log-rank).\n";
  std::filesystem::create_directories(o.out);
  std::ofstream f(o.out + "/similar_cases.md");
  if (!(f << md.str())) Die("cannot write " + o.out + "/similar_cases.md");
  std::printf("wrote %s/similar_cases.md\n", o.out.c_str());
  indexes.reset();
  governed.reset();
  RemoveTempDir();
  return 0;
}

}  // namespace
}  // namespace vesta::bench

int main(int argc, char** argv) {
  return vesta::bench::Main(argc, argv);
}
