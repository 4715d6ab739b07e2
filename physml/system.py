"""Batches of atomic structures as concatenated tensors.

A :class:`Batch` holds any number of structures (periodic, partly periodic or isolated) as
one set of tensors with a per-atom structure index, so that a single forward pass of a
:class:`~physml.potential.Potential` evaluates all of them. Structures keep ASE
conventions: Cartesian positions in Å, cell rows are the lattice vectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import torch
from ase import Atoms

from physml.species import SpeciesMap


class AtomsShape:
    """Sizes, dtype and device of anything holding ``positions`` (N, 3) and ``cell`` (B, 3, 3)."""

    positions: torch.Tensor
    cell: torch.Tensor

    @property
    def n_atoms(self) -> int:
        return int(self.positions.shape[0])

    @property
    def n_structures(self) -> int:
        return int(self.cell.shape[0])

    @property
    def dtype(self) -> torch.dtype:
        return self.positions.dtype

    @property
    def device(self) -> torch.device:
        return self.positions.device


@dataclass
class Batch(AtomsShape):
    """Concatenated structures.

    Attributes:
        positions: (N, 3) Cartesian positions, Å.
        cell: (B, 3, 3) cells, rows are lattice vectors (zero rows allowed on
            non-periodic axes).
        pbc: (B, 3) periodicity flags.
        species: (N,) index of each atom's element in the potential's species list.
        numbers: (N,) atomic numbers.
        batch: (N,) structure index of each atom.
        ptr: (B + 1,) offsets of each structure's atoms (CSR style).
    """

    positions: torch.Tensor
    cell: torch.Tensor
    pbc: torch.Tensor
    species: torch.Tensor
    numbers: torch.Tensor
    batch: torch.Tensor
    ptr: torch.Tensor

    @property
    def atoms_per_structure(self) -> torch.Tensor:
        return self.ptr[1:] - self.ptr[:-1]

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> "Batch":
        fdt = dtype or self.positions.dtype
        return Batch(
            positions=self.positions.to(device=device, dtype=fdt),
            cell=self.cell.to(device=device, dtype=fdt),
            pbc=self.pbc.to(device=device),
            species=self.species.to(device=device),
            numbers=self.numbers.to(device=device),
            batch=self.batch.to(device=device),
            ptr=self.ptr.to(device=device),
        )

    def volumes(self) -> torch.Tensor:
        """Cell volumes (B,), Å³ (zero for cells with a zero lattice vector)."""
        return torch.linalg.det(self.cell).abs()

    @classmethod
    def from_atoms(
        cls,
        structures: Atoms | Sequence[Atoms],
        species: SpeciesMap | Sequence[str],
        dtype: torch.dtype = torch.float64,
        device: torch.device | str | None = None,
    ) -> "Batch":
        """Build a batch from one or several ASE ``Atoms``.

        Raises:
            ValueError: an element that the potential does not know (the message names the
                element and the structure index).
        """
        if isinstance(structures, Atoms):
            structures = [structures]
        smap = species if isinstance(species, SpeciesMap) else SpeciesMap(species)
        pos, cells, pbcs, nums, spec, bidx, ptr = [], [], [], [], [], [], [0]
        for k, atoms in enumerate(structures):
            z = atoms.get_atomic_numbers()
            try:
                s = smap.indices(z)
            except KeyError as err:
                raise ValueError(f"structure {k}: {err.args[0]}") from None
            pos.append(np.asarray(atoms.get_positions(), dtype=np.float64))
            cells.append(np.asarray(atoms.get_cell().array, dtype=np.float64))
            pbcs.append(np.asarray(atoms.get_pbc(), dtype=bool))
            nums.append(z)
            spec.append(s)
            bidx.append(np.full(len(atoms), k, dtype=np.int64))
            ptr.append(ptr[-1] + len(atoms))
        cat = np.concatenate
        return cls(
            positions=torch.as_tensor(cat(pos) if pos else np.zeros((0, 3)), dtype=dtype, device=device),
            cell=torch.as_tensor(np.stack(cells) if cells else np.zeros((0, 3, 3)), dtype=dtype, device=device),
            pbc=torch.as_tensor(np.stack(pbcs) if pbcs else np.zeros((0, 3), bool), device=device),
            species=torch.as_tensor(cat(spec) if spec else np.zeros(0, np.int64), dtype=torch.long, device=device),
            numbers=torch.as_tensor(cat(nums) if nums else np.zeros(0, np.int64), dtype=torch.long, device=device),
            batch=torch.as_tensor(cat(bidx) if bidx else np.zeros(0, np.int64), dtype=torch.long, device=device),
            ptr=torch.as_tensor(np.asarray(ptr, dtype=np.int64), device=device),
        )


def split_per_structure(values: torch.Tensor, ptr: torch.Tensor) -> list[torch.Tensor]:
    """Split a per-atom tensor back into one tensor per structure."""
    sizes = (ptr[1:] - ptr[:-1]).tolist()
    return list(torch.split(values, sizes))


def iter_chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
