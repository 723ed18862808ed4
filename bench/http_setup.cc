// http_setup: data, query bodies and the in-process baseline for the HTTP
// load benchmark (issue #5 "Load"; driver: bench/http_load.sh, results:
// bench/results/http.md). Three subcommands:
//
//   http_setup synth --store PATH [--rows 100000] [--dim 768] [--seed 42]
//                    [--queries 256] --queries-out FILE.fvecs
//     Creates the store if missing, catalog main, schema main.bench and the
//     table main.bench.synth: id BIGINT (primary key, 0..rows-1), site
//     STRING ("S0".."S9", uniform, independent of the vector), age BIGINT
//     (18..90, uniform), embedding VECTOR(dim): clustered Gaussian data (the
//     generator of filtered_bench / governed_bench scaled to dim: 1,000
//     centres N(0, 4 I), a 16-d latent spread, N(0, 0.01 I) noise), seeded,
//     committed in chunks of 10,000 rows as principal "admin". Writes
//     --queries fresh points of the same generator (not in the table) to an
//     .fvecs file. Refuses an existing table (build a new store instead).
//
//   http_setup bodies --out FILE (--vectors FILE.fvecs | --store PATH
//                     --table NAME --vector-column COL [--n 256] [--seed 7])
//                     --columns a,b [--k 10]
//                     (--filter-string TEXT | --filters-json TEXT)...
//     Writes one query body per line, in Mosaic's shape ({columns,
//     query_vector, num_results, filter_string | filters_json}), for the
//     wrk script (bench/http_load/query.lua) and for `inprocess`. The query
//     vectors are the .fvecs file's, or --n rows of the table sampled with
//     the seed (the table read directly from the store, as trusted setup
//     code). Filters rotate: body i gets filter i mod (number of filters),
//     the --filter-string ones first, then the --filters-json ones.
//
//   http_setup inprocess --store PATH --index NAME --bodies FILE
//                        [--user admin] [--seconds 20] [--warmup 200]
//                        [--label TEXT] [--csv FILE] [--token-file FILE]
//     The baseline the HTTP overhead is measured against: opens the store
//     (access::Governed) and its indexes (service::IndexManager over
//     <store>.indexes, as `vesta serve` does, without the CONTINUOUS thread),
//     parses every body as the query route does (outside the timing), then
//     on one thread, one query at a time, rotating through the bodies, times
//     IndexManager::Query for the user: privilege checks, policy resolution,
//     the filtered search, masking and the audit append; no HTTP, no JSON,
//     no token check. OpenMP and OpenBLAS at 1 thread (the server's default
//     search_threads). Also times, apart, parts of what the server adds:
//     Governed::CallerFor; nlohmann-json parsing of a body plus its
//     conversion to an IndexQuery (as the route does); and, with
//     --token-file (a bearer token), Governed::Authenticate as every HTTP
//     request does. Prints p50 / p90 / p99 / mean (ms) and QPS; with --csv
//     appends one line: label,calls,seconds,qps,p50_ms,p90_ms,p99_ms,
//     mean_ms,max_ms,caller_p50_ms,plans (e.g. "graph:9800 exact:200"),
//     parse_p50_ms,auth_p50_ms (-1: no --token-file).
//
// Exit status: 0 on success, 1 on any error (printed on stderr).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "access/governed.h"
#include "bench/bench_util.h"
#include "bench/machine.h"
#include "common/status.h"
#include "filter/parser.h"
#include "service/index_manager.h"
#include "service/internal/json_body.h"

extern "C" void openblas_set_num_threads(int num_threads);

namespace vesta::bench {
namespace {

using Clock = std::chrono::steady_clock;
using governance::TableName;
using json = nlohmann::json;

double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// --name value pairs (each option at most once unless `repeatable`).
struct Args {
  std::map<std::string, std::vector<std::string>> values;

  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second.back();
  }
  std::string Required(const std::string& name) const {
    auto it = values.find(name);
    if (it == values.end()) Die("missing --" + name);
    return it->second.back();
  }
  std::vector<std::string> All(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? std::vector<std::string>{} : it->second;
  }
  bool Has(const std::string& name) const { return values.count(name) > 0; }
};

Args ParseArgs(int argc, char** argv, int first, const std::vector<std::string>& known) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) Die("unexpected argument '" + arg + "'");
    arg = arg.substr(2);
    if (std::find(known.begin(), known.end(), arg) == known.end()) Die("unknown option --" + arg);
    if (i + 1 >= argc) Die("missing value after --" + arg);
    a.values[arg].push_back(argv[++i]);
  }
  return a;
}

// --- synth ---------------------------------------------------------------------

// governed_bench's clustered generator, any dimension.
struct Generator {
  Generator(size_t dim, uint64_t seed) : d(dim), rng(seed) {
    std::normal_distribution<float> g(0, 1);
    centres.resize(kCentres * d);
    for (float& c : centres) c = 2.0f * g(rng);
    w.resize(d * kLatent);
    for (float& x : w) x = g(rng) / 4.0f;
  }
  void Point(std::vector<float>& out) {
    std::normal_distribution<float> g(0, 1);
    const size_t c = rng() % kCentres;
    float z[kLatent];
    for (float& x : z) x = g(rng);
    out.resize(d);
    for (size_t j = 0; j < d; ++j) {
      float v = centres[c * d + j] + 0.1f * g(rng);
      for (size_t l = 0; l < kLatent; ++l) v += w[j * kLatent + l] * z[l];
      out[j] = v;
    }
  }
  static constexpr size_t kCentres = 1000;
  static constexpr size_t kLatent = 16;
  size_t d;
  std::mt19937_64 rng;
  std::vector<float> centres, w;
};

void WriteFvecs(const std::string& path, const std::vector<std::vector<float>>& vectors) {
  std::ofstream out(path, std::ios::binary);
  if (!out) Die("cannot write " + path);
  for (const auto& v : vectors) {
    const int32_t d = static_cast<int32_t>(v.size());
    out.write(reinterpret_cast<const char*>(&d), sizeof(d));
    out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  }
  if (!out) Die("cannot write " + path);
}

std::vector<std::vector<float>> ReadFvecs(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read " + path);
  std::vector<std::vector<float>> out;
  int32_t d = 0;
  while (in.read(reinterpret_cast<char*>(&d), sizeof(d))) {
    if (d <= 0 || d > 65536) Die(path + ": bad dimension " + std::to_string(d));
    std::vector<float> v(static_cast<size_t>(d));
    if (!in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)))) {
      Die(path + ": truncated");
    }
    out.push_back(std::move(v));
  }
  return out;
}

int Synth(const Args& a) {
  const std::string path = a.Required("store");
  const size_t rows = std::stoul(a.Get("rows", "100000"));
  const size_t dim = std::stoul(a.Get("dim", "768"));
  const uint64_t seed = std::stoull(a.Get("seed", "42"));
  const size_t nq = std::stoul(a.Get("queries", "256"));
  const std::string queries_out = a.Required("queries-out");
  if (std::filesystem::path(path).has_parent_path()) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  }
  auto store = Take(governance::Store::Open(path, {}), "opening the store");
  Check(store->CreateCatalog("main", "admin", /*if_not_exists=*/true), "catalog main");
  Check(store->CreateSchema("main", "bench", "admin", /*if_not_exists=*/true), "schema main.bench");
  const TableName table = Take(TableName::Parse("main.bench.synth"), "name");
  Schema schema;
  schema.columns = {{"id", DataType::Bigint(), false, "row number"},
                    {"site", DataType::String(), false, "S0..S9, uniform"},
                    {"age", DataType::Bigint(), false, "18..90, uniform"},
                    {"embedding", DataType::Vector(static_cast<int>(dim)), false, "clustered Gaussian"}};
  schema.primary_key = "id";
  Take(store->CreateTable(table, schema, {}, "admin"), "create main.bench.synth");
  Generator gen(dim, seed);
  std::mt19937_64 rng(seed + 1);
  const auto t0 = Clock::now();
  std::vector<float> v;
  for (size_t start = 0; start < rows; start += 10000) {
    std::vector<Row> batch;
    for (size_t i = start; i < std::min(rows, start + 10000); ++i) {
      gen.Point(v);
      const std::string site = "S" + std::to_string(rng() % 10);
      const int64_t age = 18 + static_cast<int64_t>(rng() % 73);
      batch.push_back({Value::Int(static_cast<int64_t>(i)), Value::Str(site), Value::Int(age), Value::Vec(v)});
    }
    auto txn = store->Begin("admin");
    Check(txn->Append(table, std::move(batch)), "append");
    Take(txn->Commit(), "commit");
    std::fprintf(stderr, "\rhttp_setup: %zu / %zu rows", std::min(rows, start + 10000), rows);
  }
  std::fprintf(stderr, "\n");
  std::printf("loaded %zu rows x %zu dims into main.bench.synth in %.1f s\n", rows, dim, Ms(t0, Clock::now()) / 1e3);
  std::vector<std::vector<float>> queries(nq);
  for (auto& q : queries) gen.Point(q);
  WriteFvecs(queries_out, queries);
  std::printf("wrote %zu query vectors to %s\n", nq, queries_out.c_str());
  return 0;
}

// --- bodies --------------------------------------------------------------------

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

int Bodies(const Args& a) {
  std::vector<std::vector<float>> vectors;
  if (a.Has("vectors")) {
    vectors = ReadFvecs(a.Get("vectors"));
  } else {
    auto store = Take(governance::Store::Open(a.Required("store"), {.create_if_missing = false}), "opening the store");
    const TableName table = Take(TableName::Parse(a.Required("table")), "table name");
    const std::string col = a.Required("vector-column");
    governance::ReadResult r = Take(store->Read(table, {.columns = {col}}), "reading " + table.ToString());
    if (r.rows.empty()) Die(table.ToString() + " is empty");
    const size_t n = std::stoul(a.Get("n", "256"));
    std::mt19937_64 rng(std::stoull(a.Get("seed", "7")));
    for (size_t i = 0; i < n; ++i) {
      const Value& v = r.rows[rng() % r.rows.size()][0];
      if (!v.is_vector()) Die(col + " is not a VECTOR column");
      vectors.push_back(v.as_vector());
    }
  }
  // Filters: the filter_string ones, then the filters_json ones, as (field, text).
  std::vector<std::pair<std::string, std::string>> filters;
  for (const std::string& f : a.All("filter-string")) filters.push_back({"filter_string", f});
  for (const std::string& f : a.All("filters-json")) filters.push_back({"filters_json", f});
  const std::vector<std::string> columns = SplitCommas(a.Required("columns"));
  const int k = std::stoi(a.Get("k", "10"));
  const std::string out_path = a.Required("out");
  std::ofstream out(out_path);
  if (!out) Die("cannot write " + out_path);
  size_t bytes = 0;
  for (size_t i = 0; i < vectors.size(); ++i) {
    json body = {{"columns", columns}, {"query_vector", vectors[i]}, {"num_results", k}};
    if (!filters.empty()) {
      const auto& [field, text] = filters[i % filters.size()];
      body[field] = text;
    }
    const std::string line = body.dump();
    bytes += line.size();
    out << line << "\n";
  }
  if (!out) Die("cannot write " + out_path);
  std::printf("wrote %zu bodies (%zu filters rotating, mean %zu bytes) to %s\n", vectors.size(), filters.size(),
              vectors.empty() ? 0 : bytes / vectors.size(), out_path.c_str());
  return 0;
}

// --- inprocess -----------------------------------------------------------------

// A body parsed as the query route parses it (service/routes_indexes.cc).
access::IndexQuery ParseBody(const std::string& line) {
  // As the server parses bodies (simdjson, converted to nlohmann::json).
  json b = Take(service::internal::ParseJsonBody(line), "body");
  access::IndexQuery q;
  q.vector = b.at("query_vector").get<std::vector<float>>();
  q.k = b.value("num_results", 10);
  q.columns = b.at("columns").get<std::vector<std::string>>();
  std::optional<std::string> fj, fs;
  if (b.contains("filters_json") && b["filters_json"].is_string()) fj = b["filters_json"].get<std::string>();
  if (b.contains("filter_string") && b["filter_string"].is_string()) fs = b["filter_string"].get<std::string>();
  if (fj || fs) {
    std::optional<std::string_view> fjv, fsv;
    if (fj) fjv = *fj;
    if (fs) fsv = *fs;
    q.filter = Take(filter::ParseQueryFilters(fjv, fsv), "filter of a body").ToString();
  }
  return q;
}

int InProcess(const Args& a) {
  const std::string path = a.Required("store");
  const TableName index_name = Take(TableName::Parse(a.Required("index")), "index name");
  const std::string user = a.Get("user", "admin");
  const double seconds = std::stod(a.Get("seconds", "20"));
  const size_t warmup = std::stoul(a.Get("warmup", "200"));
  const std::string label = a.Get("label", index_name.ToString());

  openblas_set_num_threads(1);
  omp_set_num_threads(1);

  std::vector<std::string> bodies;
  {
    std::ifstream in(a.Required("bodies"));
    if (!in) Die("cannot read " + a.Get("bodies"));
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) bodies.push_back(line);
    }
  }
  if (bodies.empty()) Die("no bodies in " + a.Get("bodies"));
  std::vector<access::IndexQuery> queries;
  std::vector<double> parse_lat;
  for (int round = 0; round < 4; ++round) {
    for (const std::string& b : bodies) {
      const auto p0 = Clock::now();
      access::IndexQuery q = ParseBody(b);
      parse_lat.push_back(Ms(p0, Clock::now()));
      if (round == 0) queries.push_back(std::move(q));
    }
  }

  auto governed = Take(access::Governed::Open(path), "opening the store");
  service::IndexManagerOptions io;
  io.index_dir = path + ".indexes";
  io.background_sync = false;
  const auto o0 = Clock::now();
  auto indexes = Take(service::IndexManager::Open(*governed, io), "opening the indexes");
  std::printf("opened the indexes in %.1f s\n", Ms(o0, Clock::now()) / 1e3);
  const service::IndexStatus status = Take(indexes->Describe(Take(governed->CallerFor(user), "caller"), index_name),
                                           "describe " + index_name.ToString());
  if (!status.ready) Die(index_name.ToString() + " is not ready: " + status.message);
  double auth_p50 = -1;
  if (a.Has("token-file")) {
    std::ifstream in(a.Get("token-file"));
    std::string token;
    if (!(in >> token)) Die("cannot read a token from " + a.Get("token-file"));
    std::vector<double> auth_lat;
    for (int i = 0; i < 300; ++i) {
      const auto t0 = Clock::now();
      Take(governed->Authenticate(token), "authenticate");
      auth_lat.push_back(Ms(t0, Clock::now()));
    }
    auth_p50 = Percentile(auth_lat, 0.5);
  }

  std::vector<double> lat, caller_lat;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  const auto start = Clock::now();
  std::map<std::string, size_t> plans;
  for (size_t i = 0;; ++i) {
    const auto c0 = Clock::now();
    const access::Caller caller = Take(governed->CallerFor(user), "caller");
    const auto c1 = Clock::now();
    const service::QueryAnswer ans = Take(indexes->Query(caller, index_name, queries[i % queries.size()]), "query");
    const auto c2 = Clock::now();
    if (ans.result.rows.empty()) Die("a query returned no rows (body " + std::to_string(i % queries.size()) + ")");
    if (i < warmup) continue;
    lat.push_back(Ms(c1, c2));
    caller_lat.push_back(Ms(c0, c1));
    ++plans[std::string(index::SearchPlanName(ans.result.plan))];
    if (c2 >= deadline && lat.size() >= 100) break;
  }
  const double elapsed = Ms(start, Clock::now()) / 1e3;
  double sum = 0;
  for (double x : lat) sum += x;
  const double mean = sum / static_cast<double>(lat.size());
  const double p50 = Percentile(lat, 0.50), p90 = Percentile(lat, 0.90), p99 = Percentile(lat, 0.99);
  const double mx = *std::max_element(lat.begin(), lat.end());
  const double qps = 1e3 / mean;
  std::string plan_text;
  for (const auto& [plan, n] : plans) plan_text += (plan_text.empty() ? "" : " ") + plan + ":" + std::to_string(n);
  std::printf(
      "%s: %zu calls (after %zu warm-up) in %.1f s on 1 thread (%s), index %s rows %lld: "
      "IndexManager::Query p50 %.3f ms p90 %.3f ms p99 %.3f ms mean %.3f ms max %.3f ms (%.0f QPS); "
      "CallerFor p50 %.3f ms; plans %s; body parse p50 %.3f ms; Authenticate p50 %.3f ms\n",
      label.c_str(), lat.size(), warmup, elapsed, CpuModel().c_str(), index_name.ToString().c_str(),
      static_cast<long long>(status.indexed_row_count), p50, p90, p99, mean, mx, qps, Percentile(caller_lat, 0.5),
      plan_text.c_str(), Percentile(parse_lat, 0.5), auth_p50);
  if (a.Has("csv")) {
    std::ofstream csv(a.Get("csv"), std::ios::app);
    if (!csv) Die("cannot append to " + a.Get("csv"));
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%s,%zu,%.1f,%.1f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%s,%.4f,%.4f\n",
                  label.c_str(), lat.size(), elapsed, qps, p50, p90, p99, mean, mx, Percentile(caller_lat, 0.5),
                  plan_text.c_str(), Percentile(parse_lat, 0.5), auth_p50);
    csv << buf;
  }
  return 0;
}

int Main(int argc, char** argv) {
  SetProgram("http_setup");
  const std::string usage =
      "usage: http_setup synth|bodies|inprocess [--option value]... (see the top of bench/http_setup.cc)";
  if (argc < 2) Die(usage);
  const std::string cmd = argv[1];
  if (cmd == "synth") {
    return Synth(ParseArgs(argc, argv, 2, {"store", "rows", "dim", "seed", "queries", "queries-out"}));
  }
  if (cmd == "bodies") {
    return Bodies(ParseArgs(argc, argv, 2,
                            {"out", "vectors", "store", "table", "vector-column", "n", "seed", "columns", "k",
                             "filter-string", "filters-json"}));
  }
  if (cmd == "inprocess") {
    return InProcess(
        ParseArgs(argc, argv, 2,
                  {"store", "index", "bodies", "user", "seconds", "warmup", "label", "csv", "token-file"}));
  }
  Die(usage);
}

}  // namespace
}  // namespace vesta::bench

int main(int argc, char** argv) { return vesta::bench::Main(argc, argv); }
