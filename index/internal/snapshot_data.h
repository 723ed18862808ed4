// The parts of an IndexSnapshot (index/vector_index.h), shared by the index's
// implementation files (vector_index.cc, index_file.cc, planner). Includes
// FAISS: only index/ sources may include it.
#pragma once

#include <faiss/Index.h>
#include <faiss/impl/HNSW.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/types.h"
#include "index/attribute_store.h"
#include "index/hnsw_search.h"
#include "index/internal/filter_cache.h"
#include "index/vector_index.h"

namespace vesta::index {

// An append-only array of d-float rows, shared by successive snapshots. A
// snapshot reads rows [0, its size); the (single) writer appends rows at or
// past the newest snapshot's size, which no reader reads, so appends need no
// lock. Capacity is fixed: a writer that needs more copies into a new arena.
// Rows are 64-byte aligned as a block (not per row).
class VectorArena {
 public:
  VectorArena(size_t d, size_t capacity_rows);
  ~VectorArena();
  VectorArena(const VectorArena&) = delete;
  VectorArena& operator=(const VectorArena&) = delete;

  size_t d() const { return d_; }
  size_t capacity() const { return capacity_; }
  const float* data() const { return data_; }
  float* mutable_row(size_t row) { return data_ + row * d_; }
  const float* row(size_t row) const { return data_ + row * d_; }

 private:
  size_t d_;
  size_t capacity_;
  float* data_;
};

// Encodes a primary key for the key map: BIGINT as 'i' + 8 bytes, STRING as
// 's' + bytes. REQUIRES: key is BIGINT or STRING.
std::string EncodeKey(const Value& key);

struct SnapshotData {
  IndexSpec spec;
  IndexOptions options;
  int64_t version = -1;

  std::shared_ptr<VectorArena> arena;  // rows [0, size) are this snapshot's
  uint32_t size = 0;                   // ids assigned, tombstoned included
  uint32_t main_size = 0;              // ids covered by hnsw / ivf

  std::vector<Value> keys;                            // size entries
  std::unordered_map<std::string, uint32_t> key_ids;  // EncodeKey(live key) -> id
  AttributeStore attributes;                          // size rows; deleted() = tombstones

  // kHnsw: the graph over ids [0, main_size), built by FAISS (storage
  // dropped: vectors are read from `arena`). Immutable once published.
  std::shared_ptr<const faiss::HNSW> hnsw;
  // kIvfFlat / kIvfPq: a faiss::IndexIVF over ids [0, main_size) (ids are
  // the internal ids). Immutable once published.
  std::shared_ptr<const faiss::Index> ivf;

  // Passing sets of filters that repeat in this snapshot (filter_cache.h).
  // Mutable: a cache, not state; the snapshot's answers do not depend on it.
  mutable FilterCache filter_cache;

  explicit SnapshotData(AttributeStore attrs) : attributes(std::move(attrs)) {}

  const float* vectors() const { return arena ? arena->data() : nullptr; }
  uint32_t live_count() const { return attributes.live_count(); }
  // The HNSW view of `hnsw` (REQUIRES: hnsw != nullptr).
  HnswGraphView GraphView() const;
};

}  // namespace vesta::index
