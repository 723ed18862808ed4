// filtered_bench: the end-to-end driver for filtered ANN search (issue #3,
// "Benchmark"), in LevelDB db_bench's style: one process runs every engine
// on the same data, the same queries and the same filters, and writes one
// Markdown table, one CSV and (through bench/plot_filtered.py) one plot.
//
// Engines (same run, same data):
//   vesta            Vesta's VectorIndex (HNSW kind) with its planner: the
//                    filter is evaluated to a bitmap inside Search (timed),
//                    then exact / filter-aware graph / plain graph.
//   faiss_hnsw       raw FAISS 1.7.3 IndexHNSWFlat, IDSelectorBitmap through
//                    SearchParametersHNSW (efSearch set there AND in
//                    index.hnsw.efSearch: 1.7.3 ignores a per-query value
//                    above the index's). The selector bitmap is built before
//                    the timer starts (favours FAISS).
//   faiss_flat       raw FAISS IndexFlatL2 with the same IDSelectorBitmap:
//                    exact, the brute-force baseline.
//   hnswlib          Debian's hnswlib 0.6.2 (no filter support): unfiltered,
//                    at selectivity 100% only.
//   hnswlib_postfilter  reference only: hnswlib asked for k' = ceil(1.5 k / s)
//                    results (ef = max(ef, k')) and post-filtered to k.
//
// Workloads (--data):
//   sift        5,000 real SIFT vectors (128-d, ../shared/data/ann-sift5k/
//               derived/sift5k_base.fvecs) and the 100 texmex siftsmall
//               queries (siftsmall_query.fvecs).
//   pneumonia   PneumoniaMNIST (../shared/data/medmnist-pneumonia/
//               pneumoniamnist.npz): train+val images (5,232) as the base,
//               test images (624) as queries; 784-d, pixels / 255.
//   synthetic   seeded clustered set, --sizes rows (default 1,000,000) x 128:
//               1,000 cluster centres ~ N(0, 2^2 I); a point is its centre +
//               W z (z ~ N(0, I_16), W a fixed 128x16 matrix, N(0, 1/16)
//               entries: a 16-d latent space, as real descriptors have) +
//               N(0, 0.1^2 I) noise. Queries are fresh points from the same
//               generator (another seed).
//   threshold   (on the largest synthetic set) force_plan kExact vs
//               kFilteredGraph (ef 64) over passing sets of 1k..100k rows
//               (uncorrelated and correlated),
//               reported in bytes of vectors (passing * d * 4): the planner's
//               exact_threshold_bytes crossover.
//
// Filters, each at selectivity 100%, 50%, 10%, 1%, 0.1%, 0.01% (m =
// max(1, round(s * n)) passing rows; the 100% case is run once):
//   uncorrelated  attribute u_rank = a seeded random permutation rank of the
//                 rows; filter "u_rank < m" (the same for every query).
//   correlated    attribute c_rank = the row's position in an order where
//                 near rows are near each other; filter "c_rank >= lo AND
//                 c_rank < lo + m", a window of m rows centred on the query's
//                 own position. Real sets: order by projection on the first
//                 principal direction (power iteration), the query placed by
//                 its own projection. Synthetic: clusters chained greedily
//                 (nearest unvisited centre next), rows in chain order and
//                 randomly within a cluster; the window is centred on the
//                 query's cluster, so below ~1,000 rows every passing row is
//                 in the query's own cluster.
//
// Measures, per (dataset, filter, engine, ef): recall@10 against exact search
// over the passing rows (index/exact_search.h ExactSearchByIds); a result
// counts if it passes the filter and its distance (recomputed with Vesta's
// kernel) is <= the 10th true distance (ties); divided by min(10, passing).
// Latency per query (one thread, wall clock around the engine's search
// call): mean, p50, p99, and QPS = queries / total time. Build time (2
// threads) and memory (structure sizes, and the RSS growth over the build).
//
// Threads: builds use --build-threads (2) (FAISS and Vesta through OpenMP,
// hnswlib through std::thread); searches run one query at a time on one
// thread (OpenMP and OpenBLAS set to 1).
//
// Usage:
//   filtered_bench --data sift|pneumonia|synthetic|all --queries 200
//                  --out bench/results/ --sizes 1000000 [--quick]
//                  [--ef 16,32,64,128,256] [--m 16] [--ef-construction 100]
//                  [--no-threshold] [--data-dir DIR]
//                  [--engines vesta,faiss_hnsw,faiss_flat,hnswlib]
//                  [--selectivities 1,0.5,0.1,0.01,0.001,0.0001] [--cache DIR]
//                  [--plain-graph-selectivity S] [--exact-threshold-bytes B]
//   --quick: synthetic 100,000 rows, 50 queries per filter.
//   --engines / --selectivities: run a subset (for investigating one case).
//   --cache DIR: save each built index (Vesta's index file, FAISS's
//     write_index, hnswlib's saveIndex) with its build time and memory, and
//     load it on the next run with the same data and parameters instead of
//     rebuilding. The committed results are made without it.
//   --plain-graph-selectivity, --exact-threshold-bytes: Vesta's planner
//     options of those names (index/vector_index.h IndexOptions).
#include <cblas.h>
#include <faiss/Index.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_io.h>
#include <malloc.h>
#include <omp.h>
#include <sys/utsname.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
#pragma GCC diagnostic ignored "-Wextra"
#include <hnswlib/hnswlib.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "bench/machine.h"
#include "filter/bind.h"
#include "filter/parser.h"
#include "index/distance.h"
#include "index/exact_search.h"
#include "index/filter_bitmap.h"
#include "index/hnsw_search.h"
#include "index/vector_index.h"
#include "ingest/npy.h"
#include "ingest/vecs.h"

#ifndef VESTA_SOURCE_DIR
#define VESTA_SOURCE_DIR "."
#endif
#ifndef VESTA_SHARED_DATA_DIR
#define VESTA_SHARED_DATA_DIR "../shared/data"
#endif

namespace vesta::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kK = 10;
constexpr double kSelectivities[] = {1.0, 0.5, 0.1, 0.01, 0.001, 0.0001};

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// ---------------------------------------------------------------- options

struct Options {
  std::string data = "all";
  size_t queries = 200;
  std::string out = "bench/results/";
  std::vector<size_t> sizes = {1000000};
  bool quick = false;
  std::vector<int> efs = {16, 32, 64, 128, 256};
  int m = 16;
  int ef_construction = 100;
  int build_threads = 2;
  bool threshold = true;
  size_t flat_queries_large = 50;  // faiss_flat queries per filter when n > 100k (a scalar scan is slow)
  std::string data_dir = VESTA_SHARED_DATA_DIR;
  uint64_t seed = 42;
  std::vector<std::string> engines = {"vesta", "faiss_hnsw", "faiss_flat", "hnswlib"};
  std::vector<double> selectivities = std::vector<double>(std::begin(kSelectivities), std::end(kSelectivities));
  std::string cache_dir;  // empty: always build
  double plain_graph_selectivity = -1;  // < 0: IndexOptions' default
  double exact_threshold_bytes = -1;    // < 0: IndexOptions' default

  bool Wants(const std::string& engine) const {
    return std::find(engines.begin(), engines.end(), engine) != engines.end();
  }
};

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

template <typename T>
std::vector<T> ParseList(const std::string& s) {
  std::vector<T> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(static_cast<T>(std::stoll(item)));
  }
  return out;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  bool sizes_set = false, queries_set = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--data") o.data = next();
    else if (a == "--queries") o.queries = std::stoul(next()), queries_set = true;
    else if (a == "--out") o.out = next();
    else if (a == "--sizes") o.sizes = ParseList<size_t>(next()), sizes_set = true;
    else if (a == "--quick") o.quick = true;
    else if (a == "--ef") o.efs = ParseList<int>(next());
    else if (a == "--m") o.m = std::stoi(next());
    else if (a == "--ef-construction") o.ef_construction = std::stoi(next());
    else if (a == "--build-threads") o.build_threads = std::stoi(next());
    else if (a == "--no-threshold") o.threshold = false;
    else if (a == "--flat-queries") o.flat_queries_large = std::stoul(next());
    else if (a == "--data-dir") o.data_dir = next();
    else if (a == "--seed") o.seed = std::stoull(next());
    else if (a == "--engines") o.engines = SplitList(next());
    else if (a == "--cache") o.cache_dir = next();
    else if (a == "--plain-graph-selectivity") o.plain_graph_selectivity = std::stod(next());
    else if (a == "--exact-threshold-bytes") o.exact_threshold_bytes = std::stod(next());
    else if (a == "--selectivities") {
      o.selectivities.clear();
      for (const std::string& v : SplitList(next())) o.selectivities.push_back(std::stod(v));
    }
    else if (a == "--help" || a == "-h") {
      std::printf(
          "filtered_bench --data sift|pneumonia|synthetic|all --queries N --out DIR --sizes 1000000 [--quick]\n"
          "  [--ef 16,32,64,128,256] [--m 16] [--ef-construction 100] [--build-threads 2]\n"
          "  [--no-threshold] [--flat-queries 50] [--data-dir DIR] [--seed 42]\n"
          "  [--engines vesta,faiss_hnsw,faiss_flat,hnswlib] [--selectivities 1,0.5,0.1,...] [--cache DIR]\n"
          "  [--plain-graph-selectivity S] [--exact-threshold-bytes B]\n");
      std::exit(0);
    } else {
      Die("unknown argument '" + a + "' (try --help)");
    }
  }
  if (o.quick) {
    if (!sizes_set) o.sizes = {100000};
    if (!queries_set) o.queries = 50;
  }
  if (o.data != "all" && o.data != "sift" && o.data != "pneumonia" && o.data != "synthetic") {
    Die("--data: expected sift, pneumonia, synthetic or all, got '" + o.data + "'");
  }
  if (o.queries == 0 || o.efs.empty() || o.sizes.empty()) Die("--queries, --ef and --sizes must be non-empty");
  for (const std::string& engine : o.engines) {
    if (engine != "vesta" && engine != "faiss_hnsw" && engine != "faiss_flat" && engine != "hnswlib") {
      Die("--engines: expected a list of vesta, faiss_hnsw, faiss_flat, hnswlib; got '" + engine + "'");
    }
  }
  for (double s : o.selectivities) {
    if (!(s > 0 && s <= 1)) Die("--selectivities: expected fractions in (0, 1], got " + std::to_string(s));
  }
  if (!o.cache_dir.empty()) {
    std::filesystem::create_directories(o.cache_dir);
    if (o.cache_dir.back() != '/') o.cache_dir += '/';
  }
  if (!o.out.empty() && o.out.back() != '/') o.out += '/';
  return o;
}

// ---------------------------------------------------------------- machine

using vesta::bench::CpuModel;

double MemTotalGiB() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kb = 0;
  while (in >> key) {
    if (key == "MemTotal:") {
      in >> kb;
      break;
    }
  }
  return kb / (1024.0 * 1024.0);
}

double RssMiB() {
  std::ifstream in("/proc/self/statm");
  size_t total = 0, resident = 0;
  in >> total >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

// RSS after returning freed memory to the OS, so that a delta over a build
// approximates what the build keeps.
double SettledRssMiB() {
  malloc_trim(0);
  return RssMiB();
}

// ---------------------------------------------------------------- datasets

struct Dataset {
  std::string name;
  std::string description;
  std::string correlation_description;
  size_t n = 0, d = 0, nq = 0;
  std::vector<float> base;     // n * d
  std::vector<float> queries;  // nq * d
  // Uncorrelated: u_order[r] = row at rank r; u_rank[row] = its rank.
  std::vector<int64_t> u_order, u_rank;
  // Correlated: c_order[p] = row at position p; c_rank[row] = its position;
  // q_center[q] = query q's position in that order.
  std::vector<int64_t> c_order, c_rank;
  std::vector<size_t> q_center;
};

void RandomRanks(Dataset& ds, uint64_t seed) {
  ds.u_order.resize(ds.n);
  std::iota(ds.u_order.begin(), ds.u_order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(ds.u_order.begin(), ds.u_order.end(), rng);
  ds.u_rank.resize(ds.n);
  for (size_t r = 0; r < ds.n; ++r) ds.u_rank[ds.u_order[r]] = static_cast<int64_t>(r);
}

void RanksFromOrder(Dataset& ds) {
  ds.c_rank.resize(ds.n);
  for (size_t p = 0; p < ds.n; ++p) ds.c_rank[ds.c_order[p]] = static_cast<int64_t>(p);
}

// Correlated order for real sets: projection on the first principal
// direction (power iteration on the centred data).
void PrincipalOrder(Dataset& ds, uint64_t seed) {
  const size_t n = ds.n, d = ds.d;
  std::vector<double> mean(d, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < d; ++j) mean[j] += ds.base[i * d + j];
  for (double& m : mean) m /= static_cast<double>(n);
  std::vector<double> v(d), w(d);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0, 1);
  for (double& x : v) x = g(rng);
  for (int it = 0; it < 50; ++it) {
    std::fill(w.begin(), w.end(), 0.0);
    for (size_t i = 0; i < n; ++i) {
      double t = 0;
      for (size_t j = 0; j < d; ++j) t += (ds.base[i * d + j] - mean[j]) * v[j];
      for (size_t j = 0; j < d; ++j) w[j] += t * (ds.base[i * d + j] - mean[j]);
    }
    double norm = 0;
    for (double x : w) norm += x * x;
    norm = std::sqrt(norm);
    for (size_t j = 0; j < d; ++j) v[j] = w[j] / norm;
  }
  auto project = [&](const float* x) {
    double t = 0;
    for (size_t j = 0; j < d; ++j) t += (x[j] - mean[j]) * v[j];
    return t;
  };
  std::vector<double> proj(n);
  for (size_t i = 0; i < n; ++i) proj[i] = project(&ds.base[i * d]);
  ds.c_order.resize(n);
  std::iota(ds.c_order.begin(), ds.c_order.end(), 0);
  std::stable_sort(ds.c_order.begin(), ds.c_order.end(), [&](int64_t a, int64_t b) { return proj[a] < proj[b]; });
  RanksFromOrder(ds);
  std::vector<double> sorted(n);
  for (size_t p = 0; p < n; ++p) sorted[p] = proj[ds.c_order[p]];
  ds.q_center.resize(ds.nq);
  for (size_t q = 0; q < ds.nq; ++q) {
    const double t = project(&ds.queries[q * d]);
    ds.q_center[q] = static_cast<size_t>(std::lower_bound(sorted.begin(), sorted.end(), t) - sorted.begin());
  }
}

Dataset LoadSift(const Options& o) {
  Dataset ds;
  ds.name = "sift";
  const std::string dir = o.data_dir + "/ann-sift5k/";
  auto base = Take(ingest::ReadFvecs(dir + "derived/sift5k_base.fvecs"), "reading SIFT base");
  auto queries = Take(ingest::ReadFvecs(dir + "siftsmall_query.fvecs"), "reading SIFT queries");
  ds.n = static_cast<size_t>(base.n);
  ds.d = static_cast<size_t>(base.dim);
  ds.base = std::move(base.data);
  ds.nq = std::min<size_t>(o.queries, static_cast<size_t>(queries.n));
  ds.queries.assign(queries.data.begin(), queries.data.begin() + static_cast<ptrdiff_t>(ds.nq * ds.d));
  ds.description = "real SIFT descriptors (NGT's 5k sample, ann-sift5k/derived/sift5k_base.fvecs), texmex "
                   "siftsmall queries";
  ds.correlation_description = "rank of the projection on the first principal direction; window centred on the "
                               "query's projection";
  RandomRanks(ds, o.seed);
  PrincipalOrder(ds, o.seed + 1);
  // Cross-check the exact search used for ground truth against the
  // published-with-the-data distances (SOURCE.md: exact integers).
  auto gt = Take(ingest::ReadFvecs(dir + "derived/sift5k_groundtruth_siftsmallq_k100_sqdist.fvecs"),
                 "reading SIFT ground truth");
  size_t agree = 0;
  for (size_t q = 0; q < ds.nq; ++q) {
    std::vector<float> dist(kK);
    std::vector<int64_t> labels(kK);
    Check(index::ExactSearch(index::Metric::kL2, &ds.queries[q * ds.d], ds.base.data(), ds.n, ds.d, kK, dist.data(),
                             labels.data()),
          "exact search");
    bool same = true;
    for (size_t i = 0; i < kK; ++i) same = same && dist[i] == gt.row(static_cast<int64_t>(q))[i];
    agree += same;
  }
  std::printf("SIFT ground-truth check: %zu/%zu queries' top-10 distances equal the shipped sqdist file\n", agree,
              ds.nq);
  if (agree != ds.nq) Die("SIFT ground truth disagrees with the shipped file");
  return ds;
}

Dataset LoadPneumonia(const Options& o) {
  Dataset ds;
  ds.name = "pneumonia";
  const std::string path = o.data_dir + "/medmnist-pneumonia/pneumoniamnist.npz";
  auto npz = Take(ingest::NpzReader::Open(path), "opening " + path);
  auto read = [&](const std::string& member) {
    auto arr = Take(npz.Read(member), "reading " + member);
    auto v = Take(ingest::NpyToFloatVectors(arr, member), "converting " + member);
    for (float& x : v.data) x *= 1.0f / 255.0f;
    return v;
  };
  auto train = read("train_images");
  auto val = read("val_images");
  auto test = read("test_images");
  ds.d = static_cast<size_t>(train.dim);
  ds.n = static_cast<size_t>(train.n + val.n);
  ds.base = std::move(train.data);
  ds.base.insert(ds.base.end(), val.data.begin(), val.data.end());
  ds.nq = std::min<size_t>(o.queries, static_cast<size_t>(test.n));
  ds.queries.assign(test.data.begin(), test.data.begin() + static_cast<ptrdiff_t>(ds.nq * ds.d));
  ds.description = "PneumoniaMNIST 28x28 images as 784-d vectors (pixels / 255): train+val as base, test as queries";
  ds.correlation_description = "rank of the projection on the first principal direction; window centred on the "
                               "query's projection";
  RandomRanks(ds, o.seed);
  PrincipalOrder(ds, o.seed + 1);
  return ds;
}

Dataset MakeSynthetic(const Options& o, size_t n) {
  constexpr size_t d = 128, latent = 16, clusters = 1000;
  Dataset ds;
  ds.name = "synthetic-" + std::to_string(n / 1000) + "k";
  ds.n = n;
  ds.d = d;
  ds.nq = o.queries;
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> centres(clusters * d), w(d * latent);
  for (float& c : centres) c = 2.0f * g(rng);
  for (float& x : w) x = g(rng) * 0.25f;  // N(0, 1/16)
  auto gen = [&](std::mt19937_64& r, float* out) {
    const size_t c = r() % clusters;
    float z[latent];
    for (float& x : z) x = g(r);
    for (size_t j = 0; j < d; ++j) {
      float t = centres[c * d + j] + 0.1f * g(r);
      for (size_t l = 0; l < latent; ++l) t += w[j * latent + l] * z[l];
      out[j] = t;
    }
    return c;
  };
  ds.base.resize(n * d);
  std::vector<size_t> cluster(n);
  for (size_t i = 0; i < n; ++i) cluster[i] = gen(rng, &ds.base[i * d]);
  std::mt19937_64 qrng(o.seed + 7);
  ds.queries.resize(ds.nq * d);
  std::vector<size_t> q_cluster(ds.nq);
  for (size_t q = 0; q < ds.nq; ++q) q_cluster[q] = gen(qrng, &ds.queries[q * d]);
  RandomRanks(ds, o.seed + 1);

  // Greedy chain through the cluster centres: next = nearest unvisited.
  std::vector<size_t> chain;
  std::vector<char> used(clusters, 0);
  size_t cur = 0;
  for (size_t step = 0; step < clusters; ++step) {
    chain.push_back(cur);
    used[cur] = 1;
    float best = INFINITY;
    size_t best_c = cur;
    for (size_t c = 0; c < clusters; ++c) {
      if (used[c]) continue;
      const float dist = index::L2Sqr(&centres[cur * d], &centres[c * d], d);
      if (dist < best) best = dist, best_c = c;
    }
    cur = best_c;
  }
  std::vector<size_t> chain_pos(clusters);
  for (size_t p = 0; p < clusters; ++p) chain_pos[chain[p]] = p;
  std::vector<uint64_t> tie(n);
  std::mt19937_64 trng(o.seed + 3);
  for (auto& t : tie) t = trng();
  ds.c_order.resize(n);
  std::iota(ds.c_order.begin(), ds.c_order.end(), 0);
  std::sort(ds.c_order.begin(), ds.c_order.end(), [&](int64_t a, int64_t b) {
    const size_t pa = chain_pos[cluster[a]], pb = chain_pos[cluster[b]];
    return pa != pb ? pa < pb : tie[a] < tie[b];
  });
  RanksFromOrder(ds);
  // Span of each cluster in the order.
  std::vector<size_t> start(clusters + 1, 0);
  for (size_t i = 0; i < n; ++i) ++start[chain_pos[cluster[i]] + 1];
  for (size_t p = 0; p < clusters; ++p) start[p + 1] += start[p];
  ds.q_center.resize(ds.nq);
  for (size_t q = 0; q < ds.nq; ++q) {
    const size_t p = chain_pos[q_cluster[q]];
    ds.q_center[q] = (start[p] + start[p + 1]) / 2;
  }
  ds.description = "seeded synthetic: 1,000 clusters (centres N(0, 4 I)), 16-d latent spread (W z), N(0, 0.01 I) "
                   "noise; queries from the same generator";
  ds.correlation_description = "clusters chained by nearest centre, rows in chain order; window centred on the "
                               "query's own cluster";
  return ds;
}

// ---------------------------------------------------------------- filters and ground truth

struct FilterCase {
  std::string correlation;  // "uncorrelated" / "correlated" / "none" (100%)
  double target = 1.0;      // wanted selectivity
  size_t m = 0;             // passing rows (every query)
  std::vector<size_t> lo;   // per query: first passing position in the order
  bool correlated = false;
  std::vector<filter::BoundExpr> bound;  // 1 (uncorrelated) or nq (correlated)
  std::vector<float> gt;                 // nq * kK true distances, +inf padded
};

std::string Pct(double s) {
  char buf[32];
  if (s >= 0.01) std::snprintf(buf, sizeof buf, "%g%%", s * 100);
  else std::snprintf(buf, sizeof buf, "%.2g%%", s * 100);
  return buf;
}

// The passing ids of query q (a slice of an order array).
const int64_t* PassingIds(const Dataset& ds, const FilterCase& fc, size_t q) {
  return fc.correlated ? ds.c_order.data() + fc.lo[q] : ds.u_order.data();
}

bool Passes(const Dataset& ds, const FilterCase& fc, size_t q, int64_t id) {
  if (fc.correlated) {
    const int64_t p = ds.c_rank[id];
    return p >= static_cast<int64_t>(fc.lo[q]) && p < static_cast<int64_t>(fc.lo[q] + fc.m);
  }
  return ds.u_rank[id] < static_cast<int64_t>(fc.m);
}

Schema AttributeSchema() {
  Schema s;
  s.columns = {{"u_rank", DataType::Bigint(), false, "random permutation rank (uncorrelated filters)"},
               {"c_rank", DataType::Bigint(), false, "position in a locality order (correlated filters)"}};
  return s;
}

filter::BoundExpr BindFilter(const std::string& text) {
  auto expr = Take(filter::ParseFilterString(text), "parsing filter '" + text + "'");
  return Take(filter::Bind(expr, AttributeSchema()), "binding filter '" + text + "'");
}

void ComputeGroundTruth(const Dataset& ds, FilterCase& fc) {
  fc.gt.assign(ds.nq * kK, INFINITY);
  std::atomic<bool> failed{false};
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t q = 0; q < ds.nq; ++q) {
    std::vector<int64_t> labels(kK);
    const Status s = index::ExactSearchByIds(index::Metric::kL2, &ds.queries[q * ds.d], ds.base.data(), ds.n, ds.d,
                                             PassingIds(ds, fc, q), fc.m, kK, &fc.gt[q * kK], labels.data());
    if (!s.ok()) failed = true;
  }
  if (failed) Die("ground truth failed for " + ds.name);
}

FilterCase MakeCase(const Dataset& ds, double s, bool correlated, int gt_threads) {
  FilterCase fc;
  fc.target = s;
  fc.correlated = correlated;
  fc.correlation = s >= 1.0 ? "none" : (correlated ? "correlated" : "uncorrelated");
  fc.m = std::clamp<size_t>(static_cast<size_t>(std::llround(s * static_cast<double>(ds.n))), 1, ds.n);
  if (correlated) {
    fc.lo.resize(ds.nq);
    for (size_t q = 0; q < ds.nq; ++q) {
      const size_t half = fc.m / 2;
      size_t lo = ds.q_center[q] > half ? ds.q_center[q] - half : 0;
      lo = std::min(lo, ds.n - fc.m);
      fc.lo[q] = lo;
      fc.bound.push_back(BindFilter("c_rank >= " + std::to_string(lo) + " AND c_rank < " + std::to_string(lo + fc.m)));
    }
  } else {
    fc.bound.push_back(BindFilter("u_rank < " + std::to_string(fc.m)));
  }
  omp_set_num_threads(gt_threads);
  ComputeGroundTruth(ds, fc);
  omp_set_num_threads(1);
  return fc;
}

// ---------------------------------------------------------------- measuring

struct Row {
  std::string dataset;
  size_t n = 0, d = 0;
  std::string correlation;
  double target = 0;
  size_t passing = 0;
  std::string engine;
  int ef = 0;  // 0: not applicable
  size_t queries = 0;
  double recall = 0, recall_min = 0;
  double mean_ms = 0, p50_ms = 0, p99_ms = 0, qps = 0;
  double build_s = 0, mem_mib = 0, rss_delta_mib = 0;
  size_t short_results = 0, violations = 0;
  double dist_comps = 0;
  double filter_ms = 0;  // vesta: mean time of FilterBitmap alone (separate pass)
  std::string plans;
  std::string note;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t idx = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  idx = std::clamp<size_t>(idx, 1, v.size()) - 1;
  return v[idx];
}

// Scores one query's result ids. Returns the recall; adds to violations and
// short counts.
double ScoreQuery(const Dataset& ds, const FilterCase& fc, size_t q, const std::vector<int64_t>& ids,
                  size_t* violations, size_t* shorts) {
  const size_t want = std::min(kK, fc.m);
  const float t = fc.gt[q * kK + want - 1];
  const float thr = t + 1e-5f * std::max(1.0f, std::fabs(t));
  const float* qv = &ds.queries[q * ds.d];
  std::vector<int64_t> seen;
  size_t hits = 0, valid = 0;
  for (int64_t id : ids) {
    if (id < 0) continue;
    if (static_cast<size_t>(id) >= ds.n || std::find(seen.begin(), seen.end(), id) != seen.end()) {
      ++*violations;
      continue;
    }
    seen.push_back(id);
    if (!Passes(ds, fc, q, id)) {
      ++*violations;
      continue;
    }
    ++valid;
    if (index::L2Sqr(qv, &ds.base[static_cast<size_t>(id) * ds.d], ds.d) <= thr) ++hits;
  }
  if (valid < want) ++*shorts;
  return static_cast<double>(std::min(hits, want)) / static_cast<double>(want);
}

// Runs `search(q, ids)` for queries [0, nq): `prepare(q)` runs before the
// timer (selector construction), the search itself is timed.
template <typename Prepare, typename Search>
void Measure(const Dataset& ds, const FilterCase& fc, size_t nq, Row& row, Prepare prepare, Search search) {
  std::vector<double> lat(nq);
  double recall_sum = 0, recall_min = 1;
  std::vector<int64_t> ids;
  double total = 0;
  for (size_t q = 0; q < nq; ++q) {
    prepare(q);
    ids.clear();
    const auto t0 = Clock::now();
    search(q, ids);
    const auto t1 = Clock::now();
    lat[q] = Seconds(t0, t1) * 1e3;
    total += lat[q];
    const double r = ScoreQuery(ds, fc, q, ids, &row.violations, &row.short_results);
    recall_sum += r;
    recall_min = std::min(recall_min, r);
  }
  row.queries = nq;
  row.recall = recall_sum / static_cast<double>(nq);
  row.recall_min = recall_min;
  row.mean_ms = total / static_cast<double>(nq);
  row.p50_ms = Percentile(lat, 0.50);
  row.p99_ms = Percentile(lat, 0.99);
  row.qps = total > 0 ? 1e3 * static_cast<double>(nq) / total : 0;
}

// ---------------------------------------------------------------- engines

struct BuildInfo {
  double build_s = 0, mem_mib = 0, rss_delta_mib = 0;
};

struct Engines {
  std::unique_ptr<index::VectorIndex> vesta;
  std::unique_ptr<faiss::IndexHNSWFlat> faiss_hnsw;
  std::unique_ptr<faiss::IndexFlatL2> faiss_flat;
  std::unique_ptr<hnswlib::L2Space> space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw;
  BuildInfo vesta_info, faiss_hnsw_info, faiss_flat_info, hnswlib_info;
};

index::IndexSpec VestaSpec(const Dataset& ds, const Options& o) {
  index::IndexSpec spec;
  spec.kind = index::IndexKind::kHnsw;
  spec.metric = index::Metric::kL2;
  spec.dimension = static_cast<uint32_t>(ds.d);
  spec.primary_key = {"id", DataType::Bigint(), false, ""};
  spec.attributes = AttributeSchema();
  spec.hnsw.m = o.m;
  spec.hnsw.ef_construction = o.ef_construction;
  return spec;
}

// --cache: where an engine's build for this data and these parameters is
// kept ("" without --cache), and its build figures beside it.
std::string CachePath(const Dataset& ds, const Options& o, const std::string& engine) {
  if (o.cache_dir.empty()) return "";
  return o.cache_dir + ds.name + "-n" + std::to_string(ds.n) + "-seed" + std::to_string(o.seed) + "-m" +
         std::to_string(o.m) + "-efc" + std::to_string(o.ef_construction) + "." + engine;
}

bool ReadBuildInfo(const std::string& path, BuildInfo* info) {
  if (path.empty() || !std::filesystem::exists(path)) return false;
  std::ifstream in(path + ".info");
  return static_cast<bool>(in >> info->build_s >> info->mem_mib >> info->rss_delta_mib);
}

void WriteBuildInfo(const std::string& path, const BuildInfo& info) {
  if (path.empty()) return;
  std::ofstream(path + ".info") << info.build_s << ' ' << info.mem_mib << ' ' << info.rss_delta_mib << '\n';
}

void PrintBuild(const char* engine, const BuildInfo& info, bool cached) {
  std::printf("  %s build %.2f s, %.1f MiB, RSS +%.1f MiB%s\n", engine, info.build_s, info.mem_mib,
              info.rss_delta_mib, cached ? " (loaded from --cache; figures of the cached build)" : "");
  std::fflush(stdout);
}

void BuildEngines(const Dataset& ds, const Options& o, Engines& e) {
  const size_t n = ds.n, d = ds.d;
  // Vesta. The RowBatch (keys, attribute rows, a copy of the vectors) is
  // made before the timer; Build is timed.
  if (o.Wants("vesta")) {
    index::IndexOptions options;
    options.build_threads = o.build_threads;
    if (o.plain_graph_selectivity >= 0) options.plain_graph_selectivity = o.plain_graph_selectivity;
    if (o.exact_threshold_bytes >= 0) options.exact_threshold_bytes = static_cast<size_t>(o.exact_threshold_bytes);
    const std::string path = CachePath(ds, o, "vesta");
    const bool cached = ReadBuildInfo(path, &e.vesta_info);
    if (cached) {
      e.vesta = Take(index::VectorIndex::Load(path, VestaSpec(ds, o), options), "loading " + path);
    } else {
      e.vesta = Take(index::VectorIndex::Create(VestaSpec(ds, o), options), "creating the Vesta index");
      const double rss0 = SettledRssMiB();  // before the batch: the delta is what the index keeps
      auto batch = std::make_unique<index::RowBatch>();
      batch->Reserve(n, d);
      for (size_t i = 0; i < n; ++i) {
        batch->Add(Value::Int(static_cast<int64_t>(i)), &ds.base[i * d], d,
                   {Value::Int(ds.u_rank[i]), Value::Int(ds.c_rank[i])});
      }
      const auto t0 = Clock::now();
      Check(e.vesta->Build(*batch, 1), "Vesta Build");
      const auto t1 = Clock::now();
      batch.reset();
      e.vesta_info.build_s = Seconds(t0, t1);
      e.vesta_info.rss_delta_mib = SettledRssMiB() - rss0;
      e.vesta_info.mem_mib = static_cast<double>(e.vesta->snapshot()->MemoryUsage()) / (1024.0 * 1024.0);
      if (!path.empty()) {
        Check(e.vesta->Save(path), "saving " + path);
        WriteBuildInfo(path, e.vesta_info);
      }
    }
    PrintBuild("vesta", e.vesta_info, cached);
  }
  // FAISS HNSW (same M, efConstruction).
  if (o.Wants("faiss_hnsw")) {
    const std::string path = CachePath(ds, o, "faiss_hnsw");
    const bool cached = ReadBuildInfo(path, &e.faiss_hnsw_info);
    if (cached) {
      e.faiss_hnsw.reset(dynamic_cast<faiss::IndexHNSWFlat*>(faiss::read_index(path.c_str())));
      if (!e.faiss_hnsw) Die(path + " is not an IndexHNSWFlat");
    } else {
      const double rss0 = SettledRssMiB();
      omp_set_num_threads(o.build_threads);
      const auto t0 = Clock::now();
      e.faiss_hnsw = std::make_unique<faiss::IndexHNSWFlat>(static_cast<int>(d), o.m);
      e.faiss_hnsw->hnsw.efConstruction = o.ef_construction;
      e.faiss_hnsw->add(static_cast<faiss::Index::idx_t>(n), ds.base.data());
      const auto t1 = Clock::now();
      omp_set_num_threads(1);
      const auto& h = e.faiss_hnsw->hnsw;
      e.faiss_hnsw_info.build_s = Seconds(t0, t1);
      e.faiss_hnsw_info.rss_delta_mib = SettledRssMiB() - rss0;
      e.faiss_hnsw_info.mem_mib =
          static_cast<double>(n * d * sizeof(float) + h.neighbors.size() * sizeof(int32_t) +
                              h.offsets.size() * sizeof(size_t) + h.levels.size() * sizeof(int)) /
          (1024.0 * 1024.0);
      if (!path.empty()) {
        faiss::write_index(e.faiss_hnsw.get(), path.c_str());
        WriteBuildInfo(path, e.faiss_hnsw_info);
      }
    }
    PrintBuild("faiss_hnsw", e.faiss_hnsw_info, cached);
  }
  // FAISS Flat (never cached: adding is a copy).
  if (o.Wants("faiss_flat")) {
    const double rss0 = SettledRssMiB();
    const auto t0 = Clock::now();
    e.faiss_flat = std::make_unique<faiss::IndexFlatL2>(static_cast<int>(d));
    e.faiss_flat->add(static_cast<faiss::Index::idx_t>(n), ds.base.data());
    const auto t1 = Clock::now();
    e.faiss_flat_info.build_s = Seconds(t0, t1);
    e.faiss_flat_info.rss_delta_mib = SettledRssMiB() - rss0;
    e.faiss_flat_info.mem_mib = static_cast<double>(n * d * sizeof(float)) / (1024.0 * 1024.0);
  }
  // hnswlib (same M, ef_construction), inserts on build_threads threads.
  if (o.Wants("hnswlib")) {
    const std::string path = CachePath(ds, o, "hnswlib");
    e.space = std::make_unique<hnswlib::L2Space>(d);
    const bool cached = ReadBuildInfo(path, &e.hnswlib_info);
    if (cached) {
      e.hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(e.space.get(), path, false, n);
    } else {
      const double rss0 = SettledRssMiB();
      const auto t0 = Clock::now();
      e.hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(e.space.get(), n, static_cast<size_t>(o.m),
                                                                 static_cast<size_t>(o.ef_construction), 100);
      std::atomic<size_t> next{0};
      auto worker = [&]() {
        for (size_t i = next++; i < n; i = next++) {
          e.hnsw->addPoint(&ds.base[i * d], static_cast<hnswlib::labeltype>(i));
        }
      };
      std::vector<std::thread> threads;
      for (int t = 0; t < std::max(1, o.build_threads); ++t) threads.emplace_back(worker);
      for (auto& t : threads) t.join();
      const auto t1 = Clock::now();
      e.hnswlib_info.build_s = Seconds(t0, t1);
      e.hnswlib_info.rss_delta_mib = SettledRssMiB() - rss0;
      size_t upper = 0;
      for (size_t i = 0; i < n; ++i) {
        upper += static_cast<size_t>(e.hnsw->element_levels_[i]) * e.hnsw->size_links_per_element_;
      }
      e.hnswlib_info.mem_mib =
          static_cast<double>(e.hnsw->max_elements_ * e.hnsw->size_data_per_element_ + upper + n * sizeof(int) +
                              n * sizeof(void*)) /
          (1024.0 * 1024.0);
      if (!path.empty()) {
        e.hnsw->saveIndex(path);
        WriteBuildInfo(path, e.hnswlib_info);
      }
    }
    PrintBuild("hnswlib", e.hnswlib_info, cached);
  }
}

Row BaseRow(const Dataset& ds, const FilterCase& fc, const std::string& engine, int ef, const BuildInfo& info) {
  Row r;
  r.dataset = ds.name;
  r.n = ds.n;
  r.d = ds.d;
  r.correlation = fc.correlation;
  r.target = fc.target;
  r.passing = fc.m;
  r.engine = engine;
  r.ef = ef;
  r.build_s = info.build_s;
  r.mem_mib = info.mem_mib;
  r.rss_delta_mib = info.rss_delta_mib;
  return r;
}

// A FAISS selector over the passing ids of one query.
struct Selector {
  std::vector<uint8_t> bits;
  std::unique_ptr<faiss::IDSelectorBitmap> sel;
  void Set(const Dataset& ds, const FilterCase& fc, size_t q) {
    bits.assign((ds.n + 7) / 8, 0);
    const int64_t* ids = PassingIds(ds, fc, q);
    for (size_t i = 0; i < fc.m; ++i) bits[ids[i] >> 3] |= static_cast<uint8_t>(1u << (ids[i] & 7));
    sel = std::make_unique<faiss::IDSelectorBitmap>(bits.size(), bits.data());
  }
};

std::string PlanCounts(const std::map<std::string, size_t>& plans) {
  std::string s;
  for (const auto& [name, count] : plans) {
    if (!s.empty()) s += " ";
    s += name + ":" + std::to_string(count);
  }
  return s;
}

Row RunVesta(const Dataset& ds, const FilterCase& fc, const Engines& e, size_t nq, int ef,
             std::optional<index::SearchPlan> force = std::nullopt, const std::string& engine = "vesta") {
  Row row = BaseRow(ds, fc, engine, ef, e.vesta_info);
  std::map<std::string, size_t> plans;
  size_t comps = 0;
  index::SearchRequest req;
  req.k = kK;
  req.ef_search = ef;
  req.force_plan = force;
  Measure(
      ds, fc, nq, row, [&](size_t q) { req.filter = &fc.bound[fc.correlated ? q : 0]; },
      [&](size_t q, std::vector<int64_t>& ids) {
        auto r = e.vesta->Search(&ds.queries[q * ds.d], ds.d, req);
        if (!r.ok()) Die("Vesta Search: " + r.status().ToString());
        const index::SearchResult& res = r.value();
        for (uint32_t id : res.ids) ids.push_back(id);
        ++plans[std::string(index::SearchPlanName(res.plan))];
        comps += res.distance_computations;
      });
  row.plans = PlanCounts(plans);
  row.dist_comps = static_cast<double>(comps) / static_cast<double>(nq);
  // How much of that is evaluating the filter: FilterBitmap alone, after the
  // timed loop (so it does not warm anything for it).
  if (fc.m < ds.n) {
    auto snap = e.vesta->snapshot();
    double total = 0;
    for (size_t q = 0; q < nq; ++q) {
      const auto t0 = Clock::now();
      auto rows = index::FilterBitmap(fc.bound[fc.correlated ? q : 0], snap->attributes(), req.context);
      const auto t1 = Clock::now();
      if (!rows.ok()) Die("FilterBitmap: " + rows.status().ToString());
      total += Seconds(t0, t1) * 1e3;
    }
    row.filter_ms = total / static_cast<double>(nq);
  }
  return row;
}

Row RunFaissHnsw(const Dataset& ds, const FilterCase& fc, Engines& e, size_t nq, int ef) {
  Row row = BaseRow(ds, fc, "faiss_hnsw", ef, e.faiss_hnsw_info);
  e.faiss_hnsw->hnsw.efSearch = ef;  // 1.7.3 ignores a per-query efSearch above this
  Selector selector;
  faiss::SearchParametersHNSW params;
  params.efSearch = ef;
  std::vector<float> dist(kK);
  std::vector<faiss::Index::idx_t> labels(kK);
  const bool filtered = fc.m < ds.n;
  Measure(
      ds, fc, nq, row,
      [&](size_t q) {
        if (filtered && (fc.correlated || !selector.sel)) selector.Set(ds, fc, q);
        params.sel = filtered ? selector.sel.get() : nullptr;
      },
      [&](size_t q, std::vector<int64_t>& ids) {
        e.faiss_hnsw->search(1, &ds.queries[q * ds.d], kK, dist.data(), labels.data(), &params);
        for (faiss::Index::idx_t l : labels) ids.push_back(l);
      });
  row.note = filtered ? "IDSelectorBitmap" : "no selector";
  return row;
}

Row RunFaissFlat(const Dataset& ds, const FilterCase& fc, Engines& e, size_t nq) {
  Row row = BaseRow(ds, fc, "faiss_flat", 0, e.faiss_flat_info);
  Selector selector;
  faiss::SearchParameters params;
  std::vector<float> dist(kK);
  std::vector<faiss::Index::idx_t> labels(kK);
  const bool filtered = fc.m < ds.n;
  Measure(
      ds, fc, nq, row,
      [&](size_t q) {
        if (filtered && (fc.correlated || !selector.sel)) selector.Set(ds, fc, q);
        params.sel = filtered ? selector.sel.get() : nullptr;
      },
      [&](size_t q, std::vector<int64_t>& ids) {
        e.faiss_flat->search(1, &ds.queries[q * ds.d], kK, dist.data(), labels.data(), filtered ? &params : nullptr);
        for (faiss::Index::idx_t l : labels) ids.push_back(l);
      });
  row.note = filtered ? "IDSelectorBitmap" : "no selector";
  return row;
}

Row RunHnswlib(const Dataset& ds, const FilterCase& fc, Engines& e, size_t nq, int ef, bool postfilter) {
  const size_t fetch =
      postfilter ? std::min(ds.n, static_cast<size_t>(std::ceil(1.5 * kK / (static_cast<double>(fc.m) / ds.n))))
                 : kK;
  const size_t ef_used = std::max<size_t>(static_cast<size_t>(ef), fetch);
  Row row = BaseRow(ds, fc, postfilter ? "hnswlib_postfilter" : "hnswlib", static_cast<int>(ef_used),
                    e.hnswlib_info);
  e.hnsw->setEf(ef_used);
  Measure(
      ds, fc, nq, row, [](size_t) {},
      [&](size_t q, std::vector<int64_t>& ids) {
        auto pq = e.hnsw->searchKnn(&ds.queries[q * ds.d], fetch);
        std::vector<std::pair<float, int64_t>> got;
        got.reserve(pq.size());
        while (!pq.empty()) {
          got.emplace_back(pq.top().first, static_cast<int64_t>(pq.top().second));
          pq.pop();
        }
        std::reverse(got.begin(), got.end());  // best first
        for (const auto& [dist, id] : got) {
          if (postfilter && !Passes(ds, fc, q, id)) continue;
          ids.push_back(id);
          if (ids.size() == kK) break;
        }
      });
  row.note = postfilter ? "reference: k'=" + std::to_string(fetch) + " then filter (filter check inside timer)"
                        : "unfiltered";
  return row;
}

// ---------------------------------------------------------------- output

std::string Fmt(double v, int prec = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}
std::string FmtG(double v) {
  char buf[64];
  if (v >= 100) std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (v >= 1) std::snprintf(buf, sizeof buf, "%.2f", v);
  else std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

void WriteCsv(const std::string& path, const std::vector<Row>& rows) {
  std::ofstream f(path);
  f << "dataset,n,d,correlation,selectivity,passing,engine,ef,queries,recall_at_10,recall_min,mean_ms,p50_ms,p99_ms,"
       "qps,build_s,mem_mib,rss_delta_mib,short_results,violations,dist_comps,filter_ms,plans,note\n";
  for (const Row& r : rows) {
    f << r.dataset << ',' << r.n << ',' << r.d << ',' << r.correlation << ',' << r.target << ',' << r.passing << ','
      << r.engine << ',' << r.ef << ',' << r.queries << ',' << Fmt(r.recall, 4) << ',' << Fmt(r.recall_min, 4) << ','
      << Fmt(r.mean_ms, 4) << ',' << Fmt(r.p50_ms, 4) << ',' << Fmt(r.p99_ms, 4) << ',' << Fmt(r.qps, 1) << ','
      << Fmt(r.build_s, 2) << ',' << Fmt(r.mem_mib, 1) << ',' << Fmt(r.rss_delta_mib, 1) << ',' << r.short_results
      << ',' << r.violations << ',' << Fmt(r.dist_comps, 0) << ',' << Fmt(r.filter_ms, 4) << ",\"" << r.plans << "\",\"" << r.note << "\"\n";
  }
}

struct ThresholdRow {
  std::string correlation;
  size_t passing = 0;
  double bytes = 0;
  Row exact, graph, plain;  // forced kExact, kFilteredGraph (two-hop), kGraph (plain walk)
};

struct DatasetReport {
  std::string name, description, correlation_description;
  size_t n = 0, d = 0, nq = 0;
  BuildInfo vesta, faiss_hnsw, faiss_flat, hnswlib;
  size_t flat_queries = 0;
};

std::string MachineMarkdown(const Options& o) {
  std::ostringstream s;
  struct utsname u{};
  uname(&u);
  s << "| | |\n|---|---|\n";
  s << "| CPU | " << CpuModel() << " |\n";
  s << "| cores (online) | " << std::thread::hardware_concurrency() << " |\n";
  s << "| RAM | " << Fmt(MemTotalGiB(), 1) << " GiB |\n";
  s << "| kernel | " << u.sysname << " " << u.release << " |\n";
  s << "| compiler | " <<
#if defined(__clang__)
      "clang "
#else
      "GCC "
#endif
    << __VERSION__ << ", Release (-O3), baseline x86-64 flags |\n";
  s << "| FAISS | " << FAISS_VERSION_MAJOR << "." << FAISS_VERSION_MINOR << "." << FAISS_VERSION_PATCH
    << " (Debian; scalar distance functions) |\n";
  s << "| hnswlib | Debian libhnswlib-dev 0.6.2 (header-only; SSE path at baseline flags) |\n";
  s << "| Vesta kernels | " << index::KernelPathName(index::DetectKernelPath()) << " |\n";
  s << "| OpenBLAS | " << openblas_get_config() << ", " << openblas_get_num_threads() << " thread(s) |\n";
  s << "| threads | build: " << o.build_threads << " (FAISS/Vesta OpenMP, hnswlib std::thread); search: 1 query at a "
    << "time on 1 thread |\n";
  s << "| HNSW | M " << o.m << ", ef_construction " << o.ef_construction << " (all three engines); ef_search sweep";
  for (int ef : o.efs) s << " " << ef;
  s << " |\n";
  const index::IndexOptions io;
  const index::HnswSearchParams hp;
  const double exact_bytes =
      o.exact_threshold_bytes >= 0 ? o.exact_threshold_bytes : static_cast<double>(io.exact_threshold_bytes);
  s << "| Vesta planner (the code's defaults unless noted) | exact_threshold_bytes " << Fmt(exact_bytes, 0) << " ("
    << Fmt(exact_bytes / (1024.0 * 1024.0), 1) << " MiB)" << (o.exact_threshold_bytes >= 0 ? " (--exact-threshold-bytes)" : "")
    << ", plain_graph_selectivity "
    << (o.plain_graph_selectivity >= 0 ? o.plain_graph_selectivity : io.plain_graph_selectivity)
    << (o.plain_graph_selectivity >= 0 ? " (--plain-graph-selectivity)" : "") << "; HNSW walk: widen_exponent "
    << hp.widen_exponent << ", max_ef " << hp.max_ef << ", exact_fallback_factor " << hp.exact_fallback_factor
    << "; Vesta build_threads " << o.build_threads << " |\n";
  return s.str();
}

void WriteMarkdown(const std::string& path, const Options& o, const std::vector<DatasetReport>& reports,
                   const std::vector<Row>& rows, const std::vector<ThresholdRow>& threshold,
                   const std::string& threshold_dataset, const std::string& command) {
  std::ofstream f(path);
  f << "# Filtered ANN search: Vesta vs FAISS 1.7.3 vs hnswlib\n\n";
  f << "Written by `bench/filtered_bench` (workloads listed at the top of `bench/filtered_bench.cc`); plot: "
       "`/usr/bin/python3 bench/plot_filtered.py " << o.out << "filtered.csv` -> `filtered.png`.\n\n";
  f << "Command: `" << command << "`\n\n";
  f << "## Machine and settings\n\n" << MachineMarkdown(o) << "\n";
  f << "## Method\n\n"
       "- recall@10: a returned row counts if it passes the filter and its squared L2 distance (recomputed) is <= "
       "the 10th true distance (+1e-5 relative) of an exact search over the passing rows (ties count); divided by "
       "min(10, passing). `short` = queries with fewer than min(10, passing) valid results; `viol` = rows returned "
       "outside the filter (must be 0). `dist/q`: Vesta's distance computations per query (an exact fallback "
       "counts the passing rows). `filter ms`: Vesta's FilterBitmap alone on the same filters (a separate pass), "
       "the part of Vesta's latency spent evaluating the filter.\n"
       "- Latency: wall clock of one search call, one query at a time, one thread. QPS = queries / summed latency. "
       "Vesta's time includes evaluating the filter to a bitmap, except where its snapshot filter cache serves it "
       "(IndexOptions::filter_cache_bytes: a filter is cached on its second use, as Lucene's LRUQueryCache does): "
       "the uncorrelated filter is the same for every query, so it is evaluated on the first two queries of the "
       "run and served from the cache afterwards (`filter ms` is its cold cost); the correlated filter differs per "
       "query and is evaluated every time. FAISS is handed a prebuilt IDSelectorBitmap (construction not timed).\n"
       "- Filters: uncorrelated `u_rank < m` (random permutation rank); correlated `c_rank >= lo AND c_rank < lo+m`, "
       "a window of m rows centred on the query's position in a locality order (per dataset below). 100% is run "
       "once (`none`).\n"
       "- Memory: `mem` = structure size (vectors + graph + id map/attributes for Vesta: "
       "IndexSnapshot::MemoryUsage; FAISS: storage + neighbours/offsets/levels; hnswlib: level-0 block + upper "
       "links); `rss+` = growth of RSS over the build after malloc_trim (approximate).\n\n";

  // Done-when summary.
  const int default_ef = index::SearchParams().ef_search;
  const std::string at_default = "@ef" + std::to_string(default_ef);
  f << "## Summary: Vesta vs FAISS HNSW at recall@10 >= 0.95\n\n"
       "Per filter: the lowest ef at which each engine's mean recall@10 reaches 0.95 and its p50 there "
       "(\"never\": not reached at any ef swept), and Vesta's recall at its default ef_search "
    << default_ef << ".\n\n";
  f << "| dataset | filter | sel | passing | Vesta ef | Vesta recall | Vesta p50 ms | FAISS HNSW ef | FAISS recall | "
       "FAISS p50 ms | Vesta p50 <= FAISS p50 | Vesta recall "
    << at_default << " | Vesta plans " << at_default << " | FAISS flat p50 ms |\n";
  f << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  std::vector<std::string> keys;
  for (const Row& r : rows) {
    const std::string key = r.dataset + "|" + r.correlation + "|" + std::to_string(r.target);
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }
  for (const std::string& key : keys) {
    const Row* any = nullptr;
    const Row *v95 = nullptr, *f95 = nullptr, *v_default = nullptr, *flat = nullptr;
    for (const Row& r : rows) {
      if (r.dataset + "|" + r.correlation + "|" + std::to_string(r.target) != key) continue;
      any = &r;
      if (r.engine == "vesta" && r.recall >= 0.95 && (!v95 || r.ef < v95->ef)) v95 = &r;
      if (r.engine == "faiss_hnsw" && r.recall >= 0.95 && (!f95 || r.ef < f95->ef)) f95 = &r;
      if (r.engine == "vesta" && r.ef == default_ef) v_default = &r;
      if (r.engine == "faiss_flat") flat = &r;
    }
    f << "| " << any->dataset << " | " << any->correlation << " | " << Pct(any->target) << " | " << any->passing
      << " | ";
    if (v95) f << v95->ef << " | " << Fmt(v95->recall) << " | " << Fmt(v95->p50_ms, 3) << " | ";
    else f << "never | | | ";
    if (f95) f << f95->ef << " | " << Fmt(f95->recall) << " | " << Fmt(f95->p50_ms, 3) << " | ";
    else f << "never | | | ";
    if (v95 && f95) f << (v95->p50_ms <= f95->p50_ms ? "yes" : "**no**") << " | ";
    else if (v95) f << "yes (FAISS never reaches 0.95) | ";
    else f << "**no** (Vesta never reaches 0.95) | ";
    f << (v_default ? Fmt(v_default->recall) : "") << " | " << (v_default ? v_default->plans : "") << " | "
      << (flat ? Fmt(flat->p50_ms, 3) : "") << " |\n";
  }
  f << "\n";

  for (const DatasetReport& dr : reports) {
    f << "## " << dr.name << " (" << dr.n << " x " << dr.d << ", " << dr.nq << " queries)\n\n";
    f << dr.description << ". Correlated order: " << dr.correlation_description << ".";
    if (dr.flat_queries < dr.nq) f << " faiss_flat runs the first " << dr.flat_queries << " queries only.";
    f << "\n\n| engine | build s | mem MiB | rss+ MiB |\n|---|---|---|---|\n";
    auto build = [&](const char* name, const BuildInfo& b) {
      f << "| " << name << " | " << Fmt(b.build_s, 2) << " | " << Fmt(b.mem_mib, 1) << " | " << Fmt(b.rss_delta_mib, 1)
        << " |\n";
    };
    build("vesta", dr.vesta);
    build("faiss_hnsw", dr.faiss_hnsw);
    build("faiss_flat", dr.faiss_flat);
    build("hnswlib", dr.hnswlib);
    f << "\n| filter | sel | passing | engine | ef | recall@10 | min | mean ms | p50 ms | p99 ms | QPS | short | viol | "
         "dist/q | filter ms | plans / note |\n";
    f << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const Row& r : rows) {
      if (r.dataset != dr.name) continue;
      f << "| " << r.correlation << " | " << Pct(r.target) << " | " << r.passing << " | " << r.engine << " | "
        << (r.ef ? std::to_string(r.ef) : "-") << " | " << Fmt(r.recall) << " | " << Fmt(r.recall_min, 2) << " | "
        << FmtG(r.mean_ms) << " | " << FmtG(r.p50_ms) << " | " << FmtG(r.p99_ms) << " | " << Fmt(r.qps, 0) << " | "
        << r.short_results << " | " << r.violations << " | " << (r.dist_comps > 0 ? Fmt(r.dist_comps, 0) : "")
        << " | " << (r.filter_ms > 0 ? FmtG(r.filter_ms) : "") << " | " << (r.plans.empty() ? r.note : r.plans)
        << " |\n";
    }
    f << "\n";
  }

  if (!threshold.empty()) {
    f << "## Planner threshold: exact vs filtered graph vs plain graph (" << threshold_dataset << ", ef 64)\n\n"
         "force_plan = kExact, kFilteredGraph (two-hop walk) and kGraph (plain walk) over passing sets of m rows "
         "(selectivity m / n); bytes = m * d * 4. The crossover is the smallest passing set from which the "
         "filtered graph's mean latency is below exact search's, with recall@10 >= 0.95, at every larger size "
         "measured.\n\n";
    f << "| filter | passing | sel | vector bytes | exact mean ms | exact p50 | exact recall | two-hop mean ms | "
         "two-hop p50 | two-hop p99 | two-hop recall | two-hop dist/q | plain mean ms | plain p50 | plain recall | "
         "plain dist/q |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const ThresholdRow& t : threshold) {
      f << "| " << t.correlation << " | " << t.passing << " | " << Pct(t.exact.target) << " | "
        << Fmt(t.bytes / (1024.0 * 1024.0), 2) << " MiB | " << FmtG(t.exact.mean_ms) << " | "
        << FmtG(t.exact.p50_ms) << " | " << Fmt(t.exact.recall) << " | " << FmtG(t.graph.mean_ms) << " | "
        << FmtG(t.graph.p50_ms) << " | " << FmtG(t.graph.p99_ms) << " | " << Fmt(t.graph.recall) << " | "
        << Fmt(t.graph.dist_comps, 0) << " | " << FmtG(t.plain.mean_ms) << " | " << FmtG(t.plain.p50_ms) << " | "
        << Fmt(t.plain.recall) << " | " << Fmt(t.plain.dist_comps, 0) << " |\n";
    }
    // Crossover: the smallest passing set from which the walk beats the
    // exact scan (mean latency, recall >= 0.95) at every larger size
    // measured. (At the smallest sizes the forced walk goes exact at once,
    // ef >= passing, and the two tie within noise: not a crossover.)
    for (const std::string corr : {"uncorrelated", "correlated"}) {
      std::vector<const ThresholdRow*> rs;
      for (const ThresholdRow& t : threshold) {
        if (t.correlation == corr) rs.push_back(&t);
      }
      size_t first = rs.size();
      while (first > 0 && rs[first - 1]->graph.mean_ms < rs[first - 1]->exact.mean_ms &&
             rs[first - 1]->graph.recall >= 0.95) {
        --first;
      }
      f << "\nCrossover (" << corr << "): ";
      if (first == rs.size()) {
        f << "none: exact search is faster at every size measured";
      } else if (first == 0) {
        f << "the walk is faster at every size measured (from " << rs[0]->passing << " rows)";
      } else {
        f << "exact is faster up to " << rs[first - 1]->passing << " rows ("
          << Fmt(rs[first - 1]->bytes / (1024.0 * 1024.0), 2) << " MiB), the walk from " << rs[first]->passing
          << " rows (" << Fmt(rs[first]->bytes / (1024.0 * 1024.0), 2) << " MiB)";
      }
      f << ".";
    }
    f << "\n";
  }
}

// ---------------------------------------------------------------- driver

void PrintRow(const Row& r) {
  std::printf("  %-12s %-13s %7s m=%-8zu %-18s ef=%-4d recall %.3f (min %.2f) p50 %8.3f ms p99 %8.3f ms qps %8.0f "
              "short %zu viol %zu %s\n",
              r.dataset.c_str(), r.correlation.c_str(), Pct(r.target).c_str(), r.passing, r.engine.c_str(), r.ef,
              r.recall, r.recall_min, r.p50_ms, r.p99_ms, r.qps, r.short_results, r.violations,
              (r.plans.empty() ? r.note : r.plans).c_str());
  std::fflush(stdout);
}

void RunDataset(const Dataset& ds, const Options& o, std::vector<Row>& rows, std::vector<DatasetReport>& reports,
                std::vector<ThresholdRow>* threshold) {
  std::printf("== %s: n=%zu d=%zu queries=%zu\n", ds.name.c_str(), ds.n, ds.d, ds.nq);
  std::fflush(stdout);
  Engines e;
  BuildEngines(ds, o, e);
  DatasetReport dr;
  dr.name = ds.name;
  dr.description = ds.description;
  dr.correlation_description = ds.correlation_description;
  dr.n = ds.n;
  dr.d = ds.d;
  dr.nq = ds.nq;
  dr.vesta = e.vesta_info;
  dr.faiss_hnsw = e.faiss_hnsw_info;
  dr.faiss_flat = e.faiss_flat_info;
  dr.hnswlib = e.hnswlib_info;
  dr.flat_queries = ds.n > 100000 ? std::min(ds.nq, o.flat_queries_large) : ds.nq;

  for (double s : o.selectivities) {
    for (bool correlated : {false, true}) {
      if (s >= 1.0 && correlated) continue;  // identical passing set
      const auto t0 = Clock::now();
      FilterCase fc = MakeCase(ds, s, correlated, o.build_threads);
      std::printf(" -- %s %s m=%zu (ground truth %.1f s)\n", fc.correlation.c_str(), Pct(s).c_str(), fc.m,
                  Seconds(t0, Clock::now()));
      if (e.vesta) {
        for (int ef : o.efs) rows.push_back(RunVesta(ds, fc, e, ds.nq, ef)), PrintRow(rows.back());
      }
      if (e.faiss_hnsw) {
        for (int ef : o.efs) rows.push_back(RunFaissHnsw(ds, fc, e, ds.nq, ef)), PrintRow(rows.back());
      }
      if (e.faiss_flat) rows.push_back(RunFaissFlat(ds, fc, e, dr.flat_queries)), PrintRow(rows.back());
      if (e.hnsw && s >= 1.0) {
        for (int ef : o.efs) rows.push_back(RunHnswlib(ds, fc, e, ds.nq, ef, false)), PrintRow(rows.back());
      } else if (e.hnsw && s >= 0.01) {
        rows.push_back(RunHnswlib(ds, fc, e, ds.nq, 64, true)), PrintRow(rows.back());
      }
    }
  }
  reports.push_back(dr);

  if (threshold != nullptr && e.vesta) {
    std::printf(" -- planner threshold\n");
    const size_t nq = std::min<size_t>(ds.nq, 100);
    for (bool correlated : {false, true}) {
      for (size_t m : {1000, 2000, 5000, 10000, 20000, 30000, 50000, 70000, 100000}) {
        if (m > ds.n / 2) break;
        FilterCase fc = MakeCase(ds, static_cast<double>(m) / static_cast<double>(ds.n), correlated, o.build_threads);
        fc.m = m;  // exact, not rounded through the fraction
        ThresholdRow t;
        t.correlation = fc.correlation;
        t.passing = fc.m;
        t.bytes = static_cast<double>(fc.m * ds.d * sizeof(float));
        t.exact = RunVesta(ds, fc, e, nq, 64, index::SearchPlan::kExact, "vesta_force_exact");
        t.graph = RunVesta(ds, fc, e, nq, 64, index::SearchPlan::kFilteredGraph, "vesta_force_filtered_graph");
        t.plain = RunVesta(ds, fc, e, nq, 64, index::SearchPlan::kGraph, "vesta_force_graph");
        PrintRow(t.exact);
        PrintRow(t.graph);
        PrintRow(t.plain);
        threshold->push_back(t);
      }
    }
  }
}

int Main(int argc, char** argv) {
  SetProgram("filtered_bench");
  const Options o = ParseArgs(argc, argv);
  openblas_set_num_threads(1);
  omp_set_num_threads(1);
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  std::filesystem::create_directories(o.out);
  std::printf("%s", MachineMarkdown(o).c_str());

  std::vector<Row> rows;
  std::vector<DatasetReport> reports;
  std::vector<ThresholdRow> threshold;
  std::string threshold_dataset;
  auto flush = [&]() {
    WriteCsv(o.out + "filtered.csv", rows);
    WriteMarkdown(o.out + "filtered.md", o, reports, rows, threshold, threshold_dataset, command);
  };
  const bool all = o.data == "all";
  if (all || o.data == "sift") {
    RunDataset(LoadSift(o), o, rows, reports, nullptr);
    flush();
  }
  if (all || o.data == "pneumonia") {
    RunDataset(LoadPneumonia(o), o, rows, reports, nullptr);
    flush();
  }
  if (all || o.data == "synthetic") {
    const size_t largest = *std::max_element(o.sizes.begin(), o.sizes.end());
    for (size_t n : o.sizes) {
      const auto t0 = Clock::now();
      Dataset ds = MakeSynthetic(o, n);
      std::printf("generated %s in %.1f s\n", ds.name.c_str(), Seconds(t0, Clock::now()));
      const bool do_threshold = o.threshold && n == largest;
      if (do_threshold) threshold_dataset = ds.name;
      RunDataset(ds, o, rows, reports, do_threshold ? &threshold : nullptr);
      flush();
    }
  }
  flush();
  std::printf("wrote %sfiltered.md and %sfiltered.csv\n", o.out.c_str(), o.out.c_str());
  const std::string plot = "/usr/bin/python3 " VESTA_SOURCE_DIR "/bench/plot_filtered.py " + o.out + "filtered.csv";
  if (std::system(plot.c_str()) != 0) std::printf("plot failed; run: %s\n", plot.c_str());
  return 0;
}

}  // namespace
}  // namespace vesta::bench

int main(int argc, char** argv) { return vesta::bench::Main(argc, argv); }
