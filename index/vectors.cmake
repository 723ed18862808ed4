# Vector indexes (issue #3, "Indexes" and "Filtered search"): the snapshot
# index with its id map and planner, Vesta's walk over FAISS-built HNSW
# graphs, and the index file format. Paths are relative to index/.
# FAISS is linked PRIVATE: no public header of index/ includes it.
set(VESTA_INDEX_VECTOR_SOURCES
  vector_index.cc
  index_file.cc
  hnsw_search.cc
  internal/filter_cache.cc)
