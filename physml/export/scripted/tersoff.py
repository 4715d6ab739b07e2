"""Tersoff term of the exported model (TorchScript), LAMMPS ``pair_style tersoff`` semantics.

Tersoff, PRB 37, 6991 (1988); PRB 39, 5566 (1989); the equations, LAMMPS' b_ij branches
and the clamp of exp(λ3^m Δr^m) are those of :class:`physml.empirical.tersoff.Tersoff`
(whose f_C and b_ij functions are reused, they are TorchScript-compatible):

    e_i = ½ Σ_j f_C(r_ij) [A e^{−λ1 r_ij} − b_ij B e^{−λ2 r_ij}],
    b_ij = (1 + β^n ζ_ij^n)^{−1/2n},  ζ_ij = Σ_{k≠j} f_C(r_ik) g(θ_ijk) exp[λ3^m (r_ij − r_ik)^m].
"""

from typing import Dict

import torch
from torch import Tensor, nn

from physml.empirical.tersoff import ters_bij, ters_fc
from physml.export.scripted.base import ScriptedTerm
from physml.export.scripted.geometry import PairList, entry_pairs, scatter_sum


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
        c, r, sj = p.centre, p.distances, p.species_j
        si = species[c]
        Rij = self.R[si, sj, sj]
        Dij = self.D[si, sj, sj]
        inb = (r < Rij + Dij).detach()
        ta, tb = entry_pairs(c, n_atoms, True)  # bond ta (i–j), neighbour tb (i–k)
        sk = sj[tb]
        sjt = sj[ta]
        sit = si[ta]
        R3 = self.R[sit, sjt, sk]
        D3 = self.D[sit, sjt, sk]
        keep = torch.nonzero(inb[ta] & (r[tb] < R3 + D3)).squeeze(1)
        ta, tb, sk, sjt, sit, R3, D3 = ta[keep], tb[keep], sk[keep], sjt[keep], sit[keep], R3[keep], D3[keep]
        m = self.m[sit, sjt, sk]
        ib = c[ta]
        gamma = params["gamma"][ib, sjt, sk]
        lam3 = params["lam3"][ib, sjt, sk]
        cc = params["c"][ib, sjt, sk]
        d = params["d"][ib, sjt, sk]
        h = params["h"][ib, sjt, sk]
        rij = r[ta]
        rik = r[tb]
        cos = (p.vectors[ta] * p.vectors[tb]).sum(-1) / (rij * rik)
        c2 = cc * cc
        d2 = d * d
        g = gamma * (1.0 + c2 / d2 - c2 / (d2 + (h - cos) ** 2))
        arg = torch.where(m == 3, (lam3 * (rij - rik)) ** 3, lam3 * (rij - rik))
        ex = torch.where(arg > 69.0776, torch.full_like(arg, 1e30), torch.where(arg < -69.0776, torch.zeros_like(arg), torch.exp(torch.clamp(arg, -69.0776, 69.0776))))
        zeta = torch.zeros_like(r).index_add(0, ta, ters_fc(rik, R3, D3) * g * ex)
        A = params["A"][c, sj]
        lam1 = params["lam1"][c, sj]
        B = params["B"][c, sj]
        lam2 = params["lam2"][c, sj]
        bij = ters_bij(zeta, params["beta"][c, sj], params["n"][c, sj])
        fc = ters_fc(r, Rij, Dij)
        e_pair = torch.where(inb, 0.5 * fc * (A * torch.exp(-lam1 * r) - bij * B * torch.exp(-lam2 * r)), torch.zeros_like(r))
        return scatter_sum(n_atoms, c, e_pair)
