"""Pair-list helpers of the exported (TorchScript) model.

The exported model sees one *local* neighbour list, the one a LAMMPS pair style has: a
centre atom c (0 ≤ c < n) per pair, the pair vector r_cj = x_j − x_c (j a local or ghost
atom; ghosts are explicit periodic images, so no cell shifts appear) and the species of
j. Pairs are sorted by centre (CSR order). E_c depends only on the pairs of c (the
locality of every physml term), so this list is all a term needs.

Everything here is TorchScript-compatible (typed, no Python objects), since the model
runs without Python inside LAMMPS.
"""

from typing import List, Tuple

import torch
from torch import Tensor


class PairList:
    """Pairs of the centres within one cutoff: vectors (E, 3), distances (E,), centre
    index (E,) sorted, neighbour species (E,)."""

    def __init__(self, vectors: Tensor, distances: Tensor, centre: Tensor, species_j: Tensor):
        self.vectors = vectors
        self.distances = distances
        self.centre = centre
        self.species_j = species_j

    def within(self, cutoff: float) -> "PairList":
        """The pairs with r < ``cutoff`` (order kept)."""
        inside = self.distances < cutoff
        if bool(inside.all()):
            return self
        idx = torch.nonzero(inside).squeeze(1)
        return PairList(self.vectors[idx], self.distances[idx], self.centre[idx], self.species_j[idx])

    def size(self) -> int:
        return int(self.distances.shape[0])


def scatter_sum(n: int, index: Tensor, values: Tensor) -> Tensor:
    """Σ over entries with the same ``index`` along dim 0 → (n, …)."""
    shape: List[int] = [n] + list(values.shape[1:])
    return torch.zeros(shape, dtype=values.dtype, device=values.device).index_add(0, index, values)


def csr(centre: Tensor, n: int) -> Tuple[Tensor, Tensor, Tensor]:
    """Counts per centre (n,), first entry of each centre (n,) and each entry's slot
    within its centre (E,) for a list sorted by centre."""
    counts = torch.bincount(centre, minlength=n)
    start = torch.cumsum(counts, 0) - counts
    slot = torch.arange(centre.shape[0], device=centre.device) - start[centre]
    return counts, start, slot


def entry_pairs(centre: Tensor, n: int, ordered: bool) -> Tuple[Tensor, Tensor]:
    """All pairs (a, b) of list entries with the same centre, a ≠ b: every ordered pair
    (``ordered``) or a < b only. Returns the two entry indices."""
    counts, start, _ = csr(centre, n)
    reps = counts[centre]
    E = centre.shape[0]
    a = torch.repeat_interleave(torch.arange(E, device=centre.device), reps)
    first = torch.cumsum(reps, 0) - reps
    offs = torch.arange(a.shape[0], device=centre.device) - torch.repeat_interleave(first, reps)
    b = start[centre[a]] + offs
    keep = (a < b) if not ordered else (a != b)
    return a[keep], b[keep]


def padded(values: Tensor, centre: Tensor, slot: Tensor, n: int, width: int) -> Tensor:
    """(n, width, F) zero-padded per-centre rows of per-entry values (E, F)."""
    out = torch.zeros([n, width, values.shape[1]], dtype=values.dtype, device=values.device)
    return out.index_put((centre, slot), values)


def smooth_cutoff(r: Tensor, rc: float, h: float) -> Tensor:
    """f_c(r) = z⁴/(1 + z⁴), z = (r − r_c)/h for r < r_c, else 0 (the PINN/Mishin cutoff,
    :func:`physml.empirical.cutoff.pinn_cutoff`)."""
    z = (r - rc) / h
    z4 = z**4
    return torch.where(r < rc, z4 / (1.0 + z4), torch.zeros_like(r))


def smooth_cutoff_tensor(r: Tensor, rc: Tensor, h: float) -> Tensor:
    """:func:`smooth_cutoff` with a per-entry cutoff."""
    z = (r - rc) / h
    z4 = z**4
    return torch.where(r < rc, z4 / (1.0 + z4), torch.zeros_like(r))
