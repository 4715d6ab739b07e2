"""Slabs: a periodic crystal block with vacuum along z, and the layer bookkeeping shared by
the surface and stacking-fault calculators."""

from __future__ import annotations

import math

import numpy as np
from ase import Atoms

EV_PER_A2_TO_J_PER_M2 = 16.021766339999996  # 1 eV/Å² in J/m²


def repeats_for(block: Atoms, thickness: float) -> int:
    """Number of repeats of ``block`` along its third axis to reach ``thickness`` (Å)."""
    h = abs(float(np.dot(block.cell[2], np.cross(block.cell[0], block.cell[1])))) / float(np.linalg.norm(np.cross(block.cell[0], block.cell[1])))
    return max(1, math.ceil(thickness / h - 1e-9))


def add_vacuum(at: Atoms, vacuum: float) -> Atoms:
    """Open the z direction: the slab keeps pbc in x, y, z with ``vacuum`` Å of empty space
    above it (so that stress-free in-plane periodicity is kept and the two surfaces do not
    interact when ``vacuum`` exceeds the cutoff)."""
    at = at.copy()
    at.wrap()
    zmin = at.positions[:, 2].min()
    at.positions[:, 2] -= zmin
    c = at.cell.array.copy()
    if abs(c[2, 0]) > 1e-9 or abs(c[2, 1]) > 1e-9 or abs(c[0, 2]) > 1e-9 or abs(c[1, 2]) > 1e-9:
        raise ValueError("add_vacuum needs a cell with a3 along z and a1, a2 in the xy plane")
    c[2, 2] = at.positions[:, 2].max() + vacuum
    at.set_cell(c)
    at.pbc = True
    return at


def area(at: Atoms) -> float:
    return float(np.linalg.norm(np.cross(at.cell[0], at.cell[1])))


def layers(z: np.ndarray, tol: float = 0.05) -> np.ndarray:
    """Distinct layer heights (sorted) of the coordinates ``z``."""
    zs = np.sort(z)
    breaks = np.flatnonzero(np.diff(zs) > tol)
    groups = np.split(zs, breaks + 1)
    return np.array([g.mean() for g in groups])
