"""Base class of analytic energy terms.

A term computes per-atom energies e_i from the geometry (:class:`~physml.neighbors.Graph`)
and the per-atom physical parameters of the atoms (a dict produced by the term's
:class:`~physml.parameters.ParameterLayout` from the provider's raw tensor). E_i may depend
only on atom i's own parameters (locality; see the design note). Terms own no learnable
weights: tabulated terms hold fixed tables as buffers.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from physml.parameters import ParameterLayout, ParameterSpec


class Term(nn.Module):
    """An analytic energy term. Subclasses set ``cutoff`` and implement
    :meth:`parameter_specs`, :meth:`energies` and :meth:`config`."""

    kind: str = "abstract"
    cutoff: float = 0.0
    #: True if :meth:`energies` handles a half neighbour list (``graph.pairs(rc).full`` is
    #: False: each unordered pair once, both directions tallied by the term). Only valid
    #: when the term's pair functions do not depend on per-atom parameters of i vs j.
    supports_half_list: bool = False

    def __init__(self, species: Sequence[str]):
        super().__init__()
        self.species = list(species)

    @property
    def n_species(self) -> int:
        return len(self.species)

    def parameter_specs(self) -> list[ParameterSpec]:
        return []

    def layout(self) -> ParameterLayout:
        return ParameterLayout(self.parameter_specs(), self.n_species)

    def energies(self, graph, params: dict[str, torch.Tensor]) -> torch.Tensor:  # pragma: no cover
        """Per-atom energies (N,) in eV."""
        raise NotImplementedError

    def config(self) -> dict:
        """JSON-serialisable constructor arguments (excluding ``species``)."""
        return {}

    @classmethod
    def from_config(cls, config: dict, species: Sequence[str]) -> "Term":
        return cls(species=species, **config)

    def describe(self) -> str:
        return f"{self.kind} (cutoff {self.cutoff:g} Å)"


_DOUBLE_BACKWARD = [False]


def needs_double_backward() -> bool:
    """True inside :class:`double_backward`: terms must build fully differentiable graphs
    (forces/stress enter a training loss), so fused first-derivative kernels are off."""
    return _DOUBLE_BACKWARD[0]


class double_backward:
    """Context manager used by :meth:`Potential.forward` when ``create_graph=True``."""

    def __enter__(self):
        self._old = _DOUBLE_BACKWARD[0]
        _DOUBLE_BACKWARD[0] = True
        return self

    def __exit__(self, *exc):
        _DOUBLE_BACKWARD[0] = self._old
