# Distance-kernel, top-k and exact-search micro-benchmarks (bench/kernel_bench.cc;
# workloads listed at the top of that file). FAISS is linked here only, as the
# baseline in the same run; vesta_index never links it.
add_executable(kernel_bench kernel_bench.cc)
target_link_libraries(kernel_bench PRIVATE vesta_index faiss BLAS::BLAS OpenMP::OpenMP_CXX benchmark::benchmark)
vesta_warnings(kernel_bench)
