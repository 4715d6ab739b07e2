"""ASE calculator for any physml :class:`~physml.potential.Potential`.

Implements ``energy``, ``free_energy``, ``forces``, ``stress`` (Voigt xx, yy, zz, yz, xz, xy;
ASE sign, eV/Å³) and ``energies`` (per-atom site energies). The neighbour list is kept with
a skin and reused between calls while it provably holds every pair within the cutoff
(:class:`~physml.neighbors.NeighborCache`: atoms moved less than half the skin, or, when
the cell changed, the strain and the atoms' own displacements stay within the skin), so
MD, NPT MD and relaxations do not rebuild it every step; ASE's ``check_state`` makes the calculator
recompute only when the atoms changed.
"""

from __future__ import annotations

import numpy as np
import torch
from ase.calculators.calculator import Calculator as _AseCalculator
from ase.calculators.calculator import PropertyNotImplementedError, all_changes

from physml.neighbors import NeighborCache
from physml.potential import Potential


class Calculator(_AseCalculator):
    """ASE calculator wrapping a physml potential.

    Args:
        potential: the potential (a path is loaded with :func:`physml.load`).
        skin: neighbour-list skin in Å (0 rebuilds every call).
        device, dtype: where and in which precision to evaluate (default: the potential's).
    """

    implemented_properties = ["energy", "free_energy", "forces", "stress", "energies"]

    def __init__(self, potential: Potential | str, skin: float = 1.0, device=None, dtype=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(potential, Potential):
            from physml.io import load

            potential = load(potential)
        if device is not None or dtype is not None:
            potential = potential.to(device=device, dtype=dtype)
        self.potential = potential
        self.neighbors = NeighborCache(skin=skin)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        want_stress = "stress" in properties
        if want_stress and not atoms.pbc.all():
            raise PropertyNotImplementedError("stress needs a cell periodic in all three directions")
        batch = self.potential.batch(atoms)
        nlist = self.neighbors.get(batch, self.potential.cutoff, full=self.potential.needs_full_list)
        out = self.potential(batch, nlist=nlist, forces=True, stress=want_stress)
        e = float(out["energy"][0].detach())
        self.results["energy"] = e
        self.results["free_energy"] = e
        self.results["energies"] = out["energies"].detach().cpu().numpy().astype(np.float64)
        self.results["forces"] = out["forces"].detach().cpu().numpy().astype(np.float64)
        if "stress" in out:
            s = out["stress"][0].detach().cpu().numpy().astype(np.float64)
            if np.isfinite(s).all():
                self.results["stress"] = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
