# Tests of the attribute store and filter bitmaps (index/FILTERS.md). Paths
# are relative to tests/index/.
set(VESTA_INDEX_TEST_ATTRIBUTE_SOURCES
  attribute_store_test.cc
  dense_bits_test.cc
  filter_bitmap_test.cc
  filter_bitmap_equivalence_test.cc)
