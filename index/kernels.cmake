# Distance kernels, top-k and exact search (issue #3, "Kernels"); included by
# index/CMakeLists.txt. Paths are relative to index/.
#
# SIMD is dispatched at run time (index/distance.cc, __builtin_cpu_supports):
# only the per-ISA translation units get ISA flags; everything else is built
# for baseline x86-64, so the library runs on any x86-64 CPU.
set(VESTA_INDEX_KERNEL_SOURCES
  distance.cc
  topk.cc
  exact_search.cc
  batch_search.cc
  internal/distance_scalar.cc
  internal/distance_avx2.cc
  internal/distance_avx512.cc)

set_source_files_properties(internal/distance_avx2.cc PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma")
set_source_files_properties(internal/distance_avx512.cc PROPERTIES COMPILE_OPTIONS "-mavx512f")
