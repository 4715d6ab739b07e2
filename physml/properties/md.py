"""Finite-temperature properties from molecular dynamics: thermal expansion (NPT), and the
liquid's radial distribution function, density and self-diffusion coefficient.

MD with ASE: velocity Verlet with the Berendsen thermostat and barostat
(``ase.md.nptberendsen.Inhomogeneous_NPTBerendsen`` with one force call per step, see
:class:`Berendsen`; each cell axis scaled independently;
H. J. C. Berendsen et al., J. Chem. Phys. 81, 3684 (1984)) at zero pressure. Berendsen
coupling samples average volumes and structures correctly but not fluctuations, which is
all these properties need. Statistical errors are block averages (5 blocks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator, all_changes
from ase.md.nptberendsen import Inhomogeneous_NPTBerendsen
from ase.md.velocitydistribution import Stationary, thermalize_momenta

from physml.properties.crystal import Crystal
from physml.properties.order import order_parameter
from physml.properties.result import Check, Result


@dataclass
class MDSettings:
    """Time step (fs), thermostat and barostat times (fs), bulk modulus for the barostat (GPa)."""

    dt: float = 2.0
    taut: float = 100.0
    taup: float = 1000.0
    bulk_modulus: float = 100.0
    seed: int = 0


class WithStress(Calculator):
    """Wraps an ASE calculator so that every call computes energy, forces and stress
    together: the Berendsen barostat asks for the stress right after the forces at the same
    positions, which would otherwise cost a second evaluation."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, calc: Calculator):
        super().__init__()
        self.inner = calc  # physml.Calculator keeps its neighbour list across barostat steps

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.inner.calculate(self.atoms, ["energy", "forces", "stress"], system_changes)
        self.results = {k: self.inner.results[k] for k in ("energy", "forces", "stress")}
        self.results["free_energy"] = self.inner.results.get("free_energy", self.results["energy"])


class Berendsen(Inhomogeneous_NPTBerendsen):
    """ASE's Berendsen NPT with one force evaluation per step.

    ASE evaluates the forces again after the barostat rescales positions and cell; here the
    forces of the end of the previous step are used for the first half-kick, as LAMMPS'
    ``fix press/berendsen`` does (it rescales in ``end_of_step``, after the forces). The
    rescaling changes positions by a relative O(dt/τ_P · ΔP/B) ≈ 1e-6 per step, so the
    error is of that order, and the cost halves.
    """

    _forces = None

    def step(self, forces=None):
        f = super().step(forces if forces is not None else self._forces)
        self._forces = f
        return f


def block_error(x: np.ndarray, blocks: int = 5) -> float:
    """Standard error of the mean of a correlated series from ``blocks`` block means."""
    x = np.asarray(x, float)
    if len(x) < 2 * blocks:
        return float("nan")
    m = np.array([b.mean() for b in np.array_split(x, blocks)])
    return float(m.std(ddof=1) / np.sqrt(blocks))


def thermalise(atoms: Atoms, T: float, seed: int) -> None:
    thermalize_momenta(atoms, temperature_K=T, rng=np.random.default_rng(seed))
    Stationary(atoms)


def run_npt(atoms: Atoms, T: float, steps: int, md: MDSettings, every: int = 10, sample: Callable[[Atoms], object] | None = None, mask: Sequence[int] = (1, 1, 1)) -> list:
    """Run ``steps`` NPT steps (P = 0) and return ``sample(atoms)`` every ``every`` steps."""
    if not isinstance(atoms.calc, WithStress):
        atoms.calc = WithStress(atoms.calc)
    dyn = Berendsen(
        atoms, timestep=md.dt * units.fs, temperature_K=T, pressure_au=0.0, taut=md.taut * units.fs, taup=md.taup * units.fs,
        compressibility_au=1.0 / (md.bulk_modulus * units.GPa), mask=tuple(mask),
    )
    out: list = []
    if sample is not None:
        dyn.attach(lambda: out.append(sample(atoms)), interval=every)
    dyn.run(steps)
    return out


def thermal_expansion(cr: Crystal, temperatures: Sequence[float] = (100.0, 300.0, 500.0), size: int = 5, equil_ps: float = 2.0, run_ps: float = 6.0, md: MDSettings | None = None, t_ref: float = 300.0, rel_tol: float = 0.15) -> dict[str, Result]:
    """``alpha`` (1e-6/K): linear thermal expansion coefficient (1/a)(da/dT) at ``t_ref``
    from a linear fit of the NPT lattice constant a(T); ``a_<T>`` the lattice constants.
    Converged when the fit's standard error of α is below ``rel_tol`` of α (a run with fewer
    than 10 samples per temperature has no block error and is not converged)."""
    md = md or MDSettings()
    a_mean, a_err = [], []
    for k, T in enumerate(temperatures):
        at = cr.supercell(size)
        thermalise(at, 2 * T, md.seed + k)
        run_npt(at, T, int(equil_ps * 1000 / md.dt), md)
        vols = run_npt(at, T, int(run_ps * 1000 / md.dt), md, sample=lambda x: x.get_volume() / len(x))
        a = np.cbrt(np.asarray(vols) * (len(cr.cell()) if cr.lattice != "hcp" else 1.0)) if cr.lattice != "hcp" else np.cbrt(np.asarray(vols))
        a_mean.append(float(a.mean()))
        a_err.append(block_error(a))
    T = np.asarray(temperatures, float)
    A = np.vstack([T, np.ones_like(T)]).T
    err = np.asarray(a_err, float)
    known = bool(np.isfinite(err).all())  # a run too short for block errors: unweighted fit, no error bar
    w = 1.0 / np.maximum(err, 1e-12) if known else np.ones_like(T)
    coef, *_ = np.linalg.lstsq(A * w[:, None], np.asarray(a_mean) * w, rcond=None)
    cov = np.linalg.inv((A * w[:, None]).T @ (A * w[:, None]))
    slope, inter = coef
    a_ref = slope * t_ref + inter
    alpha = slope / a_ref * 1e6
    alpha_err = float(np.sqrt(cov[0, 0])) / a_ref * 1e6 if known else float("nan")
    checks = [Check("standard error of alpha", bool(alpha_err <= rel_tol * abs(alpha)), alpha_err, rel_tol * abs(alpha))]
    n_atoms = len(cr.supercell(size))
    notes = [f"NPT Berendsen, {n_atoms} atoms, {equil_ps:g} ps + {run_ps:g} ps per temperature, dt {md.dt:g} fs; a from <V> " + ("(cube root of the volume per atom for hcp)" if cr.lattice == "hcp" else "")]
    out = {"alpha": Result(float(alpha), "1e-6/K", checks, error=alpha_err, notes=notes, data={"T": T.tolist(), "a": a_mean, "a_err": a_err})}
    for t, a, e in zip(temperatures, a_mean, a_err):
        out[f"a_{int(round(t))}K"] = Result(a, "Å", [Check("block error below 1e-3 Å", bool(e < 1e-3), e, 1e-3)], error=e, notes=notes)
    return out


def rdf(atoms: Atoms, r_max: float, nbins: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """g(r) of one periodic frame (vesin neighbour list, ideal-gas normalisation)."""
    from vesin import NeighborList

    at = atoms.copy()
    at.wrap()
    d = NeighborList(cutoff=r_max, full_list=True).compute(at.positions, at.cell.array, True, quantities="d")[0]
    h, edges = np.histogram(d, bins=nbins, range=(0.0, r_max))
    r = 0.5 * (edges[1:] + edges[:-1])
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    rho = len(at) / at.get_volume()
    return r, h / (len(at) * rho * shell)


def first_peak(r: np.ndarray, g: np.ndarray, half_width: float = 0.25) -> float:
    """Position of the main maximum of a sampled g(r): the bin with the largest 5-bin running
    mean, refined by a parabola through the raw g within ``half_width`` Å of it (the raw
    argmax of a short run's histogram wanders by several bins over a broad liquid peak)."""
    r, g = np.asarray(r, float), np.asarray(g, float)
    k = int(np.argmax(np.convolve(g, np.ones(5) / 5, mode="same")))
    sel = np.abs(r - r[k]) <= half_width
    if sel.sum() >= 3:
        c2, c1, _ = np.polyfit(r[sel], g[sel], 2)
        if c2 < 0 and r[sel].min() <= -c1 / (2 * c2) <= r[sel].max():
            return float(-c1 / (2 * c2))
    return float(r[k])


def liquid_properties(cr: Crystal, T: float, size: int = 5, melt_T: float | None = None, melt_ps: float = 5.0, equil_ps: float = 3.0, run_ps: float = 10.0, md: MDSettings | None = None, r_max: float = 8.0, d_tol: float = 0.2) -> dict[str, Result]:
    """``D_liquid`` (1e-9 m²/s) from the mean-squared displacement, ``rdf_peak`` (Å, first
    maximum of g(r), :func:`first_peak`), ``rho_liquid`` (atoms/Å³) of the liquid at ``T`` (melted first at
    ``melt_T``, default 2 T). Checks: the liquid has no crystalline order left (mean ψ below 0.2;
    solid ≈ 0.5–0.9) and D from the two halves of the run agrees within ``d_tol``."""
    md = md or MDSettings()
    at = cr.supercell(size)
    thermalise(at, 2 * (melt_T or 2 * T), md.seed)
    run_npt(at, melt_T or 2 * T, int(melt_ps * 1000 / md.dt), md)
    run_npt(at, T, int(equil_ps * 1000 / md.dt), md)
    frames = run_npt(at, T, int(run_ps * 1000 / md.dt), md, every=25, sample=lambda x: (x.get_positions().copy(), x.cell.array.copy(), x.get_volume()))
    pos = np.array([f[0] for f in frames])
    t = np.arange(len(frames)) * 25 * md.dt / 1000.0  # ps
    msd = ((pos - pos[0]) ** 2).sum(axis=2).mean(axis=1)
    half = len(t) // 2

    def slope(tt, yy):
        return float(np.polyfit(tt, yy, 1)[0])

    skip = max(2, len(t) // 10)
    D = slope(t[skip:], msd[skip:]) / 6.0  # Å²/ps
    d1 = slope(t[skip:half], msd[skip:half]) / 6.0
    pos2 = pos[half:] - pos[half]
    d2 = slope(t[half + skip // 2 :] - t[half], (pos2**2).sum(axis=2).mean(axis=1)[skip // 2 :]) / 6.0
    to_si = 10.0  # 1 Å²/ps = 1e-8 m²/s = 10 × 1e-9 m²/s
    g = np.zeros(200)
    last = []
    for p, c, _ in frames[-10:]:
        x = at.copy()
        x.set_cell(c)
        x.set_positions(p)
        r, gg = rdf(x, r_max)
        g += gg / 10
        last.append(x)
    a_now = (last[-1].get_volume() / len(last[-1]) * len(cr.cell())) ** (1 / 3) if cr.lattice in ("fcc", "bcc") else None
    psi = float(order_parameter(last[-1], a_now, cr.lattice).mean()) if a_now else float("nan")
    liquid = Check("no crystalline order left (mean psi < 0.2)", bool(psi < 0.2), psi, 0.2)
    dcheck = Check("D from the two halves of the run", bool(abs(d1 - d2) <= d_tol * abs(D)), abs(d1 - d2) / max(abs(D), 1e-12), d_tol)
    vols = np.array([f[2] for f in frames])
    notes = [f"{len(at)} atoms, NPT at {T:g} K after melting at {melt_T or 2 * T:g} K; {run_ps:g} ps production"]
    data = {"r": r.tolist(), "g": g.tolist(), "t": t.tolist(), "msd": msd.tolist(), "T": T}
    return {
        "D_liquid": Result(D * to_si, "1e-9 m^2/s", [liquid, dcheck], error=abs(d1 - d2) / 2 * to_si, notes=notes, data=data),
        "rdf_peak": Result(first_peak(r, g), "Å", [liquid], notes=notes, data=data),
        "rho_liquid": Result(float(len(at) / vols.mean()), "1/Å^3", [liquid], error=float(len(at) * block_error(vols) / vols.mean() ** 2), notes=notes),
    }
