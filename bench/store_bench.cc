// Versioned-table benchmarks (Google Benchmark).
//
// Workloads:
//   BM_Store_Append768/<batch>   append rows of a 768-d float32 vector plus
//                                five scalar columns (BIGINT key, STRING,
//                                STRING, DOUBLE, DATE) in commits of <batch>
//                                rows; items_per_second = rows/s.
//                                Goal (issue #2): >= 50,000 rows/s.
//   BM_Store_Upsert768           re-upsert 10,000 unchanged rows (the
//                                idempotent re-ingest path).
//   BM_Store_Read100k/current    read all rows of a 100,000-row table (same
//   BM_Store_Read100k/old        schema) at its current version and at
//                                version 1, after an upsert of 10%, a delete
//                                of 5% and an append of 10% on top.
//                                Goal: old within 2x of current.
//
// Run: build/bench/store_bench --benchmark_counters_tabular=true
// The store lives in $TMPDIR (tmpfs or disk: report which with the figures).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>

#include "governance/store.h"

namespace vesta::governance {
namespace {

constexpr int kDim = 768;

Schema BenchSchema() {
  Schema s;
  s.columns = {{"id", DataType::Bigint(), false, ""},        {"patient_id", DataType::String(), true, ""},
               {"site", DataType::String(), true, ""},       {"score", DataType::Double(), true, ""},
               {"scan_date", DataType::DateT(), true, ""},   {"embedding", DataType::Vector(kDim), true, ""}};
  s.primary_key = "id";
  return s;
}

std::vector<Row> MakeRows(int64_t first_id, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  std::vector<Row> rows;
  rows.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    std::vector<float> v(kDim);
    for (float& x : v) x = g(rng);
    int64_t id = first_id + i;
    char pid[32];
    std::snprintf(pid, sizeof(pid), "TCGA-%02d-%04d", static_cast<int>(id % 97), static_cast<int>(id % 10000));
    rows.push_back({Value::Int(id), Value::Str(pid), Value::Str(std::to_string(id % 13)),
                    Value::Real(static_cast<double>(id % 1000) / 7.0), Value::DateV(Date{static_cast<int32_t>(15000 + id % 3000)}),
                    Value::Vec(std::move(v))});
  }
  return rows;
}

struct BenchStore {
  std::filesystem::path dir;
  std::unique_ptr<Store> store;
  TableName name = TableName::Parse("main.bench.vectors").value();

  explicit BenchStore(const std::string& tag) {
    dir = std::filesystem::temp_directory_path() / ("vesta-bench-" + tag + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    store = Store::Open((dir / "bench.vesta").string(), {}).value();
    (void)store->CreateCatalog("main", "bench");
    (void)store->CreateSchema("main", "bench", "bench");
    (void)store->CreateTable(name, BenchSchema(), {}, "bench").value();
  }
  ~BenchStore() {
    store.reset();
    std::filesystem::remove_all(dir);
  }
};

void BM_Store_Append768(benchmark::State& state) {
  const int64_t batch = state.range(0);
  BenchStore bs("append");
  // Rows are generated outside the timed region; each iteration commits
  // one batch with fresh keys.
  std::vector<Row> proto = MakeRows(0, batch, 1);
  int64_t next_id = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Row> rows = proto;
    for (int64_t i = 0; i < batch; ++i) rows[static_cast<size_t>(i)][0] = Value::Int(next_id + i);
    next_id += batch;
    state.ResumeTiming();
    auto txn = bs.store->Begin("bench");
    if (!txn->Append(bs.name, std::move(rows)).ok()) state.SkipWithError("append failed");
    auto c = txn->Commit();
    if (!c.ok()) state.SkipWithError(c.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetBytesProcessed(state.iterations() * batch * kDim * 4);
  state.counters["rows_in_table"] = static_cast<double>(next_id);
}
BENCHMARK(BM_Store_Append768)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();

void BM_Store_Upsert768(benchmark::State& state) {
  BenchStore bs("upsert");
  std::vector<Row> rows = MakeRows(0, 10000, 2);
  {
    auto txn = bs.store->Begin("bench");
    (void)txn->Append(bs.name, rows);
    (void)txn->Commit();
  }
  for (auto _ : state) {
    auto txn = bs.store->Begin("bench");
    (void)txn->Upsert(bs.name, rows);
    auto c = txn->Commit();
    if (!c.ok() || !c->empty()) state.SkipWithError("an unchanged upsert must not commit");
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_Store_Upsert768)->Unit(benchmark::kMillisecond)->UseRealTime();

BenchStore* ReadStore() {
  static BenchStore* bs = [] {
    auto* s = new BenchStore("read");
    constexpr int64_t kRows = 100000;
    for (int64_t first = 0; first < kRows; first += 10000) {  // version 1..10
      auto txn = s->store->Begin("bench");
      (void)txn->Append(s->name, MakeRows(first, 10000, static_cast<uint32_t>(first)));
      (void)txn->Commit();
    }
    {  // upsert 10% with new values
      auto txn = s->store->Begin("bench");
      (void)txn->Upsert(s->name, MakeRows(0, kRows / 10, 99));
      (void)txn->Commit();
    }
    {  // delete 5%
      auto txn = s->store->Begin("bench");
      (void)txn->DeleteWhere(s->name, "id >= 50000 AND id < 55000");
      (void)txn->Commit();
    }
    {  // append 10%
      auto txn = s->store->Begin("bench");
      (void)txn->Append(s->name, MakeRows(kRows, kRows / 10, 7));
      (void)txn->Commit();
    }
    return s;
  }();
  return bs;
}

void BM_Store_Read100k(benchmark::State& state) {
  BenchStore* bs = ReadStore();
  const bool old = state.range(0) == 1;
  // The old read is of version 10: the first 100,000 rows as appended.
  ReadOptions opts;
  if (old) opts.at.version = 10;
  size_t rows = 0;
  for (auto _ : state) {
    auto r = bs->store->Read(bs->name, opts);
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
    rows = r->rows.size();
    benchmark::DoNotOptimize(r->rows.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(rows));
  state.counters["rows"] = static_cast<double>(rows);
  state.SetLabel(old ? "version 10 of 13 (time travel)" : "current version 13");
}
BENCHMARK(BM_Store_Read100k)->ArgName("old")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace vesta::governance

BENCHMARK_MAIN();
