"""Feed-forward regressors: one network per species, or one shared network.

    x⁽ᵏ⁾ = φ(x⁽ᵏ⁻¹⁾ W⁽ᵏ⁾ + b⁽ᵏ⁾) (hidden layers),   y = x⁽ᴸ⁻²⁾ W⁽ᴸ⁻¹⁾ + b⁽ᴸ⁻¹⁾ (linear output)

W⁽ᵏ⁾ is (n_in, n_out): W[m][n] connects input m to output n, as in the ``.pinn`` files.
Activations: ``pinn_sigmoid`` 1/(1+e^{−x}) − ½ (PINN), ``sigmoid``, ``tanh``, ``silu``.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

ACTIVATIONS = {
    "pinn_sigmoid": lambda x: torch.sigmoid(x) - 0.5,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "silu": nn.functional.silu,
}


class MLP(nn.Module):
    """A stack of linear layers with weights stored as (n_in, n_out)."""

    def __init__(self, layers: Sequence[int], activation: str = "pinn_sigmoid", init: str = "xavier", seed: int | None = None):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; known: {sorted(ACTIVATIONS)}")
        self.layers = [int(n) for n in layers]
        self.activation = activation
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        for n_in, n_out in zip(self.layers[:-1], self.layers[1:]):
            w = torch.empty(n_in, n_out, dtype=torch.float64)
            if init == "zeros":
                w.zero_()
            else:
                bound = math.sqrt(6.0 / (n_in + n_out))
                w.uniform_(-bound, bound, generator=gen)
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(torch.zeros(n_out, dtype=torch.float64)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = ACTIVATIONS[self.activation]
        n = len(self.weights)
        for k in range(n):
            x = torch.addmm(self.biases[k], x, self.weights[k])
            if k < n - 1:
                x = act(x)
        return x


class SpeciesNetworks(nn.Module):
    """One :class:`MLP` per species (``shared=False``) or a single network (``shared=True``).
    Atoms are grouped by species so each network runs once on all its atoms."""

    def __init__(self, n_species: int, layers: Sequence[int], activation: str = "pinn_sigmoid", shared: bool = False, init: str = "xavier", seed: int | None = None):
        super().__init__()
        self.n_species = n_species
        self.shared = bool(shared)
        self.layers = list(layers)
        self.activation = activation
        n = 1 if shared else n_species
        self.nets = nn.ModuleList([MLP(layers, activation, init, None if seed is None else seed + k) for k in range(n)])

    def forward(self, x: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        if self.shared:
            return self.nets[0](x)
        out = x.new_zeros((x.shape[0], self.layers[-1]))
        for s, net in enumerate(self.nets):
            idx = torch.nonzero(species == s, as_tuple=True)[0]
            if idx.numel():
                out = out.index_copy(0, idx, net(x.index_select(0, idx)))
        return out
