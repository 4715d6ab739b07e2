"""Surface energies of low-index surfaces (relaxed).

γ = [E_slab − N ε₀] / (2A), with ε₀ the energy per atom of the bulk reference crystal and A
the area of the slab's periodic cell; the slab (``ase.build.surface`` of the conventional
cell, or ``ase.build.hcp0001`` for the hcp basal plane) is periodic in-plane at the bulk
lattice constant, has ``vacuum`` Å of empty space, and all its atoms are relaxed.
Reported in J/m².

Convergence: the relaxation reaches ``fmax``; γ changes by less than ``thick_tol``
(relative) when the slab is made 1.5 times thicker.
"""

from __future__ import annotations

from typing import Sequence

from ase.build import hcp0001, surface

from physml.properties.crystal import Crystal, unit_cell
from physml.properties.relax import relax
from physml.properties.result import Check, Result, check_within
from physml.properties.slab import EV_PER_A2_TO_J_PER_M2, add_vacuum, area, repeats_for


def _slab(cr: Crystal, miller: tuple[int, ...], thickness: float, vacuum: float):
    if cr.lattice == "hcp":
        if tuple(miller) != (0, 0, 0, 1):
            raise ValueError(f"hcp surfaces: only (0001) is built, not {miller}")
        one = hcp0001(cr.element, size=(1, 1, 2), a=cr.a, c=cr.a * cr.c_over_a, orthogonal=True, periodic=True)
        n = max(1, repeats_for(one, thickness))
        return add_vacuum(hcp0001(cr.element, size=(1, 1, 2 * n), a=cr.a, c=cr.a * cr.c_over_a, orthogonal=True, periodic=True), vacuum)
    bulk = unit_cell(cr.element, cr.lattice, cr.a)
    one = surface(bulk, miller, 1, periodic=True)
    n = repeats_for(one, thickness)
    return add_vacuum(surface(bulk, miller, n, periodic=True), vacuum)


def surface_energy(cr: Crystal, miller: Sequence[int], thickness: float = 16.0, vacuum: float = 12.0, fmax: float = 1e-3, thick_tol: float = 5e-3) -> Result:
    """γ (J/m²) of the ``miller`` surface of the reference crystal."""
    miller = tuple(int(m) for m in miller)
    values, checks, natoms = [], [], []
    for t in (thickness, 1.5 * thickness):
        at = _slab(cr, miller, t, vacuum)
        at.calc = cr.calc
        r = relax(at, fmax=fmax)
        checks.append(Check(f"relaxation ({len(at)} atoms, {t:g} Å) fmax {r.fmax:.2g}", r.converged, r.fmax, fmax))
        values.append((float(at.get_potential_energy()) - len(at) * cr.e_atom) / (2 * area(at)) * EV_PER_A2_TO_J_PER_M2)
        natoms.append(len(at))
    checks.append(check_within("slab thickness x1.5", values[0], values[1], rel=thick_tol))
    name = "".join(str(m) for m in miller)
    return Result(values[1], "J/m^2", checks, notes=[f"({name}) slab of {natoms[1]} atoms, {vacuum:g} Å vacuum, all atoms relaxed; thinner slab: {values[0]:.4f}"])
