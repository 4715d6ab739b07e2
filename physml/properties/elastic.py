"""Elastic constants from finite strains with internal relaxation.

Strained copies of the relaxed conventional cell (the strain patterns of the crystal's
symmetry, ``N`` strains from −δN/2 to +δN/2 each) have their atoms relaxed at fixed cell
(L-BFGS, ``fmax``) and the stress–strain slopes are fitted by linear regression
(``matscipy.elasticity.fit_elastic_constants``; σ = C ε in Voigt notation, engineering
shear strains). Internal relaxation matters for non-Bravais lattices (diamond, hcp,
A15) and is harmless for the others.

Convergence: the regression's standard error of every reported constant is below
``fit_tol`` of its value (or 0.2 GPa), and a second fit with half the strain increment
agrees within ``delta_tol``.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
from ase.optimize import LBFGS
from ase.units import GPa
from matscipy.elasticity import fit_elastic_constants

from physml.properties.crystal import Crystal
from physml.properties.result import Check, Result

_CUBIC = {"C11": (0, 0), "C12": (0, 1), "C44": (3, 3)}
_HEXAGONAL = {"C11": (0, 0), "C12": (0, 1), "C13": (0, 2), "C33": (2, 2), "C44": (3, 3)}


def _fit(cr: Crystal, symmetry: str, delta: float, n_steps: int, fmax: float) -> tuple[np.ndarray, np.ndarray]:
    at = cr.cell()
    with contextlib.redirect_stdout(io.StringIO()):
        C, C_err = fit_elastic_constants(at, symmetry=symmetry, N_steps=n_steps, delta=delta, optimizer=LBFGS, fmax=fmax, verbose=False, graphics=False)
    return np.asarray(C) / GPa, np.asarray(C_err) / GPa


def elastic_constants(cr: Crystal, delta: float = 5e-4, n_steps: int = 5, fmax: float = 1e-5, fit_tol: float = 5e-3, delta_tol: float = 5e-3) -> dict[str, Result]:
    """C_ij (GPa) of the reference crystal: cubic (C11, C12, C44) or hexagonal (C11, C12,
    C13, C33, C44) by the lattice; also the Voigt bulk modulus ``B_elastic``."""
    symmetry, idx = ("hexagonal", _HEXAGONAL) if cr.lattice == "hcp" else ("cubic", _CUBIC)
    C, err = _fit(cr, symmetry, delta, n_steps, fmax)
    C2, _ = _fit(cr, symmetry, delta / 2, n_steps, fmax)
    out = {}
    note = [f"{symmetry} strain patterns, {n_steps} strains up to ±{delta * n_steps / 2:g}, atoms relaxed to fmax {fmax:g} eV/Å (matscipy.elasticity)"]
    for name, (i, j) in idx.items():
        c, e, c2 = C[i, j], err[i, j], C2[i, j]
        checks = [
            Check("regression standard error", bool(e <= max(fit_tol * abs(c), 0.2)), float(e), max(fit_tol * abs(c), 0.2)),
            Check("half strain increment", bool(abs(c2 - c) <= max(delta_tol * abs(c), 0.2)), float(abs(c2 - c)), max(delta_tol * abs(c), 0.2)),
        ]
        out[name] = Result(float(c), "GPa", checks, error=float(e), notes=note)
    if symmetry == "cubic":
        bv = (C[0, 0] + 2 * C[0, 1]) / 3
    else:
        bv = (2 * (C[0, 0] + C[0, 1]) + C[2, 2] + 4 * C[0, 2]) / 9
    out["B_elastic"] = Result(float(bv), "GPa", out["C11"].checks + out["C12"].checks, notes=note + ["Voigt average bulk modulus from C_ij"])
    return out
