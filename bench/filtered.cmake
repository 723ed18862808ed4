# End-to-end filtered ANN benchmark (issue #3 "Benchmark"; workloads listed at
# the top of bench/filtered_bench.cc): Vesta's planner against raw FAISS
# 1.7.3 (IndexFlat, IndexHNSWFlat with IDSelector) and Debian's header-only
# hnswlib 0.6.2 in one process. FAISS is linked here only as the baseline.
# hnswlib needs no OpenMP (it uses std::thread/std::mutex); its header warns
# under -Wshadow and friends, which filtered_bench.cc silences around the
# include with GCC diagnostic pragmas.
add_executable(filtered_bench filtered_bench.cc)
target_link_libraries(filtered_bench PRIVATE vesta_index vesta_ingest_readers vesta_filter
                      faiss OpenMP::OpenMP_CXX BLAS::BLAS Threads::Threads)
target_compile_definitions(filtered_bench PRIVATE
  VESTA_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  VESTA_SHARED_DATA_DIR="${PROJECT_SOURCE_DIR}/../shared/data")
vesta_warnings(filtered_bench)
