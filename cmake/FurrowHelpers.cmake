# furrow_library(NAME SRCS a.cc b.cc DEPS x y)
#   A static library furrow_NAME, with src/ on the include path.
function(furrow_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(furrow_${name} STATIC ${ARG_SRCS})
  target_include_directories(furrow_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_BINARY_DIR}/src)
  target_link_libraries(furrow_${name} PUBLIC ${ARG_DEPS})
endfunction()

# furrow_test(NAME SRCS a_test.cc DEPS x y [LABELS l] [TIMEOUT s])
#   A GoogleTest executable registered with ctest; tests run from the source root
#   so that ../shared/... paths resolve.
function(furrow_test name)
  if(NOT FURROW_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES LABELS "${ARG_LABELS}" ENVIRONMENT "FURROW_BINARY=${PROJECT_BINARY_DIR}/src/app/furrow;FURROW_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    DISCOVERY_TIMEOUT 60)
endfunction()
