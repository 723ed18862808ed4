# Kernel tests (distances, top-k, exact and batched search); included by
# tests/index/CMakeLists.txt into index_test. Paths relative to tests/index/.
set(VESTA_INDEX_TEST_KERNEL_SOURCES
  distance_test.cc
  topk_test.cc
  kernel_search_test.cc
  kernel_sift_test.cc)
