"""Ziegler–Biersack–Littmark screened nuclear repulsion with LAMMPS ``pair_style zbl``
switching (Ziegler, Biersack, Littmark, *The Stopping and Range of Ions in Solids*, 1985).

    E_ZBL(r) = (Z_i Z_j e² / 4πε₀ r) Σ_k c_k exp(−d_k r / a),  a = 0.46850 / (Z_i^0.23 + Z_j^0.23) Å

with (c_k) = (0.02817, 0.28022, 0.50986, 0.18175), (d_k) = (0.20162, 0.40290, 0.94229,
3.19980) and e²/4πε₀ = 14.399645 eV·Å (LAMMPS ``metal`` units). As in LAMMPS, the
energy is E(r) = E_ZBL(r) + C + S(r) for r < r_o, with S(r) = A/3 t³ + B/4 t⁴, t = r − r_i,
added only for r > r_i, and A, B, C chosen so that E, E′ and E″ vanish at the outer
cutoff r_o (C is added at every r < r_o, also inside r_i). Each pair energy is split
half/half between the two atoms.
"""

from __future__ import annotations

from typing import Sequence

import torch

from physml.empirical.base import Term
from physml.registry import register_term
from physml.species import symbol_to_number

PZBL = 0.23
A0 = 0.46850
C = (0.02817, 0.28022, 0.50986, 0.18175)
D = (0.20162, 0.40290, 0.94229, 3.19980)
QQR2E = 14.399645  # LAMMPS metal units, eV·Å


def _zbl_e_dedr_d2(r: float, zi: float, zj: float) -> tuple[float, float, float]:
    import math

    ainv = (zi**PZBL + zj**PZBL) / A0
    zze = zi * zj * QQR2E
    s = sum(c * math.exp(-d * ainv * r) for c, d in zip(C, D))
    sp = sum(-c * d * ainv * math.exp(-d * ainv * r) for c, d in zip(C, D))
    spp = sum(c * (d * ainv) ** 2 * math.exp(-d * ainv * r) for c, d in zip(C, D))
    e = zze * s / r
    de = zze * (sp / r - s / r**2)
    d2 = zze * (spp / r - 2 * sp / r**2 + 2 * s / r**3)
    return e, de, d2


@register_term("zbl")
class ZBL(Term):
    """ZBL repulsion for every species pair, with LAMMPS' inner/outer switching.

    Args:
        inner, outer: switching region r_i < r < r_o (Å).
        atomic_numbers: Z per species (default: from the element symbols).
    """

    supports_half_list = True

    def __init__(self, species: Sequence[str], inner: float, outer: float, atomic_numbers: Sequence[float] | None = None):
        super().__init__(species)
        if not 0 < inner < outer:
            raise ValueError(f"ZBL needs 0 < inner < outer, got inner={inner}, outer={outer}")
        self.inner, self.outer = float(inner), float(outer)
        self.cutoff = self.outer
        Z = [float(z) for z in (atomic_numbers or [symbol_to_number(s) for s in species])]
        self.Z = Z
        S = len(species)
        tc = self.outer - self.inner
        sw = torch.zeros(S, S, 3, dtype=torch.float64)  # A, B, C
        ainv = torch.zeros(S, S, dtype=torch.float64)
        zze = torch.zeros(S, S, dtype=torch.float64)
        for a in range(S):
            for b in range(S):
                fc, fcp, fcpp = _zbl_e_dedr_d2(self.outer, Z[a], Z[b])
                sw[a, b, 0] = (-3.0 * fcp + tc * fcpp) / (tc * tc)
                sw[a, b, 1] = (2.0 * fcp - tc * fcpp) / (tc * tc * tc)
                sw[a, b, 2] = -fc + (tc / 2.0) * fcp - (tc * tc / 12.0) * fcpp
                ainv[a, b] = (Z[a] ** PZBL + Z[b] ** PZBL) / A0
                zze[a, b] = Z[a] * Z[b] * QQR2E
        self.register_buffer("switch", sw, persistent=False)
        self.register_buffer("ainv", ainv, persistent=False)
        self.register_buffer("zze", zze, persistent=False)

    def pair_energy(self, r: torch.Tensor, si: torch.Tensor, sj: torch.Tensor) -> torch.Tensor:
        ainv = self.ainv[si, sj]
        s = sum(c * torch.exp(-d * ainv * r) for c, d in zip(C, D))
        e = self.zze[si, sj] * s / r
        sw = self.switch[si, sj]
        t = torch.clamp(r - self.inner, min=0.0)
        return e + sw[:, 2] + t**3 * (sw[:, 0] / 3.0 + sw[:, 1] / 4.0 * t)

    def energies(self, graph, params) -> torch.Tensor:
        pr = graph.pairs(self.cutoff)
        e = self.pair_energy(pr.distances, graph.species[pr.i], graph.species[pr.j])
        out = torch.zeros(graph.n_atoms, dtype=e.dtype, device=e.device).index_add(0, pr.i, 0.5 * e)
        if not pr.full:
            out = out.index_add(0, pr.j, 0.5 * e)
        return out

    def config(self) -> dict:
        return {"inner": self.inner, "outer": self.outer, "atomic_numbers": self.Z}

    def describe(self) -> str:
        return f"ZBL (switching {self.inner:g}–{self.outer:g} Å)"
