# Faster builds when the tools are there: ccache for recompiles, mold for links.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_C_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

find_program(MOLD_PROGRAM mold)
if(MOLD_PROGRAM)
  # GCC 12 understands -fuse-ld=mold; clang does too.
  add_link_options(-fuse-ld=mold)
endif()

# Sanitizer flags for the targets that ask for them (see fjord_sanitize()).
set(FJORD_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
function(fjord_sanitize target)
  target_compile_options(${target} PRIVATE ${FJORD_SANITIZER_FLAGS} -O1 -g)
  target_link_options(${target} PRIVATE ${FJORD_SANITIZER_FLAGS})
endfunction()
