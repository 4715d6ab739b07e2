"""Labelled structures and datasets read from any ASE-readable file.

A :class:`LabelledStructure` is an ASE ``Atoms`` plus optional labels (energy, forces,
stress; a missing label is ``None`` — masked in losses, never zero-filled), its
``config_type`` group and a weight. A :class:`Dataset` is a list of them with group-aware
helpers. Reading goes through ``ase.io.read`` (extended XYZ, ASE db, VASP OUTCAR /
vasprun.xml, …) and every frame is validated (:mod:`physml.data.validation`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from ase import Atoms

from physml.data.validation import DataError, validate_frame


@dataclass
class LabelledStructure:
    atoms: Atoms
    energy: float | None = None
    forces: np.ndarray | None = None
    stress: np.ndarray | None = None  # (3, 3), eV/Å³, ASE sign
    config_type: str = "default"
    weight: float = 1.0
    source: str = ""

    @property
    def n_atoms(self) -> int:
        return len(self.atoms)

    @property
    def symbols(self) -> list[str]:
        return self.atoms.get_chemical_symbols()


def _voigt_to_3x3(s: np.ndarray) -> np.ndarray:
    s = np.asarray(s, dtype=np.float64)
    if s.shape == (3, 3):
        return s
    if s.shape == (6,):
        xx, yy, zz, yz, xz, xy = s
        return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
    if s.shape == (9,):
        return s.reshape(3, 3)
    raise DataError(f"stress has shape {s.shape}; expected (6,), (9,) or (3, 3)")


def labels_from_atoms(atoms: Atoms, where: str) -> tuple[float | None, np.ndarray | None, np.ndarray | None]:
    """Energy, forces and stress of a frame (from its calculator or arrays/info)."""
    energy = forces = stress = None
    calc = atoms.calc
    results = dict(getattr(calc, "results", {}) or {})
    info = atoms.info
    if "energy" in results:
        energy = float(results["energy"])
    elif "free_energy" in results:
        energy = float(results["free_energy"])
    elif "energy" in info:
        energy = float(info["energy"])
    if "forces" in results:
        forces = np.asarray(results["forces"], dtype=np.float64)
    elif "forces" in atoms.arrays:
        forces = np.asarray(atoms.arrays["forces"], dtype=np.float64)
    has_stress = info.get("has_stress", True)
    if has_stress is not False and str(has_stress).lower() not in ("false", "0"):
        raw = None
        if "stress" in results:
            raw = results["stress"]
        elif "stress" in info:
            raw = info["stress"]
        if raw is not None:
            stress = _voigt_to_3x3(raw)
        elif "virial" in info:
            vol = atoms.get_volume() if atoms.pbc.all() else 0.0
            if vol <= 1e-12:
                raise DataError(f"{where}: virial given but the cell has zero volume")
            stress = -_voigt_to_3x3(info["virial"]) / vol
    return energy, forces, stress


class Dataset(Sequence[LabelledStructure]):
    """A list of labelled structures with group-aware helpers."""

    def __init__(self, items: Iterable[LabelledStructure] = (), name: str = ""):
        self.items: list[LabelledStructure] = list(items)
        self.name = name

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return Dataset(self.items[k], self.name)
        if isinstance(k, (list, np.ndarray)):
            return Dataset([self.items[int(i)] for i in k], self.name)
        return self.items[k]

    def __add__(self, other: "Dataset") -> "Dataset":
        return Dataset(self.items + list(other.items), self.name or other.name)

    @property
    def groups(self) -> list[str]:
        seen: dict[str, None] = {}
        for s in self.items:
            seen.setdefault(s.config_type, None)
        return list(seen)

    @property
    def species(self) -> list[str]:
        from ase.data import atomic_numbers

        syms = {sym for s in self.items for sym in set(s.symbols)}
        return sorted(syms, key=lambda x: atomic_numbers[x])

    def filter(self, groups: Sequence[str] | None = None, exclude: Sequence[str] | None = None, species: Sequence[str] | None = None) -> "Dataset":
        out = self.items
        if groups is not None:
            out = [s for s in out if s.config_type in set(groups)]
        if exclude is not None:
            out = [s for s in out if s.config_type not in set(exclude)]
        if species is not None:
            allowed = set(species)
            out = [s for s in out if set(s.symbols) <= allowed]
        return Dataset(out, self.name)

    def group_indices(self) -> dict[str, list[int]]:
        d: dict[str, list[int]] = {}
        for k, s in enumerate(self.items):
            d.setdefault(s.config_type, []).append(k)
        return d

    def summary(self) -> list[dict]:
        """Per group: frames, atoms, and how many frames carry each label."""
        rows = []
        for g, idx in self.group_indices().items():
            items = [self.items[k] for k in idx]
            rows.append(
                {
                    "group": g,
                    "frames": len(items),
                    "atoms": sum(s.n_atoms for s in items),
                    "with_energy": sum(s.energy is not None for s in items),
                    "with_forces": sum(s.forces is not None for s in items),
                    "with_stress": sum(s.stress is not None for s in items),
                    "species": sorted({x for s in items for x in s.symbols}),
                }
            )
        return rows

    def summary_table(self) -> str:
        lines = ["| group | frames | atoms | energy | forces | stress | species |", "|---|---|---|---|---|---|---|"]
        for r in self.summary():
            lines.append(f"| {r['group']} | {r['frames']} | {r['atoms']} | {r['with_energy']} | {r['with_forces']} | {r['with_stress']} | {' '.join(r['species'])} |")
        return "\n".join(lines)

    def content_hash(self) -> str:
        """sha256 over positions, cells, numbers and labels (identifies training data)."""
        h = hashlib.sha256()
        for s in self.items:
            h.update(s.atoms.numbers.astype(np.int64).tobytes())
            h.update(np.round(s.atoms.positions, 8).tobytes())
            h.update(np.round(s.atoms.cell.array, 8).tobytes())
            for lab in (s.energy, s.forces, s.stress):
                h.update(b"-" if lab is None else np.round(np.asarray(lab, dtype=np.float64), 8).tobytes())
            h.update(s.config_type.encode())
        return h.hexdigest()


def read_dataset(
    path: str | os.PathLike,
    index: str = ":",
    species: Sequence[str] | None = None,
    min_distance: float = 0.5,
    default_group: str = "default",
    format: str | None = None,
) -> Dataset:
    """Read every frame of an ASE-readable file into a validated :class:`Dataset`.

    Raises :class:`~physml.data.validation.DataError` naming the file and frame for NaN/inf
    values, atoms closer than ``min_distance`` Å, periodic axes without a cell vector,
    unknown elements (when ``species`` is given), inconsistent shapes, or a stress/virial
    on a cell without volume.
    """
    import ase.io

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        frames = ase.io.read(path, index=index, format=format)
    except Exception as err:  # ase raises many types for malformed files
        raise DataError(f"{path}: cannot be read by ase.io ({type(err).__name__}: {err})") from None
    if isinstance(frames, Atoms):
        frames = [frames]
    items = []
    for k, atoms in enumerate(frames):
        where = f"{path}, frame {k}"
        energy, forces, stress = labels_from_atoms(atoms, where)
        validate_frame(atoms, energy, forces, stress, where, species=species, min_distance=min_distance)
        group = str(atoms.info.get("config_type", default_group))
        weight = float(atoms.info.get("weight", 1.0))
        clean = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
        clean.info = {k2: v for k2, v in atoms.info.items() if k2 not in ("energy", "stress", "virial")}
        items.append(LabelledStructure(clean, energy, forces, stress, group, weight, source=f"{path.name}:{k}"))
    return Dataset(items, name=path.name)
