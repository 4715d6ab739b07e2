"""Parameter providers of the exported model (TorchScript).

A provider maps the centres' environments to raw per-atom parameters (n, P); the layout
turns them into physical values (the spec transforms of :mod:`physml.parameters`):

* :class:`ScriptedConstant` — p_i = p[s_i] (a classic potential; the table of
  :class:`physml.parameters.ConstantPerSpecies`, frozen at export).
* :class:`ScriptedPhysicsInformed` — p_i = p0[s_i] + NN_{s_i}(scale ⊙ G_i) · out_scale
  (:class:`physml.ml.physics_informed.PhysicsInformed`; Purja Pun et al., Nat. Commun. 10,
  2339 (2019)), with the networks of :mod:`physml.ml.mlp` (weights (n_in, n_out), linear
  output layer).
"""

from typing import Dict, List

import torch
from torch import Tensor, nn

from physml.export.scripted.geometry import PairList

_INDEXING = {"element": 0, "pair": 1, "triple": 2}
_TRANSFORMS = {"identity": 0, "softplus": 1, "exp": 2, "sigmoid": 3}
_ACTIVATIONS = {"pinn_sigmoid": 0, "sigmoid": 1, "tanh": 2, "silu": 3}


class ScriptedLayout(nn.Module):
    """Raw (n, P) → physical {name: (n,), (n, S) or (n, S, S)} (ParameterLayout.physical)."""

    names: List[str]
    starts: List[int]
    widths: List[int]
    indexing: List[int]
    transforms: List[int]
    lows: List[float]
    highs: List[float]

    def __init__(self, layout):
        super().__init__()
        self.n_species = int(layout.n_species)
        self.names = [s.name for s in layout.specs]
        self.starts = [int(layout.slices[s.name].start) for s in layout.specs]
        self.widths = [int(s.width(layout.n_species)) for s in layout.specs]
        self.indexing = [_INDEXING[s.indexing] for s in layout.specs]
        self.transforms = [_TRANSFORMS[s.transform] for s in layout.specs]
        self.lows = [float(s.bounds[0]) if s.bounds else 0.0 for s in layout.specs]
        self.highs = [float(s.bounds[1]) if s.bounds else 1.0 for s in layout.specs]

    def forward(self, raw: Tensor) -> Dict[str, Tensor]:
        out: Dict[str, Tensor] = {}
        S = self.n_species
        for k in range(len(self.names)):
            v = raw[:, self.starts[k] : self.starts[k] + self.widths[k]]
            t = self.transforms[k]
            if t == 1:
                v = torch.nn.functional.softplus(v)
            elif t == 2:
                v = torch.exp(v)
            elif t == 3:
                v = self.lows[k] + (self.highs[k] - self.lows[k]) * torch.sigmoid(v)
            if self.indexing[k] == 0:
                v = v[:, 0]
            elif self.indexing[k] == 2:
                v = v.reshape(-1, S, S)
            out[self.names[k]] = v
        return out


class ScriptedConstant(nn.Module):
    def __init__(self, provider):
        super().__init__()
        S = int(provider.n_species)
        table = provider.table() if provider.layout.size else torch.zeros(S, 0)
        self.register_buffer("table", table.detach().to(torch.float64).clone())

    def forward(self, pairs: PairList, species: Tensor) -> Tensor:
        return self.table[species]


class _Linear(nn.Module):
    def __init__(self, weight: Tensor, bias: Tensor):
        super().__init__()
        self.register_buffer("weight", weight.detach().to(torch.float64).clone())
        self.register_buffer("bias", bias.detach().to(torch.float64).clone())

    def forward(self, x: Tensor) -> Tensor:
        return torch.addmm(self.bias, x, self.weight)


class ScriptedMLP(nn.Module):
    def __init__(self, mlp):
        super().__init__()
        self.activation = _ACTIVATIONS[mlp.activation]
        self.layers = nn.ModuleList([_Linear(w, b) for w, b in zip(mlp.weights, mlp.biases)])
        self.n_layers = len(self.layers)

    def forward(self, x: Tensor) -> Tensor:
        for k, layer in enumerate(self.layers):
            x = layer(x)
            if k < self.n_layers - 1:
                if self.activation == 0:
                    x = torch.sigmoid(x) - 0.5
                elif self.activation == 1:
                    x = torch.sigmoid(x)
                elif self.activation == 2:
                    x = torch.tanh(x)
                else:
                    x = torch.nn.functional.silu(x)
        return x


class ScriptedPhysicsInformed(nn.Module):
    def __init__(self, provider, descriptor: nn.Module):
        super().__init__()
        nets = provider.networks
        self.n_species = int(provider.n_species)
        self.n_params = int(provider.layout.size)
        self.shared = bool(nets.shared)
        self.n_out = int(nets.layers[-1])
        self.central_species_blocks = bool(provider.central_species_blocks)
        self.use_baseline = bool(provider.use_baseline)
        self.out_scale = float(provider.out_scale)
        self.descriptor = descriptor
        self.nets = nn.ModuleList([ScriptedMLP(m) for m in nets.nets])
        self.register_buffer("p0", provider.p0.detach().to(torch.float64).clone())
        self.register_buffer("scale", provider.scale.detach().to(torch.float64).clone())

    def forward(self, pairs: PairList, species: Tensor) -> Tensor:
        return self.from_descriptors(self.descriptor(pairs, species), species)

    @torch.jit.export
    def from_descriptors(self, G: Tensor, species: Tensor) -> Tensor:
        S = self.n_species
        P = self.n_params
        if self.central_species_blocks:
            onehot = torch.nn.functional.one_hot(species, S).to(G.dtype)
            G = (onehot[:, :, None] * G[:, None, :]).reshape(G.shape[0], -1)
        x = G * self.scale[species]
        if self.shared:
            y = x.new_zeros((0, 0))
            for net in self.nets:
                y = net(x)
            y = y.reshape(-1, S, P).gather(1, species.view(-1, 1, 1).expand(-1, 1, P)).squeeze(1)
        else:
            y = x.new_zeros((x.shape[0], self.n_out))
            for s, net in enumerate(self.nets):
                idx = torch.nonzero(species == s).squeeze(1)
                if idx.numel() > 0:
                    y = y.index_copy(0, idx, net(x.index_select(0, idx)))
        y = y * self.out_scale
        if self.use_baseline:
            return self.p0[species] + y
        return y
