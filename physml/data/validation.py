"""Checks of input structures and labels, and a consistency report for whole datasets.

:func:`validate_frame` raises :class:`DataError` (a ``ValueError``) naming the file and
frame for malformed input; :func:`check_consistency` reports suspicious but legal data
(net forces, missing stresses, energies that contradict forces along sequences) without
failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from ase import Atoms
from ase.data import chemical_symbols


class DataError(ValueError):
    """Malformed input data; the message names the file and frame."""


def _finite(name: str, value, where: str) -> None:
    if value is None:
        return
    arr = np.asarray(value, dtype=np.float64)
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(np.atleast_1d(arr)))[0].tolist()
        raise DataError(f"{where}: {name} contains NaN or inf (first at index {bad})")


def min_distance_pair(atoms: Atoms, cutoff: float) -> tuple[int, int, float] | None:
    """The closest pair (with periodic images) if closer than ``cutoff``, else None."""
    import vesin

    if len(atoms) < 1:
        return None
    pbc = atoms.get_pbc()
    box = atoms.get_cell().array if pbc.any() else np.zeros((3, 3))
    if pbc.any() and abs(np.linalg.det(box)) < 1e-12:
        return None  # reported separately as a missing cell
    i, j, d = vesin.NeighborList(cutoff=float(cutoff), full_list=False).compute(atoms.positions, box, [bool(p) for p in pbc], "ijd")
    if len(d) == 0:
        return None
    k = int(np.argmin(d))
    return int(i[k]), int(j[k]), float(d[k])


def validate_frame(
    atoms: Atoms,
    energy: float | None,
    forces: np.ndarray | None,
    stress: np.ndarray | None,
    where: str,
    species: Sequence[str] | None = None,
    min_distance: float = 0.5,
) -> None:
    n = len(atoms)
    if n == 0:
        raise DataError(f"{where}: structure has no atoms")
    _finite("positions", atoms.positions, where)
    _finite("cell", atoms.cell.array, where)
    _finite("energy", energy, where)
    _finite("forces", forces, where)
    _finite("stress", stress, where)
    if species is not None:
        unknown = sorted({chemical_symbols[z] for z in atoms.numbers} - set(species))
        if unknown:
            raise DataError(f"{where}: unknown element(s) {', '.join(unknown)} (the potential's species are {list(species)})")
    if forces is not None and np.asarray(forces).shape != (n, 3):
        raise DataError(f"{where}: forces have shape {np.asarray(forces).shape}, expected ({n}, 3)")
    if stress is not None and np.asarray(stress).shape != (3, 3):
        raise DataError(f"{where}: stress has shape {np.asarray(stress).shape}, expected (3, 3) or Voigt (6,)")
    cell = atoms.cell.array
    for axis in range(3):
        if atoms.pbc[axis] and np.linalg.norm(cell[axis]) < 1e-9:
            raise DataError(f"{where}: periodic along axis {axis} but the cell vector {axis} is missing (zero length)")
    if atoms.pbc.all() and abs(np.linalg.det(cell)) < 1e-9:
        raise DataError(f"{where}: the periodic cell is degenerate (zero volume)")
    if stress is not None and (not atoms.pbc.all() or abs(np.linalg.det(cell)) < 1e-9):
        raise DataError(f"{where}: stress given but the cell has zero volume (not periodic in 3D)")
    if min_distance > 0 and n > 0:
        close = min_distance_pair(atoms, min_distance)
        if close is not None:
            a, b, d = close
            raise DataError(f"{where}: atoms {a} and {b} are {d:.4f} Å apart, closer than the minimum distance {min_distance} Å")


@dataclass
class Finding:
    kind: str
    where: str
    message: str
    value: float | None = None


def check_consistency(dataset, net_force_tol: float = 0.1, work_rel_tol: float = 0.5) -> list[Finding]:
    """Suspicious data that is still legal; returns findings (never raises).

    * ``missing_stress``: per group, frames without a stress label;
    * ``net_force``: |Σ_i F_i| above ``net_force_tol`` eV/Å (MD drift, bad frames);
    * ``energy_force_mismatch``: for consecutive frames of a group with the same atoms and
      cell (relaxation or MD sequences), the energy change disagrees with the work of the
      forces (trapezoid rule) by more than ``work_rel_tol`` relative and 0.05 eV/atom.
    """
    out: list[Finding] = []
    for row in dataset.summary():
        missing = row["frames"] - row["with_stress"]
        if missing:
            out.append(Finding("missing_stress", row["group"], f"{missing} of {row['frames']} frames have no stress", float(missing)))
    for k, s in enumerate(dataset):
        if s.forces is not None:
            net = float(np.linalg.norm(s.forces.sum(axis=0)))
            if net > net_force_tol:
                out.append(Finding("net_force", f"{s.source or k}", f"net force {net:.3f} eV/Å", net))
    for g, idx in dataset.group_indices().items():
        for a, b in zip(idx[:-1], idx[1:]):
            s, t = dataset[a], dataset[b]
            if s.energy is None or t.energy is None or s.forces is None or t.forces is None:
                continue
            if len(s.atoms) != len(t.atoms) or (s.atoms.numbers != t.atoms.numbers).any():
                continue
            if not np.allclose(s.atoms.cell.array, t.atoms.cell.array):
                continue
            dr = t.atoms.positions - s.atoms.positions
            if np.abs(dr).max() > 0.5:
                continue
            work = -0.5 * float(((s.forces + t.forces) * dr).sum())
            de = t.energy - s.energy
            if abs(de - work) > max(work_rel_tol * max(abs(de), abs(work)), 0.05 * len(s.atoms)):
                out.append(Finding("energy_force_mismatch", f"{g}: {s.source} → {t.source}", f"ΔE = {de:.3f} eV but the forces' work is {work:.3f} eV", de - work))
    return out
