"""The alloy's physics-informed provider: inherited elemental networks plus a cross part.

For an atom i of species a in an alloy of S species,

    p_i = P_a[ p0_a + NN_a(G_i|aa) ]  +  c0[a] ⊙ m_a  +  Δ_a(x_i) − Δ_a(x̄_i)

* ``P_a[·]`` places the inherited elemental provider's output (its own parameters: element
  values, pair values p[a], triple values p[a][a]) into the alloy layout; ``NN_a`` reads only
  the same-species descriptor blocks ``G_i|aa``. These tensors are the elemental potential's
  own, copied and frozen (see :mod:`physml.compose.freeze`).
* ``c0`` are trainable baseline values of the *cross* columns (``m_a`` is 1 on columns that
  the element does not own: p[b], p[a][b], …), read only next to another species.
* ``Δ_a`` is a trainable network of species a on the full scaled descriptor
  x_i = scale_a ⊙ G_i, and x̄_i is x_i with every cross-block column replaced by its value
  when the other species is absent. The difference vanishes identically whenever atom i has
  no neighbour of another species — for any weights, before and after training — so on a
  pure-element structure the alloy reproduces the elemental potential to round-off. Any
  function f with f(x, absent) = 0 can be written this way (take Δ = f), so the
  construction limits nothing that the contract allows. Δ's output layer starts at zero:
  an untrained alloy is the elementals plus the cross baselines.

Atoms without a neighbour of another species inside the descriptor cutoff skip Δ (their
rows are exactly zero); as such a neighbour enters, x → x̄ smoothly, so Δ → 0 continuously.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from physml.compose.columns import absent_value, descriptor_columns, parameter_columns
from physml.ml.descriptors import Descriptor, descriptor_from_config
from physml.ml.mlp import SpeciesNetworks
from physml.ml.physics_informed import PhysicsInformed
from physml.parameters import ParameterLayout, ParameterProvider, ParameterSpec
from physml.registry import register_provider, term_class


@register_provider("inherited")
class InheritedPhysicsInformed(ParameterProvider):
    """Alloy provider built from one single-species :class:`PhysicsInformed` per species.

    Args:
        specs: the alloy term's parameter specs (S species).
        n_species: S.
        descriptor: the alloy descriptor (same configuration as the elementals').
        elementals: one single-species physics-informed provider per alloy species, in
            species order (their tensors are used as they are: copy them first).
        hidden: hidden layer sizes of the cross networks Δ_a.
        activation: their activation.
        out_scale: multiplies Δ.
        frozen: alloy species whose elemental block is frozen (default: all).
        seed: initialisation seed of Δ.
    """

    kind = "inherited"

    def __init__(
        self,
        specs: Sequence[ParameterSpec],
        n_species: int,
        descriptor: Descriptor,
        elementals: Sequence[PhysicsInformed],
        hidden: Sequence[int] = (12, 12),
        activation: str = "pinn_sigmoid",
        out_scale: float = 1.0,
        frozen: Sequence[int] | None = None,
        seed: int | None = 0,
    ):
        super().__init__()
        S = int(n_species)
        if len(elementals) != S:
            raise ValueError(f"an alloy of {S} species needs {S} elemental providers, got {len(elementals)}")
        self.layout = ParameterLayout(specs, S)
        self.n_species = S
        self.descriptor = descriptor
        self.cutoff = float(descriptor.cutoff)
        self.hidden = [int(h) for h in hidden]
        self.activation = activation
        self.out_scale = float(out_scale)
        P = self.layout.size
        for a, e in enumerate(elementals):
            if not isinstance(e, PhysicsInformed) or e.n_species != 1:
                raise ValueError(f"elemental provider {a} must be a single-species physics_informed provider")
            if e.descriptor.config() != descriptor.config():
                raise ValueError(
                    f"elemental provider {a} uses descriptor {e.descriptor.config()}, the alloy {descriptor.config()}: "
                    "inheritance needs one descriptor configuration"
                )
            if [s.name for s in e.layout.specs] != [s.name for s in self.layout.specs]:
                raise ValueError(f"elemental provider {a} has parameters {[s.name for s in e.layout.specs]}, the alloy term {[s.name for s in self.layout.specs]}")
        self.elementals = nn.ModuleList(elementals)
        owned = torch.zeros(S, P, dtype=torch.bool)
        for a in range(S):
            self.register_buffer(f"pcols_{a}", parameter_columns(self.layout, a), persistent=False)
            self.register_buffer(f"dcols_{a}", descriptor_columns(descriptor, S, a), persistent=False)
            owned[a, parameter_columns(self.layout, a)] = True
        F = descriptor.n_features(S)
        cross_block = torch.ones(S, F, dtype=torch.bool)
        for a in range(S):
            cross_block[a, descriptor_columns(descriptor, S, a)] = False
        self.register_buffer("owned", owned, persistent=False)
        self.register_buffer("cross_block", cross_block, persistent=False)
        self.register_buffer("absent", absent_value(descriptor), persistent=False)
        self.register_buffer("scale", torch.ones(S, F, dtype=torch.float64))
        # cross baselines: only the columns the elements do not own are used
        self.p0 = nn.Parameter(torch.zeros(S, P, dtype=torch.float64))
        self.networks = SpeciesNetworks(S, [F] + self.hidden + [P], activation, seed=seed)
        with torch.no_grad():
            for net in self.networks.nets:
                net.weights[-1].zero_()
                net.biases[-1].zero_()
        self.set_frozen(range(S) if frozen is None else frozen)
        self._last_delta: torch.Tensor | None = None

    # ---------------------------------------------------------------- freezing
    @property
    def frozen(self) -> list[int]:
        return [a for a, e in enumerate(self.elementals) if not any(p.requires_grad for p in e.parameters())]

    def set_frozen(self, species: Sequence[int]) -> None:
        """Freeze the elemental blocks of ``species`` (indices) and unfreeze the others."""
        keep = {int(a) for a in species}
        for a, e in enumerate(self.elementals):
            for p in e.parameters():
                p.requires_grad_(a not in keep)

    # ---------------------------------------------------------------- evaluation
    def forward(self, graph) -> torch.Tensor:
        G = self.descriptor(graph)
        sp = graph.species
        P = self.layout.size
        raw = torch.where(self.owned[sp], torch.zeros((), dtype=G.dtype, device=G.device), self.p0[sp])
        for a, elem in enumerate(self.elementals):
            idx = torch.nonzero(sp == a, as_tuple=True)[0]
            if not idx.numel():
                continue
            Ga = G.index_select(0, idx).index_select(1, getattr(self, f"dcols_{a}"))
            ya = elem.raw_from_descriptors(Ga, torch.zeros_like(idx))
            block = G.new_zeros((idx.numel(), P)).index_copy(1, getattr(self, f"pcols_{a}"), ya)
            raw = raw.index_add(0, idx, block)
        self._last_delta = None
        pr = graph.pairs(self.cutoff)
        with torch.no_grad():  # atoms with a neighbour of another species
            mixed = torch.unique(pr.i[sp[pr.j] != sp[pr.i]])
        if mixed.numel():
            s_m = sp.index_select(0, mixed)
            x = G.index_select(0, mixed) * self.scale[s_m]
            x_bar = torch.where(self.cross_block[s_m], self.absent.to(G.dtype) * self.scale[s_m], x)
            delta = self.networks(x, s_m) - self.networks(x_bar, s_m)
            delta = delta * self.out_scale
            self._last_delta = delta
            raw = raw.index_add(0, mixed, delta)
        return raw

    def regularization(self) -> torch.Tensor | None:
        """Mean squared cross perturbation Δ of the last evaluation (None if no mixed atom)."""
        return None if self._last_delta is None else (self._last_delta**2).mean()

    # ---------------------------------------------------------------- files
    def config(self) -> dict:
        return {
            "descriptor": self.descriptor.config(), "hidden": self.hidden, "activation": self.activation,
            "out_scale": self.out_scale, "frozen": self.frozen,
            "elementals": [e.config() for e in self.elementals],
        }

    @classmethod
    def from_config(cls, config: dict, term) -> "InheritedPhysicsInformed":
        cfg = dict(config)
        elementals = []
        for a, ecfg in enumerate(cfg.pop("elementals")):
            eterm = term_class(term.kind).from_config(term.config(), [term.species[a]])
            elementals.append(PhysicsInformed.from_config(ecfg, eterm))
        desc = descriptor_from_config(cfg.pop("descriptor"))
        return cls(term.parameter_specs(), term.n_species, desc, elementals, seed=None, **cfg)
