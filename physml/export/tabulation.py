"""Tabulation error of native LAMMPS tables and the choice of their grid.

Analytic functions written as LAMMPS tables (setfl for analytic EAM, ``pair_style table``
for pair terms) are interpolated by LAMMPS. The error is *measured*, not estimated: the
tables are evaluated exactly as LAMMPS does (setfl through physml's
:class:`~physml.empirical.eam.TabulatedEAM`, which reproduces ``eam/fs`` to round-off;
tables through :func:`physml.export.table.table_results`) on probe structures and compared
with the analytic model. The probes are :func:`physml.lammps.structures.verification_set`
(perturbed crystal, vacancy, surface, hot liquid) of fcc at the model's own equilibrium
lattice constant, plus a compressed crystal and liquid. :func:`refine` doubles the grid
until the errors are within tolerance (energy, and forces as a secondary criterion).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from ase import Atoms
from ase.build import bulk


@dataclass
class TabulationError:
    energy: float  # max |ΔE|/N over the probes, eV/atom
    site_energy: float  # max |ΔE_i|, eV
    force: float  # max |ΔF|, eV/Å

    def describe(self) -> str:
        return f"{self.energy:.2e} eV/atom, site energies {self.site_energy:.2e} eV, forces {self.force:.2e} eV/Å"


def equilibrium_fcc(potential, species: str | None = None, lo: float = 2.4, hi: float = 7.0, n: int = 47) -> float:
    """Lattice constant (Å) of the lowest energy per atom of fcc ``species`` on a grid."""
    el = species or potential.species[0]
    grid = np.linspace(lo, hi, n)
    e = [r["energy"] for r in potential.evaluate([bulk(el, "fcc", a=float(a)) for a in grid], forces=False, stress=False)]
    return float(grid[int(np.argmin(e))])


def probe_structures(potential) -> list[Atoms]:
    """Verification structures at the fcc equilibrium lattice constant a0, plus a crystal
    and a liquid compressed to 0.85 a0 (short distances, high densities)."""
    from physml.lammps.structures import verification_set

    a = equilibrium_fcc(potential)
    dense = verification_set(potential.species, "fcc", 0.85 * a, repeat=3, seed=1)
    return list(verification_set(potential.species, "fcc", a, repeat=3).values()) + [dense["crystal"], dense["liquid"]]


def compare(reference: Sequence[dict], approx: Sequence[dict], structures: Sequence[Atoms]) -> TabulationError:
    e = max(abs(r["energy"] - a["energy"]) / len(s) for r, a, s in zip(reference, approx, structures))
    ei = max(float(np.abs(r["energies"] - a["energies"]).max()) for r, a in zip(reference, approx))
    f = max(float(np.abs(r["forces"] - a["forces"]).max()) for r, a in zip(reference, approx))
    return TabulationError(e, ei, f)


def refine(measure: Callable[[int], TabulationError], n0: int, tol: float, n_max: int, force_tol: float = 1e-4) -> tuple[int, TabulationError]:
    """Smallest n = n0·2^k ≤ n_max whose measured errors are ≤ ``tol`` eV/atom and
    ≤ ``force_tol`` eV/Å (or the largest n tried): returns n and its error."""
    n = n0
    while True:
        err = measure(n)
        if (err.energy <= tol and err.force <= force_tol) or 2 * n > n_max:
            return n, err
        n *= 2
