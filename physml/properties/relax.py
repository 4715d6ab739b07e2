"""Structure relaxation with ASE optimisers, reporting whether the force (and stress)
tolerance was reached.

Positions are relaxed with ``ase.optimize.LBFGS`` (FIRE as a fall-back when L-BFGS stalls);
with ``cell`` the cell relaxes too through ``ase.filters.FrechetCellFilter`` (``"hydrostatic"``
keeps the shape, ``"full"`` relaxes all six strains, a 6-sequence is a Voigt mask, e.g.
``(0, 0, 1, 0, 0, 0)`` relaxes only the zz strain).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from ase import Atoms
from ase.filters import FrechetCellFilter
from ase.optimize import FIRE, LBFGS


@dataclass
class Relaxation:
    converged: bool
    steps: int
    fmax: float  # largest residual generalised force (eV/Å; the cell part scaled as in the filter)


def max_force(obj) -> float:
    f = obj.get_forces()
    return float(np.sqrt((f**2).sum(axis=1)).max()) if len(f) else 0.0


def relax(atoms: Atoms, fmax: float = 1e-4, steps: int = 2000, cell: str | Sequence[int] | None = None) -> Relaxation:
    """Relax ``atoms`` in place (its calculator must be attached); constraints are honoured."""
    if cell is None:
        obj = atoms
    elif cell == "hydrostatic":
        obj = FrechetCellFilter(atoms, hydrostatic_strain=True)
    elif cell == "full":
        obj = FrechetCellFilter(atoms)
    else:
        obj = FrechetCellFilter(atoms, mask=list(cell))
    done = 0
    for opt_cls, n in ((LBFGS, steps), (FIRE, steps)):
        if max_force(obj) <= fmax:
            break
        opt = opt_cls(obj, logfile=None)
        opt.run(fmax=fmax, steps=n)
        done += opt.get_number_of_steps()
    res = max_force(obj)
    return Relaxation(bool(res <= fmax), done, res)
