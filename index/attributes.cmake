# Filter attributes: the columnar attribute store of an index's synced
# columns and the compilation of bound filters into Roaring bitmaps
# (index/FILTERS.md). Paths are relative to index/.
set(VESTA_INDEX_ATTRIBUTE_SOURCES
  attribute_store.cc
  dense_bits.cc
  filter_bitmap.cc)
