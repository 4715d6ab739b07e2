"""Pair terms and the site-energy term of the exported model (TorchScript).

* :class:`ScriptedMorse` — e_i = ½ Σ_j D [e^{−2α(r−r0)} − 2 e^{−α(r−r0)}] f_c(r), parameters
  of the centre for the neighbour's species (:class:`physml.empirical.pair.Morse`; Morse,
  Phys. Rev. 34, 57 (1929)).
* :class:`ScriptedZBL` — ZBL screened nuclear repulsion with LAMMPS ``pair_style zbl``
  switching, E(r) = E_ZBL(r) + C + S(r) for r < r_o, each pair half to each atom
  (:class:`physml.empirical.zbl.ZBL`; Ziegler, Biersack, Littmark 1985).
* :class:`ScriptedSiteEnergy` — E_i = p_i (pure neural potential,
  :class:`physml.ml.physics_informed.SiteEnergy`).
"""

from typing import Dict

import torch
from torch import Tensor, nn

from physml.export.scripted.base import ScriptedTerm
from physml.export.scripted.geometry import PairList, scatter_sum, smooth_cutoff


class ScriptedMorse(ScriptedTerm):
    def __init__(self, term):
        super().__init__()
        self.cutoff = float(term.cutoff)
        self.smoothing = float(term.smoothing)

    def forward(self, pairs: PairList, species: Tensor, params: Dict[str, Tensor]) -> Tensor:
        p = pairs.within(self.cutoff)
        D = params["D"][p.centre, p.species_j]
        a = params["alpha"][p.centre, p.species_j]
        r0 = params["r0"][p.centre, p.species_j]
        x = torch.exp(-a * (p.distances - r0))
        phi = D * (x * x - 2.0 * x) * smooth_cutoff(p.distances, self.cutoff, self.smoothing)
        return scatter_sum(species.shape[0], p.centre, 0.5 * phi)


class ScriptedZBL(ScriptedTerm):
    def __init__(self, term):
        super().__init__()
        from physml.empirical.zbl import C, D

        self.cutoff = float(term.outer)
        self.inner = float(term.inner)
        self.coef = [float(c) for c in C]
        self.decay = [float(d) for d in D]
        self.register_buffer("switch", term.switch.detach().to(torch.float64).clone())
        self.register_buffer("ainv", term.ainv.detach().to(torch.float64).clone())
        self.register_buffer("zze", term.zze.detach().to(torch.float64).clone())

    def forward(self, pairs: PairList, species: Tensor, params: Dict[str, Tensor]) -> Tensor:
        p = pairs.within(self.cutoff)
        r = p.distances
        si = species[p.centre]
        sj = p.species_j
        ainv = self.ainv[si, sj]
        s = torch.zeros_like(r)
        for k in range(len(self.coef)):
            s = s + self.coef[k] * torch.exp(-self.decay[k] * ainv * r)
        sw = self.switch[si, sj]
        t = torch.clamp(r - self.inner, min=0.0)
        e = self.zze[si, sj] * s / r + sw[:, 2] + t**3 * (sw[:, 0] / 3.0 + sw[:, 1] / 4.0 * t)
        return scatter_sum(species.shape[0], p.centre, 0.5 * e)


class ScriptedSiteEnergy(ScriptedTerm):
    def __init__(self, term):
        super().__init__()
        self.cutoff = 0.0

    def forward(self, pairs: PairList, species: Tensor, params: Dict[str, Tensor]) -> Tensor:
        return params["E"]
