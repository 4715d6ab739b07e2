"""Per-atom crystalline order parameter for telling solid from liquid atoms.

ψ_i = (1/3) Σ_q |(1/Z_i) Σ_j exp(i q·r_ij)|² over the neighbours j of atom i within
``cutoff``, with q the three reciprocal-lattice vectors (2π/a)(2,0,0), (0,2,0), (0,0,2) of
the cubic conventional cell, for which exp(i q·r_ij) = 1 for every fcc and bcc neighbour of
the perfect crystal aligned with the cell (J. R. Morris, Phys. Rev. B 66, 144104 (2002)).
ψ ≈ exp(−q²⟨u²⟩) in a hot crystal and ≈ 1/Z in a liquid; it is then averaged over each
atom and its neighbours to remove thermal noise. Neighbour lists by ``vesin``.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from vesin import NeighborList

SHELL_CUTOFF = {"fcc": 0.85, "bcc": 1.2}  # × a: between the 1st and 2nd (fcc), 2nd and 3rd (bcc) shells


def order_parameter(atoms: Atoms, a: float, lattice: str) -> np.ndarray:
    """Smoothed ψ_i of every atom (``a``: the crystal's current cubic lattice constant)."""
    if lattice not in SHELL_CUTOFF:
        raise ValueError(f"order parameter defined for {', '.join(SHELL_CUTOFF)}, not {lattice}")
    at = atoms.copy()
    at.wrap()
    i, j, d = NeighborList(cutoff=SHELL_CUTOFF[lattice] * a, full_list=True).compute(at.positions, at.cell.array, True, quantities="ijD")
    n = len(at)
    z = np.maximum(np.bincount(i, minlength=n), 1)
    q = 2.0 * np.pi / a * 2.0 * np.eye(3)
    phase = d @ q.T  # (pairs, 3)
    psi = np.zeros(n)
    for k in range(3):
        re = np.bincount(i, np.cos(phase[:, k]), minlength=n) / z
        im = np.bincount(i, np.sin(phase[:, k]), minlength=n) / z
        psi += (re**2 + im**2) / 3.0
    return (psi + np.bincount(i, psi[j], minlength=n)) / (1.0 + np.bincount(i, minlength=n))
