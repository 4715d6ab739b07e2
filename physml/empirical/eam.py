"""Embedded-atom method (EAM) terms.

    E_i = F_{s_i}(ρ_i) + ½ Σ_j φ_{s_i s_j}(r_ij),      ρ_i = Σ_j ρ_{s_j→s_i}(r_ij)

(Daw & Baskes, PRB 29, 6443 (1984)). ``eam/alloy`` semantics: the density a neighbour j
contributes depends only on its species, ρ_{s_j}(r); ``eam/fs`` (Finnis–Sinclair files):
on both species, ρ_{s_j→s_i}(r).

Two terms:

* :class:`TabulatedEAM` — functions tabulated on grids (LAMMPS setfl files), interpolated
  exactly as LAMMPS ``pair_style eam/alloy`` / ``eam/fs`` do (:mod:`physml.empirical.spline`),
  so imported potentials reproduce LAMMPS. Tables are buffers (no trainable weights). It
  accepts half neighbour lists and has a fused analytic-gradient path for MD.
* :class:`AnalyticEAM` — smooth analytic functions with per-atom parameters (so a
  physics-informed provider can predict them): atom i owns its embedding parameters, the
  pair parameters for each neighbour species and the density parameters of each
  neighbour species. The functional forms live in :mod:`physml.empirical.eam_functions`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from physml.empirical.base import Term, needs_double_backward as _needs_double_backward
from physml.empirical.spline import lammps_spline_coefficients, locate
from physml.neighbors import segment_sum
from physml.compile import maybe_compile
from physml.parameters import ParameterSpec
from physml.registry import register_term


def _scatter(n: int, index: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    return torch.zeros(n, dtype=values.dtype, device=values.device).index_add(0, index, values)


def _cubic(table: torch.Tensor, rows: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """LAMMPS cubic with straight-through clamp of p at 1 (see spline.evaluate).
    ``table`` is (4, K): contiguous rows c3, c4, c5, c6."""
    pc = p - (p - torch.clamp(p, max=1.0)).detach()
    c3, c4, c5, c6 = (torch.index_select(table[k], 0, rows) for k in range(4))
    return ((c3 * pc + c4) * pc + c5) * pc + c6


def _cubic_and_slope(table: torch.Tensor, rows: torch.Tensor, p: torch.Tensor):
    pc = torch.clamp(p, max=1.0)
    c3, c4, c5, c6 = (torch.index_select(table[k], 0, rows) for k in range(4))
    val = ((c3 * pc + c4) * pc + c5) * pc + c6
    dval = (3.0 * c3 * pc + 2.0 * c4) * pc + c5  # d/dp
    return val, dval


def _pair_kernel(r, rows_rho, rows_z2r, rho_t, z2r_t, p, inv_dr: float):
    """ρ(r), ρ'(r), φ(r), φ'(r) of each pair from LAMMPS spline tables (one fused pass
    when compiled)."""
    pc = torch.clamp(p, max=1.0)
    c3, c4, c5, c6 = rho_t[0][rows_rho], rho_t[1][rows_rho], rho_t[2][rows_rho], rho_t[3][rows_rho]
    rho = ((c3 * pc + c4) * pc + c5) * pc + c6
    drho = ((3.0 * c3 * pc + 2.0 * c4) * pc + c5) * inv_dr
    d3, d4, d5, d6 = z2r_t[0][rows_z2r], z2r_t[1][rows_z2r], z2r_t[2][rows_z2r], z2r_t[3][rows_z2r]
    z2 = ((d3 * pc + d4) * pc + d5) * pc + d6
    dz2 = ((3.0 * d3 * pc + 2.0 * d4) * pc + d5) * inv_dr
    recip = 1.0 / r
    phi = z2 * recip
    phip = dz2 * recip - phi * recip
    return rho, drho, phi, phip


def _pair_grad_kernel(g, fp, i, j, rhop_ij, rhop_ji, phip, half: bool):
    grad = g[i] * (fp[i] * rhop_ij + 0.5 * phip)
    if half:
        grad = grad + g[j] * (fp[j] * rhop_ji + 0.5 * phip)
    return grad


class _FusedTabulatedEAM(torch.autograd.Function):
    """Per-atom EAM energies with the pair-distance gradient computed in the same pass
    (LAMMPS' algorithm). Used for inference; training (double backward) uses autograd."""

    @staticmethod
    def forward(ctx, r, i, j, si, sj, n_atoms, species, term, half, counts):  # type: ignore[override]
        S = term.n_species
        nr, nrho = term.nr, term.nrho
        inv_dr, inv_drho = 1.0 / term.dr, 1.0 / term.drho
        m, p = locate(r, inv_dr, nr)
        kernel = maybe_compile("eam_pair", _pair_kernel)
        if S == 1:
            rows = m
            rho_ij, drho_ij, phi, phip = kernel(r, rows, rows, term.rho_table, term.z2r_table, p, inv_dr)
        else:
            rho_ij, drho_ij, phi, phip = kernel(r, (sj * S + si) * nr + m, (si * S + sj) * nr + m, term.rho_table, term.z2r_table, p, inv_dr)
        rho = segment_sum(rho_ij, counts)
        if half:
            if S == 1:  # same species on both ends: the same density function
                rho_ji, drho_ji = rho_ij, drho_ij
            else:
                rho_ji, drho_ji = _cubic_and_slope(term.rho_table, (si * S + sj) * nr + m, p)
                drho_ji = drho_ji * inv_dr
            rho = rho + _scatter(n_atoms, j, rho_ji)
        mr, pr_ = locate(rho, inv_drho, nrho)
        F, dF = _cubic_and_slope(term.frho_table, species * nrho + mr, pr_)
        fp = dF * inv_drho
        over = rho > term.rhomax
        F = torch.where(over, F + fp * (rho - term.rhomax), F)
        e = F + segment_sum(0.5 * phi, counts)
        if half:
            e = e + _scatter(n_atoms, j, 0.5 * phi)
        # dE_i/dr pieces: per pair derivative of the pair energy and of densities
        ctx.save_for_backward(i, j, fp, drho_ij, phip, drho_ji if half else drho_ij)
        ctx.half = half
        return e

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        i, j, fp, rhop_ij, phip, rhop_ji = ctx.saved_tensors
        # E_i = F_i(ρ_i) + ½ Σ φ: dE/dr for pair (i→j) weighted by the per-atom upstream grads
        grad = maybe_compile("eam_pair_grad", _pair_grad_kernel)(g, fp, i, j, rhop_ij, rhop_ji, phip, bool(ctx.half))
        return grad, None, None, None, None, None, None, None, None, None


@register_term("eam_tabulated")
class TabulatedEAM(Term):
    """EAM from tables on uniform grids (LAMMPS setfl semantics).

    Args:
        species: element symbols (order of the tables).
        nrho, drho, nr, dr, cutoff: the setfl grid (ρ_k = k·drho, r_k = k·dr) and cutoff.
        style: ``"alloy"`` (density depends on the neighbour species) or ``"fs"``.
        F, rho, z2r: only when building from arrays — F (S, nrho) embedding values;
            rho (S, nr) for alloy or (S, S, nr) for fs, indexed [source j][target i];
            z2r (S, S, nr) = r·φ(r), symmetric.
    """

    supports_half_list = True

    def __init__(
        self,
        species: Sequence[str],
        nrho: int = 5,
        drho: float = 1.0,
        nr: int = 5,
        dr: float = 1.0,
        cutoff: float = 1.0,
        style: str = "alloy",
        F: np.ndarray | None = None,
        rho: np.ndarray | None = None,
        z2r: np.ndarray | None = None,
    ):
        super().__init__(species)
        if style not in ("alloy", "fs"):
            raise ValueError(f"style must be 'alloy' or 'fs', got {style!r}")
        S = len(species)
        self.style = style
        self.nrho, self.drho, self.nr, self.dr = int(nrho), float(drho), int(nr), float(dr)
        self.cutoff = float(cutoff)
        self.rhomax = (self.nrho - 1) * self.drho
        if F is None:  # placeholder shapes; real tables arrive with load_state_dict
            F = np.zeros((S, self.nrho))
            rho = np.zeros((S, S, self.nr))
            z2r = np.zeros((S, S, self.nr))
        rho = np.asarray(rho, dtype=np.float64)
        if rho.ndim == 2:  # alloy: same function at every target species
            rho = np.repeat(rho[:, None, :], S, axis=1)
        F = np.asarray(F, dtype=np.float64)
        z2r = np.asarray(z2r, dtype=np.float64)
        if F.shape != (S, self.nrho) or rho.shape != (S, S, self.nr) or z2r.shape != (S, S, self.nr):
            raise ValueError(f"table shapes F {F.shape}, rho {rho.shape}, z2r {z2r.shape} do not match S={S}, nrho={self.nrho}, nr={self.nr}")
        # raw tables (for export) and LAMMPS spline coefficients (for evaluation)
        self.register_buffer("F_values", torch.as_tensor(F))
        self.register_buffer("rho_values", torch.as_tensor(rho))
        self.register_buffer("z2r_values", torch.as_tensor(z2r))
        self._build_coefficients()

    def _build_coefficients(self) -> None:
        F = self.F_values.cpu().numpy()
        rho = self.rho_values.cpu().numpy()
        z2r = self.z2r_values.cpu().numpy()
        S = self.n_species
        frho = np.concatenate([lammps_spline_coefficients(F[a]) for a in range(S)])
        rhot = np.concatenate([lammps_spline_coefficients(rho[b, a]) for b in range(S) for a in range(S)])
        z2rt = np.concatenate([lammps_spline_coefficients(z2r[a, b]) for a in range(S) for b in range(S)])
        dev, dt = self.F_values.device, self.F_values.dtype
        def cols(t):  # (4, K) contiguous coefficient rows
            return torch.as_tensor(np.ascontiguousarray(t.T), device=dev, dtype=dt)

        self.register_buffer("frho_table", cols(frho), persistent=False)
        self.register_buffer("rho_table", cols(rhot), persistent=False)
        self.register_buffer("z2r_table", cols(z2rt), persistent=False)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self._build_coefficients()

    def _apply(self, fn, recurse=True):
        out = super()._apply(fn, recurse)
        # rebuild in float64 from the raw tables, then cast (keeps LAMMPS' arithmetic)
        return out

    # ------------------------------------------------------------------ energy
    def energies(self, graph, params) -> torch.Tensor:
        pr = graph.pairs(self.cutoff)
        half = not pr.full
        r = pr.distances
        si = graph.species[pr.i]
        sj = graph.species[pr.j]
        fused = not torch.is_grad_enabled() or not _needs_double_backward()
        if fused and r.requires_grad and r.device.type == "cpu":
            return _FusedTabulatedEAM.apply(r, pr.i, pr.j, si, sj, graph.n_atoms, graph.species, self, half, pr.counts(graph.n_atoms))
        return self._energies_autograd(graph.n_atoms, graph.species, pr.i, pr.j, si, sj, r, half)

    def _energies_autograd(self, n_atoms, species, i, j, si, sj, r, half):
        S = self.n_species
        m, p = locate(r, 1.0 / self.dr, self.nr)
        rho = _scatter(n_atoms, i, _cubic(self.rho_table, (sj * S + si) * self.nr + m, p))
        if half:
            rho = rho + _scatter(n_atoms, j, _cubic(self.rho_table, (si * S + sj) * self.nr + m, p))
        phi = _cubic(self.z2r_table, (si * S + sj) * self.nr + m, p) / r
        e = _scatter(n_atoms, i, 0.5 * phi)
        if half:
            e = e + _scatter(n_atoms, j, 0.5 * phi)
        mr, prho = locate(rho, 1.0 / self.drho, self.nrho)
        rows = species * self.nrho + mr
        F = _cubic(self.frho_table, rows, prho)
        with torch.no_grad():
            _, dF = _cubic_and_slope(self.frho_table, rows, prho)
            fp = dF / self.drho
        extra = torch.where(rho > self.rhomax, (fp * (rho - self.rhomax)).detach(), torch.zeros_like(rho))
        return e + F + extra

    def config(self) -> dict:
        return {"nrho": self.nrho, "drho": self.drho, "nr": self.nr, "dr": self.dr, "cutoff": self.cutoff, "style": self.style}

    def describe(self) -> str:
        return f"tabulated EAM ({self.style}; nrho {self.nrho}, drho {self.drho:g}; nr {self.nr}, dr {self.dr:g}; cutoff {self.cutoff:g} Å)"

    # ------------------------------------------------------------------ tables as functions
    def functions_on_grid(self) -> dict[str, np.ndarray]:
        """Raw tables: F (S, nrho), rho (S_j, S_i, nr), z2r (S, S, nr)."""
        return {"F": self.F_values.cpu().numpy(), "rho": self.rho_values.cpu().numpy(), "z2r": self.z2r_values.cpu().numpy()}


@register_term("eam")
class AnalyticEAM(Term):
    """EAM with analytic functions and per-atom parameters (see
    :mod:`physml.empirical.eam_functions` for the families and their equations).

    E_i = F(ρ_i; p_i) + ½ Σ_j φ(r_ij; p_i[s_j]),   ρ_i = Σ_j ρ(r_ij; p_i[s_j])

    With a constant provider and the declared ties (φ symmetric, ρ by neighbour species)
    this is a classic eam/alloy potential; with a physics-informed provider every atom
    carries its own parameters (locality: E_i uses only p_i).
    """

    def __init__(self, species: Sequence[str], family: str = "mishin", cutoff: float = 6.0, smoothing: float = 1.0):
        super().__init__(species)
        from physml.empirical.eam_functions import FAMILIES

        if family not in FAMILIES:
            raise ValueError(f"unknown EAM family {family!r}; known: {sorted(FAMILIES)}")
        self.family_name = family
        self.family = FAMILIES[family](cutoff, smoothing)
        self.cutoff = float(cutoff)
        self.smoothing = float(smoothing)

    def parameter_specs(self) -> list[ParameterSpec]:
        return self.family.specs()

    def energies(self, graph, params) -> torch.Tensor:
        pr = graph.pairs(self.cutoff)
        i = pr.i
        sj = graph.species[pr.j]
        per_pair = {}
        per_atom = {}
        for name, v in params.items():
            if v.dim() == 2:  # pair-indexed: own table of atom i, column of j's species
                per_pair[name] = v[i, sj]
            else:
                per_atom[name] = v
        r = pr.distances
        rho = _scatter(graph.n_atoms, i, self.family.density(r, per_pair))
        e = _scatter(graph.n_atoms, i, 0.5 * self.family.pair(r, per_pair))
        return e + self.family.embedding(rho, per_atom)

    def config(self) -> dict:
        return {"family": self.family_name, "cutoff": self.cutoff, "smoothing": self.smoothing}

    def describe(self) -> str:
        return f"analytic EAM ({self.family_name}; cutoff {self.cutoff:g} Å, smoothing {self.smoothing:g} Å)"
