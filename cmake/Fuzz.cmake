# libFuzzer targets (fuzz/). With -DMARKET_FUZZ=ON (clang only) every library
# gets -fsanitize=fuzzer-no-link (market_apply_flags) and ASan+UBSan, and each
# target links libFuzzer; UBSan findings abort instead of printing and going
# on. Without it, each target is built as `<name>_replay`, a plain program
# that runs its corpus files, so the normal gcc build replays the corpus too.

if(MARKET_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "MARKET_FUZZ=ON needs clang (libFuzzer): "
                        "-DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  if(NOT MARKET_SANITIZE)
    set(MARKET_SANITIZE "address,undefined" CACHE STRING
        "Comma-separated sanitizers for our targets, e.g. address,undefined" FORCE)
  endif()
endif()

# market_fuzz_target(NAME name DEPS ...): fuzz/<name>.cc defines
# LLVMFuzzerTestOneInput; its seed corpus is fuzz/corpus/<name>/. Registers the
# ctest `fuzz_corpus.<name>` (label `fuzz`) that runs every corpus file.
function(market_fuzz_target)
  cmake_parse_arguments(ARG "" "NAME" "DEPS" ${ARGN})
  set(corpus ${CMAKE_CURRENT_SOURCE_DIR}/corpus/${ARG_NAME})
  if(MARKET_FUZZ)
    set(exe ${ARG_NAME})
    add_executable(${exe} ${ARG_NAME}.cc)
    target_compile_options(${exe} PRIVATE -fsanitize=fuzzer)
    target_link_options(${exe} PRIVATE -fsanitize=fuzzer)
    set(command ${exe} -runs=0 ${corpus})
  else()
    set(exe ${ARG_NAME}_replay)
    add_executable(${exe} ${ARG_NAME}.cc replay_main.cc)
    set(command ${exe} ${corpus})
  endif()
  target_link_libraries(${exe} PRIVATE ${ARG_DEPS})
  market_apply_flags(${exe})
  add_test(NAME fuzz_corpus.${ARG_NAME} COMMAND ${command})
  set_tests_properties(fuzz_corpus.${ARG_NAME} PROPERTIES LABELS fuzz)
  set_property(GLOBAL APPEND PROPERTY MARKET_FUZZ_TARGETS ${exe})
endfunction()
