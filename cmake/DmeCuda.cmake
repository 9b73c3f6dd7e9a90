# CUDA settings of the dme library. Included from the top-level CMakeLists.txt after the dme
# target exists; does nothing unless DME_ENABLE_CUDA is on.
#  - CMake before 3.26 knows no C++20 flag for nvcc and stops at generation ("CUDA20 ... does
#    not support this"): nvcc 12 and later take -std=c++20.
#  - Device code gets line information for profilers (no effect on the generated code) and the
#    host compiler's warnings; -march=native stays on CXX only (dme_compile_options).
if(NOT DME_ENABLE_CUDA OR NOT TARGET dme)
  return()
endif()
if(NOT DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION AND CMAKE_CUDA_COMPILER_ID STREQUAL "NVIDIA"
   AND CMAKE_CUDA_COMPILER_VERSION VERSION_GREATER_EQUAL 12.0)
  set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
  set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
endif()
target_compile_options(dme PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo -Xcompiler=-Wall,-Wextra>)
