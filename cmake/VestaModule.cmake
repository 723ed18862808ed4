# vesta_module(<name> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
#
# Declares the static library vesta_<name> for the module folder <name>/.
# Include paths are rooted at the repository ("common/status.h"), so a
# module's public headers sit at the top of its folder and what others must
# not include goes in <name>/internal/. PUBLIC_DEPS are the modules and
# libraries that appear in this module's headers; everything else is PRIVATE.
function(vesta_module name)
  cmake_parse_arguments(M "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(vesta_${name} STATIC ${M_SOURCES})
  target_include_directories(vesta_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(vesta_${name} PUBLIC ${M_PUBLIC_DEPS} PRIVATE ${M_PRIVATE_DEPS})
  vesta_warnings(vesta_${name})
endfunction()

# -Wno-missing-field-initializers: designated initializers that leave
# members at their defaults are idiomatic here ({.version = 3}).
# -Wno-restrict: GCC 12 reports false positives on std::string operator+ at
# -O2 (GCC bug 105329).
function(vesta_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wnon-virtual-dtor -Wno-unused-parameter
                         -Wno-missing-field-initializers
                         $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
endfunction()

# vesta_test(<name> SOURCES ... DEPS ... [LABELS ...])
# One GoogleTest binary per module; cases are discovered individually.
function(vesta_test name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main Threads::Threads)
  target_compile_definitions(${name} PRIVATE
    VESTA_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    VESTA_SHARED_DATA_DIR="${PROJECT_SOURCE_DIR}/../shared/data")
  vesta_warnings(${name})
  set(labels unit)
  if(T_LABELS)
    set(labels ${T_LABELS})
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${labels}")
endfunction()
