# Vector index tests (snapshot index, planner guarantees, HNSW walk, index
# files); included by tests/index/CMakeLists.txt into index_test. Paths
# relative to tests/index/. These tests build FAISS structures directly, so
# index_test links faiss too (for building reference graphs only).
set(VESTA_INDEX_TEST_VECTOR_SOURCES
  vector_index_test.cc
  index_file_test.cc
  hnsw_search_test.cc
  filter_cache_test.cc)
