"""Generalised stacking-fault (γ) lines and stacking-fault energies.

A slab with the fault plane normal along z (vacuum above, periodic in-plane, oriented with
``ase.lattice.cubic``) is cut between its two middle layers and the upper half is rigidly
displaced by u along the line direction x. Atoms then relax along z only (the in-plane
coordinates are held, ``ase.constraints.FixCartesian``), the standard constrained GSF
(V. Vítek, Phil. Mag. 18, 773 (1968)):

    γ(u) = [E(u) − E(0)] / A       (mJ/m²)

The two free surfaces are identical in E(u) and E(0) and cancel.

| plane | line | length | reported |
|---|---|---|---|
| fcc (111) | [11-2] | a/√6 (partial b_p) | ``gamma_isf`` = γ(b_p), ``gamma_usf`` = max γ on [0, b_p] |
| bcc (110) | [-111] | a√3/2 (full b) | ``gamma_usf_110`` = max γ |
| bcc (112) | [11-1] | a√3/2 | ``gamma_usf_112`` = max γ |

For fcc the direction sign that leads to the intrinsic fault (rather than to the on-top
stacking) is chosen from the unrelaxed energies at ±b_p. Convergence: every relaxation
reaches ``fmax``, and the reported fault energies change by less than ``thick_tol`` (or
1 mJ/m²) when the slab is 1.5 times thicker.
"""

from __future__ import annotations

import math

import numpy as np
from ase import Atoms
from ase.constraints import FixCartesian
from ase.lattice.cubic import BodyCenteredCubic, FaceCenteredCubic

from physml.properties.crystal import Crystal
from physml.properties.relax import relax
from physml.properties.result import Check, Result, check_within
from physml.properties.slab import EV_PER_A2_TO_J_PER_M2, add_vacuum, area, layers, repeats_for

PLANES: dict[tuple[str, str], tuple[list[list[int]], float]] = {
    # (lattice, plane): (directions x, y, z for ase.lattice.cubic; line length / a)
    ("fcc", "111"): ([[1, 1, -2], [-1, 1, 0], [1, 1, 1]], 1.0 / math.sqrt(6.0)),
    ("bcc", "110"): ([[-1, 1, 1], [1, -1, 2], [1, 1, 0]], math.sqrt(3.0) / 2.0),
    ("bcc", "112"): ([[1, 1, -1], [-1, 1, 0], [1, 1, 2]], math.sqrt(3.0) / 2.0),
}
MJ = EV_PER_A2_TO_J_PER_M2 * 1000.0


def fault_slab(cr: Crystal, plane: str, thickness: float, vacuum: float = 12.0) -> tuple[Atoms, np.ndarray, float]:
    """The oriented slab, the mask of atoms above the cut, and the line length (Å)."""
    key = (cr.lattice, plane)
    if key not in PLANES:
        raise ValueError(f"no γ-line for {cr.lattice} ({plane}); known: " + ", ".join(f"{l} ({p})" for l, p in PLANES))
    dirs, length = PLANES[key]
    builder = FaceCenteredCubic if cr.lattice == "fcc" else BodyCenteredCubic
    one = builder(directions=dirs, size=(1, 1, 1), symbol=cr.element, latticeconstant=cr.a, pbc=True)
    nz = repeats_for(one, thickness)
    ny = max(1, math.ceil(5.0 / one.cell[1, 1]))
    at = add_vacuum(builder(directions=dirs, size=(1, ny, nz), symbol=cr.element, latticeconstant=cr.a, pbc=True), vacuum)
    zl = layers(at.positions[:, 2])
    k = len(zl) // 2
    cut = 0.5 * (zl[k - 1] + zl[k])
    return at, at.positions[:, 2] > cut, length * cr.a


def _energy(cr: Crystal, base: Atoms, upper: np.ndarray, shift: float, fmax: float, relax_z: bool = True) -> tuple[float, bool, float]:
    at = base.copy()
    at.positions[upper, 0] += shift
    at.calc = cr.calc
    at.set_constraint(FixCartesian(range(len(at)), mask=(True, True, False)))
    if not relax_z:
        return float(at.get_potential_energy()), True, 0.0
    r = relax(at, fmax=fmax)
    return float(at.get_potential_energy()), r.converged, r.fmax


def gamma_line(cr: Crystal, plane: str, n_points: int = 11, thickness: float = 24.0, fmax: float = 1e-3) -> dict:
    """Relaxed γ(u) (mJ/m²) at ``n_points`` displacements from 0 to the line length."""
    base, upper, length = fault_slab(cr, plane, thickness)
    sign = 1.0
    if cr.lattice == "fcc":
        e_p = _energy(cr, base, upper, +length, fmax, relax_z=False)[0]
        e_m = _energy(cr, base, upper, -length, fmax, relax_z=False)[0]
        sign = 1.0 if e_p < e_m else -1.0
    u = np.linspace(0.0, 1.0, n_points)
    e, ok, worst = [], True, 0.0
    for x in u:
        en, conv, f = _energy(cr, base, upper, sign * x * length, fmax)
        e.append(en)
        ok &= conv
        worst = max(worst, f)
    g = (np.asarray(e) - e[0]) / area(base) * MJ
    return {"u": u.tolist(), "gamma": g.tolist(), "converged": ok, "fmax": worst, "natoms": len(base), "length": length}


def stacking_faults(cr: Crystal, plane: str | None = None, n_points: int = 11, thickness: float = 24.0, fmax: float = 1e-3, thick_tol: float = 1e-2) -> dict[str, Result]:
    """Fault energies of one plane (default: every plane of the lattice) with their γ-lines
    in ``data``; see the module table for the names."""
    planes = [plane] if plane else [p for (l, p) in PLANES if l == cr.lattice]
    if not planes:
        raise ValueError(f"no γ-lines defined for {cr.lattice}")
    out: dict[str, Result] = {}
    for pl in planes:
        lines = [gamma_line(cr, pl, n_points, t, fmax) for t in (thickness, 1.5 * thickness)]
        vals = []
        for ln in lines:
            g = np.asarray(ln["gamma"])
            v = {"usf": _peak(g)}
            if cr.lattice == "fcc":
                v["isf"] = float(g[-1])
            vals.append(v)
        base_checks = [Check(f"relaxations ({ln['natoms']} atoms) fmax {ln['fmax']:.2g}", ln["converged"], ln["fmax"], fmax) for ln in lines]
        note = [f"({pl}) γ-line, {n_points} points, slab of {lines[1]['natoms']} atoms, z-only relaxation"]
        data = {"plane": pl, "u": lines[1]["u"], "gamma": lines[1]["gamma"], "length": lines[1]["length"]}
        for k in vals[1]:
            name = f"gamma_{k}" if cr.lattice == "fcc" else f"gamma_{k}_{pl}"
            tol = max(thick_tol * abs(vals[1][k]), 1.0)
            checks = base_checks + [check_within("slab thickness x1.5", vals[0][k], vals[1][k], abs_=tol)]
            out[name] = Result(vals[1][k], "mJ/m^2", checks, notes=note, data=data)
        if cr.lattice == "fcc":
            out["gamma_usf"].notes = note + ["maximum of the parabola through the largest sampled point and its neighbours"]
    return out


def _peak(g: np.ndarray) -> float:
    """Maximum of γ: the parabola through the largest sample and its two neighbours."""
    k = int(np.argmax(g))
    if 0 < k < len(g) - 1:
        y0, y1, y2 = g[k - 1], g[k], g[k + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            return float(y1 - (y2 - y0) ** 2 / (8 * den))
    return float(g[k])
