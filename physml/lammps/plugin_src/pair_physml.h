/* pair_style physml: evaluates a physml model exported with
   `physml export MODEL --format lammps --route plugin` (TorchScript, interface version 1).

   The model's energy_and_gradient method receives, for a chunk of local centre atoms, the
   pair vectors r_cj = x_j - x_c of the full neighbour list (j local or ghost, r < cutoff),
   the centre of each pair, and the species of centres and neighbours; it returns the site
   energies E_c and dE/dr_cj (one reverse-mode pass, run by libtorch's autograd in C++, or
   the exact derivatives of physml's C++ kernels). Forces and the virial follow here:
   F_c += dE/dr_cj, F_j -= dE/dr_cj (ghost forces are summed onto their owners by LAMMPS'
   reverse communication, hence newton_pair on), and W = -sum r_cj (x) dE/dr_cj, tallied
   per pair (also per atom, half to each end), so no fdotr pass is needed. */

#ifndef LMP_PAIR_PHYSML_H
#define LMP_PAIR_PHYSML_H

#include "pair.h"

#include <memory>
#include <string>
#include <vector>

namespace LAMMPS_NS {

struct PhysMLModel;    // the TorchScript module (kept out of this header: no torch includes)

class PairPhysML : public Pair {
 public:
  PairPhysML(class LAMMPS *);
  ~PairPhysML() override;
  void compute(int, int) override;
  void settings(int, char **) override;
  void coeff(int, char **) override;
  void init_style() override;
  double init_one(int, int) override;
  double memory_usage() override;

 protected:
  std::unique_ptr<PhysMLModel> model;
  std::vector<std::string> model_species;
  std::vector<int> type2species;    // LAMMPS type (1..ntypes) -> model species, -1 for NULL
  double cutoff;
  int chunk;          // centre atoms per model call (0: the model's own default)
  int nthreads;       // torch intra-op threads (0: LAMMPS' comm->nthreads)

  // per-chunk buffers, reused across steps
  std::vector<double> vec;
  std::vector<long> centre, species_centre, species_neighbour;
  std::vector<int> centre_atom, neighbour_atom;

  void allocate();
  void evaluate_chunk(int eflag, int vflag);
};

}    // namespace LAMMPS_NS

#endif
