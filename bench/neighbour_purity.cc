// neighbour_purity: does the demo pipeline keep the clinical signal of the
// radiomic features? For every MRI study of the TCGA glioma demo cohort
// (data/tcga-glioma, loaded by ingest::LoadDemoCohort: 167 studies, 102 GBM,
// 65 LGG, VECTOR(724) standardised per feature), asks the quickstart's index
// for the study's nearest neighbours and measures how many of them are of
// the same cohort (GBM / LGG) as the study, against what chance would give.
//
// Setup: a fresh temporary store (or --store PATH, left in place), the demo
// cohort loaded into it (an upsert: a store that has it commits nothing),
// principal "admin" bootstrapped (in an existing store whose principals are
// set up: "admin" must exist and be a metastore admin), service::
// IndexManager opened in-process (index files under <store>.indexes, no
// CONTINUOUS thread) and two DELTA_SYNC indexes created as the admin over
// main.imaging.radiomics.features, syncing patient_id, cohort and
// tissue_source_site:
//   main.imaging.radiomics_idx        HNSW, L2, CONTINUOUS, the parameters of
//                                     tools/serve_demo.sh (none given: the
//                                     defaults, M 16, ef_construction 100,
//                                     ef_search 128, seed 1234, 1 build thread)
//   main.imaging.radiomics_exact_idx  FLAT (exact), L2
// In a --store, an index that already exists is reused and indexes this
// program created are dropped at the end.
//
// Neighbour sources (one row each in the tables):
//   hnsw   IndexManager::Query as the admin on radiomics_idx: the governed
//          path the service answers /query with (privilege check, policies,
//          search, masking, audit); the "plans" column shows how the
//          planner answered. At 167 rows there is no graph: VectorIndex
//          builds an HNSW graph from 256 rows on (MinStructureRows in
//          index/vector_index.cc) and searches smaller indexes exactly, so
//          on the demo cohort this source is an exact scan.
//   graph  only when the index has a graph (a larger cohort): the same
//          index's graph walk, forced (SearchRequest::force_plan = kGraph on
//          the handle from IndexManager::Find; not governed, not audited),
//          since the planner may prefer an exact scan for small tables.
//   flat   IndexManager::Query as the admin on radiomics_exact_idx.
// Every source but flat also reports its recall@k against exact search
// (distances compared: ties count).
// Checked on the side: the flat lists against a plain double-precision loop
// over the table's vectors (read with Governed::ReadTable as the admin).
//
// Measures, for each source, each k in {5, --k, 20} and each of GBM, LGG and
// both cohorts together:
//   neighbours(i)  the k nearest studies of OTHER patients: the index is asked
//                  for k + (studies of i's patient) results (k + 1 in this
//                  cohort, one study per patient), the studies of i's patient
//                  (i included) are dropped and the first k kept.
//   purity(i)      fraction of neighbours(i) in i's cohort.
//   base(i)        studies of i's cohort among the studies of other patients,
//                  over the studies of other patients (101/166 for a GBM study
//                  here): the expected purity of k studies drawn at random.
//   purity, base   means over the group's studies; lift = purity / base.
//   95% CI         percentile bootstrap over the group's studies (2,000
//                  resamples, seeded with --seed; the same resamples for every
//                  source and k) of the mean purity and of the lift.
//   p              permutation test, one-sided (purity above chance): the
//                  cohort labels shuffled over the studies (10,000
//                  permutations, seed --seed + 1, the same for every source
//                  and k), neighbour lists fixed, the mean purity recomputed
//                  (row "both": over all studies; a cohort's row: over the
//                  studies the shuffle gives that label);
//                  p = (1 + #{permuted >= observed}) / (1 + 10,000).
//   kNN accuracy   leave-one-out classification of each study by majority vote
//                  of neighbours(i) (a tied vote goes to the nearest
//                  neighbour's cohort); row "both": accuracy and balanced
//                  accuracy; a cohort's row: the fraction of its studies
//                  classified correctly. Against the majority-class rule
//                  (predict the cohort with the most studies among the other
//                  patients').
//
// Usage: neighbour_purity [--data DIR] [--k 10] [--seed 42] [--out DIR]
//                         [--store PATH]
//   --data  the project's data/ folder (default: <source dir>/data)
//   --out   results folder (default: <source dir>/bench/results): writes
//           neighbour_purity.md and neighbour_purity.csv there.
// OpenMP and OpenBLAS run on 1 thread. Exit status 0, or 1 on any error
// (printed on stderr).
#include <omp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "access/governed.h"
#include "bench/bench_util.h"
#include "bench/machine.h"
#include "common/status.h"
#include "ingest/demo_cohort.h"
#include "service/index_manager.h"

extern "C" void openblas_set_num_threads(int num_threads);

#ifndef VESTA_SOURCE_DIR
#define VESTA_SOURCE_DIR "."
#endif

namespace vesta::bench {
namespace {

using Clock = std::chrono::steady_clock;
using governance::TableName;

constexpr const char* kTable = "main.imaging.radiomics";
constexpr const char* kHnswIndex = "main.imaging.radiomics_idx";  // tools/serve_demo.sh's name
constexpr const char* kFlatIndex = "main.imaging.radiomics_exact_idx";
constexpr const char* kAdmin = "admin";
constexpr size_t kBootstrapResamples = 2000;
constexpr size_t kPermutations = 10000;
const std::array<std::string, 2> kCohorts = {"GBM", "LGG"};

// The temporary store's directory, removed on exit ("" for --store).
TableName Name(const char* full) {
  return Take(TableName::Parse(full), full);
}
double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct Options {
  std::string data = std::string(VESTA_SOURCE_DIR) + "/data";
  std::string out = std::string(VESTA_SOURCE_DIR) + "/bench/results";
  std::string store;  // empty: a temporary store, removed at the end
  size_t k = 10;
  uint64_t seed = 42;
  std::string command;  // the command line, for the report
};

Options ParseArgs(int argc, char** argv) {
  Options o;
  o.command = argv[0];
  for (int i = 1; i < argc; ++i) o.command += std::string(" ") + argv[i];
  const std::string usage =
      "usage: neighbour_purity [--data DIR] [--k N] [--seed N] [--out DIR] [--store PATH]";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value after " + a + " (" + usage + ")");
      return argv[++i];
    };
    try {
      if (a == "--data")
        o.data = next();
      else if (a == "--out")
        o.out = next();
      else if (a == "--store")
        o.store = next();
      else if (a == "--k")
        o.k = std::stoul(next());
      else if (a == "--seed")
        o.seed = std::stoull(next());
      else
        Die("unknown argument '" + a + "' (" + usage + ")");
    } catch (const std::logic_error&) {
      Die("expected a non-negative integer after " + a);
    }
  }
  if (o.k < 1 || o.k > 100) Die("--k: expected 1..100, got " + std::to_string(o.k));
  return o;
}

// --- The cohort -----------------------------------------------------------------

struct Study {
  std::string id;       // study_id, "<patient_id>:<scan_date>"
  std::string patient;  // patient_id
  int cohort = 0;       // index into kCohorts
  std::vector<float> v;
};

// The studies of main.imaging.radiomics as the admin reads them
// (Governed::ReadTable), in primary-key order.
std::vector<Study> ReadStudies(access::Governed& g, const access::Caller& admin) {
  governance::ReadOptions ro;
  ro.columns = {"study_id", "patient_id", "cohort", "features"};
  ro.order_by_primary_key = true;
  const governance::ReadResult r =
      Take(g.ReadTable(admin, Name(kTable), ro), std::string("reading ") + kTable);
  std::vector<Study> out;
  for (const Row& row : r.rows) {
    if (row.size() != 4 || !row[0].is_string() || !row[1].is_string() || !row[2].is_string() ||
        !row[3].is_vector()) {
      Die(std::string(kTable) + ": unexpected row shape (masked or NULL values for the admin?)");
    }
    Study s;
    s.id = row[0].as_string();
    s.patient = row[1].as_string();
    const auto it = std::find(kCohorts.begin(), kCohorts.end(), row[2].as_string());
    if (it == kCohorts.end()) Die("study " + s.id + ": unknown cohort '" + row[2].as_string() + "'");
    s.cohort = static_cast<int>(it - kCohorts.begin());
    s.v = row[3].as_vector();
    out.push_back(std::move(s));
  }
  if (out.size() < 3) Die(std::string(kTable) + " has " + std::to_string(out.size()) + " rows");
  return out;
}

// Squared L2 distances between all studies, in double precision: n * n,
// row-major.
std::vector<double> DistanceMatrix(const std::vector<Study>& s) {
  const size_t n = s.size();
  std::vector<double> d(n * n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      double acc = 0;
      for (size_t c = 0; c < s[i].v.size(); ++c) {
        const double x = static_cast<double>(s[i].v[c]) - static_cast<double>(s[j].v[c]);
        acc += x * x;
      }
      d[i * n + j] = d[j * n + i] = acc;
    }
  }
  return d;
}

// --- Neighbour lists --------------------------------------------------------------

// neighbours[i]: the k nearest studies of other patients, nearest first, as
// indices into the studies.
using NeighbourLists = std::vector<std::vector<size_t>>;

struct SourceRun {
  std::string name;
  NeighbourLists lists;
  std::map<std::string, size_t> plans;  // plan name -> queries
  double seconds = 0;                   // wall time of the queries
};

// Drops the studies of `self`'s patient from `keys` (nearest first) and keeps
// the first k. Dies if a key is unknown or fewer than k remain.
std::vector<size_t> KeepOtherPatients(const std::vector<Study>& s,
                                      const std::unordered_map<std::string, size_t>& by_id, size_t self,
                                      const std::vector<std::string>& keys, size_t k,
                                      const std::string& source) {
  std::vector<size_t> out;
  for (const std::string& key : keys) {
    const auto it = by_id.find(key);
    if (it == by_id.end()) Die(source + ": the index returned the unknown study '" + key + "'");
    if (s[it->second].patient == s[self].patient) continue;
    if (out.size() < k) out.push_back(it->second);
  }
  if (out.size() < k) {
    Die(source + ": study " + s[self].id + ": only " + std::to_string(out.size()) + " of " +
        std::to_string(k) + " neighbours of other patients returned");
  }
  return out;
}

// Neighbour lists from IndexManager::Query as `caller` on `index` (the
// governed path), asking for k + (studies of the patient) results per study.
SourceRun QueryGoverned(const std::string& name, service::IndexManager& im, const access::Caller& caller,
                        const TableName& index, const std::vector<Study>& s,
                        const std::unordered_map<std::string, size_t>& by_id,
                        const std::map<std::string, size_t>& per_patient, size_t k) {
  SourceRun run;
  run.name = name;
  const auto t0 = Clock::now();
  for (size_t i = 0; i < s.size(); ++i) {
    access::IndexQuery q;
    q.vector = s[i].v;
    q.k = k + per_patient.at(s[i].patient);
    q.columns = {"patient_id", "cohort"};
    const service::QueryAnswer a = Take(im.Query(caller, index, q), name + ": query for " + s[i].id);
    const auto& cols = a.result.columns;
    const size_t cohort_col =
        static_cast<size_t>(std::find(cols.begin(), cols.end(), "cohort") - cols.begin());
    if (cohort_col >= cols.size()) Die(name + ": the answer has no cohort column");
    std::vector<std::string> keys;
    for (const Row& row : a.result.rows) {
      if (!row[0].is_string()) Die(name + ": a primary key that is not a string (masked?)");
      keys.push_back(row[0].as_string());
      const auto it = by_id.find(keys.back());
      if (it != by_id.end() &&
          (!row[cohort_col].is_string() || row[cohort_col].as_string() != kCohorts[s[it->second].cohort])) {
        Die(name + ": the index's cohort of " + keys.back() + " differs from the table's");
      }
    }
    ++run.plans[std::string(index::SearchPlanName(a.result.plan))];
    run.lists.push_back(KeepOtherPatients(s, by_id, i, keys, k, name));
  }
  run.seconds = Seconds(t0, Clock::now());
  return run;
}

// Neighbour lists from the index's HNSW graph walk, forced
// (SearchRequest::force_plan = kGraph), on the live index behind `handle`.
SourceRun QueryForcedGraph(const service::IndexManager::Handle& handle, const std::vector<Study>& s,
                           const std::unordered_map<std::string, size_t>& by_id,
                           const std::map<std::string, size_t>& per_patient, size_t k) {
  SourceRun run;
  run.name = "graph";
  const auto t0 = Clock::now();
  for (size_t i = 0; i < s.size(); ++i) {
    index::SearchRequest req;
    req.k = k + per_patient.at(s[i].patient);
    req.force_plan = index::SearchPlan::kGraph;
    const index::SearchResult r =
        Take(handle.index->Search(s[i].v.data(), s[i].v.size(), req), "graph: search for " + s[i].id);
    std::vector<std::string> keys;
    for (const Value& key : r.keys) {
      if (!key.is_string()) Die("graph: a primary key that is not a string");
      keys.push_back(key.as_string());
    }
    ++run.plans[std::string(index::SearchPlanName(r.plan))];
    run.lists.push_back(KeepOtherPatients(s, by_id, i, keys, k, "graph"));
  }
  run.seconds = Seconds(t0, Clock::now());
  return run;
}

// Exact neighbour lists from the distance matrix (ties by primary-key order).
NeighbourLists ExactLists(const std::vector<Study>& s, const std::vector<double>& dist, size_t k) {
  const size_t n = s.size();
  NeighbourLists out(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<size_t> others;
    for (size_t j = 0; j < n; ++j) {
      if (s[j].patient != s[i].patient) others.push_back(j);
    }
    std::stable_sort(others.begin(), others.end(),
                     [&](size_t a, size_t b) { return dist[i * n + a] < dist[i * n + b]; });
    if (others.size() < k) Die("fewer than k studies of other patients");
    others.resize(k);
    out[i] = others;
  }
  return out;
}

// Mean recall@k of `lists` against exact search, by distance: a neighbour
// counts if it is no farther than the exact k-th neighbour (relative
// tolerance 1e-6, so ties count).
double RecallAtK(const NeighbourLists& lists, const NeighbourLists& exact, const std::vector<double>& dist,
                 size_t n) {
  double sum = 0;
  for (size_t i = 0; i < lists.size(); ++i) {
    const double kth = dist[i * n + exact[i].back()];
    size_t hit = 0;
    for (size_t j : lists[i]) hit += dist[i * n + j] <= kth * (1 + 1e-6) + 1e-9 ? 1 : 0;
    sum += static_cast<double>(hit) / static_cast<double>(lists[i].size());
  }
  return sum / static_cast<double>(lists.size());
}

// Lists that are equal, equal up to ties (same distances position by
// position, relative tolerance 1e-4: float against double), or different.
struct ListComparison {
  size_t identical = 0, tie_equal = 0, different = 0;
};
ListComparison CompareLists(const NeighbourLists& a, const NeighbourLists& b, const std::vector<double>& dist,
                            size_t n) {
  ListComparison c;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i]) {
      ++c.identical;
      continue;
    }
    bool same = a[i].size() == b[i].size();
    for (size_t p = 0; same && p < a[i].size(); ++p) {
      const double x = dist[i * n + a[i][p]], y = dist[i * n + b[i][p]];
      same = std::abs(x - y) <= 1e-4 * std::max(1.0, std::max(x, y));
    }
    ++(same ? c.tie_equal : c.different);
  }
  return c;
}

// --- Statistics -------------------------------------------------------------------

// Per-study quantities of one neighbour source at one k.
struct PerStudy {
  std::vector<double> purity;  // fraction of the neighbours in the study's cohort
  std::vector<int> predicted;  // majority vote (tie: the nearest neighbour's cohort)
};

PerStudy Score(const NeighbourLists& lists, const std::vector<int>& labels) {
  PerStudy p;
  for (size_t i = 0; i < lists.size(); ++i) {
    std::array<size_t, 2> votes{0, 0};
    for (size_t j : lists[i]) ++votes[static_cast<size_t>(labels[j])];
    p.purity.push_back(static_cast<double>(votes[static_cast<size_t>(labels[i])]) /
                       static_cast<double>(lists[i].size()));
    p.predicted.push_back(votes[0] > votes[1] ? 0 : votes[1] > votes[0] ? 1 : labels[lists[i].front()]);
  }
  return p;
}

// The q-quantile of v (linear interpolation between order statistics).
double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

double Mean(const std::vector<double>& v, const std::vector<size_t>& idx) {
  double s = 0;
  for (size_t i : idx) s += v[i];
  return s / static_cast<double>(idx.size());
}

// One row of the results: a source, a k and a group (GBM, LGG, both).
struct ResultRow {
  std::string source;
  size_t k = 0;
  std::string group;
  size_t n = 0;
  double purity = 0, purity_lo = 0, purity_hi = 0;
  double base = 0, lift = 0, lift_lo = 0, lift_hi = 0;
  double p = 1;
  double knn = 0;       // accuracy (both) or the group's recall
  double balanced = 0;  // both only: mean of the two recalls
  double majority = 0;  // the majority-class rule's accuracy (or recall) on the group
  double recall = -1;   // recall@k against exact (-1: not measured)
  std::string plans;
};

// --- Output -----------------------------------------------------------------------

std::string Fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, x);
  return buf;
}
std::string PValue(double p) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), p < 0.001 ? "%.1e" : "%.4f", p);
  return buf;
}

// Appends one row of a table to `o`: markdown ("| a | b |"), or text in
// columns of `width` characters (the first right-aligned), with no
// trailing spaces.
void AppendTableLine(std::ostringstream& o, const std::vector<int>& width,
                     const std::vector<std::string>& cells, bool markdown) {
  if (markdown) {
    o << "|";
    for (const std::string& c : cells) o << " " << c << " |";
    o << "\n";
    return;
  }
  std::string text;
  for (size_t i = 0; i < cells.size(); ++i) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), i == 0 ? "%*s" : "  %-*s", i < width.size() ? width[i] : 0,
                  cells[i].c_str());
    text += buf;
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  o << text << "\n";
}

std::string PurityTable(const std::vector<ResultRow>& rows, bool markdown) {
  std::ostringstream o;
  const std::vector<std::string> head = {"k",    "source", "cohort", "n",      "purity",           "95% CI",
                                         "base", "lift",   "95% CI", "perm p", "recall@k vs exact"};
  auto line = [&](const std::vector<std::string>& cells) {
    AppendTableLine(o, {3, 6, 6, 4, 6, 15, 6, 5, 13, 8, 6}, cells, markdown);
  };
  line(head);
  if (markdown) line(std::vector<std::string>(head.size(), "---"));
  for (const ResultRow& r : rows) {
    line({std::to_string(r.k), r.source, r.group, std::to_string(r.n), Fixed(r.purity, 3),
          "[" + Fixed(r.purity_lo, 3) + ", " + Fixed(r.purity_hi, 3) + "]", Fixed(r.base, 3),
          Fixed(r.lift, 2), "[" + Fixed(r.lift_lo, 2) + ", " + Fixed(r.lift_hi, 2) + "]", PValue(r.p),
          r.recall < 0 ? "-" : Fixed(r.recall, 3)});
  }
  return o.str();
}

std::string KnnTable(const std::vector<ResultRow>& rows, bool markdown) {
  std::ostringstream o;
  const std::vector<std::string> head = {"k",          "source",     "accuracy",      "balanced acc.",
                                         "GBM recall", "LGG recall", "majority rule", "plans"};
  auto line = [&](const std::vector<std::string>& cells) {
    AppendTableLine(o, {3, 6, 8, 13, 10, 10, 13, 0}, cells, markdown);
  };
  line(head);
  if (markdown) line(std::vector<std::string>(head.size(), "---"));
  for (size_t i = 0; i + 2 < rows.size(); i += 3) {
    const ResultRow &gbm = rows[i], &lgg = rows[i + 1], &both = rows[i + 2];
    line({std::to_string(both.k), both.source, Fixed(both.knn, 3), Fixed(both.balanced, 3), Fixed(gbm.knn, 3),
          Fixed(lgg.knn, 3), Fixed(both.majority, 3), both.plans});
  }
  return o.str();
}

void WriteCsv(const std::string& path, const std::vector<ResultRow>& rows) {
  std::ofstream out(path);
  if (!out) Die("cannot write " + path);
  out << "source,k,cohort,n,mean_purity,purity_ci_lo,purity_ci_hi,base_rate,lift,lift_ci_lo,lift_ci_hi,"
         "perm_p,knn_accuracy,knn_balanced_accuracy,majority_rule_accuracy,recall_vs_exact,plans\n";
  for (const ResultRow& r : rows) {
    out << r.source << "," << r.k << "," << r.group << "," << r.n << "," << Fixed(r.purity, 6) << ","
        << Fixed(r.purity_lo, 6) << "," << Fixed(r.purity_hi, 6) << "," << Fixed(r.base, 6) << ","
        << Fixed(r.lift, 6) << "," << Fixed(r.lift_lo, 6) << "," << Fixed(r.lift_hi, 6) << ","
        << Fixed(r.p, 6) << "," << Fixed(r.knn, 6) << "," << (r.group == "both" ? Fixed(r.balanced, 6) : "")
        << "," << Fixed(r.majority, 6) << "," << (r.recall < 0 ? "" : Fixed(r.recall, 6)) << "," << r.plans
        << "\n";
  }
  if (!out) Die("cannot write " + path);
}

// --- Main -------------------------------------------------------------------------

// Creates `def` as `caller` unless an index of that name exists (reused).
// Returns true if it was created.
bool CreateIfMissing(service::IndexManager& im, const access::Caller& caller,
                     const service::IndexDefinition& def) {
  auto existing = im.Describe(caller, def.name);
  if (existing.ok()) {
    const service::IndexDefinition& d = existing->definition;
    std::printf("reusing the existing index %s (%s, M %d, ef_construction %d, ef_search %d)\n",
                def.name.ToString().c_str(), std::string(index::IndexKindName(d.kind)).c_str(), d.hnsw.m,
                d.hnsw.ef_construction, d.search.ef_search);
    return false;
  }
  if (!existing.status().IsNotFound())
    Die("describe " + def.name.ToString() + ": " + existing.status().ToString());
  const auto t0 = Clock::now();
  const service::IndexStatus st = Take(im.Create(caller, def), "create " + def.name.ToString());
  if (!st.ready) Die(def.name.ToString() + " is not ready: " + st.message);
  std::printf("created %s (%s, L2, %lld rows) in %.2f s\n", def.name.ToString().c_str(),
              std::string(index::IndexKindName(def.kind)).c_str(),
              static_cast<long long>(st.indexed_row_count), Seconds(t0, Clock::now()));
  return true;
}

int Main(int argc, char** argv) {
  SetProgram("neighbour_purity");
  const Options o = ParseArgs(argc, argv);
  const auto t_start = Clock::now();
  openblas_set_num_threads(1);
  omp_set_num_threads(1);

  // The store.
  std::string path = o.store;
  if (path.empty()) {
    path = MakeTempDir("neighbour_purity") + "/store.vesta";
  }
  Take(governance::Store::Open(path, {}), "opening the store " + path);  // creates it if missing
  auto governed = Take(access::Governed::Open(path), "opening the store " + path);
  access::Governed& g = *governed;

  ingest::DemoOptions demo;
  demo.data_dir = o.data;
  demo.principal = kAdmin;
  const auto t_load = Clock::now();
  const ingest::DemoLoadReport loaded = Take(ingest::LoadDemoCohort(g.store(), demo), "loading " + o.data);
  for (const ingest::DemoTableLoad& t : loaded.tables) {
    if (t.table.ToString() == kTable) {
      std::printf("%s: %lld rows at version %lld (%s) in %.2f s\n", kTable, static_cast<long long>(t.rows),
                  static_cast<long long>(t.version), t.changed ? "loaded" : "unchanged",
                  Seconds(t_load, Clock::now()));
    }
  }
  auto boot = g.principals().Bootstrap(kAdmin);
  if (!boot.ok() && !(boot.status().IsFailedPrecondition() && !o.store.empty())) {
    Die("bootstrap admin: " + boot.status().ToString());
  }
  const access::Caller admin = Take(g.CallerFor(kAdmin), "caller admin");
  if (!admin.metastore_admin) Die("principal admin is not a metastore admin in " + path);

  service::IndexManagerOptions io;
  io.index_dir = path + ".indexes";
  io.background_sync = false;
  auto manager = Take(service::IndexManager::Open(g, io), "opening the indexes");
  service::IndexManager& im = *manager;

  // The quickstart's index (tools/serve_demo.sh: no vesta_index_spec, so the
  // IndexDefinition defaults) and a FLAT one.
  service::IndexDefinition hnsw;
  hnsw.name = Name(kHnswIndex);
  hnsw.endpoint_name = "vesta";
  hnsw.type = service::IndexType::kDeltaSync;
  hnsw.primary_key = "study_id";
  hnsw.source_table = Name(kTable);
  hnsw.pipeline = service::PipelineType::kContinuous;
  hnsw.vector_column = "features";
  hnsw.embedding_dimension = 724;
  hnsw.columns_to_sync = {"patient_id", "cohort", "tissue_source_site"};
  service::IndexDefinition flat = hnsw;
  flat.name = Name(kFlatIndex);
  flat.pipeline = service::PipelineType::kTriggered;
  flat.kind = index::IndexKind::kFlat;
  const bool created_hnsw = CreateIfMissing(im, admin, hnsw);
  const bool created_flat = CreateIfMissing(im, admin, flat);
  const service::IndexManager::Handle handle =
      Take(im.Find(admin, hnsw.name), "find " + hnsw.name.ToString());
  const index::IndexSpec& spec = handle.index->spec();
  if (spec.kind != index::IndexKind::kHnsw || spec.metric != index::Metric::kL2) {
    Die(std::string(kHnswIndex) + " is not an HNSW L2 index");
  }
  // Rows covered by the HNSW graph (0: no graph, every search is exact).
  const uint32_t graph_rows = handle.index->snapshot()->main_size();
  const std::string structure =
      graph_rows > 0
          ? "graph over " + std::to_string(graph_rows) + " rows"
          : "no graph: VectorIndex builds one from 256 rows on and searches smaller indexes exactly";
  std::printf("%s: %s\n", kHnswIndex, structure.c_str());

  // The studies and the exact reference.
  const std::vector<Study> studies = ReadStudies(g, admin);
  const size_t n = studies.size();
  std::unordered_map<std::string, size_t> by_id;
  std::map<std::string, size_t> per_patient;
  std::vector<int> labels;
  for (size_t i = 0; i < n; ++i) {
    by_id[studies[i].id] = i;
    ++per_patient[studies[i].patient];
    labels.push_back(studies[i].cohort);
  }
  std::array<size_t, 2> cohort_n{0, 0};
  for (int c : labels) ++cohort_n[static_cast<size_t>(c)];
  std::printf("%zu studies (%zu GBM, %zu LGG) of %zu patients\n", n, cohort_n[0], cohort_n[1],
              per_patient.size());
  const std::vector<double> dist = DistanceMatrix(studies);

  // Per study: the base rate and the majority-class rule's prediction.
  std::vector<double> base(n);
  std::vector<int> majority_pred(n);
  for (size_t i = 0; i < n; ++i) {
    std::array<size_t, 2> others{0, 0};
    for (size_t j = 0; j < n; ++j) {
      if (studies[j].patient != studies[i].patient) ++others[static_cast<size_t>(labels[j])];
    }
    base[i] = static_cast<double>(others[static_cast<size_t>(labels[i])]) /
              static_cast<double>(others[0] + others[1]);
    majority_pred[i] = others[0] >= others[1] ? 0 : 1;
  }

  std::vector<size_t> ks = {5, o.k, 20};
  std::sort(ks.begin(), ks.end());
  ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
  size_t largest_patient = 0;
  for (const auto& [patient, count] : per_patient) largest_patient = std::max(largest_patient, count);
  if (ks.back() + largest_patient > n) {
    Die("k " + std::to_string(ks.back()) + " exceeds the " + std::to_string(n - largest_patient) +
        " studies of other patients some study has");
  }

  // Neighbour lists: source x k.
  struct Cell {
    SourceRun run;
    size_t k;
    NeighbourLists exact;
  };
  std::vector<Cell> cells;
  std::vector<std::string> checks;
  for (size_t k : ks) {
    NeighbourLists exact = ExactLists(studies, dist, k);
    std::vector<SourceRun> runs;
    runs.push_back(QueryGoverned("hnsw", im, admin, hnsw.name, studies, by_id, per_patient, k));
    if (graph_rows > 0) runs.push_back(QueryForcedGraph(handle, studies, by_id, per_patient, k));
    runs.push_back(QueryGoverned("flat", im, admin, flat.name, studies, by_id, per_patient, k));
    const SourceRun& f = runs.back();
    const ListComparison c = CompareLists(f.lists, exact, dist, n);
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  "k %zu: flat vs the plain loop: %zu lists identical, %zu equal up to ties, %zu different",
                  k, c.identical, c.tie_equal, c.different);
    checks.push_back(buf);
    std::string times;
    for (const SourceRun& r : runs) times += " " + r.name + " " + Fixed(r.seconds, 2) + " s";
    std::printf("%s; %zu queries each:%s\n", buf, n, times.c_str());
    for (SourceRun& r : runs) cells.push_back({std::move(r), k, exact});
  }

  // Bootstrap resamples (indices into each group), shared by every cell.
  std::vector<std::vector<size_t>> groups(3);
  for (size_t i = 0; i < n; ++i) {
    groups[static_cast<size_t>(labels[i])].push_back(i);
    groups[2].push_back(i);
  }
  const std::array<std::string, 3> group_names = {kCohorts[0], kCohorts[1], "both"};
  std::vector<std::vector<std::vector<size_t>>> resamples(3);
  {
    std::mt19937_64 rng(o.seed);
    for (size_t gi = 0; gi < 3; ++gi) {
      std::uniform_int_distribution<size_t> pick(0, groups[gi].size() - 1);
      for (size_t b = 0; b < kBootstrapResamples; ++b) {
        std::vector<size_t> r(groups[gi].size());
        for (size_t& x : r) x = groups[gi][pick(rng)];
        resamples[gi].push_back(std::move(r));
      }
    }
  }

  // Observed statistics per cell.
  std::vector<ResultRow> rows;
  std::vector<PerStudy> scored;
  for (const Cell& cell : cells) {
    const PerStudy ps = Score(cell.run.lists, labels);
    scored.push_back(ps);
    std::string plans;
    for (const auto& [plan, count] : cell.run.plans)
      plans += (plans.empty() ? "" : " ") + plan + ":" + std::to_string(count);
    const double recall = cell.run.name == "flat" ? -1 : RecallAtK(cell.run.lists, cell.exact, dist, n);
    std::array<double, 2> recall_by_cohort{0, 0};
    for (size_t gi = 0; gi < 3; ++gi) {
      ResultRow r;
      r.source = cell.run.name;
      r.k = cell.k;
      r.group = group_names[gi];
      r.n = groups[gi].size();
      r.purity = Mean(ps.purity, groups[gi]);
      r.base = Mean(base, groups[gi]);
      r.lift = r.purity / r.base;
      std::vector<double> bp, bl;
      for (const auto& rs : resamples[gi]) {
        const double p = Mean(ps.purity, rs);
        bp.push_back(p);
        bl.push_back(p / Mean(base, rs));
      }
      r.purity_lo = Quantile(bp, 0.025);
      r.purity_hi = Quantile(bp, 0.975);
      r.lift_lo = Quantile(bl, 0.025);
      r.lift_hi = Quantile(bl, 0.975);
      size_t correct = 0, majority_correct = 0;
      for (size_t i : groups[gi]) {
        correct += ps.predicted[i] == labels[i] ? 1 : 0;
        majority_correct += majority_pred[i] == labels[i] ? 1 : 0;
      }
      r.knn = static_cast<double>(correct) / static_cast<double>(r.n);
      r.majority = static_cast<double>(majority_correct) / static_cast<double>(r.n);
      if (gi < 2) recall_by_cohort[gi] = r.knn;
      r.balanced = (recall_by_cohort[0] + recall_by_cohort[1]) / 2;
      r.recall = recall;
      r.plans = plans;
      rows.push_back(r);
    }
  }

  // Permutation test: the same label shuffles for every cell.
  {
    const auto t0 = Clock::now();
    std::vector<std::array<size_t, 3>> at_least(cells.size(), {0, 0, 0});
    std::mt19937_64 rng(o.seed + 1);
    std::vector<int> perm = labels;
    for (size_t b = 0; b < kPermutations; ++b) {
      std::shuffle(perm.begin(), perm.end(), rng);
      for (size_t ci = 0; ci < cells.size(); ++ci) {
        const PerStudy ps = Score(cells[ci].run.lists, perm);
        std::array<double, 3> sum{0, 0, 0};
        std::array<size_t, 3> count{0, 0, 0};
        for (size_t i = 0; i < n; ++i) {
          sum[static_cast<size_t>(perm[i])] += ps.purity[i];
          ++count[static_cast<size_t>(perm[i])];
          sum[2] += ps.purity[i];
          ++count[2];
        }
        for (size_t gi = 0; gi < 3; ++gi) {
          const double mean = sum[gi] / static_cast<double>(std::max<size_t>(1, count[gi]));
          // Observed means are sums of the same terms in another order:
          // compare with a tolerance so that equal values count as >=.
          at_least[ci][gi] += mean >= rows[ci * 3 + gi].purity - 1e-12 ? 1 : 0;
        }
      }
    }
    for (size_t ci = 0; ci < cells.size(); ++ci) {
      for (size_t gi = 0; gi < 3; ++gi) {
        rows[ci * 3 + gi].p =
            static_cast<double>(1 + at_least[ci][gi]) / static_cast<double>(1 + kPermutations);
      }
    }
    std::printf("permutation test: %zu shuffles x %zu cells in %.2f s\n", kPermutations, cells.size(),
                Seconds(t0, Clock::now()));
  }

  // Output.
  const std::string machine = MachineText();
  const std::string commit = CommitText(VESTA_SOURCE_DIR);
  const std::string date = UtcNow();
  char params[256];
  std::snprintf(params, sizeof(params), "HNSW M %d, ef_construction %d, ef_search %d, L2, seed %llu",
                spec.hnsw.m, spec.hnsw.ef_construction, spec.search.ef_search,
                static_cast<unsigned long long>(handle.index->options().seed));
  std::printf(
      "\nNeighbour purity of the demo cohort's radiomic features (%s; %zu bootstrap resamples, %zu "
      "permutations, seed %llu)\n\n%s\nLeave-one-out kNN classification (majority rule = always the "
      "larger cohort of the other patients)\n\n%s",
      params, kBootstrapResamples, kPermutations, static_cast<unsigned long long>(o.seed),
      PurityTable(rows, false).c_str(), KnnTable(rows, false).c_str());
  std::printf("\nmachine: %s; commit %s; %s; total %.1f s\n", machine.c_str(), commit.c_str(), date.c_str(),
              Seconds(t_start, Clock::now()));

  std::filesystem::create_directories(o.out);
  const std::string md_path = (std::filesystem::path(o.out) / "neighbour_purity.md").string();
  const std::string csv_path = (std::filesystem::path(o.out) / "neighbour_purity.csv").string();
  {
    std::ofstream md(md_path);
    if (!md) Die("cannot write " + md_path);
    md << "# Neighbour purity: does the demo pipeline keep the clinical signal of the radiomic features?\n\n"
       << "Written by `bench/neighbour_purity` (method at the top of `bench/neighbour_purity.cc`).\n\n"
       << "- Command: `" << o.command << "`\n"
       << "- Machine: " << machine << "; OpenMP and OpenBLAS at 1 thread\n"
       << "- Commit: " << commit << "\n"
       << "- Date: " << date << "\n"
       << "- Data: `" << kTable << "` loaded by `ingest::LoadDemoCohort` from `" << o.data << "`: " << n
       << " studies (" << cohort_n[0] << " GBM, " << cohort_n[1] << " LGG) of " << per_patient.size()
       << " patients, VECTOR(" << studies[0].v.size() << ") standardised per feature\n"
       << "- Indexes: `" << kHnswIndex << "`, " << params << " (tools/serve_demo.sh's parameters: the "
       << "defaults; " << structure << "), and `" << kFlatIndex << "` (FLAT, L2)\n\n"
       << "## Method\n\n"
       << "For every study, the index is asked for k + (studies of the same patient) neighbours; the "
       << "studies of the same patient (the study itself included) are dropped and the first k kept. "
       << "Purity: the fraction of the k neighbours in the study's cohort. Base rate: the fraction of the "
       << "other patients' studies in the study's cohort (what k random studies would give). Both are "
       << "averaged over the studies of each cohort; lift = purity / base rate. 95% CI: percentile "
       << "bootstrap over studies (" << kBootstrapResamples << " resamples, seed " << o.seed << "). "
       << "p: one-sided permutation test, cohort labels shuffled over studies with the neighbour lists "
       << "fixed (" << kPermutations << " permutations, seed " << o.seed + 1 << "), p = (1 + #{permuted "
       << "mean purity >= observed}) / (1 + N); a cohort's row compares the mean purity of the studies the "
       << "shuffle labels with that cohort.\n\n"
       << "Sources: **hnsw**: `service::IndexManager::Query` as the admin on `" << kHnswIndex << "`, the "
       << "governed path the service's /query route uses (the `plans` column says how the planner answered)"
       << (graph_rows > 0 ? "; **graph**: the same index's graph walk forced (`SearchRequest::force_plan = "
                            "kGraph` on the index handle; not governed)"
                          : "")
       << "; **flat**: `IndexManager::Query` on the FLAT index. recall@k against exact search compares "
       << "distances (ties count). Check: " << checks.front();
    for (size_t i = 1; i < checks.size(); ++i) md << "; " << checks[i];
    md << ".\n\n## Neighbour purity\n\n"
       << PurityTable(rows, true) << "\n## Leave-one-out kNN classification\n\n"
       << "Majority vote of the k neighbours (a tied vote goes to the nearest neighbour's cohort). "
       << "Majority rule: predict the larger cohort among the other patients' studies. Balanced accuracy: "
       << "the mean of the GBM and LGG recalls.\n\n"
       << KnnTable(rows, true);
    if (!md) Die("cannot write " + md_path);
  }
  WriteCsv(csv_path, rows);
  std::printf("wrote %s and %s\n", md_path.c_str(), csv_path.c_str());

  // Clean up: in a given store, drop what this program created; a temporary
  // store goes entirely.
  if (!o.store.empty()) {
    if (created_flat) Check(im.Drop(admin, flat.name), "drop " + flat.name.ToString());
    if (created_hnsw) Check(im.Drop(admin, hnsw.name), "drop " + hnsw.name.ToString());
  }
  manager.reset();
  governed.reset();
  RemoveTempDir();
  return 0;
}

}  // namespace
}  // namespace vesta::bench

int main(int argc, char** argv) {
  return vesta::bench::Main(argc, argv);
}
