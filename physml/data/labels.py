"""Batches of labelled structures: a :class:`~physml.system.Batch` plus label tensors and
masks, so that one forward pass evaluates many structures and the loss ignores missing
labels (they are masked, never zero-filled into the loss)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch

from physml.data.structures import Dataset
from physml.system import Batch


@dataclass
class LabelledBatch(Batch):
    energy: torch.Tensor = None  # (B,) eV (0 where masked)
    energy_mask: torch.Tensor = None  # (B,) bool
    forces: torch.Tensor = None  # (N, 3) eV/Å
    forces_mask: torch.Tensor = None  # (N,) bool
    stress: torch.Tensor = None  # (B, 3, 3) eV/Å³, ASE sign
    stress_mask: torch.Tensor = None  # (B,) bool
    weights: torch.Tensor = None  # (B,)
    group: torch.Tensor = None  # (B,) index into group_names
    natoms: torch.Tensor = None  # (B,) atoms per structure (float, for per-atom energies)
    group_names: list = None

    @classmethod
    def from_dataset(
        cls,
        dataset: Dataset,
        species: Sequence[str],
        group_names: Sequence[str] | None = None,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str | None = None,
    ) -> "LabelledBatch":
        group_names = list(group_names) if group_names is not None else dataset.groups
        b = Batch.from_atoms([s.atoms for s in dataset], species, dtype=dtype, device=device)
        B, N = b.n_structures, b.n_atoms
        e = np.zeros(B)
        em = np.zeros(B, dtype=bool)
        f = np.zeros((N, 3))
        fm = np.zeros(N, dtype=bool)
        st = np.zeros((B, 3, 3))
        sm = np.zeros(B, dtype=bool)
        w = np.ones(B)
        g = np.zeros(B, dtype=np.int64)
        ptr = b.ptr.cpu().numpy()
        gi = {name: k for k, name in enumerate(group_names)}
        for k, s in enumerate(dataset):
            if s.energy is not None:
                e[k], em[k] = s.energy, True
            if s.forces is not None:
                f[ptr[k] : ptr[k + 1]] = s.forces
                fm[ptr[k] : ptr[k + 1]] = True
            if s.stress is not None:
                st[k], sm[k] = s.stress, True
            w[k] = s.weight
            if s.config_type not in gi:
                raise ValueError(f"{s.source}: group {s.config_type!r} not in {group_names}")
            g[k] = gi[s.config_type]

        def T(x, dt=dtype):
            return torch.as_tensor(x, dtype=dt, device=device)

        return cls(
            positions=b.positions, cell=b.cell, pbc=b.pbc, species=b.species, numbers=b.numbers, batch=b.batch, ptr=b.ptr,
            energy=T(e), energy_mask=T(em, torch.bool), forces=T(f), forces_mask=T(fm, torch.bool),
            stress=T(st), stress_mask=T(sm, torch.bool), weights=T(w), group=T(g, torch.long),
            natoms=b.atoms_per_structure.to(dtype), group_names=group_names,
        )


def iterate_batches(
    dataset: Dataset,
    species: Sequence[str],
    batch_size: int,
    shuffle: bool = True,
    seed: int = 0,
    epoch: int = 0,
    group_names: Sequence[str] | None = None,
    dtype: torch.dtype = torch.float64,
    device=None,
) -> Iterator[tuple[list[int], LabelledBatch]]:
    """Mini-batches of ``batch_size`` structures; the order depends only on (seed, epoch)."""
    n = len(dataset)
    if shuffle:
        gen = torch.Generator().manual_seed(int(seed) * 100003 + int(epoch))
        order = torch.randperm(n, generator=gen).tolist()
    else:
        order = list(range(n))
    names = list(group_names) if group_names is not None else dataset.groups
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield idx, LabelledBatch.from_dataset(dataset[idx], species, names, dtype, device)
