"""The physics-informed parameter provider and the pure-neural site-energy term.

:class:`PhysicsInformed` (Mishin's PINN idea, Purja Pun et al., Nat. Commun. 10, 2339
(2019)): each atom's analytic parameters are

    p_i = p0[s_i] + NN_{s_i}(scale_{s_i} ⊙ G_i)     (raw values; the term's transforms follow)

with G_i the descriptors. ``baseline=False`` gives p_i = NN(G_i) (PINN files with flag 0).
The training penalty on the perturbation δp_i = p_i − p0[s_i] is

    R_p = ⟨ Σ_k (δp_ik / s_k)² ⟩ / P          (mean over the atoms of a batch, P outputs)

with per-parameter scales s_k (``perturbation_scale``, default 1): the raw parameters of
an analytic term differ in how strongly they move the energy (an exponent α multiplies a
bond length of ~3 Å in e^(A − α r), a prefactor exponent A does not), so one absolute size
of δp would let the network spend its perturbation on the most sensitive parameters.
Descriptor scaling is multiplicative only (no centring), so a descriptor block that is
zero because a species is absent stays exactly zero — the inheritance contract of alloys.

A *pure neural potential* is the same machinery with the :class:`SiteEnergy` term
(E_i = p_i, one parameter per atom), so physics-informed and purely mathematical models
can be compared with identical descriptors and networks.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from physml.empirical.base import Term
from physml.ml.descriptors import Descriptor, descriptor_from_config
from physml.ml.mlp import SpeciesNetworks
from physml.parameters import ParameterLayout, ParameterProvider, ParameterSpec
from physml.registry import register_provider, register_term


@register_provider("physics_informed")
class PhysicsInformed(ParameterProvider):
    """p_i = p0[s_i] + NN_{s_i}(scale ⊙ G_i) for every per-atom parameter of a term.

    Args:
        specs: the term's parameter specs (defines the output layout).
        n_species: number of species.
        descriptor: the descriptor module.
        hidden: hidden layer sizes.
        activation: hidden activation.
        shared_network: one network for all species whose output holds every species'
            block (the ``.pinn`` convention), instead of one network per species.
        baseline: add p0 (else p = NN output).
        out_scale: multiplies the network output (small values start near p0).
        perturbation_scale: parameter name → s_k, the size of a perturbation of that
            parameter (raw units) that costs as much as a unit perturbation of the others
            in :meth:`regularization`; every entry of a pair/triple parameter shares it.
            Parameters not named keep s_k = 1.
    """

    kind = "physics_informed"

    def __init__(
        self,
        specs: Sequence[ParameterSpec],
        n_species: int,
        descriptor: Descriptor,
        hidden: Sequence[int] = (16, 16),
        activation: str = "pinn_sigmoid",
        shared_network: bool = False,
        baseline: bool = True,
        out_scale: float = 1.0,
        central_species_blocks: bool = False,
        perturbation_scale: dict[str, float] | None = None,
        seed: int | None = 0,
    ):
        super().__init__()
        self.layout = ParameterLayout(specs, n_species)
        self.specs = list(specs)
        self.n_species = n_species
        self.descriptor = descriptor
        self.cutoff = float(descriptor.cutoff)
        self.hidden = [int(h) for h in hidden]
        self.activation = activation
        self.shared_network = bool(shared_network)
        self.use_baseline = bool(baseline)
        self.out_scale = float(out_scale)
        # "kind 2" PINN inputs: the descriptor vector sits in the block of the central species
        self.central_species_blocks = bool(central_species_blocks)
        n_in = descriptor.n_features(n_species) * (n_species if self.central_species_blocks else 1)
        P = self.layout.size
        n_out = P * n_species if self.shared_network else P
        self.networks = SpeciesNetworks(n_species, [n_in] + self.hidden + [n_out], activation, shared=self.shared_network, seed=seed)
        p0 = torch.zeros(n_species, P, dtype=torch.float64)
        for spec in self.layout.specs:
            p0[:, self.layout.slices[spec.name]] = spec.inverse(spec.default)
        self.p0 = nn.Parameter(p0)
        self.register_buffer("scale", torch.ones(n_species, n_in, dtype=torch.float64))
        self.perturbation_scale = _checked_scales(perturbation_scale, [s.name for s in self.layout.specs])
        # 1/s_k² for every output column (a plain list: not part of the saved weights)
        self._penalty_weights = [0.0] * P
        for spec in self.layout.specs:
            sl = self.layout.slices[spec.name]
            for col in range(sl.start, sl.stop):
                self._penalty_weights[col] = self.perturbation_scale.get(spec.name, 1.0) ** -2
        self._last_nn: torch.Tensor | None = None

    def forward(self, graph) -> torch.Tensor:
        return self.raw_from_descriptors(self.descriptor(graph), graph.species)

    def raw_from_descriptors(self, G: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        """Raw parameters (N, P) from descriptors G (N, n_features) and species (N,) — the
        forward pass after the descriptor (an alloy evaluates inherited elemental providers
        on their own descriptor columns this way)."""
        y = self.perturbation(G, species)
        self._last_nn = y
        return self.p0[species] + y if self.use_baseline else y

    def perturbation(self, G: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        """The network's part δp (N, P) of the raw parameters for descriptors G and species
        (the output times ``out_scale``); unlike :meth:`raw_from_descriptors` it leaves the
        state of :meth:`regularization` alone (training penalties on other structures)."""
        if self.central_species_blocks:
            onehot = torch.nn.functional.one_hot(species, self.n_species).to(G.dtype)
            G = (onehot[:, :, None] * G[:, None, :]).reshape(G.shape[0], -1)
        x = G * self.scale[species]
        y = self.networks(x, species)
        if self.shared_network:
            P = self.layout.size
            y = y.reshape(-1, self.n_species, P).gather(1, species.view(-1, 1, 1).expand(-1, 1, P)).squeeze(1)
        return y * self.out_scale

    def regularization(self) -> torch.Tensor | None:
        """R_p of the last evaluation: the mean over atoms and outputs of (δp_ik / s_k)²
        (keeps p_i near p0; the plain mean squared perturbation when every s_k = 1)."""
        y = self._last_nn
        if y is None:
            return None
        if not self.perturbation_scale:
            return (y**2).mean()
        return (y**2 * y.new_tensor(self._penalty_weights)).mean()

    def set_baseline(self, values: dict[str, object]) -> None:
        """Set p0 from physical values (tables per species, like ConstantPerSpecies)."""
        from physml.parameters import ConstantPerSpecies

        c = ConstantPerSpecies(self.specs, self.n_species, values)
        with torch.no_grad():
            self.p0.copy_(c.table())

    def config(self) -> dict:
        return {
            "descriptor": self.descriptor.config(), "hidden": self.hidden, "activation": self.activation,
            "shared_network": self.shared_network, "baseline": self.use_baseline, "out_scale": self.out_scale,
            "central_species_blocks": self.central_species_blocks,
            **({"perturbation_scale": dict(self.perturbation_scale)} if self.perturbation_scale else {}),
        }

    @classmethod
    def from_config(cls, config: dict, term) -> "PhysicsInformed":
        cfg = dict(config)
        desc = descriptor_from_config(cfg.pop("descriptor"))
        return cls(term.parameter_specs(), term.n_species, desc, seed=None, **cfg)


def _checked_scales(scales: dict[str, float] | None, names: list[str]) -> dict[str, float]:
    """The ``perturbation_scale`` table, every key a parameter name, every value positive."""
    out: dict[str, float] = {}
    for name, value in dict(scales or {}).items():
        if name not in names:
            raise ValueError(f"perturbation_scale: unknown parameter {name!r}; parameters: {', '.join(names)}")
        v = float(value)
        if not (v > 0 and v < float("inf")):
            raise ValueError(f"perturbation_scale.{name}: must be a positive finite number, got {value!r}")
        out[name] = v
    return out


@register_term("site_energy")
class SiteEnergy(Term):
    """E_i = p_i: with a :class:`PhysicsInformed` provider this is a pure neural-network
    potential (Behler–Parrinello style) built from the same descriptors and networks."""

    def __init__(self, species: Sequence[str], default: float = 0.0):
        super().__init__(species)
        self.default = float(default)
        self.cutoff = 0.0

    def parameter_specs(self) -> list[ParameterSpec]:
        return [ParameterSpec("E", "element", self.default, unit="eV", doc="site energy")]

    def energies(self, graph, params) -> torch.Tensor:
        return params["E"]

    def config(self) -> dict:
        return {"default": self.default}
