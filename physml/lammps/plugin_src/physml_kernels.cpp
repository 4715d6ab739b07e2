/* Loading physml's C++ kernels on demand (see physml_kernels.h). */

#include "physml_kernels.h"

#include <ATen/core/dispatch/Dispatcher.h>

#include <dlfcn.h>
#include <mutex>

// the library's path, fixed by the build (physml_kernels_path.cpp; "" for none)
extern const char *const physml_kernels_library;

namespace {

bool registered()
{
  return c10::Dispatcher::singleton().findSchema({"physml::pinn_bop", ""}).has_value();
}

}    // namespace

std::string LAMMPS_NS::physml_ensure_kernels()
{
  static std::mutex mutex;
  static bool tried = false;
  static std::string failure;
  std::lock_guard<std::mutex> lock(mutex);
  if (registered()) return "";    // physml.ext in this (Python) process, or an earlier load
  if (tried) return failure;
  tried = true;
  const std::string path = physml_kernels_library;
  if (path.empty()) {
    failure = "this plugin was built without physml's C++ kernels (PHYSML_KERNELS_LIBRARY unset)";
  } else if (dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) == nullptr) {    // kept open for the process
    const char *why = dlerror();
    failure = "cannot load physml's C++ kernels " + path + ": " + (why ? why : "unknown error") +
        "; rebuild the plugin with `physml build-lammps-plugin`";
  } else if (!registered()) {
    failure = path + " registers no physml::pinn_bop";
  }
  return failure;
}
