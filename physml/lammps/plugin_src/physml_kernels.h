/* physml's C++ kernels (torch.ops.physml) for the exported models that call them.

   The operators are registered by one shared library, physml_kernels.so, the one that
   physml.ext builds and loads in Python (physml/csrc, TORCH_LIBRARY(physml)). A namespace
   can be registered only once per process, so the plugin never registers it itself: it
   loads that library only when no library has registered the operators yet. Whatever the
   order of `import physml` (and a kernel evaluation) and `plugin load` in one process, the
   operators are registered exactly once; Python's later load of the same file is a no-op
   of the dynamic loader. */

#ifndef LMP_PHYSML_KERNELS_H
#define LMP_PHYSML_KERNELS_H

#include <string>

namespace LAMMPS_NS {

// Make torch.ops.physml available: "" when it is (registered before, or now by loading
// physml_kernels.so), else why not. Thread-safe; a failed load is not retried.
std::string physml_ensure_kernels();

}    // namespace LAMMPS_NS

#endif
