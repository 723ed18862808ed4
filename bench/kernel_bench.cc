// kernel_bench: distance kernels, top-k, exact single-query scan and batched
// GEMM search (index/distance.h, topk.h, exact_search.h, batch_search.h),
// with FAISS 1.7.3 (Debian) and a plain OpenBLAS sgemm as baselines in the
// same run. Figures and their reading: index/README.md, "Kernels: measured".
//
// Workloads (data generated from fixed seeds; <path> is scalar, avx2, avx512):
//   BM_MemoryRead                    sum 512 MB of uint64 (one core, widest SIMD the CPU
//                                    has): this run's streaming-read ceiling ("% of measured").
//   BM_Distance_L2/<path>/<d>        l2_sqr one-to-one over 512 KB of vectors held in
//   BM_Distance_IP/<path>/<d>        L2 (d = 128, 768): compute speed, GB/s of base.
//                                    Data is 64-byte aligned, as an index should store it;
//   BM_Distance_L2/<path>/<d>/misaligned16B  the same 16 bytes off a cache line.
//   BM_Distance_L2/faiss/<d>         faiss::fvec_L2sqr on the same block.
//   BM_Gather_L2/<path>/<d>          l2_sqr_by_ids on 4096 random ids of a set that
//                                    does not fit in cache (1M x 128, 200k x 768): ns/vector.
//   BM_Scan_1Mx128/<path>/block:<b>  ExactSearch L2 k = 10 over 1M x 128 (512 MB, from
//                                    memory, 64-byte aligned): GB/s, % of 9.7 GB/s
//                                    (DESIGN.md's figure), % of BM_MemoryRead (this run's).
//   BM_Scan_1Mx128/<path>/misaligned16B  the same rows 16 bytes off a cache line, where a
//                                    std::vector<float> of that size starts.
//   BM_Scan_1Mx128/faiss_knn         faiss::knn_L2sqr, nq = 1, k = 10 (its scalar
//                                    fvec_L2sqr_ny path, below distance_compute_blas_threshold).
//   BM_TopK/<impl>/<stream>/k:<k>    select k of 1M distances: Vesta's TopK (buffer +
//                                    nth_element) vs FAISS's binary heap; stream is
//                                    random or descending (every candidate enters).
//   BM_Sgemm_Plain                   cblas_sgemm 1024 x 100k x 128 into one full C
//                                    (400 MB): the batched-search baseline.
//   BM_BatchSearch/<metric>/qb:<qb>/bb:<bb>  BatchSearch k = 10, nq = 1024, n = 100k, d = 128 with
//                                    query/base block sizes qb/bb: GFLOP/s, % of plain sgemm.
//   BM_BatchSearch/faiss_knn         faiss::knn_L2sqr, nq = 1024 (its BLAS path).
//   BM_SmallBatch/<gemm|scan>/nq:<nq>  nq = 2..32 queries vs 100k x 128: sgemm or one scan
//                                    per query (chooses BatchSearchOptions::min_gemm_queries).
//
// Units: GBps counters are decimal (10^9 bytes/s), as the goals and DESIGN.md
// are; Google Benchmark's bytes_per_second is binary (GiB/s). pct_of_measured
// is against the best of 5 passes of BM_MemoryRead's loop, pct_of_sgemm
// against the best of 3 plain sgemm calls, both made in the same run.
//
// Threads: OpenBLAS is set to 1 thread (openblas_set_num_threads) before
// anything runs, as the service does at start-up, and so is OpenMP (used by
// FAISS only); Vesta's code spawns no threads. The context block printed
// first names the CPU, the default kernel path and the OpenBLAS configuration.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <faiss/utils/Heap.h>
#include <faiss/utils/distances.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/machine.h"
#include "index/batch_search.h"
#include "index/distance.h"
#include "index/exact_search.h"
#include "index/topk.h"

namespace vesta::index {
namespace {

constexpr double kReferenceBandwidth = 9.7e9;  // bytes/s, DESIGN.md section 3
constexpr size_t kScanRows = 1'000'000;
constexpr size_t kScanDim = 128;
constexpr size_t kBatchQueries = 1024;
constexpr size_t kBatchRows = 100'000;
constexpr size_t kBatchDim = 128;
constexpr size_t kK = 10;

// n floats, 64-byte aligned (as an index should store its vectors: with d % 16 == 0
// every row then starts on a cache line), plus `offset` floats of slack in
// front when a benchmark wants a misaligned copy.
class Floats {
 public:
  explicit Floats(size_t n, size_t offset = 0)
      : mem_(static_cast<float*>(std::aligned_alloc(64, ((n + offset) * sizeof(float) + 63) / 64 * 64))),
        data_(mem_.get() + offset),
        size_(n) {}
  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> mem_;
  float* data_;
  size_t size_;
};

// Deterministic uniform floats in [0, 1) (splitmix64): fast enough to fill
// 512 MB in well under a second. `offset` floats of misalignment.
Floats Generate(size_t count, uint64_t seed, size_t offset = 0) {
  Floats v(count, offset);
  uint64_t s = seed;
  for (size_t i = 0; i < count; ++i) {
    s += 0x9E3779B97F4A7C15ull;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    v.data()[i] = static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
  }
  return v;
}

const Floats& ScanBase() {
  static const auto* v = new Floats(Generate(kScanRows * kScanDim, 1));
  return *v;
}
// The same rows, 4 floats (16 bytes) past a cache line: where a plain
// std::vector<float> of this size starts (glibc's mmap'd chunk header).
const Floats& ScanBaseMisaligned() {
  static const auto* v = new Floats(Generate(kScanRows * kScanDim, 1, 4));
  return *v;
}
const Floats& Wide768Base() {
  static const auto* v = new Floats(Generate(200'000 * 768, 2));
  return *v;
}
const Floats& BatchBase() {
  static const auto* v = new Floats(Generate(kBatchRows * kBatchDim, 3));
  return *v;
}
const Floats& BatchQueries() {
  static const auto* v = new Floats(Generate(kBatchQueries * kBatchDim, 4));
  return *v;
}

const DistanceKernels& Kernels(KernelPath path) {
  return **KernelsFor(path);
}

// Google Benchmark prints bytes_per_second in binary units (G = 2^30); the
// goals and DESIGN.md's figures are decimal, so every bandwidth benchmark
// also reports GBps = 10^9 bytes/s.
void SetBytes(benchmark::State& state, double bytes_per_iteration) {
  state.SetBytesProcessed(
      static_cast<int64_t>(static_cast<double>(state.iterations()) * bytes_per_iteration));
  state.counters["GBps"] =
      benchmark::Counter(bytes_per_iteration / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// --- Memory bandwidth ------------------------------------------------------

// Sums the buffer as uint64 with four accumulators: a pure streaming read.
// Inlined into three wrappers compiled for different ISAs; the widest the CPU
// supports is used (512-bit aligned loads read fastest here).
__attribute__((always_inline)) inline double ReadLoop(const Floats& data) {
  const auto* p = reinterpret_cast<const uint64_t*>(data.data());
  const size_t n = data.size() / 2;
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (size_t i = 0; i + 4 <= n; i += 4) {
    s0 += p[i];
    s1 += p[i + 1];
    s2 += p[i + 2];
    s3 += p[i + 3];
  }
  return static_cast<double>(s0 + s1 + s2 + s3);
}
double ReadOnceBaseline(const Floats& data) {
  return ReadLoop(data);
}
__attribute__((target("avx2"))) double ReadOnceAvx2(const Floats& data) {
  return ReadLoop(data);
}
__attribute__((target("avx512f"))) double ReadOnceAvx512(const Floats& data) {
  return ReadLoop(data);
}

double ReadOnce(const Floats& data) {
  static const auto kRead = CpuSupports(KernelPath::kAvx512) ? ReadOnceAvx512
                            : CpuSupports(KernelPath::kAvx2) ? ReadOnceAvx2
                                                             : ReadOnceBaseline;
  return kRead(data);
}

// Bytes/s of BM_MemoryRead's loop, measured once on first use.
double MeasuredBandwidth() {
  static const double kBandwidth = [] {
    const auto& data = ScanBase();
    double best = 1e30;
    for (int rep = 0; rep < 5; ++rep) {
      const auto start = std::chrono::steady_clock::now();
      benchmark::DoNotOptimize(ReadOnce(data));
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return static_cast<double>(data.size() * sizeof(float)) / best;
  }();
  return kBandwidth;
}

void BM_MemoryRead(benchmark::State& state) {
  const auto& data = ScanBase();
  for (auto _ : state) benchmark::DoNotOptimize(ReadOnce(data));
  SetBytes(state, static_cast<double>(data.size() * sizeof(float)));
  state.counters["pct_of_9.7GBps"] =
      benchmark::Counter(static_cast<double>(data.size() * sizeof(float)) / kReferenceBandwidth * 100.0,
                         benchmark::Counter::kIsIterationInvariantRate);
}

// --- One-to-one distances in cache ------------------------------------------

void DistanceInCache(benchmark::State& state, DistanceFn fn, size_t d, size_t offset) {
  const size_t n = (512 * 1024) / (d * sizeof(float));  // 512 KB of base vectors: L2-resident
  const auto base = Generate(n * d, 10 + d, offset);
  const auto query = Generate(d, 20 + d);
  float sink = 0.0f;
  for (auto _ : state) {
    for (size_t i = 0; i < n; ++i) sink += fn(query.data(), base.data() + i * d, d);
    benchmark::DoNotOptimize(sink);
  }
  SetBytes(state, static_cast<double>(n * d * sizeof(float)));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

float FaissL2(const float* x, const float* y, size_t d) {
  return faiss::fvec_L2sqr(x, y, d);
}

// --- Gather ----------------------------------------------------------------

void BM_Gather(benchmark::State& state, KernelPath path, size_t d) {
  const Floats& base = d == kScanDim ? ScanBase() : Wide768Base();
  const size_t rows = base.size() / d;
  const auto query = Generate(d, 30);
  std::vector<int64_t> ids(4096);
  uint64_t s = 12345;
  for (int64_t& id : ids) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    id = static_cast<int64_t>((s >> 17) % rows);
  }
  std::vector<float> out(ids.size());
  const DistanceByIdsFn fn = Kernels(path).l2_sqr_by_ids;
  for (auto _ : state) {
    fn(query.data(), base.data(), d, ids.data(), ids.size(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ids.size()));
  state.counters["time_per_vector"] =
      benchmark::Counter(static_cast<double>(ids.size()),
                         benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// --- Single-query scan -----------------------------------------------------

void ScanCounters(benchmark::State& state) {
  const double bytes = static_cast<double>(kScanRows * kScanDim * sizeof(float));
  SetBytes(state, bytes);
  state.counters["pct_of_9.7GBps"] =
      benchmark::Counter(bytes / kReferenceBandwidth * 100.0, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pct_of_measured"] =
      benchmark::Counter(bytes / MeasuredBandwidth() * 100.0, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Scan(benchmark::State& state, KernelPath path, bool misaligned) {
  const auto& base = misaligned ? ScanBaseMisaligned() : ScanBase();
  MeasuredBandwidth();
  const auto query = Generate(kScanDim, 40);
  ExactSearchOptions options;
  options.kernels = &Kernels(path);
  options.block_rows = static_cast<size_t>(state.range(0));
  std::vector<float> dist(kK);
  std::vector<int64_t> ids(kK);
  for (auto _ : state) {
    if (!ExactSearch(Metric::kL2, query.data(), base.data(), kScanRows, kScanDim, kK, dist.data(), ids.data(),
                     options)
             .ok()) {
      state.SkipWithError("ExactSearch failed");
    }
    benchmark::DoNotOptimize(ids.data());
  }
  ScanCounters(state);
}

void BM_ScanFaiss(benchmark::State& state) {
  const auto& base = ScanBase();
  MeasuredBandwidth();
  const auto query = Generate(kScanDim, 40);
  std::vector<float> dist(kK);
  std::vector<int64_t> ids(kK);
  for (auto _ : state) {
    faiss::knn_L2sqr(query.data(), base.data(), kScanDim, 1, kScanRows, kK, dist.data(), ids.data());
    benchmark::DoNotOptimize(ids.data());
  }
  ScanCounters(state);
}

// --- Top-k -----------------------------------------------------------------

Floats TopKStream(bool descending) {
  Floats d = Generate(1'000'000, 50);
  if (descending) {
    for (size_t i = 0; i < d.size(); ++i) d.data()[i] = static_cast<float>(d.size() - i);
  }
  return d;
}

void BM_TopKVesta(benchmark::State& state, bool descending) {
  const auto stream = TopKStream(descending);
  const size_t k = static_cast<size_t>(state.range(0));
  TopK top(k, TopKOrder::kSmallest);
  std::vector<float> dist(k);
  std::vector<int64_t> ids(k);
  for (auto _ : state) {
    top.PushRange(stream.data(), stream.size(), 0);
    top.Finish(dist.data(), ids.data());
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}

void BM_TopKFaissHeap(benchmark::State& state, bool descending) {
  const auto stream = TopKStream(descending);
  const size_t k = static_cast<size_t>(state.range(0));
  std::vector<float> dist(k);
  std::vector<int64_t> ids(k);
  for (auto _ : state) {
    faiss::maxheap_heapify(k, dist.data(), ids.data());
    const float* values = stream.data();
    for (size_t i = 0; i < stream.size(); ++i) {
      if (values[i] < dist[0]) faiss::maxheap_replace_top(k, dist.data(), ids.data(), values[i], int64_t(i));
    }
    faiss::maxheap_reorder(k, dist.data(), ids.data());
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}

// --- Batched search --------------------------------------------------------

constexpr double kBatchGflop = 2.0 * kBatchQueries * kBatchRows * kBatchDim / 1e9;

double PlainSgemmSeconds(std::vector<float>* c) {
  const auto start = std::chrono::steady_clock::now();
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(kBatchQueries),
              static_cast<int>(kBatchRows), static_cast<int>(kBatchDim), 1.0f, BatchQueries().data(),
              static_cast<int>(kBatchDim), BatchBase().data(), static_cast<int>(kBatchDim), 0.0f, c->data(),
              static_cast<int>(kBatchRows));
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// GFLOP/s of the plain sgemm, measured once (best of 3) on first use.
double PlainSgemmGflops() {
  static const double kGflops = [] {
    std::vector<float> c(kBatchQueries * kBatchRows);
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep) best = std::min(best, PlainSgemmSeconds(&c));
    return kBatchGflop / best;
  }();
  return kGflops;
}

void BatchCounters(benchmark::State& state) {
  state.counters["GFLOPps"] = benchmark::Counter(kBatchGflop, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pct_of_sgemm"] = benchmark::Counter(kBatchGflop / PlainSgemmGflops() * 100.0,
                                                      benchmark::Counter::kIsIterationInvariantRate);
}

void BM_SgemmPlain(benchmark::State& state) {
  std::vector<float> c(kBatchQueries * kBatchRows);
  for (auto _ : state) {
    const double seconds = PlainSgemmSeconds(&c);
    benchmark::DoNotOptimize(c.data());
    state.SetIterationTime(seconds);
  }
  BatchCounters(state);
}

void BM_BatchSearch(benchmark::State& state, Metric metric) {
  PlainSgemmGflops();
  BatchSearchOptions options;
  options.query_block_rows = static_cast<size_t>(state.range(0));
  options.base_block_rows = static_cast<size_t>(state.range(1));
  std::vector<float> dist(kBatchQueries * kK);
  std::vector<int64_t> ids(kBatchQueries * kK);
  for (auto _ : state) {
    if (!BatchSearch(metric, BatchQueries().data(), kBatchQueries, BatchBase().data(), kBatchRows, kBatchDim,
                     kK, dist.data(), ids.data(), options)
             .ok()) {
      state.SkipWithError("BatchSearch failed");
    }
    benchmark::DoNotOptimize(ids.data());
  }
  BatchCounters(state);
}

void BM_BatchSearchFaiss(benchmark::State& state) {
  PlainSgemmGflops();
  std::vector<float> dist(kBatchQueries * kK);
  std::vector<int64_t> ids(kBatchQueries * kK);
  for (auto _ : state) {
    faiss::knn_L2sqr(BatchQueries().data(), BatchBase().data(), kBatchDim, kBatchQueries, kBatchRows, kK,
                     dist.data(), ids.data());
    benchmark::DoNotOptimize(ids.data());
  }
  BatchCounters(state);
}

void BM_SmallBatch(benchmark::State& state, bool gemm) {
  const size_t nq = static_cast<size_t>(state.range(0));
  BatchSearchOptions options;
  options.min_gemm_queries = gemm ? 2 : nq + 1;
  std::vector<float> dist(nq * kK);
  std::vector<int64_t> ids(nq * kK);
  for (auto _ : state) {
    if (!BatchSearch(Metric::kL2, BatchQueries().data(), nq, BatchBase().data(), kBatchRows, kBatchDim, kK,
                     dist.data(), ids.data(), options)
             .ok()) {
      state.SkipWithError("BatchSearch failed");
    }
    benchmark::DoNotOptimize(ids.data());
  }
  state.counters["time_per_query"] = benchmark::Counter(
      static_cast<double>(nq), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}


void RegisterAll() {
  using benchmark::RegisterBenchmark;
  RegisterBenchmark("BM_MemoryRead", BM_MemoryRead)->Unit(benchmark::kMillisecond)->UseRealTime();

  std::vector<KernelPath> paths;
  for (KernelPath p : {KernelPath::kScalar, KernelPath::kAvx2, KernelPath::kAvx512}) {
    if (CpuSupports(p)) paths.push_back(p);
  }
  for (size_t d : {kScanDim, size_t{768}}) {
    for (KernelPath p : paths) {
      const std::string name = std::string(KernelPathName(p)) + "/" + std::to_string(d);
      RegisterBenchmark(("BM_Distance_L2/" + name).c_str(), DistanceInCache, Kernels(p).l2_sqr, d, 0);
      RegisterBenchmark(("BM_Distance_IP/" + name).c_str(), DistanceInCache, Kernels(p).inner_product, d, 0);
      RegisterBenchmark(("BM_Distance_L2/" + name + "/misaligned16B").c_str(), DistanceInCache,
                        Kernels(p).l2_sqr, d, 4);
    }
    RegisterBenchmark(("BM_Distance_L2/faiss/" + std::to_string(d)).c_str(), DistanceInCache, FaissL2, d, 0);
  }
  for (size_t d : {kScanDim, size_t{768}}) {
    for (KernelPath p : paths) {
      RegisterBenchmark(("BM_Gather_L2/" + std::string(KernelPathName(p)) + "/" + std::to_string(d)).c_str(),
                        BM_Gather, p, d);
    }
  }
  for (bool misaligned : {false, true}) {
    for (KernelPath p : paths) {
      const std::string name =
          "BM_Scan_1Mx128/" + std::string(KernelPathName(p)) + (misaligned ? "/misaligned16B" : "");
      auto* b = RegisterBenchmark(name.c_str(), BM_Scan, p, misaligned);
      b->ArgName("block")->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
      if (p == KernelPath::kAvx512 && !misaligned) b->Arg(256)->Arg(4096);
    }
  }
  RegisterBenchmark("BM_Scan_1Mx128/faiss_knn", BM_ScanFaiss)->Unit(benchmark::kMillisecond)->UseRealTime();

  for (bool descending : {false, true}) {
    const std::string stream = descending ? "descending" : "random";
    RegisterBenchmark(("BM_TopK/vesta_buffer/" + stream).c_str(), BM_TopKVesta, descending)
        ->ArgName("k")
        ->Arg(1)
        ->Arg(10)
        ->Arg(100)
        ->Unit(benchmark::kMicrosecond);
    RegisterBenchmark(("BM_TopK/faiss_heap/" + stream).c_str(), BM_TopKFaissHeap, descending)
        ->ArgName("k")
        ->Arg(1)
        ->Arg(10)
        ->Arg(100)
        ->Unit(benchmark::kMicrosecond);
  }

  RegisterBenchmark("BM_Sgemm_Plain", BM_SgemmPlain)->Unit(benchmark::kMillisecond)->UseManualTime();
  RegisterBenchmark("BM_BatchSearch/L2", BM_BatchSearch, Metric::kL2)
      ->ArgNames({"qb", "bb"})
      ->Args({512, 2048})  // the default
      ->Args({128, 4096})
      ->Args({256, 2048})
      ->Args({256, 4096})
      ->Args({512, 4096})
      ->Args({1024, 1024})
      ->Args({1024, 4096})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  RegisterBenchmark("BM_BatchSearch/IP", BM_BatchSearch, Metric::kInnerProduct)
      ->ArgNames({"qb", "bb"})
      ->Args({512, 2048})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  RegisterBenchmark("BM_BatchSearch/faiss_knn", BM_BatchSearchFaiss)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  for (bool gemm : {true, false}) {
    RegisterBenchmark(gemm ? "BM_SmallBatch/gemm" : "BM_SmallBatch/scan", BM_SmallBatch, gemm)
        ->ArgName("nq")
        ->Arg(2)
        ->Arg(4)
        ->Arg(8)
        ->Arg(16)
        ->Arg(32)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
}

}  // namespace
}  // namespace vesta::index

int main(int argc, char** argv) {
  // The service sets OpenBLAS's pool once at start-up; so does the benchmark.
  openblas_set_num_threads(1);
  omp_set_num_threads(1);  // FAISS's OpenMP loops: one thread, like everything else here
  benchmark::AddCustomContext("cpu_model", vesta::bench::CpuModel());
  benchmark::AddCustomContext("kernel_path_default",
                              std::string(vesta::index::KernelPathName(vesta::index::DetectKernelPath())));
  benchmark::AddCustomContext("openblas_threads", std::to_string(openblas_get_num_threads()));
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
  benchmark::AddCustomContext("omp_threads (faiss)", std::to_string(omp_get_max_threads()));
  vesta::index::RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
