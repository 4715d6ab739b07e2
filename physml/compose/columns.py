"""Where an element's own block sits inside the multi-species layouts of an alloy.

An elemental potential (one species) and an alloy (S species) built from the same term and
descriptor share their functional form; only the species indexing differs. For species a
of the alloy:

* **parameters** (:func:`parameter_columns`): an element parameter p keeps its column; a
  pair parameter p[·] of the element is the alloy's p[a] (neighbour a); a triple parameter
  p[·][·] is the alloy's p[a][a]. Every other column (p[b], p[a][b], p[b][c] with b or c ≠ a)
  is a *cross* column: it is read only when an atom has a neighbour of another species.
* **descriptors** (:func:`descriptor_columns`): the same-species blocks (neighbours of
  species a only) of the alloy descriptor equal the elemental descriptor, column for column.
* **absent blocks** (:func:`absent_value`): the value a cross-block descriptor column takes
  when the other species is absent (the transform of a zero raw sum).
"""

from __future__ import annotations

import torch

from physml.ml.descriptors import BehlerParrinello, Descriptor, GaussianLegendre, pair_blocks
from physml.parameters import ParameterLayout


def parameter_columns(layout: ParameterLayout, a: int) -> torch.Tensor:
    """Alloy columns (in the elemental layout's order) holding species a's own parameters."""
    S = layout.n_species
    cols = []
    for spec in layout.specs:
        start = layout.slices[spec.name].start
        cols.append({"element": start, "pair": start + a, "triple": start + a * S + a}[spec.indexing])
    return torch.tensor(cols, dtype=torch.long)


def descriptor_columns(descriptor: Descriptor, n_species: int, a: int) -> torch.Tensor:
    """Alloy descriptor columns (in the elemental descriptor's order) of species a's
    same-species blocks."""
    blk = int(pair_blocks(n_species)[a, a])
    if isinstance(descriptor, GaussianLegendre):
        n = descriptor.n_per_block()
        return torch.arange(blk * n, (blk + 1) * n)
    if isinstance(descriptor, BehlerParrinello):
        nr, na = descriptor.n_radial(), descriptor.n_angular()
        radial = torch.arange(a * nr, (a + 1) * nr)
        angular = n_species * nr + torch.arange(blk * na, (blk + 1) * na)
        return torch.cat([radial, angular])
    raise ValueError(f"descriptor kind {descriptor.kind!r} has no known species block layout")


def absent_value(descriptor: Descriptor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Descriptor value of a block whose species is absent (raw sum exactly 0), computed
    with the same tensor operations as the descriptor itself, so it matches bit for bit."""
    zero = torch.zeros((), dtype=dtype)
    if isinstance(descriptor, GaussianLegendre):
        g = zero + descriptor.g_ref
        return torch.asinh(g) if descriptor.transform == "asinh" else g
    if isinstance(descriptor, BehlerParrinello):
        return zero
    raise ValueError(f"descriptor kind {descriptor.kind!r} has no known absent-block value")
