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
  # One value per property: gtest_discover_tests splits list values, and an empty
  # LABELS value must not swallow the next property.
  set(props
    ENVIRONMENT "FURROW_BINARY=${PROJECT_BINARY_DIR}/src/app/furrow"
    ENVIRONMENT_MODIFICATION "FURROW_SOURCE_DIR=set:${PROJECT_SOURCE_DIR}")
  if(ARG_LABELS)
    list(APPEND props LABELS "${ARG_LABELS}")
  endif()
  # A hung test must not eat the CI budget: 300 s unless the test says otherwise.
  if(ARG_TIMEOUT)
    list(APPEND props TIMEOUT "${ARG_TIMEOUT}")
  else()
    list(APPEND props TIMEOUT 300)
  endif()
  gtest_discover_tests(${name}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES ${props}
    DISCOVERY_TIMEOUT 60)
endfunction()
