"""Beyond-the-data scans: configurations far from any training set, checked for physical
sanity (and, where DFT data of the same kind exist, for their error).

| scan | what | sanity checks |
|---|---|---|
| ``volume`` | homogeneous compression to ``v_min`` V0 and expansion to ``v_max`` V0 of the crystal | finite; E rises monotonically on compression and on expansion (no spurious minima); P rises monotonically on compression; smooth (no spikes) |
| ``dimer`` | two atoms at distance r | monotonic repulsion below the minimum; E(r_min) ≥ 1 eV above the free atoms; smooth; E → 2 E_free beyond the cutoff |
| ``trimer`` | equilateral and linear three-atom molecules | as the dimer |
| ``hot_md`` | Langevin NVT at ``factor`` × T_m | finite energies/forces; no atoms closer than 0.5 r_nn; potential energy within 1 eV/atom of the crystal's plus 3 k_B T; temperature within 25 % of the target |

Smoothness: the largest |Δ²E| of the equally spaced curve is at most ``spike`` × the
median |Δ²E| of its neighbours (a kink or jump of a network shows up as an isolated
spike).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from ase import Atoms, units
from ase.md.langevin import Langevin

from physml.properties.crystal import Crystal, unit_cell
from physml.properties.md import thermalise
from physml.properties.result import Check


def _smooth(e: np.ndarray, spike: float = 20.0) -> Check:
    d2 = np.abs(np.diff(e, 2))
    if len(d2) < 5:
        return Check("smooth curve", True)
    ratio = 0.0
    for k in range(len(d2)):
        nb = np.concatenate([d2[max(0, k - 3) : k], d2[k + 1 : k + 4]])
        ratio = max(ratio, float(d2[k] / max(np.median(nb), 1e-9 + 1e-6 * np.abs(e).max())))
    return Check("smooth curve (max |d2E| / neighbours' median)", bool(ratio <= spike), ratio, spike)


def _monotonic(name: str, y: np.ndarray, decreasing: bool, tol: float = 1e-6) -> Check:
    d = np.diff(y)
    worst = float(d.max() if decreasing else -d.min()) if len(d) else 0.0
    return Check(name, bool(worst <= tol), worst, tol)


def volume_scan(cr: Crystal, v_min: float = 0.6, v_max: float = 1.5, n: int = 46) -> dict:
    """E (eV/atom) and P (GPa) against V/V0 of the reference crystal."""
    x = np.linspace(v_min, v_max, n)
    e, p = [], []
    for s in x:
        at = unit_cell(cr.element, cr.lattice, cr.a * s ** (1 / 3), cr.c_over_a)
        at.calc = cr.calc
        e.append(at.get_potential_energy() / len(at))
        p.append(-float(np.mean(at.get_stress()[:3])) / units.GPa)
    e, p = np.asarray(e), np.asarray(p)
    k0 = int(np.argmin(np.abs(x - 1.0)))
    checks = [
        Check("finite energies and pressures", bool(np.isfinite(e).all() and np.isfinite(p).all())),
        _monotonic("E rises monotonically on compression", e[: k0 + 1], decreasing=True),
        _monotonic("E rises monotonically on expansion", e[k0:], decreasing=False),
        _monotonic("P rises monotonically on compression", p[: k0 + 1], decreasing=True, tol=1e-3),
        _smooth(e),
    ]
    return {"x": x.tolist(), "energy": (e - cr.e_atom).tolist(), "pressure": p.tolist(), "checks": checks, "xlabel": "V/V0"}


def _cluster_scan(calc, positions_of_r, r: np.ndarray, element: str, e_free: float, n_atoms: int, label: str) -> dict:
    e = []
    for x in r:
        at = Atoms([element] * n_atoms, positions=positions_of_r(x), cell=[40.0, 40.0, 40.0], pbc=False)
        at.positions += 20.0
        at.calc = calc
        e.append(at.get_potential_energy())
    e = np.asarray(e) - n_atoms * e_free
    k = int(np.argmin(e))
    checks = [
        Check(f"{label}: finite energies", bool(np.isfinite(e).all())),
        _monotonic(f"{label}: monotonic repulsion below the minimum", e[: k + 1], decreasing=True),
        Check(f"{label}: repulsive at the shortest distance (E >= 1 eV above free atoms)", bool(e[0] >= 1.0), float(e[0]), 1.0),
        Check(f"{label}: E -> free atoms at the largest distance", bool(abs(e[-1]) < 1e-3), float(abs(e[-1])), 1e-3),
        _smooth(e),
    ]
    return {"x": r.tolist(), "energy": e.tolist(), "checks": checks, "xlabel": "r (Å)"}


def dimer_scan(calc, element: str, e_free: float, r_min: float = 1.0, r_max: float = 9.0, n: int = 81) -> dict:
    r = np.linspace(r_min, r_max, n)
    return _cluster_scan(calc, lambda x: [[0, 0, 0], [x, 0, 0]], r, element, e_free, 2, "dimer")


def trimer_scans(calc, element: str, e_free: float, r_min: float = 1.2, r_max: float = 9.0, n: int = 79) -> dict[str, dict]:
    r = np.linspace(r_min, r_max, n)
    tri = lambda x: [[0, 0, 0], [x, 0, 0], [x / 2, x * np.sqrt(3) / 2, 0]]  # noqa: E731
    lin = lambda x: [[0, 0, 0], [x, 0, 0], [2 * x, 0, 0]]  # noqa: E731
    return {"trimer_equilateral": _cluster_scan(calc, tri, r, element, e_free, 3, "equilateral trimer"), "trimer_linear": _cluster_scan(calc, lin, r, element, e_free, 3, "linear trimer")}


def hot_md(cr: Crystal, T: float, size: int = 3, ps: float = 2.0, dt: float = 1.0, seed: int = 0) -> dict:
    """Langevin NVT at ``T`` of an n×n×n supercell at a0; energies recorded every 10 steps."""
    at = cr.supercell(size)
    thermalise(at, T, seed)
    dyn = Langevin(at, timestep=dt * units.fs, temperature_K=T, friction=0.02 / units.fs, rng=np.random.default_rng(seed), fixcm=False)
    rec: list[tuple[float, float, float, bool]] = []

    def sample():
        f = at.get_forces()
        d = at.get_all_distances(mic=True)
        np.fill_diagonal(d, np.inf)
        rec.append((at.get_potential_energy() / len(at), at.get_temperature(), float(d.min()), bool(np.isfinite(f).all())))

    dyn.attach(sample, interval=10)
    steps = int(ps * 1000 / dt)
    try:
        dyn.run(steps)
        crashed = None
    except Exception as err:  # a model that produces NaN or overlapping atoms fails here
        crashed = f"{type(err).__name__}: {err}"
    e = np.array([r[0] for r in rec]) if rec else np.array([np.nan])
    temp = np.array([r[1] for r in rec]) if rec else np.array([np.nan])
    dmin = np.array([r[2] for r in rec]) if rec else np.array([0.0])
    t = np.arange(len(rec)) * 10 * dt / 1000.0
    hot = temp[len(temp) // 2 :]
    bound = 1.0 + 3 * units.kB * T
    checks = [
        Check("MD ran to the end" + (f" ({crashed})" if crashed else ""), crashed is None),
        Check("finite energies and forces", bool(np.isfinite(e).all() and all(r[3] for r in rec))),
        Check("no atoms closer than 0.5 r_nn", bool(dmin.min() > 0.5 * cr.nn_distance), float(dmin.min()), 0.5 * cr.nn_distance),
        Check("potential energy within 1 eV/atom + 3 kT of the crystal", bool(np.abs(e - cr.e_atom).max() <= bound), float(np.abs(e - cr.e_atom).max()), bound),
        Check("temperature within 25 % of the target", bool(abs(hot.mean() - T) <= 0.25 * T), float(hot.mean()), T),
    ]
    return {"x": t.tolist(), "energy": (e - cr.e_atom).tolist(), "temperature": temp.tolist(), "checks": checks, "xlabel": "t (ps)", "T": T, "natoms": len(at)}


def run_scans(cr: Crystal, names: Sequence[str], t_m: float | None = None, hot_factor: float = 2.0) -> dict[str, dict]:
    """The named scans (``volume``, ``dimer``, ``trimer``, ``hot_md``) of the reference crystal."""
    out: dict[str, dict] = {}
    for n in names:
        if n == "volume":
            out[n] = volume_scan(cr)
        elif n == "dimer":
            out[n] = dimer_scan(cr.calc, cr.element, cr.e_free)
        elif n == "trimer":
            out.update(trimer_scans(cr.calc, cr.element, cr.e_free))
        elif n == "hot_md":
            if not t_m:
                raise ValueError("hot_md needs the melting temperature (material.T_m_guess)")
            out[n] = hot_md(cr, hot_factor * t_m)
        else:
            raise ValueError(f"unknown scan {n!r}; known: volume, dimer, trimer, hot_md")
    return out
