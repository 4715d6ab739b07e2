"""EAM terms of the exported model (TorchScript).

    E_i = F_{s_i}(ρ_i) + ½ Σ_j φ(r_ij),      ρ_i = Σ_j ρ(r_ij)

* :class:`ScriptedTabulatedEAM` — the setfl tables of
  :class:`physml.empirical.eam.TabulatedEAM` with LAMMPS' cubic interpolation (same
  coefficient tables; p clamped at 1 with the slope kept, linear extrapolation of F above
  ρ_max), so LAMMPS ``eam/alloy``/``eam/fs`` semantics are kept exactly.
* :class:`ScriptedAnalyticEAM` — the analytic families of
  :mod:`physml.empirical.eam_functions` (``mishin``: Mishin et al., PRB 63, 224106 (2001);
  ``finnis_sinclair``: Finnis & Sinclair, Phil. Mag. A 50, 45 (1984)) with per-atom
  parameters owned by the centre atom (pair parameters indexed by the neighbour species).
"""

from typing import Dict, Tuple

import torch
from torch import Tensor, nn

from physml.export.scripted.base import ScriptedTerm
from physml.export.scripted.geometry import PairList, scatter_sum, smooth_cutoff


def _locate(x: Tensor, inv_delta: float, n: int) -> Tuple[Tensor, Tensor]:
    """LAMMPS table lookup: zero-based interval m and the fraction p (not clamped)."""
    p = x * inv_delta + 1.0
    m1 = torch.clamp(torch.clamp(p.detach().floor(), max=float(n - 1)), min=1.0)
    return (m1 - 1.0).long(), p - m1


def _cubic(table: Tensor, rows: Tensor, p: Tensor) -> Tensor:
    """((c3 p + c4) p + c5) p + c6 at p clamped to ≤ 1, with the slope kept beyond it
    (straight-through clamp, LAMMPS' force convention). ``table`` is (4, K)."""
    pc = p - (p - torch.clamp(p, max=1.0)).detach()
    c3 = table[0][rows]
    c4 = table[1][rows]
    c5 = table[2][rows]
    c6 = table[3][rows]
    return ((c3 * pc + c4) * pc + c5) * pc + c6


def _slope(table: Tensor, rows: Tensor, p: Tensor) -> Tensor:
    pc = torch.clamp(p.detach(), max=1.0)
    return (3.0 * table[0][rows] * pc + 2.0 * table[1][rows]) * pc + table[2][rows]


class ScriptedTabulatedEAM(ScriptedTerm):
    """Tabulated EAM (eam/alloy or eam/fs semantics) from LAMMPS spline coefficients."""

    def __init__(self, term):
        super().__init__()
        self.n_species = int(term.n_species)
        self.nr, self.nrho = int(term.nr), int(term.nrho)
        self.dr, self.drho = float(term.dr), float(term.drho)
        self.rhomax = float(term.rhomax)
        self.cutoff = float(term.cutoff)
        self.register_buffer("frho", term.frho_table.detach().to(torch.float64).clone())
        self.register_buffer("rho", term.rho_table.detach().to(torch.float64).clone())
        self.register_buffer("z2r", term.z2r_table.detach().to(torch.float64).clone())

    def forward(self, pairs: PairList, species: Tensor, params: Dict[str, Tensor]) -> Tensor:
        n = species.shape[0]
        S = self.n_species
        p = pairs.within(self.cutoff)
        r = p.distances
        si = species[p.centre]
        sj = p.species_j
        m, t = _locate(r, 1.0 / self.dr, self.nr)
        rho = scatter_sum(n, p.centre, _cubic(self.rho, (sj * S + si) * self.nr + m, t))
        phi = _cubic(self.z2r, (si * S + sj) * self.nr + m, t) / r
        mr, tr = _locate(rho, 1.0 / self.drho, self.nrho)
        rows = species * self.nrho + mr
        F = _cubic(self.frho, rows, tr)
        fp = _slope(self.frho, rows, tr) / self.drho
        extra = torch.where(rho > self.rhomax, (fp * (rho - self.rhomax)).detach(), torch.zeros_like(rho))
        return scatter_sum(n, p.centre, 0.5 * phi) + F + extra


class ScriptedAnalyticEAM(ScriptedTerm):
    """Analytic EAM (families ``mishin`` and ``finnis_sinclair``), see
    :mod:`physml.empirical.eam_functions` for the equations."""

    def __init__(self, term):
        super().__init__()
        self.family = str(term.family_name)
        if self.family not in ("mishin", "finnis_sinclair"):
            raise ValueError(f"EAM family {self.family!r} has no exported form")
        self.cutoff = float(term.cutoff)
        self.smoothing = float(term.smoothing)

    def _mishin(self, r: Tensor, q: Dict[str, Tensor], centre: Tensor, n: int, a: Dict[str, Tensor]) -> Tuple[Tensor, Tensor]:
        psi = smooth_cutoff(r, self.cutoff, self.smoothing)
        x1 = torch.exp(-q["phi_a1"] * (r - q["phi_r1"]))
        x2 = torch.exp(-q["phi_a2"] * (r - q["phi_r2"]))
        phi = (q["phi_E1"] * (x1 * x1 - 2.0 * x1) + q["phi_E2"] * (x2 * x2 - 2.0 * x2) + q["phi_delta"]) * psi
        dens = (q["rho_a"] * torch.exp(-q["rho_b1"] * (r - q["rho_r3"]) ** 2) + torch.exp(-q["rho_b2"] * (r - q["rho_r4"]))) * psi
        rho = scatter_sum(n, centre, dens)
        x = rho - a["F_rho0"]
        F = a["F_F0"] + 0.5 * a["F_F2"] * x * x + a["F_q1"] * x**3 + a["F_q2"] * x**4
        return scatter_sum(n, centre, 0.5 * phi), F

    def _finnis_sinclair(self, r: Tensor, q: Dict[str, Tensor], centre: Tensor, n: int, a: Dict[str, Tensor]) -> Tuple[Tensor, Tensor]:
        c = torch.clamp(q["phi_c"], max=self.cutoff)
        x = r - c
        phi = torch.where(r < c, x * x * (q["phi_c0"] + q["phi_c1"] * r + q["phi_c2"] * r * r), torch.zeros_like(r))
        d = torch.clamp(q["rho_d"], max=self.cutoff)
        y = r - d
        dens = torch.where(r < d, y * y + q["rho_beta"] * y**3 / d, torch.zeros_like(r))
        rho = scatter_sum(n, centre, dens)
        safe = torch.where(rho > 0, rho, torch.ones_like(rho))
        F = torch.where(rho > 0, -a["F_A"] * torch.sqrt(safe), torch.zeros_like(rho))
        return scatter_sum(n, centre, 0.5 * phi), F

    def forward(self, pairs: PairList, species: Tensor, params: Dict[str, Tensor]) -> Tensor:
        n = species.shape[0]
        p = pairs.within(self.cutoff)
        q: Dict[str, Tensor] = {}
        a: Dict[str, Tensor] = {}
        for name, v in params.items():
            if v.dim() == 2:  # pair-indexed: the centre's table, column of the neighbour's species
                q[name] = v[p.centre, p.species_j]
            else:
                a[name] = v
        if self.family == "mishin":
            pair, F = self._mishin(p.distances, q, p.centre, n, a)
        else:
            pair, F = self._finnis_sinclair(p.distances, q, p.centre, n, a)
        return pair + F
