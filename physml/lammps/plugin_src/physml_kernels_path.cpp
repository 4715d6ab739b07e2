/* The path of physml_kernels.so, alone in this file so that a new kernel build (another
   path) recompiles only these lines. */

#ifndef PHYSML_KERNELS_LIBRARY
#define PHYSML_KERNELS_LIBRARY ""
#endif

extern const char *const physml_kernels_library;
const char *const physml_kernels_library = PHYSML_KERNELS_LIBRARY;
