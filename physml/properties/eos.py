"""Equation of state and relative energies of crystal structures.

E(V) of the conventional cell is sampled on volumes V0·(1 + x), x ∈ [−span, +span]
(homogeneous scaling for cubic lattices; for hcp the c/a ratio is relaxed at every volume),
and fitted with the third-order Birch–Murnaghan form (``ase.eos``, eos="birchmurnaghan";
F. Birch, Phys. Rev. 71, 809 (1947)):

    E(V) = E0 + 9 V0 B0 / 16 · { [(V0/V)^{2/3} − 1]³ B0′ + [(V0/V)^{2/3} − 1]² [6 − 4 (V0/V)^{2/3}] }

giving a0, E_coh = E_free − E0/N, B = B0 and B′ = B0′. Convergence: the fit is repeated
with half the volume span and B must agree within ``b_tol``; a0 of the fit must agree with
the zero-pressure cell relaxation within ``a_tol``; the minimum must lie inside the sampled
range.
"""

from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator
from ase.eos import EquationOfState
from ase.units import GPa

from physml.properties.crystal import LATTICES, Crystal, a_for_volume, relaxed_crystal, unit_cell, volume_per_atom
from physml.properties.result import Check, Result, check_within


def _energies(cr: Crystal, lattice: str, a: float, c_over_a: float | None, scales: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vols, ens = [], []
    for s in scales:
        at = unit_cell(cr.element, lattice, a * s ** (1.0 / 3.0), c_over_a)
        at.calc = cr.calc
        vols.append(at.get_volume() / len(at))
        ens.append(at.get_potential_energy() / len(at))
    return np.asarray(vols), np.asarray(ens)


def _bm_fit(v: np.ndarray, e: np.ndarray) -> tuple[float, float, float, float]:
    eos = EquationOfState(v, e, eos="birchmurnaghan")
    v0, e0, b = eos.fit()
    bp = float(eos.eos_parameters[2])
    return float(v0), float(e0), float(b), bp


def equation_of_state(cr: Crystal, span: float = 0.005, span_bp: float = 0.06, n: int = 11, b_tol: float = 5e-3, a_tol: float = 1e-4) -> dict[str, Result]:
    """a0 (Å), E_coh (eV/atom), B (GPa), B′ of the reference crystal ``cr``.

    V0, E0 and B come from the fit over ±``span`` of V0 (±0.5 %: B is then the curvature at
    V0 even for tabulated potentials whose cubic-spline E(V) is not a Birch–Murnaghan
    curve over wider ranges); B′ needs a wider range and comes from a second fit over
    ±``span_bp``."""
    if cr.lattice == "hcp":
        return _hcp_eos(cr, span, span_bp, n, b_tol)
    scales = 1.0 + np.linspace(-span, span, n)
    v, e = _energies(cr, cr.lattice, cr.a, cr.c_over_a, scales)
    v0, e0, b, _ = _bm_fit(v, e)
    vw, ew = _energies(cr, cr.lattice, cr.a, cr.c_over_a, 1.0 + np.linspace(-span_bp, span_bp, n))
    bp = _bm_fit(vw, ew)[3]
    vh, eh = v[n // 4 : n - n // 4], e[n // 4 : n - n // 4]
    _, _, b_half, _ = _bm_fit(vh, eh)
    a0 = a_for_volume(cr.lattice, v0)
    resid = float(np.sqrt(np.mean((e - _bm_energy(v, v0, e0, b, bp)) ** 2)))
    checks = [
        Check("zero pressure at the minimum", cr.relax_converged),
        Check("minimum inside the sampled volumes", bool(v.min() < v0 < v.max())),
        check_within("a0 of the fit vs the relaxed cell", a0, cr.a, rel=a_tol),
        check_within(f"B with half the volume span (±{span / 2:.3g})", b_half, b, rel=b_tol),
        Check("Birch-Murnaghan fit residual (eV/atom)", resid < 1e-4, resid, 1e-4),
    ]
    data = {"volume": vw.tolist(), "energy": ew.tolist(), "fit": {"V0": v0, "E0": e0, "B": b, "Bp": bp}}
    note = [f"Birch-Murnaghan fit of {n} volumes over ±{span * 100:g}% of V0 (B' over ±{span_bp * 100:g}%)"]
    return {
        "a0": Result(a0, "Å", checks, notes=note, data=data),
        "E_coh": Result(cr.e_free - e0, "eV", checks, notes=note + ["E_coh = E(free atom) - E0 per atom"]),
        "B": Result(b / GPa, "GPa", checks, notes=note),
        "Bp": Result(bp, "", checks, notes=note),
        "V0": Result(v0, "Å^3", checks, notes=note),
    }


def _bm_energy(v, v0, e0, b, bp):
    eta = (v0 / v) ** (2.0 / 3.0)
    return e0 + 9.0 * v0 * b / 16.0 * ((eta - 1.0) ** 3 * bp + (eta - 1.0) ** 2 * (6.0 - 4.0 * eta))


def _hcp_points(cr: Crystal, span: float, n: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """E(V) with c/a relaxed at each fixed volume (FrechetCellFilter, constant_volume)."""
    from ase.filters import FrechetCellFilter
    from ase.optimize import LBFGS

    vols, ens, ok = [], [], True
    for s in 1.0 + np.linspace(-span, span, n):
        at = unit_cell(cr.element, "hcp", cr.a * s ** (1.0 / 3.0), cr.c_over_a)
        at.calc = cr.calc
        opt = LBFGS(FrechetCellFilter(at, constant_volume=True), logfile=None)
        ok &= bool(opt.run(fmax=1e-5, steps=300))
        vols.append(at.get_volume() / len(at))
        ens.append(at.get_potential_energy() / len(at))
    return np.asarray(vols), np.asarray(ens), ok


def _hcp_eos(cr: Crystal, span: float, span_bp: float, n: int, b_tol: float) -> dict[str, Result]:
    v, e, ok = _hcp_points(cr, span, n)
    v0, e0, b, _ = _bm_fit(v, e)
    vw, ew, ok2 = _hcp_points(cr, span_bp, n)
    bp = _bm_fit(vw, ew)[3]
    ok &= ok2
    _, _, b_half, _ = _bm_fit(v[n // 4 : n - n // 4], e[n // 4 : n - n // 4])
    a0 = a_for_volume("hcp", v0, cr.c_over_a)
    checks = [
        Check("zero pressure at the minimum", cr.relax_converged),
        Check("c/a relaxations at fixed volume converged", ok),
        Check("minimum inside the sampled volumes", bool(v.min() < v0 < v.max())),
        check_within(f"B with half the volume span (±{span / 2:.3g})", b_half, b, rel=b_tol),
    ]
    data = {"volume": vw.tolist(), "energy": ew.tolist(), "fit": {"V0": v0, "E0": e0, "B": b, "Bp": bp}}
    note = [f"Birch-Murnaghan fit of {n} volumes over ±{span * 100:g}% of V0 (B' over ±{span_bp * 100:g}%), c/a relaxed at each volume"]
    return {
        "a0": Result(a0, "Å", checks, notes=note, data=data),
        "c_over_a": Result(cr.c_over_a, "", checks[:1], notes=["c/a of the zero-pressure relaxed cell"]),
        "E_coh": Result(cr.e_free - e0, "eV", checks, notes=note),
        "B": Result(b / GPa, "GPa", checks, notes=note),
        "Bp": Result(bp, "", checks, notes=note),
        "V0": Result(v0, "Å^3", checks, notes=note),
    }


def structure_energies(calc: Calculator, cr: Crystal, lattices: tuple[str, ...] = tuple(LATTICES)) -> dict[str, Result]:
    """``dE_<lattice>``: energy per atom of each structure relaxed at zero pressure, minus the
    reference crystal's (eV/atom). Each structure starts at the reference crystal's volume
    per atom and relaxes its volume (and c/a for hcp); a structure that relaxes into another
    (e.g. sc → lower symmetry is excluded by the cell's symmetry) keeps its symmetry
    because the cubic cells relax hydrostatically only."""
    out = {}
    v_atom = volume_per_atom(cr.lattice, cr.a, cr.c_over_a)
    for lat in lattices:
        if lat == cr.lattice:
            continue
        other = relaxed_crystal(calc, cr.element, lat, a_for_volume(lat, v_atom))
        checks = [Check("zero-pressure relaxation converged", other.relax_converged)]
        notes = [f"{lat} a = {other.a:.4f} Å" + (f", c/a = {other.c_over_a:.4f}" if other.c_over_a else "")]
        out[f"dE_{lat}"] = Result(other.e_atom - cr.e_atom, "eV", checks, notes=notes, data={"a": other.a})
    return out
