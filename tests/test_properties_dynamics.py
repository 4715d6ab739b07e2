"""Lattice dynamics and MD properties of physml.properties against independent references:
phonons against the analytic dynamical matrix of nearest-neighbour central springs; the
thermal expansion a(T) and the liquid's diffusion coefficient and g(r) against LAMMPS
running the same protocol on the same potential (Al99 EAM; both are statistical, so they
are compared within their error bars); g(r) against its ideal-gas and crystal limits; and
the convergence flags flip when a cell is too small or a run too short."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.lj import LennardJones

from physml.properties import relaxed_crystal
from physml.properties.md import MDSettings, first_peak, liquid_properties, rdf, thermal_expansion
from physml.properties.phonons import POINTS, phonons
from tests.test_properties import _one_thread, al99, al99_crystal, lmp_al99  # noqa: F401  (shared fixtures)

THZ = 15.633302  # ν (THz) of ω = 1 sqrt(eV/Å²/amu), divided by 2π
B_AL99 = 79.0  # GPa, the barostat's modulus (the EOS value of Al99)


def _nn_spring_frequencies(a: float, k: float, mass: float, q_reduced) -> np.ndarray:
    """fcc with central springs k between nearest neighbours only (and no force at the
    equilibrium distance): D(q) = (k/m) Σ_R (1 − cos q·R) R̂R̂ᵀ over the 12 neighbours R."""
    R = np.array([[s1, s2, 0] for s1 in (1, -1) for s2 in (1, -1)], float)
    R = np.concatenate([R, R[:, [2, 0, 1]], R[:, [1, 2, 0]]]) * a / 2
    prim = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], float) * a / 2
    q = 2 * np.pi * np.asarray(q_reduced, float) @ np.linalg.inv(prim).T  # reduced → Cartesian (1/Å)
    D = sum((1 - math.cos(q @ r)) * np.outer(r, r) / (r @ r) for r in R) * k / mass
    return np.sqrt(np.clip(np.sort(np.linalg.eigvalsh(D)), 0, None)) * THZ


def test_phonons_match_nearest_neighbour_springs_and_flag_small_cells():
    """LJ with its cutoff between the first and second fcc shells is a lattice of
    nearest-neighbour springs; k = φ''(r_nn) from a finite difference of the dimer energy.
    phonopy's frequencies at X, L, W equal the analytic ones; a 1×1×1 supercell is exact
    only at commensurate q (X), so its L and W are flagged by the size check."""
    sigma = 2.3
    lj = LennardJones(sigma=sigma, epsilon=0.1, rc=1.35 * sigma, smooth=True)
    cr = relaxed_crystal(lj, "Ar", "fcc", 1.55 * sigma)
    r_nn = cr.a / math.sqrt(2)
    assert r_nn < lj.parameters.rc < cr.a  # second shell (at a) outside the cutoff

    def dimer(r):
        at = Atoms("Ar2", positions=[[0, 0, 0], [r, 0, 0]])
        at.calc = lj
        return at.get_potential_energy()

    h = 1e-3
    k = (dimer(r_nn + h) - 2 * dimer(r_nn) + dimer(r_nn - h)) / h**2
    assert abs(dimer(r_nn + h) - dimer(r_nn - h)) / (2 * h) < 1e-5  # no force at r_nn: zero pressure
    mass = cr.cell().get_masses()[0]
    res = phonons(cr, size=2)
    for name, q in POINTS["fcc"].items():
        nu = np.asarray(res[f"nu_{name}"].value)
        assert nu == pytest.approx(_nn_spring_frequencies(cr.a, k, mass, q), rel=1e-3, abs=1e-3), name
        assert res[f"nu_{name}"].converged
    small = phonons(cr, size=1)
    assert small["nu_X"].converged
    assert not small["nu_L"].converged and not small["nu_L"].checks[0].passed and small["nu_L"].checks[0].measure > 0.1


def test_rdf_limits():
    """g(r) → 1 for an ideal gas; the integral of 4πr²ρ g(r) over the first fcc shell is 12."""
    rng = np.random.default_rng(0)
    gas = Atoms("Ar2000", positions=rng.random((2000, 3)) * 30.0, cell=[30.0] * 3, pbc=True)
    r, g = rdf(gas, 8.0, nbins=40)
    assert np.abs(g[r > 2.0] - 1).max() < 0.08 and abs(g[r > 2.0].mean() - 1) < 0.01
    fcc = bulk("Al", "fcc", a=4.05, cubic=True) * (4, 4, 4)
    r, g = rdf(fcc, 6.0, nbins=300)
    rho = len(fcc) / fcc.get_volume()
    dr = r[1] - r[0]
    n = np.cumsum(4 * np.pi * r**2 * rho * g * dr)
    assert n[r < 3.5][-1] == pytest.approx(12.0, rel=1e-2) and r[np.argmax(g)] == pytest.approx(4.05 / math.sqrt(2), abs=dr)
    r = np.linspace(0.02, 7.98, 200)  # a broad noisy liquid peak: located to a fraction of a bin
    noisy = 1 + 1.8 * np.exp(-(((r - 2.83) / 0.25) ** 2)) + rng.normal(0, 0.12, r.size)
    assert first_peak(r, noisy) == pytest.approx(2.83, abs=0.03)


@pytest.mark.data
@pytest.mark.lammps
def test_thermal_expansion_matches_lammps_npt(al99_crystal, lmp_al99):
    mod, lammps = lmp_al99
    temps = (100.0, 700.0)
    res = thermal_expansion(al99_crystal, temperatures=temps, size=3, equil_ps=0.5, run_ps=2.0, md=MDSettings(bulk_modulus=B_AL99))
    ref = [mod.npt_lattice(lammps, "fcc", al99_crystal.a, 3, T, B_AL99, 0.5, 2.0) for T in temps]
    for T, (a_l, e_l) in zip(temps, ref):
        r = res[f"a_{int(T)}K"]
        assert abs(r.value - a_l) < 4 * math.hypot(r.error, e_l) + 2e-4, (T, r.value, r.error, a_l, e_l)
    alpha_l = (ref[1][0] - ref[0][0]) / (temps[1] - temps[0]) / (ref[0][0] + (ref[1][0] - ref[0][0]) * (300 - temps[0]) / (temps[1] - temps[0])) * 1e6
    alpha_l_err = math.hypot(ref[0][1], ref[1][1]) / (temps[1] - temps[0]) / al99_crystal.a * 1e6
    a = res["alpha"]
    assert abs(a.value - alpha_l) < 3 * math.hypot(a.error, alpha_l_err), (a.value, a.error, alpha_l, alpha_l_err)
    assert a.converged  # 15 % relative error target met over 600 K
    short = thermal_expansion(al99_crystal, temperatures=temps, size=3, equil_ps=0.1, run_ps=0.1, md=MDSettings(bulk_modulus=B_AL99))
    assert not short["alpha"].converged and not short["a_700K"].converged


@pytest.mark.data
@pytest.mark.lammps
def test_liquid_diffusion_and_rdf_match_lammps(al99_crystal, lmp_al99):
    mod, lammps = lmp_al99
    T, melt = 1100.0, 2200.0
    res = liquid_properties(al99_crystal, T, size=3, melt_T=melt, melt_ps=1.0, equil_ps=0.5, run_ps=3.0, md=MDSettings(bulk_modulus=B_AL99))
    ref = mod.liquid(lammps, "fcc", al99_crystal.a, 3, T, B_AL99, melt, 1.0, 0.5, 3.0)
    D = res["D_liquid"]
    liquid, halves = D.checks
    assert liquid.passed and math.isfinite(halves.measure)  # melted; D of the two halves compared (3 ps of 108 atoms may exceed its 20 %)
    # 1e-9 m²/s vs Å²/ps; one 108-atom, 3 ps trajectory each (statistical error ≈ 10 % each)
    assert D.value / 10.0 == pytest.approx(ref["D"], rel=0.35)
    g = np.interp(ref["r"], res["D_liquid"].data["r"], res["D_liquid"].data["g"])
    band = (np.asarray(ref["r"]) > 2.0) & (np.asarray(ref["r"]) < 7.5)
    assert np.abs(g - np.asarray(ref["g"]))[band].mean() < 0.08
    assert res["rdf_peak"].value == pytest.approx(ref["rdf_peak"], abs=0.06)
    short = liquid_properties(al99_crystal, T, size=3, melt_T=melt, melt_ps=0.02, equil_ps=0.02, run_ps=0.4, md=MDSettings(bulk_modulus=B_AL99))
    assert not short["D_liquid"].converged and not short["rdf_peak"].converged
    assert not short["D_liquid"].checks[0].passed  # 0.02 ps at 2 T_m leaves the crystal: ψ stays high
