// VectorIndex and IndexSnapshot (index/vector_index.h): building snapshots,
// applying change sets copy-on-write, merging the delta into the FAISS
// structure, and the per-query planner. The file format is in
// index/index_file.cc; the HNSW walk in index/hnsw_search.cc.
#include "index/vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/clone_index.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <unordered_set>

#include "filter/bind.h"
#include "index/batch_search.h"
#include "index/exact_search.h"
#include "index/filter_bitmap.h"
#include "index/hnsw_search.h"
#include "index/internal/snapshot_data.h"
#include "index/topk.h"

namespace vesta::index {

// ---------------------------------------------------------------- names

std::string_view IndexKindName(IndexKind kind) {
  switch (kind) {
    case IndexKind::kFlat: return "FLAT";
    case IndexKind::kHnsw: return "HNSW";
    case IndexKind::kIvfFlat: return "IVF_FLAT";
    case IndexKind::kIvfPq: return "IVF_PQ";
  }
  return "?";
}

Result<IndexKind> ParseIndexKind(std::string_view name) {
  for (IndexKind k : {IndexKind::kFlat, IndexKind::kHnsw, IndexKind::kIvfFlat, IndexKind::kIvfPq}) {
    if (EqualsIgnoreCase(name, IndexKindName(k))) return k;
  }
  return Status::InvalidArgument("index_type: unknown index type '" + std::string(name) +
                                 "' (expected FLAT, HNSW, IVF_FLAT or IVF_PQ)");
}

Result<Metric> ParseMetric(std::string_view name) {
  if (EqualsIgnoreCase(name, "L2") || EqualsIgnoreCase(name, "EUCLIDEAN")) return Metric::kL2;
  if (EqualsIgnoreCase(name, "INNER_PRODUCT") || EqualsIgnoreCase(name, "IP") ||
      EqualsIgnoreCase(name, "DOT_PRODUCT")) {
    return Metric::kInnerProduct;
  }
  if (EqualsIgnoreCase(name, "COSINE")) return Metric::kCosine;
  return Status::InvalidArgument("metric: unknown metric '" + std::string(name) +
                                 "' (expected L2, INNER_PRODUCT or COSINE)");
}

std::string_view SearchPlanName(SearchPlan plan) {
  switch (plan) {
    case SearchPlan::kExact: return "exact";
    case SearchPlan::kFilteredGraph: return "filtered_graph";
    case SearchPlan::kGraph: return "graph";
    case SearchPlan::kIvf: return "ivf";
  }
  return "?";
}

// ---------------------------------------------------------------- validation

namespace {

Status RangeError(std::string_view field, long long value, long long lo, long long hi) {
  return Status::InvalidArgument(std::string(field) + ": expected an integer in [" + std::to_string(lo) + ", " +
                                 std::to_string(hi) + "], got " + std::to_string(value));
}

faiss::MetricType FaissMetric(Metric metric) {
  return metric == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
}

// The metric the kernels and FAISS run: cosine is inner product on
// normalised vectors.
Metric SearchMetric(Metric metric) { return metric == Metric::kCosine ? Metric::kInnerProduct : metric; }

int DefaultPqM(uint32_t d) {
  int best = 1;
  for (int m = 1; m <= 64 && static_cast<uint32_t>(m) <= std::max<uint32_t>(1, d / 4); ++m) {
    if (d % static_cast<uint32_t>(m) == 0) best = m;
  }
  return best;
}

}  // namespace

Status IndexSpec::Validate() const {
  if (dimension < 1 || dimension > 4096) return RangeError("dimension", dimension, 1, 4096);
  if (!IsValidIdentifier(primary_key.name)) {
    return Status::InvalidArgument("primary_key: '" + primary_key.name + "' is not a valid column name");
  }
  if (primary_key.type.id != TypeId::kBigint && primary_key.type.id != TypeId::kString) {
    return Status::InvalidArgument("primary_key: column '" + primary_key.name + "' is " +
                                   primary_key.type.ToString() + "; expected BIGINT or STRING");
  }
  for (const Column& c : attributes.columns) {
    if (EqualsIgnoreCase(c.name, primary_key.name)) {
      return Status::InvalidArgument("columns_to_sync: '" + c.name +
                                     "' is the primary key; it is stored in the id map, not as a filter attribute");
    }
  }
  {
    Result<AttributeStore> probe = AttributeStore::Create(attributes);
    if (!probe.ok()) return Status::InvalidArgument("columns_to_sync: " + probe.status().message());
  }
  if (hnsw.m < 4 || hnsw.m > 128) return RangeError("hnsw.m", hnsw.m, 4, 128);
  if (hnsw.ef_construction < hnsw.m || hnsw.ef_construction > 4096) {
    return RangeError("hnsw.ef_construction", hnsw.ef_construction, hnsw.m, 4096);
  }
  if (ivf.nlist < 0 || ivf.nlist > (1 << 20)) return RangeError("ivf.nlist", ivf.nlist, 0, 1 << 20);
  if (ivf.pq_m < 0 || ivf.pq_m > 1024) return RangeError("ivf.pq_m", ivf.pq_m, 0, 1024);
  if (ivf.pq_m > 0 && dimension % static_cast<uint32_t>(ivf.pq_m) != 0) {
    return Status::InvalidArgument("ivf.pq_m: " + std::to_string(ivf.pq_m) + " does not divide the dimension " +
                                   std::to_string(dimension) + "; expected a divisor of " +
                                   std::to_string(dimension));
  }
  if (ivf.pq_nbits < 4 || ivf.pq_nbits > 8) return RangeError("ivf.pq_nbits", ivf.pq_nbits, 4, 8);
  if (ivf.refine_factor < 1 || ivf.refine_factor > 64) {
    return RangeError("ivf.refine_factor", ivf.refine_factor, 1, 64);
  }
  if (search.ef_search < 1 || search.ef_search > 4096) return RangeError("ef_search", search.ef_search, 1, 4096);
  if (search.nprobe < 1 || search.nprobe > (1 << 20)) return RangeError("nprobe", search.nprobe, 1, 1 << 20);
  return Status::OK();
}

std::string IndexSpec::Fingerprint() const {
  std::string s = "vesta-index-spec/1;kind=" + std::string(IndexKindName(kind)) +
                  ";metric=" + std::string(MetricName(metric)) + ";d=" + std::to_string(dimension) +
                  ";pk=" + primary_key.name + ":" + primary_key.type.ToString() + ";attrs=";
  for (size_t i = 0; i < attributes.columns.size(); ++i) {
    if (i) s += ",";
    s += attributes.columns[i].name + ":" + attributes.columns[i].type.ToString();
  }
  if (kind == IndexKind::kHnsw) {
    s += ";hnsw.m=" + std::to_string(hnsw.m) + ";hnsw.ef_construction=" + std::to_string(hnsw.ef_construction);
  }
  if (kind == IndexKind::kIvfFlat || kind == IndexKind::kIvfPq) {
    s += ";ivf.nlist=" + std::to_string(ivf.nlist) + ";ivf.max_train_rows=" + std::to_string(ivf.max_train_rows);
  }
  if (kind == IndexKind::kIvfPq) {
    s += ";ivf.pq_m=" + std::to_string(ivf.pq_m) + ";ivf.pq_nbits=" + std::to_string(ivf.pq_nbits);
  }
  s += ";source=" + source;
  return s;
}

Status IndexOptions::Validate() const {
  if (!(max_delta_fraction > 0 && max_delta_fraction <= 1)) {
    return Status::InvalidArgument("max_delta_fraction: expected a number in (0, 1]");
  }
  if (!(max_deleted_fraction > 0 && max_deleted_fraction <= 1)) {
    return Status::InvalidArgument("max_deleted_fraction: expected a number in (0, 1]");
  }
  if (!(plain_graph_selectivity >= 0 && plain_graph_selectivity <= 1)) {
    return Status::InvalidArgument("plain_graph_selectivity: expected a number in [0, 1]");
  }
  if (build_threads < 0 || build_threads > 256) return RangeError("build_threads", build_threads, 0, 256);
  return Status::OK();
}

void RowBatch::Reserve(size_t n, size_t d) {
  keys.reserve(n);
  vectors.reserve(n * d);
  attributes.reserve(n);
}

void RowBatch::Add(Value key, const float* vector, size_t d, Row attrs) {
  keys.push_back(std::move(key));
  vectors.insert(vectors.end(), vector, vector + d);
  attributes.push_back(std::move(attrs));
}

// ---------------------------------------------------------------- arena, keys

VectorArena::VectorArena(size_t d, size_t capacity_rows) : d_(d), capacity_(std::max<size_t>(capacity_rows, 1)) {
  size_t bytes = capacity_ * d_ * sizeof(float);
  bytes = (bytes + 63) / 64 * 64;
  data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (data_ == nullptr) throw std::bad_alloc();
}

VectorArena::~VectorArena() { std::free(data_); }

std::string EncodeKey(const Value& key) {
  if (key.is_int()) {
    const int64_t v = key.as_int();
    std::string s(9, 'i');
    std::memcpy(s.data() + 1, &v, sizeof(v));
    return s;
  }
  return "s" + key.as_string();
}

HnswGraphView SnapshotData::GraphView() const {
  HnswGraphView v;
  v.neighbors = hnsw->neighbors.data();
  v.offsets = hnsw->offsets.data();
  v.levels = hnsw->levels.data();
  v.cum_nneighbor_per_level = hnsw->cum_nneighbor_per_level.data();
  v.cum_levels = hnsw->cum_nneighbor_per_level.size();
  v.entry_point = hnsw->entry_point;
  v.max_level = hnsw->max_level;
  v.size = hnsw->levels.size();
  return v;
}

// ---------------------------------------------------------------- structure building

namespace {

// Rows below which no FAISS structure is built: the snapshot is searched
// exactly (a few hundred vectors scan in microseconds, and k-means/PQ need
// training data).
size_t MinStructureRows(const IndexSpec& spec) {
  switch (spec.kind) {
    case IndexKind::kFlat: return SIZE_MAX;
    case IndexKind::kHnsw: return 256;
    case IndexKind::kIvfFlat: return 1024;
    case IndexKind::kIvfPq: return std::max<size_t>(1024, size_t{39} << spec.ivf.pq_nbits);
  }
  return SIZE_MAX;
}

class OmpThreads {
 public:
  explicit OmpThreads(int n) : saved_(omp_get_max_threads()), set_(n > 0) {
    if (set_) omp_set_num_threads(n);
  }
  ~OmpThreads() {
    if (set_) omp_set_num_threads(saved_);
  }

 private:
  int saved_;
  bool set_;
};

Status FaissError(std::string_view what, const std::exception& e) {
  return Status::Internal(std::string(what) + ": FAISS error: " + e.what());
}

// Builds an HNSW graph over x (n * d) with FAISS, then keeps only the graph.
Result<std::shared_ptr<const faiss::HNSW>> BuildHnsw(const IndexSpec& spec, const IndexOptions& options,
                                                     const float* x, size_t n, const faiss::HNSW* start,
                                                     size_t start_n) {
  try {
    OmpThreads threads(options.build_threads);
    faiss::IndexHNSWFlat index(static_cast<int>(spec.dimension), spec.hnsw.m, FaissMetric(spec.metric));
    index.hnsw.efConstruction = spec.hnsw.ef_construction;
    if (start != nullptr) {
      // Extend an existing graph: the storage gets the rows it covers, then
      // FAISS inserts the new rows (hnsw_add_vertices).
      index.hnsw = *start;
      index.storage->add(static_cast<faiss::Index::idx_t>(start_n), x);
      index.ntotal = static_cast<faiss::Index::idx_t>(start_n);
      index.add(static_cast<faiss::Index::idx_t>(n - start_n), x + start_n * spec.dimension);
    } else {
      index.add(static_cast<faiss::Index::idx_t>(n), x);
    }
    return std::make_shared<const faiss::HNSW>(std::move(index.hnsw));
  } catch (const std::exception& e) {
    return FaissError("building the HNSW graph", e);
  }
}

int NlistFor(const IndexSpec& spec, size_t n) {
  if (spec.ivf.nlist > 0) return static_cast<int>(std::min<size_t>(spec.ivf.nlist, std::max<size_t>(1, n / 39)));
  const size_t auto_nlist = static_cast<size_t>(4.0 * std::sqrt(static_cast<double>(n)));
  return static_cast<int>(std::clamp<size_t>(auto_nlist, 1, std::max<size_t>(1, n / 39)));
}

Result<std::shared_ptr<const faiss::Index>> BuildIvf(const IndexSpec& spec, const IndexOptions& options,
                                                     const float* x, size_t n) {
  try {
    OmpThreads threads(options.build_threads);
    const int d = static_cast<int>(spec.dimension);
    const int nlist = NlistFor(spec, n);
    auto quantizer = std::make_unique<faiss::IndexFlat>(d, FaissMetric(spec.metric));
    std::unique_ptr<faiss::IndexIVF> ivf;
    if (spec.kind == IndexKind::kIvfFlat) {
      ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer.get(), d, nlist, FaissMetric(spec.metric));
    } else {
      const int m = spec.ivf.pq_m > 0 ? spec.ivf.pq_m : DefaultPqM(spec.dimension);
      ivf = std::make_unique<faiss::IndexIVFPQ>(quantizer.get(), d, nlist, m, spec.ivf.pq_nbits,
                                                FaissMetric(spec.metric));
    }
    ivf->own_fields = true;
    quantizer.release();
    ivf->cp.seed = static_cast<int>(options.seed & 0x7fffffff);
    // Training sample: seeded, without replacement.
    size_t max_train = spec.ivf.max_train_rows > 0 ? spec.ivf.max_train_rows : size_t{256} * nlist;
    if (spec.kind == IndexKind::kIvfPq) max_train = std::max(max_train, size_t{256} << spec.ivf.pq_nbits);
    std::vector<float> sample;
    const float* train = x;
    size_t n_train = n;
    if (n > max_train) {
      std::vector<uint32_t> order(n);
      std::iota(order.begin(), order.end(), 0u);
      std::mt19937_64 rng(options.seed);
      for (size_t i = 0; i < max_train; ++i) {
        std::uniform_int_distribution<size_t> pick(i, n - 1);
        std::swap(order[i], order[pick(rng)]);
      }
      sample.resize(max_train * spec.dimension);
      for (size_t i = 0; i < max_train; ++i) {
        std::memcpy(&sample[i * spec.dimension], x + size_t{order[i]} * spec.dimension,
                    spec.dimension * sizeof(float));
      }
      train = sample.data();
      n_train = max_train;
    }
    ivf->cp.max_points_per_centroid = static_cast<int>(std::max<size_t>(256, n_train / nlist + 1));
    ivf->train(static_cast<faiss::Index::idx_t>(n_train), train);
    ivf->add(static_cast<faiss::Index::idx_t>(n), x);
    return std::shared_ptr<const faiss::Index>(std::move(ivf));
  } catch (const std::exception& e) {
    return FaissError("building the IVF index", e);
  }
}

Result<std::shared_ptr<const faiss::Index>> ExtendIvf(const faiss::Index& base, const float* x, size_t n) {
  try {
    std::unique_ptr<faiss::Index> copy(faiss::clone_index(&base));
    copy->add(static_cast<faiss::Index::idx_t>(n), x);
    return std::shared_ptr<const faiss::Index>(std::move(copy));
  } catch (const std::exception& e) {
    return FaissError("extending the IVF index", e);
  }
}

// (Re)builds the structure of `data` so that it covers every id: from
// scratch when `extend` is false or there is none yet, else by adding the
// delta [main_size, size) to a copy of the current one.
Status BuildStructure(SnapshotData& data, bool extend) {
  const IndexSpec& spec = data.spec;
  const size_t n = data.size;
  if (n < MinStructureRows(spec)) {
    data.hnsw.reset();
    data.ivf.reset();
    data.main_size = 0;
    return Status::OK();
  }
  const float* x = data.vectors();
  if (spec.kind == IndexKind::kHnsw) {
    const bool can_extend = extend && data.hnsw != nullptr && data.main_size > 0;
    VESTA_ASSIGN_OR_RETURN(data.hnsw, BuildHnsw(spec, data.options, x, n, can_extend ? data.hnsw.get() : nullptr,
                                                can_extend ? data.main_size : 0));
  } else {
    if (extend && data.ivf != nullptr && data.main_size > 0) {
      VESTA_ASSIGN_OR_RETURN(data.ivf,
                             ExtendIvf(*data.ivf, x + size_t{data.main_size} * spec.dimension, n - data.main_size));
    } else {
      VESTA_ASSIGN_OR_RETURN(data.ivf, BuildIvf(spec, data.options, x, n));
    }
  }
  data.main_size = data.size;
  return Status::OK();
}

// ---------------------------------------------------------------- batch validation

std::string KeyText(const Value& key) { return key.ToString(); }

// Checks the shape of `batch` and each key and vector; attributes are
// checked by AttributeStore::Append. Writes the prepared (normalised under
// COSINE) vectors to `out` (n * d).
Status CheckBatch(const IndexSpec& spec, const RowBatch& batch, std::vector<float>& out) {
  const size_t n = batch.keys.size();
  const size_t d = spec.dimension;
  if (batch.vectors.size() != n * d) {
    return Status::InvalidArgument("rows: " + std::to_string(n) + " keys need " + std::to_string(n * d) +
                                   " vector components (" + std::to_string(d) + " per row), got " +
                                   std::to_string(batch.vectors.size()));
  }
  if (batch.attributes.size() != n) {
    return Status::InvalidArgument("rows: " + std::to_string(n) + " keys but " +
                                   std::to_string(batch.attributes.size()) + " attribute rows");
  }
  std::unordered_set<std::string> seen;
  seen.reserve(n);
  out.assign(batch.vectors.begin(), batch.vectors.end());
  for (size_t i = 0; i < n; ++i) {
    const Value& key = batch.keys[i];
    if (key.is_null()) {
      return Status::InvalidArgument("row " + std::to_string(i) + ": primary key '" + spec.primary_key.name +
                                     "' is NULL; expected a " + spec.primary_key.type.ToString());
    }
    if (!key.FitsType(spec.primary_key.type)) {
      return Status::InvalidArgument("row " + std::to_string(i) + ": primary key '" + spec.primary_key.name +
                                     "': expected " + spec.primary_key.type.ToString() + ", got " +
                                     std::string(key.TypeName()));
    }
    if (!seen.insert(EncodeKey(key)).second) {
      return Status::InvalidArgument("row " + std::to_string(i) + ": primary key '" + spec.primary_key.name +
                                     "' value " + KeyText(key) + " appears twice in the batch");
    }
    float* v = &out[i * d];
    for (size_t j = 0; j < d; ++j) {
      if (!std::isfinite(v[j])) {
        return Status::InvalidArgument("row " + std::to_string(i) + " (key " + KeyText(key) + "): vector component " +
                                       std::to_string(j) + " is not finite; expected a finite float");
      }
    }
    if (spec.metric == Metric::kCosine) {
      if (Normalize(v, d) == 0.0f) {
        return Status::InvalidArgument("row " + std::to_string(i) + " (key " + KeyText(key) +
                                       "): zero vector; COSINE needs a non-zero vector");
      }
    }
  }
  return Status::OK();
}

// Appends prepared rows to `data` (arena, keys, attributes), growing the
// arena by copy when full. Existing live keys are tombstoned first.
Status AppendRows(SnapshotData& data, const RowBatch& batch, const std::vector<float>& prepared) {
  const size_t d = data.spec.dimension;
  const size_t n = batch.keys.size();
  const size_t need = size_t{data.size} + n;
  if (need > kMaxAttributeRows - 1) return Status::ResourceExhausted("index: more than 2^32 - 2 row ids");
  if (data.arena == nullptr || need > data.arena->capacity()) {
    const size_t cap = std::max<size_t>({need, 1024, data.arena ? data.arena->capacity() * 3 / 2 : 0});
    auto grown = std::make_shared<VectorArena>(d, cap);
    if (data.size > 0) std::memcpy(grown->mutable_row(0), data.arena->row(0), size_t{data.size} * d * sizeof(float));
    data.arena = std::move(grown);
  }
  for (size_t i = 0; i < n; ++i) {
    const std::string enc = EncodeKey(batch.keys[i]);
    auto it = data.key_ids.find(enc);
    if (it != data.key_ids.end()) {
      VESTA_RETURN_IF_ERROR(data.attributes.Delete(it->second));
      data.key_ids.erase(it);
    }
    Result<uint32_t> id = data.attributes.Append(batch.attributes[i]);
    if (!id.ok()) {
      return Status::InvalidArgument("row " + std::to_string(i) + " (key " + KeyText(batch.keys[i]) +
                                     "): " + id.status().message());
    }
    std::memcpy(data.arena->mutable_row(*id), &prepared[i * d], d * sizeof(float));
    data.keys.push_back(batch.keys[i]);
    data.key_ids.emplace(enc, *id);
    data.size = *id + 1;
  }
  return Status::OK();
}

Result<std::shared_ptr<SnapshotData>> NewSnapshot(const IndexSpec& spec, const IndexOptions& options,
                                                  const RowBatch& rows, int64_t version) {
  std::vector<float> prepared;
  VESTA_RETURN_IF_ERROR(CheckBatch(spec, rows, prepared));
  VESTA_ASSIGN_OR_RETURN(AttributeStore attrs, AttributeStore::Create(spec.attributes));
  auto data = std::make_shared<SnapshotData>(std::move(attrs));
  data->spec = spec;
  data->options = options;
  data->version = version;
  data->keys.reserve(rows.size());
  data->key_ids.reserve(rows.size());
  if (rows.size() > 0) data->arena = std::make_shared<VectorArena>(spec.dimension, rows.size() + rows.size() / 4);
  VESTA_RETURN_IF_ERROR(AppendRows(*data, rows, prepared));
  VESTA_RETURN_IF_ERROR(BuildStructure(*data, /*extend=*/false));
  data->attributes.BuildIndexes();
  return data;
}

// A snapshot over the live rows of `from`, with dense ids.
Result<std::shared_ptr<SnapshotData>> CompactSnapshot(const SnapshotData& from) {
  RowBatch rows;
  const size_t d = from.spec.dimension;
  rows.Reserve(from.live_count(), d);
  for (uint32_t id = 0; id < from.size; ++id) {
    if (from.attributes.IsDeleted(id)) continue;
    rows.Add(from.keys[id], from.arena->row(id), d, from.attributes.GetRow(id));
  }
  return NewSnapshot(from.spec, from.options, rows, from.version);
}

}  // namespace

// ---------------------------------------------------------------- VectorIndex

VectorIndex::VectorIndex(IndexSpec spec, IndexOptions options)
    : spec_(std::move(spec)), options_(std::move(options)) {}

Result<std::unique_ptr<VectorIndex>> VectorIndex::Create(IndexSpec spec, IndexOptions options) {
  VESTA_RETURN_IF_ERROR(spec.Validate());
  VESTA_RETURN_IF_ERROR(options.Validate());
  std::unique_ptr<VectorIndex> index(new VectorIndex(spec, options));
  VESTA_ASSIGN_OR_RETURN(AttributeStore attrs, AttributeStore::Create(spec.attributes));
  auto data = std::make_shared<SnapshotData>(std::move(attrs));
  data->spec = std::move(spec);
  data->options = std::move(options);
  index->current_ = std::make_shared<const IndexSnapshot>(std::move(data));
  return index;
}

std::shared_ptr<const IndexSnapshot> VectorIndex::snapshot() const {
  std::lock_guard<std::mutex> lock(snapshot_mutex_);
  return current_;
}

void VectorIndex::Publish(std::shared_ptr<const IndexSnapshot> next) {
  std::shared_ptr<const IndexSnapshot> old;
  {
    std::lock_guard<std::mutex> lock(snapshot_mutex_);
    old = std::move(current_);
    current_ = std::move(next);
  }
  // `old` is released here, outside the lock (it may free a large snapshot).
}

Status VectorIndex::Build(const RowBatch& rows, int64_t version) {
  std::lock_guard<std::mutex> writer(writer_mutex_);
  VESTA_ASSIGN_OR_RETURN(std::shared_ptr<SnapshotData> data, NewSnapshot(spec_, options_, rows, version));
  Publish(std::make_shared<const IndexSnapshot>(std::move(data)));
  return Status::OK();
}

Status VectorIndex::Apply(const RowBatch& upserts, const std::vector<Value>& deletes, int64_t version) {
  std::lock_guard<std::mutex> writer(writer_mutex_);
  std::shared_ptr<const IndexSnapshot> cur = snapshot();
  const SnapshotData& base = cur->data();
  if (version < base.version) {
    return Status::FailedPrecondition("index is at version " + std::to_string(base.version) +
                                      "; cannot apply changes for the older version " + std::to_string(version));
  }
  std::vector<float> prepared;
  VESTA_RETURN_IF_ERROR(CheckBatch(spec_, upserts, prepared));
  for (size_t i = 0; i < deletes.size(); ++i) {
    if (deletes[i].is_null() || !deletes[i].FitsType(spec_.primary_key.type)) {
      return Status::InvalidArgument("deletes[" + std::to_string(i) + "]: expected a " +
                                     spec_.primary_key.type.ToString() + " primary key, got " +
                                     (deletes[i].is_null() ? std::string("NULL") : deletes[i].ToString()));
    }
  }

  // Copy-on-write: the new snapshot shares the arena (appending past the
  // current size) and the structure; keys, key map and attributes are copied.
  auto next = std::make_shared<SnapshotData>(base.attributes.Clone());
  next->spec = base.spec;
  next->options = base.options;
  next->version = version;
  next->arena = base.arena;
  next->size = base.size;
  next->main_size = base.main_size;
  next->keys = base.keys;
  next->key_ids = base.key_ids;
  next->hnsw = base.hnsw;
  next->ivf = base.ivf;

  for (const Value& key : deletes) {
    auto it = next->key_ids.find(EncodeKey(key));
    if (it == next->key_ids.end()) continue;
    VESTA_RETURN_IF_ERROR(next->attributes.Delete(it->second));
    next->key_ids.erase(it);
  }
  VESTA_RETURN_IF_ERROR(AppendRows(*next, upserts, prepared));

  const size_t deleted = next->attributes.deleted().cardinality();
  if (next->size > 0 && deleted > options_.max_deleted_fraction * next->size && next->size >= 64) {
    VESTA_ASSIGN_OR_RETURN(next, CompactSnapshot(*next));
  } else {
    const size_t delta = next->size - next->main_size;
    const bool no_structure_yet = next->main_size == 0 && next->size >= MinStructureRows(spec_);
    if (no_structure_yet ||
        (delta > 0 && delta > std::max<double>(options_.min_delta_rows, options_.max_delta_fraction * next->size) &&
         spec_.kind != IndexKind::kFlat)) {
      VESTA_RETURN_IF_ERROR(BuildStructure(*next, /*extend=*/true));
    }
  }
  next->attributes.BuildIndexes();
  Publish(std::make_shared<const IndexSnapshot>(std::move(next)));
  return Status::OK();
}

Status VectorIndex::Upsert(const RowBatch& rows) {
  return Apply(rows, {}, std::max<int64_t>(snapshot()->version(), 0) + 1);
}

Status VectorIndex::Delete(const std::vector<Value>& keys) {
  return Apply({}, keys, std::max<int64_t>(snapshot()->version(), 0) + 1);
}

Status VectorIndex::Compact() {
  std::lock_guard<std::mutex> writer(writer_mutex_);
  std::shared_ptr<const IndexSnapshot> cur = snapshot();
  VESTA_ASSIGN_OR_RETURN(std::shared_ptr<SnapshotData> next, CompactSnapshot(cur->data()));
  Publish(std::make_shared<const IndexSnapshot>(std::move(next)));
  return Status::OK();
}

Result<SearchResult> VectorIndex::Search(const float* query, size_t d, const SearchRequest& request) const {
  return snapshot()->Search(query, d, request);
}

// ---------------------------------------------------------------- IndexSnapshot

IndexSnapshot::IndexSnapshot(std::shared_ptr<const SnapshotData> data) : data_(std::move(data)) {}
IndexSnapshot::~IndexSnapshot() = default;

const IndexSpec& IndexSnapshot::spec() const { return data_->spec; }
int64_t IndexSnapshot::version() const { return data_->version; }
uint32_t IndexSnapshot::size() const { return data_->size; }
uint32_t IndexSnapshot::live_count() const { return data_->live_count(); }
uint32_t IndexSnapshot::main_size() const { return data_->main_size; }
const AttributeStore& IndexSnapshot::attributes() const { return data_->attributes; }
const Roaring& IndexSnapshot::deleted() const { return data_->attributes.deleted(); }
const float* IndexSnapshot::vector(uint32_t id) const { return data_->arena->row(id); }
const Value& IndexSnapshot::key(uint32_t id) const { return data_->keys[id]; }

std::optional<uint32_t> IndexSnapshot::Find(const Value& key) const {
  if (key.is_null() || !key.FitsType(data_->spec.primary_key.type)) return std::nullopt;
  auto it = data_->key_ids.find(EncodeKey(key));
  if (it == data_->key_ids.end()) return std::nullopt;
  return it->second;
}

size_t IndexSnapshot::MemoryUsage() const {
  const SnapshotData& s = *data_;
  size_t bytes = s.arena ? s.arena->capacity() * s.spec.dimension * sizeof(float) : 0;
  bytes += s.attributes.MemoryUsage();
  bytes += s.keys.capacity() * sizeof(Value) + s.key_ids.size() * 64;
  if (s.hnsw) {
    bytes += s.hnsw->neighbors.capacity() * sizeof(int32_t) + s.hnsw->offsets.capacity() * sizeof(size_t) +
             s.hnsw->levels.capacity() * sizeof(int);
  }
  if (s.ivf) {
    const auto* ivf = dynamic_cast<const faiss::IndexIVF*>(s.ivf.get());
    if (ivf != nullptr) {
      bytes += static_cast<size_t>(ivf->ntotal) * ivf->code_size + ivf->ntotal * sizeof(faiss::Index::idx_t) +
               static_cast<size_t>(ivf->nlist) * s.spec.dimension * sizeof(float);
    }
  }
  return bytes;
}

namespace {

// Which rows a query may return: all live rows (bitmap absent) or a bitmap.
struct Passing {
  std::shared_ptr<const Roaring> bitmap;  // null: every id in [0, size) that is not deleted
  uint64_t count = 0;
  double selectivity = 1.0;
  bool cached = false;  // the bitmap came from the snapshot's filter cache
};

Result<Passing> ComputePassing(const SnapshotData& s, const SearchRequest& request) {
  Passing p;
  const uint32_t live = s.live_count();
  if (request.filter != nullptr) {
    const std::string key = FilterCacheKey(*request.filter, request.context);
    FilterCache::Entry hit = s.filter_cache.Get(key);
    if (hit.bitmap == nullptr) {
      VESTA_ASSIGN_OR_RETURN(PassingRows rows, FilterBitmap(*request.filter, s.attributes, request.context));
      hit.cardinality = rows.cardinality();
      hit.bitmap = std::make_shared<const Roaring>(rows.TakeBitmap());
      s.filter_cache.Offer(key, hit, s.options.filter_cache_bytes);
    } else {
      p.cached = true;
    }
    p.count = hit.cardinality;
    p.selectivity = live == 0 ? 0.0 : static_cast<double>(p.count) / static_cast<double>(live);
    p.bitmap = std::move(hit.bitmap);
  } else {
    p.count = live;
    p.selectivity = live == 0 ? 0.0 : 1.0;
    if (!s.attributes.deleted().isEmpty()) {
      Roaring all;
      all.addRange(0, s.size);
      all -= s.attributes.deleted();
      p.bitmap = std::make_shared<const Roaring>(std::move(all));
    }
  }
  return p;
}

// The passing ids in [lo, hi).
std::vector<int64_t> IdsInRange(const Passing& p, uint32_t lo, uint32_t hi, const Roaring& deleted) {
  std::vector<int64_t> ids;
  if (lo >= hi) return ids;
  if (p.bitmap) {
    const uint64_t begin = lo == 0 ? 0 : p.bitmap->rank(lo - 1);
    const uint64_t end = p.bitmap->rank(hi - 1);
    ids.resize(end - begin);
    std::vector<uint32_t> tmp(end - begin);
    if (!tmp.empty()) p.bitmap->rangeUint32Array(tmp.data(), begin, end - begin);
    for (size_t i = 0; i < tmp.size(); ++i) ids[i] = tmp[i];
  } else {
    ids.reserve(hi - lo);
    for (uint32_t id = lo; id < hi; ++id) {
      if (!deleted.contains(id)) ids.push_back(id);
    }
  }
  return ids;
}

// Exact search over the passing ids in [lo, hi), pushed into `top`.
// Dense passing sets scan contiguous blocks and keep only passing ids; sparse
// ones gather (index/README.md, "Exact search").
void ExactInto(const SnapshotData& s, Metric metric, const float* q, const Passing& p, uint32_t lo, uint32_t hi,
               TopK& top, size_t* computations) {
  if (lo >= hi) return;
  const size_t d = s.spec.dimension;
  const DistanceKernels& kernels = DefaultKernels();
  const float* base = s.vectors();
  uint64_t in_range = hi - lo;
  if (p.bitmap) in_range = p.bitmap->rank(hi - 1) - (lo == 0 ? 0 : p.bitmap->rank(lo - 1));
  const bool dense = !p.bitmap || in_range * 3 >= (hi - lo);
  constexpr size_t kBlock = 1024;
  std::vector<float> dist(kBlock);
  if (dense) {
    for (uint32_t b = lo; b < hi; b += kBlock) {
      const size_t n = std::min<size_t>(kBlock, hi - b);
      kernels.Ny(metric)(q, base + size_t{b} * d, d, n, dist.data());
      *computations += n;
      const Roaring& deleted = s.attributes.deleted();
      for (size_t i = 0; i < n; ++i) {
        const uint32_t id = b + static_cast<uint32_t>(i);
        const bool pass = p.bitmap ? p.bitmap->contains(id) : !deleted.contains(id);
        if (pass) top.Push(dist[i], id);
      }
    }
    return;
  }
  std::vector<int64_t> ids = IdsInRange(p, lo, hi, s.attributes.deleted());
  for (size_t b = 0; b < ids.size(); b += kBlock) {
    const size_t n = std::min(kBlock, ids.size() - b);
    kernels.ByIds(metric)(q, base, d, ids.data() + b, n, dist.data());
    top.PushWithIds(dist.data(), ids.data() + b, n);
  }
  *computations += ids.size();
}

// What the plain graph walk costs, in rows of an exact scan, per unit of
// ef_search / selectivity: it scores ~3.5 rows per unit (distance
// computations measured on 1M x 128 at 5-50% selectivity, ef 16-128) at
// ~4.5x the cost of a row of the exact scan (a dependent random access
// against a prefetched gather). Below the byte threshold the planner still
// prefers the walk when the passing set is larger than that: 784-d
// PneumoniaMNIST at 50% (2.2k passing rows, 6.9 MB) takes 0.05 ms by the walk
// at ef 16 against 0.2 ms exactly.
constexpr double kPlainWalkRowsPerEf = 16.0;

// A speculative walk: when the planner would scan a passing set exactly, it
// first tries a short plain walk, which answers a filter correlated with the
// query at a fraction of the scan's cost (on 1M x 128 the plain walk
// answered a 5k-50k-row window around the query in 0.13-0.16 ms at recall
// 0.99, the scan in 0.25-1.8 ms; bench/results/filtered.md, "Planner
// threshold"). The walk may score at most kSpeculativeBudget of the passing
// rows (a walk step costs ~3.5 exact-scan rows, so a failed walk adds at
// most ~70% to the scan), and gives way as soon as, past 64 scored nodes,
// fewer than kLocalProbeMinFraction of them pass (an uncorrelated 1-5%
// filter: ~1-3 of 64; the exact scan then pays ~64 extra distances).
constexpr double kSpeculativeBudget = 0.2;
constexpr double kLocalProbeMinFraction = 0.1;

// A FAISS IDSelector over a Roaring bitmap (FAISS calls it per candidate).
struct RoaringSelector : faiss::IDSelector {
  explicit RoaringSelector(const Roaring* b) : bitmap(b) {}
  bool is_member(faiss::Index::idx_t id) const override {
    return id >= 0 && id <= UINT32_MAX && bitmap->contains(static_cast<uint32_t>(id));
  }
  const Roaring* bitmap;
};

}  // namespace

Result<SearchResult> IndexSnapshot::Search(const float* query, size_t d, const SearchRequest& request) const {
  const SnapshotData& s = *data_;
  const IndexSpec& spec = s.spec;
  if (d != spec.dimension) {
    return Status::InvalidArgument("query_vector: expected " + std::to_string(spec.dimension) + " components, got " +
                                   std::to_string(d));
  }
  if (query == nullptr) return Status::InvalidArgument("query_vector: missing");
  if (request.k < 1 || request.k > 10000) {
    return RangeError("num_results", static_cast<long long>(request.k), 1, 10000);
  }
  const int ef_search = request.ef_search.value_or(spec.search.ef_search);
  const int nprobe = request.nprobe.value_or(spec.search.nprobe);
  if (ef_search < 1 || ef_search > 4096) return RangeError("ef_search", ef_search, 1, 4096);
  if (nprobe < 1 || nprobe > (1 << 20)) return RangeError("nprobe", nprobe, 1, 1 << 20);
  std::vector<float> q(query, query + d);
  for (size_t j = 0; j < d; ++j) {
    if (!std::isfinite(q[j])) {
      return Status::InvalidArgument("query_vector: component " + std::to_string(j) +
                                     " is not finite; expected a finite float");
    }
  }
  if (spec.metric == Metric::kCosine && Normalize(q.data(), d) == 0.0f) {
    return Status::InvalidArgument("query_vector: zero vector; COSINE needs a non-zero vector");
  }
  if (request.force_plan) {
    const SearchPlan f = *request.force_plan;
    const bool graph = f == SearchPlan::kGraph || f == SearchPlan::kFilteredGraph;
    if ((graph && spec.kind != IndexKind::kHnsw) ||
        (f == SearchPlan::kIvf && spec.kind != IndexKind::kIvfFlat && spec.kind != IndexKind::kIvfPq)) {
      return Status::InvalidArgument("force_plan: plan '" + std::string(SearchPlanName(f)) +
                                     "' cannot run on a " + std::string(IndexKindName(spec.kind)) + " index");
    }
  }

  VESTA_ASSIGN_OR_RETURN(Passing passing, ComputePassing(s, request));
  const Metric metric = SearchMetric(spec.metric);
  const size_t k = request.k;

  SearchResult result;
  result.version = s.version;
  result.passing = passing.count;
  result.selectivity = passing.selectivity;
  result.filter_cached = passing.cached;

  // Plan.
  SearchPlan plan;
  const bool has_structure = s.main_size > 0 && (s.hnsw != nullptr || s.ivf != nullptr);
  if (request.force_plan && (has_structure || *request.force_plan == SearchPlan::kExact)) {
    plan = *request.force_plan;
  } else if (!has_structure ||
             (passing.count * d * sizeof(float) <= s.options.exact_threshold_bytes &&
              !(spec.kind == IndexKind::kHnsw && passing.selectivity >= s.options.plain_graph_selectivity &&
                static_cast<double>(passing.count) >
                    kPlainWalkRowsPerEf * ef_search / std::max(passing.selectivity, 1e-9)))) {
    plan = SearchPlan::kExact;
  } else if (spec.kind == IndexKind::kHnsw) {
    plan = passing.selectivity >= s.options.plain_graph_selectivity ? SearchPlan::kGraph : SearchPlan::kFilteredGraph;
  } else {
    plan = SearchPlan::kIvf;
  }
  // A passing set the planner would scan may still be answered by a short
  // plain walk when the filter keeps the query's neighbourhood.
  const bool speculative = !request.force_plan && plan == SearchPlan::kExact && has_structure &&
                           spec.kind == IndexKind::kHnsw && passing.bitmap != nullptr &&
                           kSpeculativeBudget * static_cast<double>(passing.count) >= kPlainWalkRowsPerEf * ef_search;
  if (speculative) plan = SearchPlan::kGraph;
  result.plan = plan;

  TopK top(k, TopKOrderFor(metric));
  size_t computations = 0;
  if (passing.count > 0) {
    if (plan == SearchPlan::kExact) {
      ExactInto(s, metric, q.data(), passing, 0, s.size, top, &computations);
    } else {
      // Structure over [0, main_size), exact over the delta [main_size, size).
      // The structure's passing ids: the passing bitmap itself, or a copy
      // without the delta's ids when there is a delta.
      std::optional<Roaring> main_copy;
      const Roaring* main_bitmap = passing.bitmap.get();
      uint64_t main_count = passing.bitmap ? passing.count : s.main_size;
      if (passing.bitmap && s.main_size < s.size) {
        main_copy = *passing.bitmap;
        roaring_bitmap_remove_range(&main_copy->roaring, s.main_size, s.size);
        main_bitmap = &*main_copy;
        main_count = main_copy->cardinality();
      }
      const size_t want = std::min<uint64_t>(k, main_count);
      std::vector<float> dist(k);
      std::vector<int64_t> ids(k, -1);
      size_t found = 0;
      if (want > 0 && plan != SearchPlan::kIvf) {
        HnswSearchParams params;
        params.k = k;
        params.ef_search = static_cast<size_t>(ef_search);
        params.passing = main_bitmap;
        params.passing_count = main_count;
        params.two_hop = plan == SearchPlan::kFilteredGraph;
        if (speculative) {
          params.exact_fallback_factor = kSpeculativeBudget;
          params.local_probe_min_fraction = kLocalProbeMinFraction;
        }
        HnswSearchStats stats;
        VESTA_RETURN_IF_ERROR(HnswSearch(s.GraphView(), s.vectors(), s.main_size, d, metric, DefaultKernels(),
                                         q.data(), params, dist.data(), ids.data(), &found, &stats));
        computations += stats.distance_computations;
        // A speculative walk that gave way answered by the exact scan.
        if (speculative && stats.exact_fallback) result.plan = SearchPlan::kExact;
      } else if (want > 0) {
        const auto& ivf = dynamic_cast<const faiss::IndexIVF&>(*s.ivf);
        const bool pq = spec.kind == IndexKind::kIvfPq;
        const size_t fetch = pq ? std::min<size_t>(k * spec.ivf.refine_factor, main_count) : k;
        faiss::SearchParametersIVF params;
        const double sel = s.main_size == 0 ? 1.0 : static_cast<double>(main_count) / s.main_size;
        params.nprobe = static_cast<size_t>(std::min<double>(ivf.nlist, std::ceil(nprobe / std::max(sel, 1e-9))));
        params.max_codes = 0;
        RoaringSelector selector(main_bitmap);
        params.sel = main_bitmap ? &selector : nullptr;
        std::vector<float> fd(fetch);
        std::vector<faiss::Index::idx_t> fl(fetch, -1);
        try {
          // One query: FAISS's OpenMP team would only add spin-waiting (10x
          // slower on a loaded 2-core machine); the calling thread's setting.
          OmpThreads single(1);
          ivf.search(1, q.data(), static_cast<faiss::Index::idx_t>(fetch), fd.data(), fl.data(), &params);
        } catch (const std::exception& e) {
          return FaissError("IVF search", e);
        }
        computations += std::min<size_t>(main_count, params.nprobe * std::max<size_t>(1, s.main_size / ivf.nlist));
        std::vector<int64_t> cand;
        for (size_t i = 0; i < fetch; ++i) {
          if (fl[i] >= 0) cand.push_back(fl[i]);
        }
        // Exact distances with Vesta's kernels: re-ranks PQ's approximate
        // ones, and makes IVF_FLAT's scores identical to an exact search's.
        std::vector<float> exact(cand.size());
        if (!cand.empty()) DefaultKernels().ByIds(metric)(q.data(), s.vectors(), d, cand.data(), cand.size(), exact.data());
        computations += cand.size();
        TopK local(k, TopKOrderFor(metric));
        local.PushWithIds(exact.data(), cand.data(), cand.size());
        local.Finish(dist.data(), ids.data());
        found = std::min(cand.size(), k);
      }
      if (found < want) {
        // Guarantee min(k, passing): the structure found fewer (unreachable
        // passing rows, too few probed lists): exact over the main part.
        TopK exact_top(k, TopKOrderFor(metric));
        // (ExactInto reads only ids in [0, main_size) of `passing`.)
        ExactInto(s, metric, q.data(), passing, 0, s.main_size, exact_top, &computations);
        exact_top.Finish(dist.data(), ids.data());
        found = want;
      }
      top.PushWithIds(dist.data(), ids.data(), found);
      ExactInto(s, metric, q.data(), passing, s.main_size, s.size, top, &computations);
    }
  }
  std::vector<float> out_d(k);
  std::vector<int64_t> out_i(k);
  top.Finish(out_d.data(), out_i.data());
  const size_t n_out = std::min<uint64_t>(k, passing.count);
  result.scores.reserve(n_out);
  result.ids.reserve(n_out);
  result.keys.reserve(n_out);
  for (size_t i = 0; i < k; ++i) {
    if (out_i[i] < 0) break;
    result.scores.push_back(out_d[i]);
    result.ids.push_back(static_cast<uint32_t>(out_i[i]));
    result.keys.push_back(s.keys[out_i[i]]);
  }
  result.distance_computations = computations;
  return result;
}

Result<std::vector<SearchResult>> IndexSnapshot::SearchBatch(const float* queries, size_t nq, size_t d,
                                                             const SearchRequest& request) const {
  const SnapshotData& s = *data_;
  const IndexSpec& spec = s.spec;
  if (d != spec.dimension) {
    return Status::InvalidArgument("query_vectors: expected " + std::to_string(spec.dimension) +
                                   " components per query, got " + std::to_string(d));
  }
  if (nq == 0 || queries == nullptr) return Status::InvalidArgument("query_vectors: expected at least one query");
  if (request.k < 1 || request.k > 10000) {
    return RangeError("num_results", static_cast<long long>(request.k), 1, 10000);
  }
  std::vector<float> q(queries, queries + nq * d);
  for (size_t i = 0; i < nq; ++i) {
    for (size_t j = 0; j < d; ++j) {
      if (!std::isfinite(q[i * d + j])) {
        return Status::InvalidArgument("query_vectors[" + std::to_string(i) + "]: component " + std::to_string(j) +
                                       " is not finite; expected a finite float");
      }
    }
    if (spec.metric == Metric::kCosine && Normalize(&q[i * d], d) == 0.0f) {
      return Status::InvalidArgument("query_vectors[" + std::to_string(i) +
                                     "]: zero vector; COSINE needs a non-zero vector");
    }
  }
  VESTA_ASSIGN_OR_RETURN(Passing passing, ComputePassing(s, request));
  const Metric metric = SearchMetric(spec.metric);
  const size_t k = request.k;
  std::vector<SearchResult> results(nq);
  for (SearchResult& r : results) {
    r.version = s.version;
    r.plan = SearchPlan::kExact;
    r.passing = passing.count;
    r.selectivity = passing.selectivity;
  }
  if (passing.count == 0) return results;

  // The passing rows, contiguous: the whole arena prefix when nothing is
  // excluded, else a gathered copy (n_pass * d floats) and its id list.
  const float* base = s.vectors();
  std::vector<float> gathered;
  std::vector<int64_t> ids;
  size_t n = s.size;
  if (passing.bitmap) {
    ids = IdsInRange(passing, 0, s.size, s.attributes.deleted());
    n = ids.size();
    gathered.resize(n * d);
    for (size_t i = 0; i < n; ++i) std::memcpy(&gathered[i * d], s.arena->row(ids[i]), d * sizeof(float));
    base = gathered.data();
  }
  std::vector<float> dist(nq * k);
  std::vector<int64_t> labels(nq * k);
  VESTA_RETURN_IF_ERROR(BatchSearch(metric, q.data(), nq, base, n, d, k, dist.data(), labels.data()));
  for (size_t i = 0; i < nq; ++i) {
    SearchResult& r = results[i];
    for (size_t j = 0; j < k; ++j) {
      const int64_t label = labels[i * k + j];
      if (label < 0) break;
      const int64_t id = passing.bitmap ? ids[label] : label;
      r.scores.push_back(dist[i * k + j]);
      r.ids.push_back(static_cast<uint32_t>(id));
      r.keys.push_back(s.keys[id]);
    }
    r.distance_computations = n;
  }
  return results;
}

}  // namespace vesta::index
