# Helpers in the style of abseil's absl_cc_library: one library per folder named
# market_<area> with a market::<area> alias, one test binary per folder.

function(market_apply_flags target)
  # Designated initializers that rely on member defaults are idiomatic C++20.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers)
  if(MARKET_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${MARKET_SANITIZE}
                                             -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=${MARKET_SANITIZE})
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # GCC's -Wmaybe-uninitialized gives false positives on instrumented code
      # (GCC documents that sanitizers make it unreliable; here: std::optional
      # <std::string> in MARKET_ASSIGN_OR_RETURN). The normal build keeps it.
      target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
    endif()
  endif()
  if(MARKET_FUZZ)
    # libFuzzer's coverage instrumentation for every library a fuzz target
    # links; only the fuzz targets themselves link libFuzzer (fuzz/).
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link
                                             -fno-sanitize-recover=all)
  endif()
endfunction()

# market_cc_library(NAME area SRCS ... DEPS ...)
function(market_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(market_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(market::${ARG_NAME} ALIAS market_${ARG_NAME})
  target_include_directories(market_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(market_${ARG_NAME} PUBLIC ${ARG_DEPS})
  market_apply_flags(market_${ARG_NAME})
endfunction()

# market_cc_test(NAME area_test SRCS ... DEPS ...): a gtest binary whose tests
# ctest lists one by one.
function(market_cc_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  market_apply_flags(${ARG_NAME})
  gtest_discover_tests(${ARG_NAME} DISCOVERY_TIMEOUT 60
                       PROPERTIES ENVIRONMENT "MARKET_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# market_cc_binary(NAME name SRCS ... DEPS ...)
function(market_cc_binary)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  market_apply_flags(${ARG_NAME})
endfunction()

include(Fuzz)
