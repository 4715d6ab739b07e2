"""Analytic pair potentials with per-atom parameters.

Each atom i carries the pair parameters for every neighbour species, and
e_i = ½ Σ_j φ(r_ij; p_i[s_j]) f_c(r_ij). With a constant provider and symmetric tables this
is the classic pair potential.

* :class:`Morse` — φ(r) = D [e^{−2α(r−r0)} − 2 e^{−α(r−r0)}] (Morse, Phys. Rev. 34, 57 (1929)),
  smoothly truncated with f_c(r) = x⁴/(1+x⁴), x = (r − r_c)/h.
"""

from __future__ import annotations

from typing import Sequence

import torch

from physml.empirical.base import Term
from physml.empirical.cutoff import pinn_cutoff
from physml.parameters import ParameterSpec
from physml.registry import register_term


@register_term("morse")
class Morse(Term):
    def __init__(self, species: Sequence[str], cutoff: float = 6.0, smoothing: float = 1.0):
        super().__init__(species)
        self.cutoff = float(cutoff)
        self.smoothing = float(smoothing)

    def parameter_specs(self) -> list[ParameterSpec]:
        return [
            ParameterSpec("D", "pair", 0.3, tie="symmetric", unit="eV", doc="well depth"),
            ParameterSpec("alpha", "pair", 1.5, tie="symmetric", unit="1/Å", doc="inverse width"),
            ParameterSpec("r0", "pair", 2.8, tie="symmetric", unit="Å", doc="equilibrium distance"),
        ]

    def energies(self, graph, params):
        pr = graph.pairs(self.cutoff)
        sj = graph.species[pr.j]
        D = params["D"][pr.i, sj]
        a = params["alpha"][pr.i, sj]
        r0 = params["r0"][pr.i, sj]
        x = torch.exp(-a * (pr.distances - r0))
        phi = D * (x * x - 2.0 * x) * pinn_cutoff(pr.distances, self.cutoff, self.smoothing)
        return torch.zeros(graph.n_atoms, dtype=graph.dtype, device=graph.device).index_add(0, pr.i, 0.5 * phi)

    def config(self) -> dict:
        return {"cutoff": self.cutoff, "smoothing": self.smoothing}
