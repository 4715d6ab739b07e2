"""Crystal structures of one element and the relaxed reference crystal the other
calculators start from.

Structures (conventional cells, built with ``ase.build`` / ``ase.spacegroup``):

| name | cell | atoms |
|---|---|---|
| ``fcc``, ``bcc``, ``sc``, ``diamond`` | cubic conventional | 4, 2, 1, 8 |
| ``hcp`` | hexagonal, ideal c/a unless given | 2 |
| ``A15`` | cubic, Pm-3n (Cr₃Si type, β-W), sites 2a + 6c | 8 |
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import Calculator
from ase.spacegroup import crystal as _spacegroup_crystal

LATTICES: dict[str, int] = {"fcc": 4, "bcc": 2, "sc": 1, "diamond": 8, "hcp": 2, "A15": 8}
IDEAL_C_OVER_A = math.sqrt(8.0 / 3.0)


def check_lattice(lattice: str) -> None:
    if lattice not in LATTICES:
        raise ValueError(f"unknown lattice {lattice!r}; known: {', '.join(LATTICES)}")


def unit_cell(element: str, lattice: str, a: float, c_over_a: float | None = None) -> Atoms:
    """Conventional cell of ``lattice`` with lattice constant ``a`` (Å)."""
    check_lattice(lattice)
    if lattice == "hcp":
        return bulk(element, "hcp", a=a, c=a * (c_over_a or IDEAL_C_OVER_A))
    if lattice == "A15":
        return _spacegroup_crystal([element, element], basis=[(0, 0, 0), (0.25, 0, 0.5)], spacegroup=223, cellpar=[a, a, a, 90, 90, 90])
    if lattice == "diamond":
        return bulk(element, "diamond", a=a, cubic=True)
    return bulk(element, lattice, a=a, cubic=True)


def volume_per_atom(lattice: str, a: float, c_over_a: float | None = None) -> float:
    check_lattice(lattice)
    if lattice == "hcp":
        return math.sqrt(3.0) / 2.0 * a**3 * (c_over_a or IDEAL_C_OVER_A) / 2.0
    return a**3 / LATTICES[lattice]


def a_for_volume(lattice: str, v_atom: float, c_over_a: float | None = None) -> float:
    """Lattice constant that gives ``v_atom`` (Å³/atom): used to start other structures at
    the reference crystal's density."""
    return (v_atom / volume_per_atom(lattice, 1.0, c_over_a)) ** (1.0 / 3.0)


def free_atom_energy(calc: Calculator, element: str) -> float:
    """Energy of one isolated atom (non-periodic, 30 Å box): the zero of the cohesive energy."""
    at = Atoms(element, positions=[[15.0, 15.0, 15.0]], cell=[30.0, 30.0, 30.0], pbc=False)
    at.calc = calc
    return float(at.get_potential_energy())


@dataclass
class Crystal:
    """The relaxed ground-state crystal of one element under one calculator.

    ``a`` (and ``c_over_a`` for hcp) at zero pressure, ``e_atom`` its energy per atom (eV),
    ``e_free`` the free atom's energy; every defect, surface and fault energy is measured
    against ``e_atom``.
    """

    element: str
    lattice: str
    a: float
    e_atom: float
    e_free: float
    calc: Calculator
    c_over_a: float | None = None
    relax_converged: bool = True

    def cell(self) -> Atoms:
        at = unit_cell(self.element, self.lattice, self.a, self.c_over_a)
        at.calc = self.calc
        return at

    def supercell(self, n: int | tuple[int, int, int]) -> Atoms:
        reps = (n, n, n) if isinstance(n, int) else tuple(n)
        at = unit_cell(self.element, self.lattice, self.a, self.c_over_a) * reps
        at.calc = self.calc
        return at

    @property
    def cohesive_energy(self) -> float:
        return self.e_free - self.e_atom

    @property
    def nn_distance(self) -> float:
        at = self.cell() * (2, 2, 2)
        d = at.get_all_distances(mic=True)
        return float(np.min(d[d > 1e-8]))


def _energy(calc: Calculator, element: str, lattice: str, a: float, c_over_a: float | None) -> float:
    at = unit_cell(element, lattice, a, c_over_a)
    at.calc = calc
    return float(at.get_potential_energy()) / len(at)


def relaxed_crystal(calc: Calculator, element: str, lattice: str, a_guess: float, c_over_a: float | None = None, p_tol: float = 1e-6) -> Crystal:
    """Minimise the energy per atom of ``lattice`` over its lattice constant(s) and return
    the reference crystal.

    Every structure here has all atomic coordinates fixed by its space group, so the only
    degrees of freedom are a (cubic: Brent's method, ``scipy.optimize.minimize_scalar``) or
    a and c/a (hcp: Nelder–Mead). This is exact where a cell filter with free atoms could
    let diamond or A15 slide into a close-packed structure. Converged when the residual
    pressure (and for hcp the stress anisotropy) is below ``p_tol`` eV/Å³ (0.16 MPa).
    """
    from scipy.optimize import minimize, minimize_scalar

    check_lattice(lattice)
    if lattice == "hcp":
        x0 = np.array([a_guess, c_over_a or IDEAL_C_OVER_A])
        r = minimize(lambda x: _energy(calc, element, lattice, x[0], x[1]), x0, method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-12, "maxiter": 2000})
        a, c_over_a = float(r.x[0]), float(r.x[1])
    else:
        r = minimize_scalar(lambda x: _energy(calc, element, lattice, x, None), bracket=(0.99 * a_guess, a_guess), tol=1e-10)
        a = float(r.x)
    at = unit_cell(element, lattice, a, c_over_a)
    at.calc = calc
    stress = at.get_stress()
    ok = bool(np.abs(stress[:3]).max() <= p_tol)
    e_atom = float(at.get_potential_energy()) / len(at)
    return Crystal(element, lattice, a, e_atom, free_atom_energy(calc, element), calc, c_over_a, ok)
