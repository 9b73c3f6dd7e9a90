# cmake --install: the headers of dme::dme, the library and a CMake package, so that a C++ user
# writes find_package(dme CONFIG REQUIRED) and links dme::dme (examples/ builds against it).
# The HDF5 results and the experiment runners (dme::experiment) stay in the build tree: they
# serve the apps and the tests.
include(CMakePackageConfigHelpers)

install(TARGETS dme EXPORT dmeTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
foreach(module core rotation quantization codec collective cuda)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/dme/${module}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dme
          FILES_MATCHING PATTERN "*.h" PATTERN "*.cuh" EXCLUDE)
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/src/dme/dme.h ${PROJECT_BINARY_DIR}/generated/dme/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dme)

set(dme_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/dme)
install(EXPORT dmeTargets NAMESPACE dme:: DESTINATION ${dme_cmake_dir})
set(DME_PACKAGE_WITH_CUDA ${DME_ENABLE_CUDA})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/dmeConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/dmeConfig.cmake
                              INSTALL_DESTINATION ${dme_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/dmeConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/dmeConfig.cmake ${PROJECT_BINARY_DIR}/dmeConfigVersion.cmake
        DESTINATION ${dme_cmake_dir})
