/* pair_style physml (see pair_physml.h).

   Syntax:
     pair_style physml [chunk N] [threads N]
     pair_coeff * * model.pt El_1 ... El_ntypes      (NULL for types not handled here)

   chunk:   centre atoms per model call (default: the model's chunk_atoms); bounds memory,
            exact because E_c depends only on the pairs of c.
   threads: torch intra-op threads per MPI rank (default: OMP_NUM_THREADS as LAMMPS reads it). */

#include <ATen/Parallel.h>
#include <torch/script.h>

#include "pair_physml.h"
#include "physml_kernels.h"

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "force.h"
#include "memory.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "update.h"
#include "utils.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace LAMMPS_NS;

static constexpr int INTERFACE_VERSION = 1;

namespace LAMMPS_NS {
struct PhysMLModel {
  torch::jit::script::Module module;
};
}    // namespace LAMMPS_NS

PairPhysML::PairPhysML(LAMMPS *lmp) : Pair(lmp), cutoff(0.0), chunk(0), nthreads(0)
{
  single_enable = 0;
  restartinfo = 0;
  one_coeff = 1;
  manybody_flag = 1;
  no_virial_fdotr_compute = 1;    // the virial is tallied per pair from dE/dr_cj
  centroidstressflag = CENTROID_NOTAVAIL;
}

PairPhysML::~PairPhysML()
{
  if (copymode) return;
  if (allocated) {
    memory->destroy(setflag);
    memory->destroy(cutsq);
  }
}

void PairPhysML::allocate()
{
  allocated = 1;
  int n = atom->ntypes + 1;
  memory->create(setflag, n, n, "pair:setflag");
  memory->create(cutsq, n, n, "pair:cutsq");
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) setflag[i][j] = 0;
}

void PairPhysML::settings(int narg, char **arg)
{
  int iarg = 0;
  while (iarg < narg) {
    if (strcmp(arg[iarg], "chunk") == 0 && iarg + 1 < narg) {
      chunk = utils::inumeric(FLERR, arg[iarg + 1], false, lmp);
      if (chunk < 1) error->all(FLERR, "pair_style physml: chunk must be >= 1, got {}", chunk);
      iarg += 2;
    } else if (strcmp(arg[iarg], "threads") == 0 && iarg + 1 < narg) {
      nthreads = utils::inumeric(FLERR, arg[iarg + 1], false, lmp);
      if (nthreads < 1) error->all(FLERR, "pair_style physml: threads must be >= 1, got {}", nthreads);
      iarg += 2;
    } else {
      error->all(FLERR, "pair_style physml: unknown or incomplete keyword '{}' (expected: chunk N, threads N)", arg[iarg]);
    }
  }
}

void PairPhysML::coeff(int narg, char **arg)
{
  if (!allocated) allocate();
  int ntypes = atom->ntypes;
  if (narg != 3 + ntypes)
    error->all(FLERR, "pair_coeff physml: expected '* * model.pt' and {} element names (or NULL), got {} arguments",
               ntypes, narg);
  if (strcmp(arg[0], "*") != 0 || strcmp(arg[1], "*") != 0)
    error->all(FLERR, "pair_coeff physml: the first two arguments must be '* *'");

  // torch.ops.physml for models exported with the kernels (loaded once, if not yet registered)
  const std::string no_kernels = physml_ensure_kernels();
  auto m = std::make_unique<PhysMLModel>();
  try {
    m->module = torch::jit::load(arg[2], torch::kCPU);
    m->module.eval();
    int version = (int) m->module.attr("interface_version").toInt();
    if (version != INTERFACE_VERSION)
      error->all(FLERR, "pair_coeff physml: {} has model interface version {}, this pair style reads version {}",
                 arg[2], version, INTERFACE_VERSION);
    cutoff = m->module.attr("cutoff").toDouble();
    if (chunk == 0) chunk = (int) m->module.attr("chunk_atoms").toInt();
    model_species.clear();
    for (const auto &s : m->module.attr("species").toListRef()) model_species.push_back(s.toStringRef());
  } catch (const c10::Error &e) {
    const std::string hint = no_kernels.empty() ? "" : " (" + no_kernels + ")";
    error->all(FLERR, "pair_coeff physml: cannot load the exported model {}: {}{}", arg[2], e.what_without_backtrace(),
               hint);
  }
  if (chunk < 1) chunk = 500;
  model = std::move(m);

  type2species.assign(ntypes + 1, -1);
  for (int t = 1; t <= ntypes; t++) {
    const char *el = arg[2 + t];
    if (strcmp(el, "NULL") == 0) continue;
    auto it = std::find(model_species.begin(), model_species.end(), std::string(el));
    if (it == model_species.end()) {
      std::string known;
      for (const auto &s : model_species) known += " " + s;
      error->all(FLERR, "pair_coeff physml: element {} (type {}) is not a species of {}; its species are:{}", el, t,
                 arg[2], known);
    }
    type2species[t] = (int) (it - model_species.begin());
  }
  int count = 0;
  for (int i = 1; i <= ntypes; i++)
    for (int j = i; j <= ntypes; j++)
      if (type2species[i] >= 0 && type2species[j] >= 0) {
        setflag[i][j] = 1;
        count++;
      } else {
        setflag[i][j] = 0;
      }
  if (count == 0) error->all(FLERR, "pair_coeff physml: no atom type is mapped to a model species");
}

void PairPhysML::init_style()
{
  if (force->newton_pair == 0)
    error->all(FLERR, "pair_style physml requires newton pair on (forces on ghost atoms are reverse-communicated)");
  if (strcmp(update->unit_style, "metal") != 0)
    error->all(FLERR, "pair_style physml requires units metal (eV, Angstrom), got units {}", update->unit_style);
  if (!model) error->all(FLERR, "pair_style physml: pair_coeff has not loaded a model");
  int threads = nthreads > 0 ? nthreads : std::max(1, comm->nthreads);
  at::set_num_threads(threads);
  neighbor->add_request(this, NeighConst::REQ_FULL);
}

double PairPhysML::init_one(int i, int j)
{
  if (setflag[i][j] == 0) return 0.0;
  return cutoff;
}

void PairPhysML::compute(int eflag, int vflag)
{
  ev_init(eflag, vflag);

  double **x = atom->x;
  int *type = atom->type;
  int inum = list->inum;
  int *ilist = list->ilist;
  int *numneigh = list->numneigh;
  int **firstneigh = list->firstneigh;
  const double cutsq_model = cutoff * cutoff;

  int ii = 0;
  while (ii < inum) {
    vec.clear();
    centre.clear();
    species_centre.clear();
    species_neighbour.clear();
    centre_atom.clear();
    neighbour_atom.clear();
    for (; ii < inum && (int) centre_atom.size() < chunk; ii++) {
      int i = ilist[ii];
      int si = type2species[type[i]];
      if (si < 0) continue;
      long c = (long) centre_atom.size();
      centre_atom.push_back(i);
      species_centre.push_back(si);
      const double xi = x[i][0], yi = x[i][1], zi = x[i][2];
      int *jlist = firstneigh[i];
      for (int jj = 0; jj < numneigh[i]; jj++) {
        int j = jlist[jj] & NEIGHMASK;
        int sj = type2species[type[j]];
        if (sj < 0) continue;
        double dx = x[j][0] - xi, dy = x[j][1] - yi, dz = x[j][2] - zi;
        if (dx * dx + dy * dy + dz * dz >= cutsq_model) continue;
        vec.push_back(dx);
        vec.push_back(dy);
        vec.push_back(dz);
        centre.push_back(c);
        species_neighbour.push_back(sj);
        neighbour_atom.push_back(j);
      }
    }
    if (!centre_atom.empty()) evaluate_chunk(eflag, vflag);
  }
}

void PairPhysML::evaluate_chunk(int eflag, int vflag)
{
  const int64_t n = (int64_t) centre_atom.size();
  const int64_t E = (int64_t) centre.size();
  auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  static_assert(sizeof(long) == sizeof(int64_t), "long must be 64-bit");

  torch::Tensor vt = torch::from_blob(vec.data(), {E, 3}, f64);
  torch::Tensor ct = torch::from_blob(centre.data(), {E}, i64);
  torch::Tensor sct = torch::from_blob(species_centre.data(), {n}, i64);
  torch::Tensor snt = torch::from_blob(species_neighbour.data(), {E}, i64);

  torch::Tensor e, g;
  try {
    auto out = model->module.get_method("energy_and_gradient")({vt, ct, sct, snt}).toTuple();
    e = out->elements()[0].toTensor().contiguous();
    g = out->elements()[1].toTensor().contiguous();
    if (e.dim() != 1 || e.size(0) != n || g.dim() != 2 || g.size(0) != E)
      error->one(FLERR, "pair_style physml: the model returned {} energies for {} centres and {} gradient rows for {} pairs",
                 e.size(0), n, g.size(0), E);
  } catch (const c10::Error &err) {
    error->one(FLERR, "pair_style physml: model evaluation failed: {}", err.what_without_backtrace());
  }

  const double *ep = e.data_ptr<double>();
  if (eflag_either) {
    for (int64_t c = 0; c < n; c++) {
      if (eflag_global) eng_vdwl += ep[c];
      if (eflag_atom) eatom[centre_atom[c]] += ep[c];
    }
  }
  const double *gp = g.data_ptr<double>();
  double **f = atom->f;
  for (int64_t p = 0; p < E; p++) {
    const int i = centre_atom[centre[p]];
    const int j = neighbour_atom[p];
    const double gx = gp[3 * p], gy = gp[3 * p + 1], gz = gp[3 * p + 2];
    f[i][0] += gx;
    f[i][1] += gy;
    f[i][2] += gz;
    f[j][0] -= gx;
    f[j][1] -= gy;
    f[j][2] -= gz;
    if (vflag_either) {
      const double dx = vec[3 * p], dy = vec[3 * p + 1], dz = vec[3 * p + 2];
      double v[6];
      v[0] = -dx * gx;
      v[1] = -dy * gy;
      v[2] = -dz * gz;
      v[3] = -0.5 * (dx * gy + dy * gx);
      v[4] = -0.5 * (dx * gz + dz * gx);
      v[5] = -0.5 * (dy * gz + dz * gy);
      if (vflag_global)
        for (int k = 0; k < 6; k++) virial[k] += v[k];
      if (vflag_atom)
        for (int k = 0; k < 6; k++) {
          vatom[i][k] += 0.5 * v[k];
          vatom[j][k] += 0.5 * v[k];
        }
    }
  }
}

double PairPhysML::memory_usage()
{
  double bytes = Pair::memory_usage();
  bytes += (double) vec.capacity() * sizeof(double);
  bytes += (double) (centre.capacity() + species_centre.capacity() + species_neighbour.capacity()) * sizeof(long);
  bytes += (double) (centre_atom.capacity() + neighbour_atom.capacity()) * sizeof(int);
  return bytes;
}
