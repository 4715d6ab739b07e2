"""Tersoff term of the exported model (TorchScript), LAMMPS ``pair_style tersoff`` semantics.

Tersoff, PRB 37, 6991 (1988); PRB 39, 5566 (1989). The equations, LAMMPS' b_ij branches
and the clamp of exp(λ3^m Δr^m) are those of :class:`physml.empirical.tersoff.Tersoff`,
whose site-energy function (:func:`physml.empirical.tersoff.site_energies`, plain tensors,
TorchScript-compatible) this module calls on the pair list of the exported model:

    e_i = ½ Σ_j f_C(r_ij) [A e^{−λ1 r_ij} − b_ij B e^{−λ2 r_ij}],
    b_ij = (1 + β^n ζ_ij^n)^{−1/2n},  ζ_ij = Σ_{k≠j} f_C(r_ik) g(θ_ijk) exp[λ3^m (r_ij − r_ik)^m].
"""

from typing import Dict

import torch
from torch import Tensor

from physml.empirical.tersoff import site_energies
from physml.export.scripted.base import ScriptedTerm
from physml.export.scripted.geometry import PairList, entry_pairs


class ScriptedTersoff(ScriptedTerm):
    def __init__(self, term):
        super().__init__()
        self.cutoff = float(term.cutoff)
        self.register_buffer("R", term.R.detach().to(torch.float64).clone())
        self.register_buffer("D", term.D.detach().to(torch.float64).clone())
        self.register_buffer("m", term.m.detach().to(torch.float64).clone())

    def forward(self, pairs: PairList, species: Tensor, params: Dict[str, Tensor]) -> Tensor:
        n_atoms = species.shape[0]
        p = pairs.within(self.cutoff)
        ta, tb = entry_pairs(p.centre, n_atoms, True)  # bond ta (i–j), neighbour tb (i–k)
        return site_energies(p.vectors, p.distances, p.centre, species[p.centre], p.species_j, ta, tb, n_atoms, self.R, self.D, self.m, params)
