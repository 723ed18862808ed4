# HTTP load benchmark (issue #5 "Load"; driver bench/http_load.sh, wrk
# scripts bench/http_load/*.lua, results bench/results/http.md): http_setup
# builds the synthetic 100k x 768 table, writes the query bodies wrk sends,
# and measures the in-process baseline (service::IndexManager::Query) that
# the HTTP overhead is computed against. nlohmann-json parses the bodies as
# the query route does.
add_executable(http_setup http_setup.cc)
target_link_libraries(http_setup PRIVATE vesta_service vesta_access vesta_filter nlohmann_json::nlohmann_json
                      OpenMP::OpenMP_CXX BLAS::BLAS)
vesta_warnings(http_setup)
