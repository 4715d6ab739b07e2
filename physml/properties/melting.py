"""Melting temperature by the solid–liquid coexistence (interface velocity) method.

Protocol (J. R. Morris et al., Phys. Rev. B 49, 3109 (1994); interface-velocity variant as
in J. R. Morris, Phys. Rev. B 66, 144104 (2002)):

1. a cell of nx × ny × nz conventional cells (z the long axis) is equilibrated as a solid at
   ``t_guess`` (NPT, P = 0, each axis independently);
2. the atoms of the upper half are melted at ``melt_factor`` × t_guess (default 3: at the
   solid's density and next to a fixed crystal the upper half superheats far beyond T_m)
   and brought back to t_guess (Langevin NVT) while the lower half is held fixed: a solid
   slab with two (001) interfaces to the liquid;
3. from that start, one NPT run (P = 0, Berendsen, independent axes) per temperature T
   records the number of solid atoms N_s(t) (order parameter of :mod:`physml.properties.order`,
   threshold halfway between the solid and liquid halves of the start);
4. the interface velocity v(T) = (dN_s/dt) / (2 A n_solid) (Å/ps; positive when the solid
   grows) is the slope of a straight-line fit of N_s(t) after ``skip_ps``, using only the
   part of the run where both phases are present;
5. v(T) is linear near T_m: a weighted straight-line fit v = c₀ + c₁T of every run within
   ±6 % of the sign change gives T_m = −c₀/c₁ and its standard error from the fit's
   covariance (delta method), scaled by the reduced χ² when the runs scatter more than
   their regression errors (one trajectory per temperature does).

If all velocities have one sign the temperature window is shifted (``adaptive`` rounds).
Converged when T_m is bracketed by the sampled temperatures, the velocity changes sign
only once (a cell too small or runs too short give solid growth above a melting run), and
the standard error is below ``rel_tol`` of T_m. The system size and run length are parameters and are stated
in the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from ase import Atoms, units
from ase.constraints import FixAtoms
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import thermalize_momenta

from physml.properties.crystal import Crystal
from physml.properties.md import MDSettings, run_npt, thermalise
from physml.properties.order import order_parameter
from physml.properties.result import Check, Result


@dataclass
class Coexistence:
    """Settings of the coexistence method (times in ps, size in conventional cells)."""

    size: tuple[int, int, int] = (8, 8, 16)
    temperatures: Sequence[float] | None = None  # default: t_guess × (0.94 … 1.06)
    window: Sequence[float] = (0.94, 0.97, 1.0, 1.03, 1.06)
    prep_ps: float = 4.0
    melt_ps: float = 3.0
    cool_ps: float = 1.0
    run_ps: float = 20.0
    skip_ps: float = 2.0
    sample_ps: float = 0.2
    melt_factor: float = 3.0
    adaptive: int = 2
    rel_tol: float = 0.01
    md: MDSettings = field(default_factory=MDSettings)


def _steps(ps: float, md: MDSettings) -> int:
    return max(1, int(round(ps * 1000.0 / md.dt)))


def _a_now(at: Atoms, nx: int) -> float:
    return float(at.cell.lengths()[0]) / nx


def prepare(cr: Crystal, t_guess: float, s: Coexistence) -> tuple[Atoms, float]:
    """Steps 1–2: the half-solid/half-liquid start and the solid/liquid ψ threshold."""
    nx, ny, nz = s.size
    at = cr.supercell((nx, ny, nz))
    thermalise(at, 2 * t_guess, s.md.seed)
    run_npt(at, t_guess, _steps(s.prep_ps, s.md), s.md)
    calc = at.calc
    z = at.get_scaled_positions()[:, 2]
    lower = z < 0.5
    at.set_constraint(FixAtoms(mask=lower))
    for T, ps in ((s.melt_factor * t_guess, s.melt_ps), (t_guess, s.cool_ps)):
        dyn = Langevin(at, timestep=s.md.dt * units.fs, temperature_K=T, friction=0.01 / units.fs, rng=np.random.default_rng(s.md.seed + 1), fixcm=False)
        dyn.run(_steps(ps, s.md))
    at.set_constraint()
    v = at.get_velocities()
    thermalize_momenta(at, temperature_K=t_guess, rng=np.random.default_rng(s.md.seed + 2))
    v[lower] = at.get_velocities()[lower]
    at.set_velocities(v)
    at.calc = calc
    psi = order_parameter(at, _a_now(at, nx), cr.lattice)
    threshold = 0.5 * (np.median(psi[lower]) + np.median(psi[~lower]))
    return at, float(threshold)


def interface_run(cr: Crystal, start: Atoms, T: float, threshold: float, s: Coexistence) -> dict:
    """Step 3–4 at one temperature: N_s(t), interface position and velocity."""
    nx = s.size[0]
    at = start.copy()
    at.calc = start.calc
    at.set_velocities(start.get_velocities() * np.sqrt(T / max(start.get_temperature(), 1e-9)))
    n_cell = len(cr.cell())

    def sample(x: Atoms):
        a = _a_now(x, nx)
        return int((order_parameter(x, a, cr.lattice) > threshold).sum()), a, float(np.linalg.norm(np.cross(x.cell[0], x.cell[1])))

    rec = [sample(at)] + run_npt(at, T, _steps(s.run_ps, s.md), s.md, every=_steps(s.sample_ps, s.md), sample=sample)
    t = np.arange(len(rec)) * _steps(s.sample_ps, s.md) * s.md.dt / 1000.0
    return interface_velocity(T, t, np.array([r[0] for r in rec], float), np.array([r[1] for r in rec]), np.array([r[2] for r in rec]), len(at), n_cell, s.skip_ps)


def interface_velocity(T: float, t: np.ndarray, ns: np.ndarray, a: np.ndarray, area: np.ndarray, n_atoms: int, n_cell: int, skip_ps: float) -> dict:
    """Step 4 from a recorded run (also used on LAMMPS trajectories): N_s(t) → solid
    thickness h = N_s / (A n_solid) → v = (dh/dt)/2 (Å/ps)."""
    rho_s = n_cell / a**3
    height = ns / (area * rho_s)  # thickness of the solid slab (Å)
    frac = ns / n_atoms
    use = (t >= skip_ps) & (frac > 0.05) & (frac < 0.95)
    if use.sum() >= 3:
        c, cov = np.polyfit(t[use], height[use], 1, cov=True)
        v, v_err = c[0] / 2.0, float(np.sqrt(cov[0, 0])) / 2.0
    else:  # fully melted or solidified before the fit window: the sign is still known
        out = np.flatnonzero((frac <= 0.05) | (frac >= 0.95))
        k = int(out[0]) if len(out) else len(t) - 1
        v = (height[k] - height[0]) / (2 * max(t[k], t[1]))
        v_err = abs(v) / 2
    return {"T": T, "t": np.asarray(t).tolist(), "interface": (height / 2).tolist(), "solid_fraction": frac.tolist(), "v": float(v), "v_err": float(max(v_err, 1e-6)), "two_phase_points": int(use.sum())}


def _fit_tm(T: np.ndarray, v: np.ndarray, err: np.ndarray) -> tuple[float, float]:
    w = 1.0 / err
    A = np.vstack([np.ones_like(T), T]).T
    Aw = A * w[:, None]
    cov = np.linalg.inv(Aw.T @ Aw)
    c0, c1 = cov @ Aw.T @ (v * w)
    # scale the covariance by the reduced chi² when the scatter exceeds the error bars
    dof = max(len(T) - 2, 1)
    chi2 = float(((A @ np.array([c0, c1]) - v) ** 2 * w**2).sum() / dof)
    cov = cov * max(chi2, 1.0)
    tm = -c0 / c1
    g = np.array([-1.0 / c1, c0 / c1**2])
    return float(tm), float(np.sqrt(g @ cov @ g))


def estimate_tm(runs: list[dict], rel_tol: float = 0.01, linear_range: float = 0.06) -> tuple[float, float, list[Check]]:
    """Step 5: T_m and its standard error from the runs' interface velocities (sorted in
    place by temperature), with the bracket and error checks."""
    runs.sort(key=lambda r: r["T"])
    T = np.array([r["T"] for r in runs])
    v = np.array([r["v"] for r in runs])
    err = np.array([r["v_err"] for r in runs])
    bracket = bool((v > 0).any() and (v < 0).any())
    # fit every run within ±linear_range of the first sign change (where v(T) is linear):
    # one trajectory per temperature scatters by more than its own regression error, and
    # the reduced-χ² scaling in _fit_tm turns that scatter into the error bar
    if bracket:
        k = int(np.flatnonzero(np.diff(np.sign(v)) != 0)[0])
        t0 = 0.5 * (T[k] + T[k + 1])
        use = np.abs(T - t0) <= linear_range * t0
        tm, tm_err = _fit_tm(T[use], v[use], err[use])
    else:
        tm, tm_err = float("nan"), float("nan")
    flips = int((np.diff(np.sign(v[v != 0])) != 0).sum())
    checks = [
        Check("T_m bracketed by solid-growing and melting runs", bracket),
        Check("interface velocity changes sign once (solid grows below, melts above)", flips == 1, float(flips), 1.0),
        Check("standard error of T_m", bool(np.isfinite(tm_err) and tm_err <= rel_tol * abs(tm)), tm_err, rel_tol * abs(tm) if np.isfinite(tm) else None),
    ]
    return tm, tm_err, checks


def melting_temperature(cr: Crystal, t_guess: float, settings: Coexistence | None = None) -> dict[str, Result]:
    """``T_m`` (K) with its standard error; the runs (interface position vs time) are in
    the result's ``data``."""
    s = settings or Coexistence()
    if cr.lattice not in ("fcc", "bcc"):
        raise ValueError(f"coexistence melting is implemented for fcc and bcc, not {cr.lattice}")
    start, thr = prepare(cr, t_guess, s)
    temps = list(s.temperatures or [t_guess * f for f in s.window])
    runs: list[dict] = []
    for _ in range(1 + s.adaptive):
        runs += [interface_run(cr, start, T, thr, s) for T in temps if all(abs(T - r["T"]) > 1e-6 for r in runs)]
        v = np.array([r["v"] for r in runs])
        if (v > 0).any() and (v < 0).any():
            break
        span = max(temps) - min(temps)
        temps = [T + span if (v > 0).all() else T - span for T in temps]
    tm, tm_err, checks = estimate_tm(runs, s.rel_tol)
    n = len(start)
    notes = [
        f"coexistence, {n} atoms ({s.size[0]}x{s.size[1]}x{s.size[2]} cells, (001) interfaces), {s.run_ps:g} ps per temperature, dt {s.md.dt:g} fs, NPT Berendsen P = 0",
        "interface velocities (Å/ps, + = solid grows): " + ", ".join(f"{r['T']:.0f} K: {r['v']:+.3f}" for r in runs),
    ]
    data = {"runs": runs, "threshold": thr, "natoms": n}
    return {"T_m": Result(tm, "K", checks, error=tm_err, notes=notes, data=data)}
