# SentencePiece built from source as a static, position-independent library with hidden
# visibility. Debian's libsentencepiece.so exports a bundled protobuf 3.14 that collides with
# the protobuf 3.21 that Debian's LibTorch loads (a segfault in static initialisation), so its
# symbols must stay private to tmt: see also the --exclude-libs link option on tmt's targets.
set(_spm_src "${TMT_SENTENCEPIECE_SOURCE}")
if(_spm_src MATCHES "\\.(tar\\.gz|tgz|tar\\.xz|zip)$")
  set(_spm_unpacked "${CMAKE_BINARY_DIR}/_deps/sentencepiece-src")
  if(NOT EXISTS "${_spm_unpacked}/CMakeLists.txt")
    file(ARCHIVE_EXTRACT INPUT "${_spm_src}" DESTINATION "${CMAKE_BINARY_DIR}/_deps/spm-unpack")
    file(GLOB _spm_top "${CMAKE_BINARY_DIR}/_deps/spm-unpack/*")
    file(RENAME "${_spm_top}" "${_spm_unpacked}")
  endif()
  set(_spm_src "${_spm_unpacked}")
endif()
if(NOT EXISTS "${_spm_src}/src/sentencepiece_processor.h")
  message(FATAL_ERROR "SentencePiece source not found at TMT_SENTENCEPIECE_SOURCE='${TMT_SENTENCEPIECE_SOURCE}'. "
                      "Run scripts/setup.sh, or pass -DTMT_SENTENCEPIECE_SOURCE=<source dir or release tarball>.")
endif()

set(SPM_ENABLE_SHARED OFF CACHE BOOL "" FORCE)
set(SPM_ENABLE_TCMALLOC OFF CACHE BOOL "" FORCE)
set(SPM_BUILD_TEST OFF CACHE BOOL "" FORCE)
# A function scope keeps the hidden-visibility presets to SentencePiece's own targets.
function(_tmt_add_sentencepiece source_dir)
  set(CMAKE_POLICY_DEFAULT_CMP0063 NEW)  # SentencePiece asks for CMake 3.1, whose policy ignores visibility
  set(CMAKE_CXX_VISIBILITY_PRESET hidden)
  set(CMAKE_VISIBILITY_INLINES_HIDDEN ON)
  add_subdirectory("${source_dir}" "${CMAKE_BINARY_DIR}/_deps/sentencepiece-build" EXCLUDE_FROM_ALL)
  # Its bundled protobuf-lite warns under GCC 12; not ours to fix.
  target_compile_options(sentencepiece-static PRIVATE -w)
  target_compile_options(sentencepiece_train-static PRIVATE -w)
endfunction()
_tmt_add_sentencepiece("${_spm_src}")

add_library(tmt_sentencepiece INTERFACE)
target_include_directories(tmt_sentencepiece SYSTEM INTERFACE "${_spm_src}/src")
target_link_libraries(tmt_sentencepiece INTERFACE sentencepiece_train-static sentencepiece-static)
target_link_options(tmt_sentencepiece INTERFACE "LINKER:--exclude-libs,ALL")
