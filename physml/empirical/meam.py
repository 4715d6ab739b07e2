"""Modified embedded-atom method (MEAM) with LAMMPS ``pair_style meam`` semantics.

Baskes, PRB 46, 2727 (1992) (MEAM); Lee & Baskes, PRB 62, 8564 (2000) (second-neighbour
MEAM); Huang et al., MSMSE 3, 615 (1995) (reference-structure equations); LAMMPS
documentation of ``pair_style meam`` (library and parameter files, keywords).

Energy of atom i (species a = s_i), neighbours j within r_c:

    E_i = F_a(ρ̄_i) + ½ Σ_j S_ij φ_{a s_j}(r_ij)

Partial electron densities, with the atomic densities ρ^{a(l)}_j(r) = ρ0_j exp[−β^(l)_j (r/r_e,j − 1)]
(times t^(l)_j when ``ialloy = 1``) and unit vectors u_ij:

    ρ^(0)_i = Σ_j S_ij ρ^{a(0)}_j
    (ρ^(1)_i)² = |Σ_j S_ij ρ^{a(1)}_j u_ij|²
    (ρ^(2)_i)² = Σ_{αβ} [Σ_j S_ij ρ^{a(2)}_j u_α u_β]² − ⅓ [Σ_j S_ij ρ^{a(2)}_j]²
    (ρ^(3)_i)² = Σ_{αβγ} [Σ_j S_ij ρ^{a(3)}_j u_α u_β u_γ]² − ⅗ Σ_α [Σ_j S_ij ρ^{a(3)}_j u_α]²

Γ_i = Σ_{l=1..3} t̄^(l)_i (ρ^(l)_i)² / (ρ^(0)_i)², with the averaged weights
t̄^(l)_i = Σ_j t^(l)_j ρ^{a(0)}_j S_ij / ρ^(0)_i (``ialloy = 0``), the same with
t^(l)_j² ρ^{a(0)}_j in the denominator (``ialloy = 1``) or t^(l)_a (``ialloy = 2``).
ρ̄_i = ρ^(0)_i G(Γ_i) / ρ_ref,a with G selected by ``ibar`` (0/4: √(1+Γ) with LAMMPS'
smooth continuation below Γ = −gsmooth/(gsmooth+1); 1: e^{Γ/2}; 3: 2/(1+e^{−Γ});
−5: ±√|1+Γ|), ρ_ref,a = ρ0_a Z_a (``bkgd_dyn = 1``) or the reference-structure
background density ρ0_a Z_a Ḡ (+ the screened second-neighbour shell when ``nn2``).
Embedding: F(ρ̄) = A E_c ρ̄ ln ρ̄ for ρ̄ > 0, and −A E_c ρ̄ (``emb_lin_neg = 1``) or 0 below.

Screening (Baskes' ellipse): S_ij = f_c[(r_c − r_ij)/Δr] Π_k S_ikj with
C_ikj = [2(X_ik + X_kj) − (X_ik − X_kj)² − 1] / [1 − (X_ik − X_kj)²], X = r²/r_ij²,
S_ikj = 1 (C ≥ C_max), 0 (C ≤ C_min), f_c[(C − C_min)/(C_max − C_min)] between;
f_c(x) = [1 − (1 − x)⁴]² on 0 < x < 1. k is skipped when 1 − (X_ik − X_kj)² ≤ 0 or when
r_ik² or r_jk² exceeds ebound·r_ij², ebound = max_k C_max²/(4(C_max − 1)) as in LAMMPS.

Pair function φ: from the reference structure of each pair (``lattce``: fcc, bcc, hcp, dim,
dia, dia3, b1, c11, l12, b2, ch4, lin, zig, tri, sc), φ(r) = [2 E_u(r) − F_a(ρ̄_a^ref(r))
− F_b(ρ̄_b^ref(r))]/Z_ab with the Rose energy E_u (``erose_form`` 0/1/2, ``attrac``,
``repuls``) and the c11/l12/ch4/zig/tri variants; with ``nn2`` the second-neighbour
series of Lee & Baskes eq. (21) (10 terms, stopped at the first zero term as LAMMPS);
with ``zbl`` a blend into ZBL for a* = α(r/r_e − 1) < −1 (pure ZBL below −3). As in LAMMPS,
φ is tabulated on 1000 points up to 1.1 r_c and interpolated with LAMMPS' cubic
(``MEAM::interpolate_meam``), so imported files reproduce LAMMPS to rounding.

Parameters: the density and embedding parameters are per-atom parameters (atom i owns
ρ0, β^(0..3), r_e, t^(1..3) for each neighbour species and A, E_c, ρ_ref for itself), so a
physics-informed provider can predict them; the tabulated φ, the screening limits, r_c,
Δr and the integer switches are fixed properties of the term computed from the source
files (a changed density parameter does not change φ).

Setup code (reference structures, φ tables) is plain numpy evaluated once at
construction; the energy is vectorised torch over pairs and screening triplets, and
forces and stress follow by autograd.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from physml.empirical.base import Term
from physml.parameters import ParameterSpec
from physml.registry import register_term

NR = 1000  # points of LAMMPS' φ table (MEAM::meam_setup_done)
LIBRARY_FIELDS = (
    "lattice", "z", "ielement", "atwt", "alpha", "b0", "b1", "b2", "b3",
    "alat", "esub", "asub", "t0", "t1", "t2", "t3", "rozero", "ibar",
)
IBAR_VALUES = (0, 1, 3, 4, -5)

# ----------------------------------------------------------------------------- reference lattices


def _shape_zig(sthe: float, cthe: float) -> tuple[float, float, float]:
    s0 = 4.0 * cthe**2
    s1 = 4.0 * (cthe**4 + sthe**4 - 1.0 / 3.0)
    s2 = 4.0 * (cthe**2 * (3 * sthe**4 + cthe**4)) - 0.6 * s0
    return s0, s1, s2


@dataclass(frozen=True)
class Lattice:
    """Reference structure: first/second neighbour counts and shape factors."""

    name: str
    single: bool  # allowed as an element's own lattice
    Z: int
    Z2: int = 0  # second neighbours
    nscr: int = 0  # first neighbours screening a second-neighbour bond
    arat: float = 0.0  # r_2nn / r_1nn
    angular: bool = False  # arat scales with sin(θ/2)
    nn3: bool = False  # dia3: C = 1
    shape: Callable[[float, float], tuple[float, float, float]] = lambda s, c: (0.0, 0.0, 0.0)
    re_factor: float | None = None  # r_e = re_factor · alat for single-element lattices


LATTICES: dict[str, Lattice] = {
    L.name: L
    for L in (
        Lattice("fcc", True, 12, 6, 4, math.sqrt(2.0), re_factor=1.0 / math.sqrt(2.0)),
        Lattice("bcc", True, 8, 6, 4, 2.0 / math.sqrt(3.0), re_factor=math.sqrt(3.0) / 2.0),
        Lattice("hcp", True, 12, 6, 4, math.sqrt(2.0), shape=lambda s, c: (0.0, 0.0, 1.0 / 3.0), re_factor=1.0),
        Lattice("dim", True, 1, shape=lambda s, c: (1.0, 2.0 / 3.0, 0.40), re_factor=1.0),
        Lattice("dia", True, 4, 12, 1, math.sqrt(8.0 / 3.0), shape=lambda s, c: (0.0, 0.0, 32.0 / 9.0), re_factor=math.sqrt(3.0) / 4.0),
        Lattice("dia3", True, 4, 12, 4, math.sqrt(11.0 / 3.0), nn3=True, shape=lambda s, c: (0.0, 0.0, 32.0 / 9.0), re_factor=math.sqrt(3.0) / 4.0),
        Lattice("b1", False, 6, 12, 2, math.sqrt(2.0)),
        Lattice("c11", False, 10),
        Lattice("l12", False, 12, 6, 4, math.sqrt(2.0)),
        Lattice("b2", False, 8, 6, 4, 2.0 / math.sqrt(3.0)),
        Lattice("ch4", False, 4, shape=lambda s, c: (0.0, 0.0, 32.0 / 9.0), re_factor=1.0),
        Lattice("lin", True, 2, shape=lambda s, c: (0.0, 8.0 / 3.0, 0.0), re_factor=1.0),
        Lattice("zig", True, 2, 2, 1, 2.0, angular=True, shape=_shape_zig, re_factor=1.0),
        Lattice("tri", True, 2, 1, 2, 2.0, angular=True, shape=_shape_zig, re_factor=1.0),
        Lattice("sc", True, 6, 12, 2, math.sqrt(2.0), re_factor=1.0),
    )
}
#: lattices whose neighbours are all of the other type (t averages swap, get_tavref)
_SWAP_T = {"fcc", "bcc", "dia", "dia3", "hcp", "b1", "dim", "b2", "ch4", "lin", "zig", "tri", "sc"}

# ----------------------------------------------------------------------------- scalar helpers (numpy)


def fcut_np(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    a = (1.0 - x) ** 4
    return np.where(x >= 1.0, 1.0, np.where(x <= 0.0, 0.0, (1.0 - a) ** 2))


def _iszero(x):
    return np.abs(x) < 1e-20


def zbl_np(r: np.ndarray, z1: int, z2: int) -> np.ndarray:
    """ZBL as MEAM's own ``zbl`` (its constants differ slightly from ``pair_style zbl``)."""
    c = (0.028171, 0.28022, 0.50986, 0.18175)
    d = (0.20162, 0.40290, 0.94229, 3.1998)
    a = 0.4685 / (z1**0.23 + z2**0.23)
    x = r / a
    s = sum(ci * np.exp(-di * x) for ci, di in zip(c, d))
    safe = np.where(r > 0, r, 1.0)
    return np.where(r > 0, s * z1 * z2 / safe * 14.3997, s)


def erose_np(r, re, alpha, Ec, repuls, attrac, form: int):
    """Rose universal energy (Huang et al. eq. I.16) in LAMMPS' three forms."""
    astar = alpha * (r / re - 1.0)
    a3 = np.where(astar >= 0, attrac, repuls)
    safe = np.where(r > 0, r, 1.0)
    if form == 1:
        e = -Ec * (1 + astar + (-attrac + repuls / safe) * astar**3) * np.exp(-astar)
    elif form == 2:
        e = -Ec * (1 + astar + a3 * astar**3) * np.exp(-astar)
    else:
        e = -Ec * (1 + astar + a3 * astar**3 / (safe / re)) * np.exp(-astar)
    return np.where(r > 0, e, 0.0)


def G_np(gamma, ibar: int, gsmooth: float):
    gamma = np.asarray(gamma, dtype=np.float64)
    if ibar in (0, 4):
        sw = -gsmooth / (gsmooth + 1)
        safe = np.where(gamma < sw, gamma, -1.0)
        low = np.sqrt(1 / (gsmooth + 1) * (sw / safe) ** gsmooth)
        return np.where(gamma < sw, np.where(gamma == 0.0, 0.0, low), np.sqrt(np.maximum(1.0 + gamma, 0.0)))
    if ibar == 1:
        return np.exp(gamma / 2.0)
    if ibar == 3:
        return 2.0 / (1.0 + np.exp(-gamma))
    if ibar == -5:
        return np.where(1.0 + gamma >= 0, np.sqrt(np.abs(1.0 + gamma)), -np.sqrt(np.abs(1.0 + gamma)))
    raise ValueError(f"ibar = {ibar} is not supported (LAMMPS accepts {IBAR_VALUES})")


def embedding_np(A, Ec, rhobar, lin_neg: int):
    safe = np.where(rhobar > 0, rhobar, 1.0)
    neg = -A * Ec * rhobar if lin_neg else np.zeros_like(rhobar)
    return np.where(rhobar > 0, A * Ec * rhobar * np.log(safe), neg)


# ----------------------------------------------------------------------------- setup (numpy)


class MeamSetup:
    """LAMMPS' MEAM set-up (``meam_setup_global``, ``meam_setup_param``, ``meam_setup_done``):
    per-element and per-pair tables, reference background densities and φ tables.

    Args:
        entries: library entries (dicts with the :data:`LIBRARY_FIELDS` and ``name``) in
            the parameter file's index order.
        settings: ``(keyword, indices (0-based), value)`` in file order (order matters).
    """

    def __init__(self, entries: Sequence[dict], settings: Sequence[tuple[str, Sequence[int], object]] = ()):
        n = len(entries)
        self.n = n
        self.names = [e["name"] for e in entries]
        f = lambda k: np.array([float(e[k]) for e in entries])  # noqa: E731
        self.ielt = [int(e["ielement"]) for e in entries]
        self.ibar = [int(e["ibar"]) for e in entries]
        self.beta = np.stack([f("b0"), f("b1"), f("b2"), f("b3")])  # (4, n)
        self.t = np.stack([f("t0"), f("t1"), f("t2"), f("t3")])
        self.A = f("asub")
        self.rho0 = f("rozero")
        self.lat = [["fcc"] * n for _ in range(n)]
        self.Ec = np.zeros((n, n))
        self.re = np.zeros((n, n))
        self.alpha = np.zeros((n, n))
        for a, e in enumerate(entries):
            self.lat[a][a] = e["lattice"]
            self.alpha[a, a] = float(e["alpha"])
            self.Ec[a, a] = float(e["esub"])
            self.re[a, a] = LATTICES[e["lattice"]].re_factor * float(e["alat"])
        self.delta = np.zeros((n, n))
        self.attrac = np.zeros((n, n))
        self.repuls = np.zeros((n, n))
        self.nn2 = np.zeros((n, n), dtype=int)
        self.zbl = np.ones((n, n), dtype=int)
        self.Cmin = np.full((n, n, n), 2.0)
        self.Cmax = np.full((n, n, n), 2.8)
        self.stheta = np.ones((n, n))
        self.ctheta = np.zeros((n, n))
        self.rc, self.delr, self.gsmooth = 4.0, 0.1, 99.0
        self.augt1, self.ialloy, self.mix_ref_t, self.erose_form = 1, 0, 0, 0
        self.emb_lin_neg, self.bkgd_dyn = 0, 0
        for key, idx, value in settings:
            self._set(key, list(idx), value)
        if self.mix_ref_t != 0:
            raise ValueError("mixture_ref_t = 1 (the superseded mixing rule for t) is not supported")
        for b in self.ibar:
            if b not in IBAR_VALUES:
                raise ValueError(f"ibar = {b} is not supported (LAMMPS accepts {IBAR_VALUES})")
        self._done()

    # -- meam_setup_param
    def _set(self, key: str, idx: list[int], value) -> None:
        pair = {"Ec": self.Ec, "alpha": self.alpha, "delta": self.delta, "attrac": self.attrac, "repuls": self.repuls, "re": self.re}
        if key in pair:
            pair[key][idx[0], idx[1]] = float(value)
        elif key == "rho0":
            self.rho0[idx[0]] = float(value)
        elif key == "lattce":
            self.lat[idx[0]][idx[1]] = str(value)
        elif key in ("nn2", "zbl"):
            tab = self.nn2 if key == "nn2" else self.zbl
            tab[min(idx[:2]), max(idx[:2])] = int(float(value))
        elif key in ("Cmin", "Cmax"):
            (self.Cmin if key == "Cmin" else self.Cmax)[idx[0], idx[1], idx[2]] = float(value)
        elif key == "theta":
            i1, i2 = min(idx[:2]), max(idx[:2])
            self.stheta[i1, i2] = math.sin(float(value) / 2 * math.pi / 180.0)
            self.ctheta[i1, i2] = math.cos(float(value) / 2 * math.pi / 180.0)
        elif key in ("rc", "delr", "gsmooth_factor"):
            setattr(self, {"rc": "rc", "delr": "delr", "gsmooth_factor": "gsmooth"}[key], float(value))
        elif key in ("augt1", "ialloy", "mixture_ref_t", "erose_form", "emb_lin_neg", "bkgd_dyn"):
            setattr(self, {"mixture_ref_t": "mix_ref_t"}.get(key, key), int(float(value)))
        else:  # the parser rejects unknown keywords first
            raise ValueError(f"unknown MEAM keyword {key!r}")

    # -- meam_setup_done
    def _done(self) -> None:
        n = self.n
        self.t[1] = self.t[1] + self.augt1 * 3.0 / 5.0 * self.t[3]
        for i in range(n):  # alloyparams
            for j in range(n):
                if i > j:
                    self.re[i, j], self.Ec[i, j], self.alpha[i, j] = self.re[j, i], self.Ec[j, i], self.alpha[j, i]
                    self.lat[i][j] = self.lat[j][i]
                    self.nn2[i, j] = self.nn2[j, i]
                    self.stheta[i, j], self.ctheta[i, j] = self.stheta[j, i], self.ctheta[j, i]
                elif j > i:
                    if _iszero(self.Ec[i, j]):
                        L = self.lat[i][j]
                        if L == "l12":
                            self.Ec[i, j] = (3 * self.Ec[i, i] + self.Ec[j, j]) / 4.0 - self.delta[i, j]
                        elif L == "c11":
                            if self.lat[i][i] == "dia":
                                self.Ec[i, j] = (2 * self.Ec[i, i] + self.Ec[j, j]) / 3.0 - self.delta[i, j]
                            else:
                                self.Ec[i, j] = (self.Ec[i, i] + 2 * self.Ec[j, j]) / 3.0 - self.delta[i, j]
                        else:
                            self.Ec[i, j] = (self.Ec[i, i] + self.Ec[j, j]) / 2.0 - self.delta[i, j]
                    if _iszero(self.alpha[i, j]):
                        self.alpha[i, j] = (self.alpha[i, i] + self.alpha[j, j]) / 2.0
                    if _iszero(self.re[i, j]):
                        self.re[i, j] = (self.re[i, i] + self.re[j, j]) / 2.0
        for i in range(1, n):
            for j in range(i):
                self.Cmin[i, j, :] = self.Cmin[j, i, :]
                self.Cmax[i, j, :] = self.Cmax[j, i, :]
        eb = self.Cmax**2 / (4.0 * (self.Cmax - 1.0))
        self.ebound = np.maximum(eb.max(axis=2), 2.8**2 / (4.0 * (2.8 - 1.0)))
        self.rho_ref = np.zeros(n)
        for a in range(n):  # compute_reference_density
            L = LATTICES[self.lat[a][a]]
            Gbar = 1.0
            if self.ibar[a] > 0:
                s = L.shape(self.stheta[a, a], self.ctheta[a, a])
                gam = (self.t[1, a] * s[0] + self.t[2, a] * s[1] + self.t[3, a] * s[2]) / (L.Z * L.Z)
                Gbar = float(G_np(gam, self.ibar[a], self.gsmooth))
            rho0 = self.rho0[a] * L.Z
            if self.nn2[a, a] == 1:
                Z2, arat, scrn = self._zij2(self.lat[a][a], self.Cmin[a, a, a], self.Cmax[a, a, a], self.stheta[a, a])
                rho0 = rho0 + Z2 * self.rho0[a] * math.exp(-self.beta[0, a] * (arat - 1)) * scrn
            self.rho_ref[a] = rho0 * Gbar
        self.dr = 1.1 * self.rc / NR

    # -- reference-structure helpers
    def _zij2(self, lat: str, cmin: float, cmax: float, stheta: float) -> tuple[int, float, float]:
        L = LATTICES[lat]
        arat = L.arat * (stheta if L.angular else 1.0)
        if _iszero(arat):
            raise ValueError(f"second-neighbour MEAM (nn2 = 1) is not defined for the {lat} reference lattice")
        C = 1.0 if L.nn3 else 4.0 / (arat * arat) - 1.0
        sijk = float(fcut_np((C - cmin) / (cmax - cmin)))
        return L.Z2, arat, sijk**L.nscr

    def _sijk(self, C: float, i: int, j: int, k: int) -> float:
        return float(fcut_np((C - self.Cmin[i, j, k]) / (self.Cmax[i, j, k] - self.Cmin[i, j, k])))

    def _densref(self, r: np.ndarray, a: int, b: int):
        """Partial densities of the pair's reference structure (LAMMPS get_densref)."""
        a1 = r / self.re[a, a] - 1.0
        a2 = r / self.re[b, b] - 1.0
        ra = [self.rho0[a] * np.exp(-self.beta[l, a] * a1) for l in range(4)]
        rb = [self.rho0[b] * np.exp(-self.beta[l, b] * a2) for l in range(4)]
        lat = self.lat[a][b]
        L = LATTICES[lat]
        z = np.zeros_like(r)
        rho1 = [z, z, z]  # ρ^(1..3) seen by a
        rho2 = [z, z, z]  # seen by b
        if lat in ("fcc", "bcc", "b1", "sc", "b2"):
            rho01, rho02 = L.Z * rb[0], L.Z * ra[0]
        elif lat in ("dia", "dia3", "hcp"):
            s = L.shape(0.0, 0.0)[2]
            rho01, rho02 = L.Z * rb[0], L.Z * ra[0]
            rho1 = [z, z, s * rb[3] * rb[3]]
            rho2 = [z, z, s * ra[3] * ra[3]]
        elif lat == "dim":
            s = L.shape(0.0, 0.0)
            rho01, rho02 = rb[0], ra[0]
            rho1 = [s[l] * rb[l + 1] ** 2 for l in range(3)]
            rho2 = [s[l] * ra[l + 1] ** 2 for l in range(3)]
        elif lat == "c11":
            rho01, rho02 = ra[0], rb[0]
            rho1 = [ra[1], ra[2], ra[3]]
            rho2 = [rb[1], rb[2], rb[3]]
        elif lat == "l12":
            rho01, rho02 = 8 * ra[0] + 4 * rb[0], 12 * ra[0]
            if self.ialloy == 1:
                t2a, t2b = self.t[2, a], self.t[2, b]
                r21 = 8.0 / 3.0 * (ra[2] * t2a - rb[2] * t2b) ** 2
                denom = 8 * ra[0] * t2a**2 + 4 * rb[0] * t2b**2
                r21 = np.where(denom > 0.0, r21 / np.where(denom > 0, denom, 1.0) * rho01, r21)
            else:
                r21 = 8.0 / 3.0 * (ra[2] - rb[2]) * (ra[2] - rb[2])
            rho1 = [z, r21, z]
        elif lat == "ch4":
            rho01, rho02 = 4.0 * rb[0], ra[0]
            sh = LATTICES["dim"].shape(0.0, 0.0)
            rho2 = [sh[l] * ra[l + 1] ** 2 for l in range(3)]
            sc = L.shape(0.0, 0.0)
            rho1 = [sc[l] * rb[l + 1] ** 2 for l in range(3)]
        elif lat in ("lin", "zig"):
            rho01, rho02 = rb[0] * L.Z, ra[0] * L.Z
            s = L.shape(self.stheta[a, b], self.ctheta[a, b])
            rho2 = [s[l] * ra[l + 1] ** 2 for l in range(3)]
            rho1 = [s[l] * rb[l + 1] ** 2 for l in range(3)]
        elif lat == "tri":
            rho01, rho02 = rb[0], ra[0] * L.Z
            s = L.shape(self.stheta[a, b], self.ctheta[a, b])
            rho2 = [s[l] * ra[l + 1] ** 2 for l in range(3)]
            s = (1.0, 2.0 / 3.0, 1.0 - 0.6 * 1.0)
            rho1 = [s[l] * rb[l + 1] ** 2 for l in range(3)]
        else:
            raise ValueError(f"unknown reference lattice {lat!r}")
        if self.nn2[a, b] == 1:
            Z2, arat, scrn = self._zij2(lat, self.Cmin[a, a, b], self.Cmax[a, a, b], self.stheta[a, b])
            r01nn = self.rho0[a] * np.exp(-self.beta[0, a] * (arat * r / self.re[a, a] - 1.0))
            r02nn = self.rho0[b] * np.exp(-self.beta[0, b] * (arat * r / self.re[b, b] - 1.0))
            if lat == "l12":
                s111, s112, s221 = self._sijk(1.0, a, a, a), self._sijk(1.0, a, a, b), self._sijk(1.0, b, b, a)
                rho01 = rho01 + 6 * (s111 * s111 * s112 * s112) * r01nn
                rho02 = rho02 + 6 * (s221 * s221 * s221 * s221) * r02nn
            else:
                rho01 = rho01 + Z2 * scrn * r01nn
                Z2, arat, scrn = self._zij2(lat, self.Cmin[b, b, a], self.Cmax[b, b, a], self.stheta[a, b])
                rho02 = rho02 + Z2 * scrn * r02nn
        return rho01, rho1, rho02, rho2

    def _tavref(self, r, a: int, b: int):
        ta, tb = self.t[1:, a], self.t[1:, b]
        lat = self.lat[a][b]
        if self.ialloy == 2:
            return [np.full_like(r, v) for v in ta], [np.full_like(r, v) for v in tb]
        if lat in _SWAP_T:
            return [np.full_like(r, v) for v in tb], [np.full_like(r, v) for v in ta]
        if lat == "l12":
            ra0 = self.rho0[a] * np.exp(-self.beta[0, a] * (r / self.re[a, a] - 1.0))
            rb0 = self.rho0[b] * np.exp(-self.beta[0, b] * (r / self.re[b, b] - 1.0))
            rho01 = 8 * ra0 + 4 * rb0
            safe = np.where(rho01 > 0, rho01, 1.0)
            t1 = [np.where(rho01 > 0, (8 * ta[l] * ra0 + 4 * tb[l] * rb0) / safe, (2.0 * ta[l] + tb[l]) / 3.0) for l in range(3)]
            return t1, [np.full_like(r, v) for v in ta]
        return [np.zeros_like(r)] * 3, [np.zeros_like(r)] * 3  # c11 is handled by the caller

    def phi_ref(self, r: np.ndarray, a: int, b: int) -> np.ndarray:
        """φ_ab(r) of the reference structure (LAMMPS MEAM::phi_meam), without nn2/ZBL."""
        r = np.asarray(r, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self._phi(r, a, b)

    def _phi(self, r, a: int, b: int):
        lat = self.lat[a][b]
        Z1, Z2, Z12 = LATTICES[self.lat[a][a]].Z, LATTICES[self.lat[b][b]].Z, LATTICES[lat].Z
        rho01, rho1, rho02, rho2 = self._densref(r, a, b)
        tiny = (rho01 <= 1e-14) & (rho02 <= 1e-14)
        gs = self.gsmooth
        if lat == "c11":
            if self.ialloy == 2:
                t1av, t2av = self.t[1:, a], self.t[1:, b]
            else:
                sf = 1.0 / (rho01 + rho02)
                t1av = [sf * (self.t[l, a] * rho01 + self.t[l, b] * rho02) for l in (1, 2, 3)]
                t2av = t1av
            h = Z12 // 2
            if self.lat[a][a] == "dia":
                rb1 = np.sqrt((h * (rho02 + rho01)) ** 2 + t1av[0] * (rho2[0] - rho1[0]) ** 2 + t1av[1] / 6.0 * (rho2[1] + rho1[1]) ** 2 + 121.0 / 40.0 * t1av[2] * (rho2[2] - rho1[2]) ** 2)
                rb2 = np.sqrt((Z12 * rho01) ** 2 + 2.0 / 3.0 * t1av[1] * rho1[1] ** 2)
            else:
                rb2 = np.sqrt((h * (rho01 + rho02)) ** 2 + t2av[0] * (rho1[0] - rho2[0]) ** 2 + t2av[1] / 6.0 * (rho1[1] + rho2[1]) ** 2 + 121.0 / 40.0 * t2av[2] * (rho1[2] - rho2[2]) ** 2)
                rb1 = np.sqrt((Z12 * rho02) ** 2 + 2.0 / 3.0 * t2av[1] * rho2[1] ** 2)
        else:
            t1av, t2av = self._tavref(r, a, b)
            g1 = t1av[0] * rho1[0] + t1av[1] * rho1[1] + t1av[2] * rho1[2]
            g1 = np.where(rho01 < 1.0e-14, 0.0, g1 / (rho01 * rho01))
            g2 = t2av[0] * rho2[0] + t2av[1] * rho2[1] + t2av[2] * rho2[2]
            g2 = np.where(rho02 < 1.0e-14, 0.0, g2 / (rho02 * rho02))
            G1, G2 = G_np(g1, self.ibar[a], gs), G_np(g2, self.ibar[b], gs)
            if self.bkgd_dyn == 1:
                bk1, bk2 = self.rho0[a] * Z1, self.rho0[b] * Z2
            else:
                bk1, bk2 = self.rho_ref[a], self.rho_ref[b]
            rb1 = rho01 / bk1 * G1
            rb2 = rho02 / bk2 * G2
        F1 = embedding_np(self.A[a], self.Ec[a, a], rb1, self.emb_lin_neg)
        F2 = embedding_np(self.A[b], self.Ec[b, b], rb2, self.emb_lin_neg)
        Eu = erose_np(r, self.re[a, b], self.alpha[a, b], self.Ec[a, b], self.repuls[a, b], self.attrac[a, b], self.erose_form)
        if lat == "c11":
            if self.lat[a][a] == "dia":
                phi = (3 * Eu - F2 - 2 * F1 - 5 * self._phi(r, a, a)) / Z12
            else:
                phi = (3 * Eu - F1 - 2 * F2 - 5 * self._phi(r, b, b)) / Z12
        elif lat == "l12":
            phiaa = self._phi(r, a, a)
            Z1nn = LATTICES[self.lat[a][a]].Z
            Z2nn, arat, scrn = self._zij2(self.lat[a][a], self.Cmin[a, a, a], self.Cmax[a, a, a], self.stheta[a, b])
            phiaa = phiaa + self._series(scrn, Z1nn, Z2nn, a, a, r, arat)
            phi = Eu / 3.0 - F1 / 4.0 - F2 / 12.0 - phiaa
        elif lat == "ch4":
            phi = (5 * Eu - F1 - 4 * F2) / 4
        elif lat in ("zig", "tri") and a != b:
            s1 = float(fcut_np((1.0 - self.Cmin[a, a, b]) / (self.Cmax[a, a, b] - self.Cmin[a, a, b])))
            b11s = -2 / LATTICES[lat].Z * s1
            phiaa = self._phi(2.0 * self.stheta[a, b] * r, a, a)
            if lat == "zig":
                s2 = float(fcut_np((1.0 - self.Cmin[b, b, a]) / (self.Cmax[b, b, a] - self.Cmin[b, b, a])))
                b22s = -2 / LATTICES[lat].Z * s2
                phibb = self._phi(2.0 * self.stheta[a, b] * r, b, b)
                phi = (2.0 * Eu - F1 - F2 + phiaa * b11s + phibb * b22s) / Z12
            else:
                phi = (3.0 * Eu - 2.0 * F1 - F2 + phiaa * b11s) / Z12
        elif lat == "tri":
            phi = (3.0 * Eu - 2.0 * F1 - F2) / Z12
        else:
            phi = (2 * Eu - F1 - F2) / Z12
        return np.where(tiny | _iszero(r), 0.0, phi)

    def _series(self, scrn: float, Z1: int, Z2: int, a: int, b: int, r, arat: float):
        """Σ_{n=1..10} b2nn^n φ(r arat^n), stopped at the first zero term (phi_meam_series)."""
        total = np.zeros_like(r)
        if scrn <= 0.0:
            return total
        b2nn = -Z2 * scrn / Z1
        alive = np.ones(r.shape, dtype=bool)
        for k in range(1, 11):
            val = b2nn**k * self._phi(r * arat**k, a, b)
            alive &= ~_iszero(val)
            total = total + np.where(alive, val, 0.0)
        return total

    def pair_table(self, a: int, b: int) -> np.ndarray:
        """φ_ab on r_k = k·dr, k < 1000, with nn2 and ZBL (LAMMPS compute_pair_meam), a ≤ b."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self._pair_table(a, b)

    def _pair_table(self, a: int, b: int) -> np.ndarray:
        r = np.arange(NR) * self.dr
        phir = self._phi(r, a, b)
        lat = self.lat[a][b]
        if self.nn2[a, b] == 1:
            Z1 = LATTICES[lat].Z
            Z2, arat, scrn = self._zij2(lat, self.Cmin[a, a, b], self.Cmax[a, a, b], self.stheta[a, b])
            if lat in ("b1", "b2", "l12", "dia"):
                rarat = r * arat
                Z1a = LATTICES[self.lat[a][a]].Z
                Z2a, arat_a, scrn_a = self._zij2(self.lat[a][a], self.Cmin[a, a, a], self.Cmax[a, a, a], self.stheta[a, a])
                phiaa = self._phi(rarat, a, a) + self._series(scrn_a, Z1a, Z2a, a, a, rarat, arat_a)
                Z1b = LATTICES[self.lat[b][b]].Z
                Z2b, arat_b, scrn_b = self._zij2(self.lat[b][b], self.Cmin[b, b, b], self.Cmax[b, b, b], self.stheta[b, b])
                phibb = self._phi(rarat, b, b) + self._series(scrn_b, Z1b, Z2b, b, b, rarat, arat_b)
                if lat in ("b1", "b2", "dia"):
                    Z2, _, scrn = self._zij2(lat, self.Cmin[a, a, b], self.Cmax[a, a, b], self.stheta[a, b])
                    phir = phir - Z2 * scrn / (2 * Z1) * phiaa
                    Z2, _, scrn2 = self._zij2(lat, self.Cmin[b, b, a], self.Cmax[b, b, a], self.stheta[a, b])
                    phir = phir - Z2 * scrn2 / (2 * Z1) * phibb
                else:
                    s111, s112, s221 = self._sijk(1.0, a, a, a), self._sijk(1.0, a, a, b), self._sijk(1.0, b, b, a)
                    S11 = s111 * s111 * s112 * s112
                    S22 = s221**4
                    phir = phir - 0.75 * S11 * phiaa - 0.25 * S22 * phibb
            else:
                phir = phir + self._series(scrn, Z1, Z2, a, b, r, arat)
        if self.zbl[a, b] == 1:
            astar = self.alpha[a, b] * (r / self.re[a, b] - 1.0)
            z = zbl_np(r, self.ielt[a], self.ielt[b])
            frac = fcut_np(1 - (astar + 1.0) / (-3.0 + 1.0))
            phir = np.where(astar <= -3.0, z, np.where(astar < -1.0, frac * phir + (1 - frac) * z, phir))
        return phir


def spline_coefficients(phir: np.ndarray) -> np.ndarray:
    """(4, nr) cubic coefficients c0..c3 of LAMMPS MEAM::interpolate_meam."""
    p = np.asarray(phir, dtype=np.float64)
    n = len(p)
    c1 = np.zeros(n)
    c1[0] = p[1] - p[0]
    c1[1] = 0.5 * (p[2] - p[0])
    c1[n - 2] = 0.5 * (p[n - 1] - p[n - 3])
    c1[n - 1] = 0.0
    c1[2 : n - 2] = ((p[0 : n - 4] - p[4:n]) + 8.0 * (p[3 : n - 1] - p[1 : n - 3])) / 12.0
    c2 = np.zeros(n)
    c3 = np.zeros(n)
    d = p[1:] - p[:-1]
    c2[: n - 1] = 3.0 * d - 2.0 * c1[: n - 1] - c1[1:]
    c3[: n - 1] = c1[: n - 1] + c1[1:] - 2.0 * d
    return np.stack([p, c1, c2, c3])


# ----------------------------------------------------------------------------- torch helpers


def fcut(x: torch.Tensor) -> torch.Tensor:
    """[1 − (1 − x)⁴]² on 0 < x < 1, 1 above, 0 below."""
    xc = torch.clamp(x, 0.0, 1.0)
    a = (1.0 - xc) ** 4
    return torch.where(x >= 1.0, torch.ones_like(x), torch.where(x <= 0.0, torch.zeros_like(x), (1.0 - a) ** 2))


def _G(gamma: torch.Tensor, ibar: torch.Tensor, gsmooth: float) -> torch.Tensor:
    sw = -gsmooth / (gsmooth + 1)
    low_arg = torch.where(gamma < sw, gamma, torch.full_like(gamma, -1.0))
    g04_low = torch.sqrt(1 / (gsmooth + 1) * (sw / low_arg) ** gsmooth)
    one = 1.0 + gamma
    g04 = torch.where(gamma < sw, g04_low, torch.sqrt(torch.where(gamma < sw, torch.ones_like(one), one)))
    g1 = torch.exp(gamma / 2.0)
    g3 = 2.0 / (1.0 + torch.exp(-gamma))
    root = torch.sqrt(torch.where(one.abs() > 0, one.abs(), torch.ones_like(one)))
    root = torch.where(one.abs() > 0, root, torch.zeros_like(one))
    g5 = torch.where(one >= 0, root, -root)
    return torch.where((ibar == 0) | (ibar == 4), g04, torch.where(ibar == 1, g1, torch.where(ibar == 3, g3, g5)))


def _ellipse_candidates(i: torch.Tensor, v: torch.Tensor, bond: torch.Tensor, n_atoms: int, cmax: float, max_elements: int = 1 << 22):
    """(bond entry, k entry) pairs of the same centre that can screen: C_ikj < C_max
    implies |r_k − (r_i + r_j)/2|² < max(C_max, 1)/4 · r_ij² (the screening ellipse lies in
    that sphere), tested for all entries at once by per-centre Gram matrices; the exact
    conditions are applied by the caller."""
    E = v.shape[0]
    counts = torch.bincount(i, minlength=n_atoms)
    K = int(counts.max()) if E else 0
    if K < 2:
        e = torch.zeros(0, dtype=torch.long, device=v.device)
        return e, e
    start = torch.cumsum(counts, 0) - counts
    slot = torch.arange(E, device=v.device) - start[i]
    V = torch.zeros(n_atoms, K, 3, dtype=v.dtype, device=v.device)
    V[i, slot] = v
    n2 = torch.full((n_atoms, K), float("inf"), dtype=v.dtype, device=v.device)
    n2[i, slot] = (v * v).sum(-1)
    isb = torch.zeros(n_atoms, K, dtype=torch.bool, device=v.device)
    isb[i, slot] = bond
    f = (cmax - 1.0) / 4.0 * (1.0 + 1e-9) + 1e-9
    step = max(1, max_elements // (K * K))
    out_a, out_b = [], []
    for lo in range(0, n_atoms, step):
        hi = min(n_atoms, lo + step)
        D = torch.bmm(V[lo:hi], V[lo:hi].transpose(1, 2))  # [c, j, k] = v_j · v_k
        nj = torch.where(isb[lo:hi], n2[lo:hi], torch.zeros_like(n2[lo:hi]))
        # |v_k − v_j/2|² − (cmax/4)|v_j|² = |v_k|² − v_j·v_k − (cmax − 1)/4 |v_j|²
        ok = (n2[lo:hi, None, :] - D - f * nj[:, :, None] < 0) & isb[lo:hi, :, None]
        c, aj, bk = torch.nonzero(ok, as_tuple=True)
        c = c + lo
        keep = aj != bk
        out_a.append(start[c[keep]] + aj[keep])
        out_b.append(start[c[keep]] + bk[keep])
    return torch.cat(out_a), torch.cat(out_b)


DENSITY_NAMES = ("rho0", "beta0", "beta1", "beta2", "beta3", "re", "t1", "t2", "t3")


@register_term("meam")
class MEAM(Term):
    """MEAM term (see the module docstring).

    Args:
        species: chemical symbols, one per selected library entry (``types``).
        source: ``{"entries": [library entries], "settings": [[keyword, [0-based
            indices], value], …], "types": [entry names]}`` — the parsed library and
            parameter files (:mod:`physml.io.meam`). ``types`` selects and orders the
            entries used as this term's species (LAMMPS' second element list).
    """

    def __init__(self, species: Sequence[str], source: dict):
        super().__init__(species)
        self.source = {
            "entries": [dict(e) for e in source["entries"]],
            "settings": [[str(k), [int(v) for v in idx], val] for k, idx, val in source["settings"]],
            "types": list(source["types"]),
        }
        setup = MeamSetup(self.source["entries"], [tuple(s) for s in self.source["settings"]])
        self.setup = setup
        names = setup.names
        try:
            sel = [names.index(t) for t in self.source["types"]]
        except ValueError as err:
            raise ValueError(f"MEAM types {self.source['types']} are not all among the library entries {names}") from err
        if len(sel) != len(species):
            raise ValueError(f"{len(species)} species but {len(sel)} MEAM types")
        self.element_index = sel
        S = len(sel)
        self.rc, self.delr = float(setup.rc), float(setup.delr)
        self.ialloy, self.emb_lin_neg, self.gsmooth = int(setup.ialloy), int(setup.emb_lin_neg), float(setup.gsmooth)
        ix = np.ix_(sel, sel)
        ebound = setup.ebound[ix]
        self.cutoff = float(self.rc * math.sqrt(float(ebound.max())))
        self.dr = float(setup.dr)
        self.rdrar = 1.0 / self.dr
        tables = np.zeros((4, S, S, NR))
        for p, a in enumerate(sel):
            for q, b in enumerate(sel):
                lo, hi = min(a, b), max(a, b)
                tables[:, p, q] = spline_coefficients(setup.pair_table(lo, hi))
        self.register_buffer("phi_table", torch.as_tensor(tables.reshape(4, S * S * NR)), persistent=False)
        self.register_buffer("Cmin", torch.as_tensor(setup.Cmin[np.ix_(sel, sel, sel)]), persistent=False)
        self.register_buffer("Cmax", torch.as_tensor(setup.Cmax[np.ix_(sel, sel, sel)]), persistent=False)
        self.register_buffer("ebound", torch.as_tensor(ebound), persistent=False)
        self.register_buffer("ibar", torch.as_tensor([setup.ibar[a] for a in sel], dtype=torch.long), persistent=False)
        self._defaults = self._default_values(setup, sel)

    @staticmethod
    def _default_values(setup: MeamSetup, sel: list[int]) -> dict[str, np.ndarray]:
        S = len(sel)
        row = lambda v: np.tile(np.asarray(v, dtype=np.float64)[sel][None, :], (S, 1))  # noqa: E731
        d = {"rho0": row(setup.rho0), "re": row(np.diag(setup.re))}
        for l in range(4):
            d[f"beta{l}"] = row(setup.beta[l])
        for l in (1, 2, 3):
            d[f"t{l}"] = row(setup.t[l])
        d["A"] = setup.A[sel].copy()
        d["Ec"] = np.diag(setup.Ec)[sel].copy()
        bk = setup.rho0 * np.array([LATTICES[setup.lat[a][a]].Z for a in range(setup.n)]) if setup.bkgd_dyn == 1 else setup.rho_ref
        d["rho_ref"] = np.asarray(bk, dtype=np.float64)[sel].copy()
        return d

    def default_values(self) -> dict[str, np.ndarray]:
        """Parameter tables implied by the source files (for a constant provider)."""
        return {k: v.copy() for k, v in self._defaults.items()}

    def parameter_specs(self) -> list[ParameterSpec]:
        d = self._defaults
        doc = {
            "rho0": "atomic-density scale ρ0 of the neighbour species", "re": "nearest-neighbour distance r_e of the neighbour species",
            "t1": "weight t^(1) of the neighbour species", "t2": "weight t^(2) of the neighbour species", "t3": "weight t^(3) of the neighbour species",
        }
        specs = [
            ParameterSpec(n, "pair", float(d[n][0, 0]), tie="neighbor", unit="Å" if n == "re" else "", doc=doc.get(n, f"density decay β^({n[-1]}) of the neighbour species"))
            for n in DENSITY_NAMES
        ]
        specs += [
            ParameterSpec("A", "element", float(d["A"][0]), doc="embedding scale A"),
            ParameterSpec("Ec", "element", float(d["Ec"][0]), unit="eV", doc="cohesive energy E_c in the embedding function"),
            ParameterSpec("rho_ref", "element", float(d["rho_ref"][0]), doc="background density of the reference structure"),
        ]
        return specs

    # ------------------------------------------------------------------ energy
    def _phi(self, r: torch.Tensor, si: torch.Tensor, sj: torch.Tensor) -> torch.Tensor:
        pp = r * self.rdrar
        with torch.no_grad():
            kk = torch.clamp(torch.floor(pp).long(), max=NR - 2)
        p = pp - kk.to(pp.dtype)
        p = p - (p - torch.clamp(p, max=1.0)).detach()
        rows = (si * self.n_species + sj) * NR + kk
        c0, c1, c2, c3 = (torch.index_select(self.phi_table[k], 0, rows) for k in range(4))
        return ((c3 * p + c2) * p + c1) * p + c0

    def _screening(self, graph, pr, bond: torch.Tensor) -> torch.Tensor:
        """Π_k S_ikj for every list entry (1 for entries that are not bonds)."""
        sp = graph.species
        E = pr.n_pairs
        vec = pr.vectors
        with torch.no_grad():
            v = vec.detach()
            ta, tb = _ellipse_candidates(pr.i, v, bond, graph.n_atoms, max(1.0, float(self.Cmax.max())))
            n2 = (v * v).sum(-1)
            rij2, rik2 = n2.index_select(0, ta), n2.index_select(0, tb)
            d = v.index_select(0, tb) - v.index_select(0, ta)
            rjk2 = (d * d).sum(-1)
            S = self.n_species
            sj_e = sp.index_select(0, pr.j)
            pair = sp.index_select(0, pr.i) * S + sj_e  # species pair of each entry
            pij = pair.index_select(0, ta)
            trip = pij * S + sj_e.index_select(0, tb)
            rb = self.ebound.reshape(-1).index_select(0, pij) * rij2
            xik, xjk = rik2 / rij2, rjk2 / rij2
            aa = 1 - (xik - xjk) * (xik - xjk)
            safe_a = torch.where(aa > 0, aa, torch.ones_like(aa))
            C = (2.0 * (xik + xjk) + aa - 2.0) / safe_a
            cmax, cmin = self.Cmax.reshape(-1).index_select(0, trip), self.Cmin.reshape(-1).index_select(0, trip)
            act = (rjk2 <= rb) & (rik2 <= rb) & (aa > 0.0) & (C < cmax)
            dead = torch.zeros(E, dtype=torch.bool, device=vec.device)
            zero = (C <= cmin) | (fcut((C - cmin) / (cmax - cmin)) == 0.0)  # S_ikj = 0 (also by underflow)
            dead[ta[act & zero]] = True
            part = act & ~zero & ~dead[ta]
            ta, tb, cmin, cmax = ta[part], tb[part], cmin[part], cmax[part]
        vij, vik = vec.index_select(0, ta), vec.index_select(0, tb)
        dd = vik - vij
        rij2 = (vij * vij).sum(-1)
        xik = (vik * vik).sum(-1) / rij2
        xjk = (dd * dd).sum(-1) / rij2
        aa = 1 - (xik - xjk) * (xik - xjk)
        C = (2.0 * (xik + xjk) + aa - 2.0) / aa
        s = fcut((C - cmin) / (cmax - cmin))
        logS = torch.zeros(E, dtype=vec.dtype, device=vec.device).index_add(0, ta, torch.log(s))
        return torch.where(dead, torch.zeros_like(logS), torch.exp(logS))

    def energies(self, graph, params) -> torch.Tensor:
        pr = graph.pairs(self.cutoff)
        N = graph.n_atoms
        sp = graph.species
        with torch.no_grad():
            bond = pr.distances < self.rc
        Sfull = self._screening(graph, pr, bond)
        with torch.no_grad():
            idx = torch.nonzero(bond, as_tuple=True)[0]
        i, j = pr.i.index_select(0, idx), pr.j.index_select(0, idx)
        vec = pr.vectors.index_select(0, idx)
        r = torch.sqrt((vec * vec).sum(-1))
        si, sj = sp[i], sp[j]
        sij = Sfull.index_select(0, idx) * fcut((self.rc - r) / self.delr)
        u = vec / r[:, None]
        S = self.n_species
        if S == 1:
            P = {n: params[n].reshape(-1).index_select(0, i) for n in DENSITY_NAMES}
        else:
            row = i * S + sj
            P = {n: params[n].reshape(-1).index_select(0, row) for n in DENSITY_NAMES}
        aj = r / P["re"] - 1.0
        rho_a = [P["rho0"] * torch.exp(-P[f"beta{l}"] * aj) * sij for l in range(4)]
        if self.ialloy == 1:
            rho_a = [rho_a[0]] + [rho_a[l] * P[f"t{l}"] for l in (1, 2, 3)]
        uu = (u[:, :, None] * u[:, None, :]).reshape(-1, 9)
        uuu = (uu[:, :, None] * u[:, None, :]).reshape(-1, 27)
        t = torch.stack([P["t1"], P["t2"], P["t3"]], 1)
        cols = [
            rho_a[0][:, None],
            t * rho_a[0][:, None],
            t * t * rho_a[0][:, None],
            rho_a[1][:, None] * u,
            rho_a[2][:, None] * uu,
            rho_a[2][:, None],
            rho_a[3][:, None] * uuu,
            rho_a[3][:, None] * u,
        ]
        acc = torch.zeros(N, 1 + 3 + 3 + 3 + 9 + 1 + 27 + 3, dtype=r.dtype, device=r.device).index_add(0, i, torch.cat(cols, 1))
        rho0 = acc[:, 0]
        tsum, tsq = acc[:, 1:4], acc[:, 4:7]
        a1, a2, a2b, a3, a3b = acc[:, 7:10], acc[:, 10:19], acc[:, 19], acc[:, 20:47], acc[:, 47:50]
        rho1 = (a1 * a1).sum(1)
        rho2 = (a2 * a2).sum(1) - a2b * a2b / 3.0
        rho3 = (a3 * a3).sum(1) - 3.0 / 5.0 * (a3b * a3b).sum(1)
        pos = (rho0 > 0.0)[:, None]
        if self.ialloy == 1:
            ok = tsq.abs() >= 1e-20
            tave = torch.where(ok, tsum / torch.where(ok, tsq, torch.ones_like(tsq)), torch.zeros_like(tsum))
        elif self.ialloy == 2:
            own = torch.arange(N, device=r.device)
            tave = torch.stack([params[f"t{l}"][own, sp] for l in (1, 2, 3)], 1)
        else:
            tave = tsum / torch.where(pos, rho0[:, None], torch.ones_like(tsum))
        tave = torch.where(pos, tave, tsum)
        gamma = (tave * torch.stack([rho1, rho2, rho3], 1)).sum(1)
        safe0 = torch.where(rho0 > 0, rho0, torch.ones_like(rho0))
        gamma = torch.where(rho0 > 0, gamma / (safe0 * safe0), gamma)
        G = _G(gamma, self.ibar[sp], self.gsmooth)
        rhob = rho0 * G / params["rho_ref"]
        AEc = params["A"] * params["Ec"]
        safe = torch.where(rhob > 0, rhob, torch.ones_like(rhob))
        neg = -AEc * rhob if self.emb_lin_neg else torch.zeros_like(rhob)
        F = torch.where(rhob > 0, AEc * rhob * torch.log(safe), neg)
        pair = 0.5 * self._phi(r, si, sj) * sij
        return F.index_add(0, i, pair)

    def config(self) -> dict:
        return {"source": self.source}

    def describe(self) -> str:
        lat = " ".join(f"{self.species[p]}:{self.setup.lat[a][a]}" for p, a in enumerate(self.element_index))
        return f"MEAM ({lat}; r_c {self.rc:g} Å, Δr {self.delr:g} Å, ialloy {self.ialloy}; screening range {self.cutoff:.4g} Å)"
