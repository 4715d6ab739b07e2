"""Tersoff bond-order potential with LAMMPS ``pair_style tersoff`` semantics.

Tersoff, PRB 37, 6991 (1988); PRB 39, 5566 (1989). For atom i and neighbours j, k:

    E = Σ_i Σ_{j≠i} ½ f_C(r_ij) [f_R(r_ij) + b_ij f_A(r_ij)]
    f_R = A e^{−λ1 r},  f_A = −B e^{−λ2 r}
    f_C(r) = 1 (r < R−D),  ½ − ½ sin(π/2 (r − R)/D) (|r − R| ≤ D),  0 (r > R+D)
    b_ij = (1 + β^n ζ_ij^n)^{−1/2n},  ζ_ij = Σ_{k≠i,j} f_C(r_ik) g(θ_ijk) exp[λ3^m (r_ij − r_ik)^m]
    g(θ) = γ_ijk (1 + c²/d² − c²/[d² + (h − cos θ)²])

Two-body parameters (A, λ1, B, λ2, β, n, R, D) come from the (i, j, j) entry, three-body
ones (γ, λ3, c, d, h, m, R, D of f_C(r_ik)) from (i, j, k), exactly as LAMMPS; b_ij uses
LAMMPS' asymptotic branches (``ters_bij``) and exp(λ3^m Δr^m) is clamped as there.
Per-atom energies are e_i = ½ Σ_j f_C (f_R + b_ij f_A) (LAMMPS splits each pair term
half/half between i and j instead; totals, forces and the virial are identical).

The smooth parameters are per-atom parameters (pair-indexed by s_j, triple-indexed by
(s_j, s_k)), so a physics-informed provider can predict them; the cutoffs R, D and the
integer m are fixed tables of the term.
"""

from __future__ import annotations

import math
from typing import Dict, Sequence

import torch

from physml.empirical.base import Term
from physml.parameters import ParameterSpec
from physml.registry import register_term

PAIR_NAMES = ("A", "lam1", "B", "lam2", "beta", "n")
TRIPLE_NAMES = ("gamma", "lam3", "c", "d", "h")


def ters_fc(r: torch.Tensor, R: torch.Tensor, D: torch.Tensor) -> torch.Tensor:
    mid = 0.5 * (1.0 - torch.sin(0.5 * math.pi * (r - R) / D))
    return torch.where(r < R - D, torch.ones_like(r), torch.where(r > R + D, torch.zeros_like(r), mid))


def ters_bij(zeta: torch.Tensor, beta: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """LAMMPS PairTersoff::ters_bij, branch by branch (the branches change the numbers)."""
    tmp = beta * zeta
    c1 = (2.0 * n * 1.0e-16) ** (-1.0 / n)
    c2 = (2.0 * n * 1.0e-8) ** (-1.0 / n)
    c3, c4 = 1.0 / c2, 1.0 / c1
    safe = torch.where(tmp > 0, tmp, torch.ones_like(tmp))
    full = (1.0 + safe**n) ** (-1.0 / (2.0 * n))
    big1 = 1.0 / torch.sqrt(safe)
    big2 = (1.0 - safe ** (-n) / (2.0 * n)) / torch.sqrt(safe)
    small = 1.0 - safe**n / (2.0 * n)
    out = torch.where(tmp > c1, big1, torch.where(tmp > c2, big2, torch.where(tmp < c4, torch.ones_like(tmp), torch.where(tmp < c3, small, full))))
    return out


def site_energies(
    vectors: torch.Tensor, r: torch.Tensor, i: torch.Tensor, si: torch.Tensor, sj: torch.Tensor, ta: torch.Tensor, tb: torch.Tensor,
    n_atoms: int, R: torch.Tensor, D: torch.Tensor, m: torch.Tensor, params: Dict[str, torch.Tensor],
) -> torch.Tensor:
    """e_i = ½ Σ_j f_C(r_ij) [f_R(r_ij) + b_ij f_A(r_ij)] (module docstring) of n_atoms centres.

    ``vectors``, ``r``, ``i``, ``si``, ``sj``: the pairs within the cutoff (r_ij, r_ij, centre,
    species of i and of j); ``ta``, ``tb``: every ordered pair (bond i–j, neighbour i–k) of
    entries of the same centre, k ≠ j; ``R``, ``D``, ``m``: the (S, S, S) tables;
    ``params``: the per-atom parameters (pair-indexed (N, S), triple-indexed (N, S, S)).
    Plain tensors, TorchScript-compatible: the exported model
    (:mod:`physml.export.scripted.tersoff`) runs this same function."""
    Rij, Dij = R[si, sj, sj], D[si, sj, sj]
    inb = r < Rij + Dij
    sk = sj[tb]
    sjt = sj[ta]
    sit = si[ta]
    R3, D3 = R[sit, sjt, sk], D[sit, sjt, sk]
    keep = inb[ta] & (r[tb] < R3 + D3)
    ta, tb, sk, sjt, sit, R3, D3 = ta[keep], tb[keep], sk[keep], sjt[keep], sit[keep], R3[keep], D3[keep]
    m3 = m[sit, sjt, sk]
    ib = i[ta]
    gamma = params["gamma"][ib, sjt, sk]
    lam3 = params["lam3"][ib, sjt, sk]
    c = params["c"][ib, sjt, sk]
    d = params["d"][ib, sjt, sk]
    h = params["h"][ib, sjt, sk]
    rij, rik = r[ta], r[tb]
    cos = (vectors[ta] * vectors[tb]).sum(-1) / (rij * rik)
    c2, d2 = c * c, d * d
    g = gamma * (1.0 + c2 / d2 - c2 / (d2 + (h - cos) ** 2))
    arg = torch.where(m3 == 3, (lam3 * (rij - rik)) ** 3, lam3 * (rij - rik))
    ex = torch.where(arg > 69.0776, torch.full_like(arg, 1e30), torch.where(arg < -69.0776, torch.zeros_like(arg), torch.exp(torch.clamp(arg, -69.0776, 69.0776))))
    zeta = torch.zeros_like(r).index_add(0, ta, ters_fc(rik, R3, D3) * g * ex)
    A, lam1 = params["A"][i, sj], params["lam1"][i, sj]
    B, lam2 = params["B"][i, sj], params["lam2"][i, sj]
    beta, n = params["beta"][i, sj], params["n"][i, sj]
    fc = ters_fc(r, Rij, Dij)
    bij = ters_bij(zeta, beta, n)
    e_pair = torch.where(inb, 0.5 * fc * (A * torch.exp(-lam1 * r) - bij * B * torch.exp(-lam2 * r)), torch.zeros_like(r))
    return torch.zeros([n_atoms], dtype=r.dtype, device=r.device).index_add(0, i, e_pair)


@register_term("tersoff")
class Tersoff(Term):
    """Tersoff term. ``R``, ``D`` (Å) and ``m`` are (S, S, S) tables indexed [i][j][k]."""

    def __init__(self, species: Sequence[str], R, D, m, defaults: dict | None = None):
        super().__init__(species)
        S = len(species)
        self.register_buffer("R", torch.as_tensor(R, dtype=torch.float64).reshape(S, S, S))
        self.register_buffer("D", torch.as_tensor(D, dtype=torch.float64).reshape(S, S, S))
        self.register_buffer("m", torch.as_tensor(m, dtype=torch.float64).reshape(S, S, S))
        self.cutoff = float((self.R + self.D).max())
        self.defaults = dict(defaults or {})

    def parameter_specs(self) -> list[ParameterSpec]:
        d = self.defaults
        specs = [ParameterSpec(n, "pair", float(d.get(n, 1.0))) for n in PAIR_NAMES]
        specs += [ParameterSpec(n, "triple", float(d.get(n, 1.0))) for n in TRIPLE_NAMES]
        return specs

    def energies(self, graph, params) -> torch.Tensor:
        from physml.ml.descriptors import _triplets

        sp = graph.species
        pr = graph.pairs(self.cutoff)
        a, b = _triplets(pr.i, graph.n_atoms)  # ordered (j, k) entries of the same centre
        ta, tb = torch.cat([a, b]), torch.cat([b, a])
        return site_energies(pr.vectors, pr.distances, pr.i, sp[pr.i], sp[pr.j], ta, tb, graph.n_atoms, self.R, self.D, self.m, params)

    def config(self) -> dict:
        return {"R": self.R.tolist(), "D": self.D.tolist(), "m": self.m.tolist(), "defaults": self.defaults}

    def describe(self) -> str:
        return f"Tersoff (cutoff {self.cutoff:g} Å)"
