# Test registration helpers.
#   dme_add_test(NAME <name> SOURCES <files...> [MPI] [LABELS ...])  builds tests/<name>
#   dme_add_mpi_test(NAME <ctest name> TARGET <exe> RANKS <n> [TIMEOUT <s>] [NO_LEAK_CHECK]
#                    [ARGS ...])
# MPI tests run under mpiexec with --oversubscribe (Open MPI) and the run-as-root variables set
# on the test itself, never assumed from the user's shell.
execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version OUTPUT_VARIABLE dme_mpiexec_version
                ERROR_QUIET)
set(DME_MPIEXEC_EXTRA_FLAGS "")
if(dme_mpiexec_version MATCHES "Open MPI|OpenRTE")
  set(DME_MPIEXEC_EXTRA_FLAGS --oversubscribe)
endif()

# Sanitizer builds: Open MPI keeps allocations until exit in plugins it would unload; keeping
# the plugins loaded and unwinding without frame pointers lets tests/lsan.supp match them.
set(DME_TEST_ENVIRONMENT
  "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_rmaps_base_oversubscribe=1"
  "OMPI_MCA_mca_base_component_disable_dlclose=1"
  "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0"
  "ASAN_OPTIONS=detect_odr_violation=0:fast_unwind_on_malloc=0"
  "GTEST_COLOR=no")

# Sanitizer builds run the tests through tests/support/lsan_retry.sh, which reruns a test once
# when its only fault is LeakSanitizer's tracer crashing at exit (a sanitizer runtime fault).
set(DME_TEST_LAUNCHER "")
if(DME_SANITIZE)
  set(DME_TEST_LAUNCHER bash ${PROJECT_SOURCE_DIR}/tests/support/lsan_retry.sh)
endif()

function(dme_add_test)
  cmake_parse_arguments(T "SERIAL" "NAME;TIMEOUT" "SOURCES;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE dme::dme dme_test_main GTest::gtest GTest::gmock)
  dme_compile_options(${T_NAME})
  if(T_SERIAL)
    if(NOT T_TIMEOUT)
      set(T_TIMEOUT 300)
    endif()
    add_test(NAME ${T_NAME} COMMAND ${DME_TEST_LAUNCHER} $<TARGET_FILE:${T_NAME}>)
    set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT}
                         ENVIRONMENT "${DME_TEST_ENVIRONMENT}" LABELS "${T_LABELS}")
  endif()
endfunction()

function(dme_add_mpi_test)
  cmake_parse_arguments(T "NO_LEAK_CHECK" "NAME;TARGET;RANKS;TIMEOUT" "ARGS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  # NO_LEAK_CHECK: AddressSanitizer and UBSan still check the run, LeakSanitizer does not. For a
  # test whose code the leak check already covers at fewer ranks: at 16 ranks on two cores its
  # tracer crashed at exit in two runs in a row of one CI job (lsan_retry.sh reruns only once).
  set(environment "${DME_TEST_ENVIRONMENT}")
  if(T_NO_LEAK_CHECK)
    string(REPLACE "ASAN_OPTIONS=" "ASAN_OPTIONS=detect_leaks=0:" environment "${environment}")
  endif()
  add_test(NAME ${T_NAME}
           COMMAND ${DME_TEST_LAUNCHER} ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${T_RANKS}
                   ${DME_MPIEXEC_EXTRA_FLAGS} ${MPIEXEC_PREFLAGS} $<TARGET_FILE:${T_TARGET}>
                   ${MPIEXEC_POSTFLAGS} ${T_ARGS})
  set_tests_properties(${T_NAME} PROPERTIES PROCESSORS ${T_RANKS} TIMEOUT ${T_TIMEOUT}
                       ENVIRONMENT "${environment}" LABELS "mpi;${T_LABELS}")
endfunction()
