"""Per-atom parameters of analytic terms and the providers that supply them.

An analytic term *declares* its parameters with :class:`ParameterSpec` (name, species
indexing, transform, unit). Every atom i carries a flat parameter vector p_i whose layout
(:class:`ParameterLayout`) concatenates, in declaration order,

* ``element`` parameters: 1 value (owned by atom i's species s_i),
* ``pair`` parameters: S values, indexed by the neighbour species s_j,
* ``triple`` parameters: S×S values, indexed by (s_j, s_k), row-major,

with S the number of species. This is the multicomponent PINN convention: the parameter
vector of an atom of species a holds A[a][·], h[a][·][·], ... and atom i only uses its own.

A *provider* maps a :class:`~physml.neighbors.Graph` to the (N, P) tensor of raw values;
the physical value is ``spec.transform(raw)``. :class:`ConstantPerSpecies` is the classic
potential (the fitted numbers are its weights); the physics-informed provider
(``physml.ml.physics_informed``) adds a per-species neural network.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal, Sequence

import torch
from torch import nn

from physml.registry import register_provider

Indexing = Literal["element", "pair", "triple"]
Tie = Literal["none", "symmetric", "neighbor"]
Transform = Literal["identity", "softplus", "exp", "sigmoid"]


@dataclass(frozen=True)
class ParameterSpec:
    """Declaration of one analytic parameter.

    Attributes:
        name: identifier, unique within a term.
        indexing: ``element`` (per atom species), ``pair`` (per neighbour species) or
            ``triple`` (per neighbour species pair).
        default: physical default value (used to initialise constant providers).
        transform: maps an unconstrained raw value to the physical value: ``identity``,
            ``softplus`` (positive), ``exp`` (positive, log-parametrised) or ``sigmoid``
            (in ``bounds``).
        bounds: (low, high) for the ``sigmoid`` transform.
        tie: for constant providers, which entries share one value: ``symmetric``
            (p[a][b] = p[b][a]), ``neighbor`` (p[a][b] = p[b], e.g. eam/alloy densities).
        unit: physical unit (documentation and reports).
        doc: one line of meaning.
    """

    name: str
    indexing: Indexing = "element"
    default: float = 0.0
    transform: Transform = "identity"
    bounds: tuple[float, float] | None = None
    tie: Tie = "none"
    unit: str = ""
    doc: str = ""

    def width(self, n_species: int) -> int:
        return {"element": 1, "pair": n_species, "triple": n_species * n_species}[self.indexing]

    def apply(self, raw: torch.Tensor) -> torch.Tensor:
        """Physical value from raw value."""
        if self.transform == "identity":
            return raw
        if self.transform == "softplus":
            return nn.functional.softplus(raw)
        if self.transform == "exp":
            return torch.exp(raw)
        if self.transform == "sigmoid":
            lo, hi = self.bounds  # type: ignore[misc]
            return lo + (hi - lo) * torch.sigmoid(raw)
        raise ValueError(f"unknown transform {self.transform!r}")

    def inverse(self, value: float) -> float:
        """Raw value giving the physical ``value``."""
        if self.transform == "identity":
            return float(value)
        if self.transform == "softplus":
            if value <= 0:
                raise ValueError(f"parameter {self.name} must be positive, got {value}")
            return float(value + math.log(-math.expm1(-value)))
        if self.transform == "exp":
            if value <= 0:
                raise ValueError(f"parameter {self.name} must be positive, got {value}")
            return math.log(value)
        if self.transform == "sigmoid":
            lo, hi = self.bounds  # type: ignore[misc]
            t = (value - lo) / (hi - lo)
            if not 0 < t < 1:
                raise ValueError(f"parameter {self.name}={value} outside bounds {self.bounds}")
            return math.log(t / (1 - t))
        raise ValueError(f"unknown transform {self.transform!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["bounds"] = list(self.bounds) if self.bounds else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ParameterSpec":
        d = dict(d)
        if d.get("bounds") is not None:
            d["bounds"] = tuple(d["bounds"])
        return cls(**d)


class ParameterLayout:
    """Column layout of the flat per-atom parameter vector for a list of specs."""

    def __init__(self, specs: Sequence[ParameterSpec], n_species: int):
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate parameter names: {names}")
        self.specs = list(specs)
        self.n_species = n_species
        self.slices: dict[str, slice] = {}
        start = 0
        for s in self.specs:
            w = s.width(n_species)
            self.slices[s.name] = slice(start, start + w)
            start += w
        self.size = start

    def spec(self, name: str) -> ParameterSpec:
        for s in self.specs:
            if s.name == name:
                return s
        raise KeyError(name)

    def physical(self, raw: torch.Tensor) -> dict[str, torch.Tensor]:
        """Split raw (N, P) values into physical tensors: (N,), (N, S) or (N, S, S)."""
        out = {}
        S = self.n_species
        for s in self.specs:
            v = s.apply(raw[:, self.slices[s.name]])
            if s.indexing == "element":
                v = v[:, 0]
            elif s.indexing == "triple":
                v = v.reshape(-1, S, S)
            out[s.name] = v
        return out

    def column_names(self, symbols: Sequence[str]) -> list[str]:
        cols = []
        for s in self.specs:
            if s.indexing == "element":
                cols.append(s.name)
            elif s.indexing == "pair":
                cols.extend(f"{s.name}[{b}]" for b in symbols)
            else:
                cols.extend(f"{s.name}[{b},{c}]" for b in symbols for c in symbols)
        return cols


def _tie_map(spec: ParameterSpec, n_species: int) -> tuple[torch.Tensor, int]:
    """Index map (S, width) from the full table of one parameter to its free values."""
    S = n_species
    if spec.indexing == "element":
        return torch.arange(S).reshape(S, 1), S
    if spec.indexing == "pair":
        full = torch.empty(S, S, dtype=torch.long)
        if spec.tie == "neighbor":
            full[:] = torch.arange(S).reshape(1, S)
            return full, S
        if spec.tie == "symmetric":
            k = 0
            for a in range(S):
                for b in range(a, S):
                    full[a, b] = full[b, a] = k
                    k += 1
            return full, k
        return torch.arange(S * S).reshape(S, S), S * S
    # triple
    if spec.tie == "symmetric":  # h[a][b][c] = h[a][c][b]
        full = torch.empty(S, S, S, dtype=torch.long)
        k = 0
        for a in range(S):
            for b in range(S):
                for c in range(b, S):
                    full[a, b, c] = full[a, c, b] = k
                    k += 1
        return full.reshape(S, S * S), k
    return torch.arange(S * S * S).reshape(S, S * S), S * S * S


class ParameterProvider(nn.Module):
    """Supplies the raw (N, P) per-atom parameter tensor of one term.

    Subclasses set ``self.layout`` and implement :meth:`forward`. ``cutoff`` is the
    range of the environment the provider reads (0 for constant providers).
    """

    layout: ParameterLayout
    cutoff: float = 0.0
    kind: str = "abstract"

    def forward(self, graph) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def config(self) -> dict:
        return {}


@register_provider("constant")
class ConstantPerSpecies(ParameterProvider):
    """Classic potential: every atom of species a has the same parameters p0[a].

    Free values honour each spec's ``tie`` (symmetric pair tables are stored once).
    Some free values of a parameter can be frozen (:meth:`freeze_entries`; an alloy keeps
    its elemental entries this way): the tensor is split into a trainable part and a frozen
    buffer, so no gradient, optimiser step or weight decay can reach the frozen values.
    """

    kind = "constant"

    def __init__(self, specs: Sequence[ParameterSpec], n_species: int, values: dict[str, object] | None = None, frozen: Sequence[str] = ()):
        super().__init__()
        self.layout = ParameterLayout(specs, n_species)
        self.n_species = n_species
        self.frozen_names: list[str] = []
        self.free = nn.ParameterDict()
        for spec in self.layout.specs:
            imap, nfree = _tie_map(spec, n_species)
            self.register_buffer(f"map_{spec.name}", imap, persistent=False)
            raw = torch.full((nfree,), spec.inverse(spec.default), dtype=torch.float64)
            self.free[spec.name] = nn.Parameter(raw)
        for name in frozen:  # placeholders, filled by load_state_dict
            self.freeze_entries(name, torch.zeros_like(self.free[name], dtype=torch.bool))
        if values:
            self.set_values(values)

    def freeze_entries(self, name: str, mask: torch.Tensor) -> None:
        """Freeze the free values of parameter ``name`` where ``mask`` (bool, one entry per
        free value) is True, at their current values: they are copied to the buffer
        ``fixed_<name>`` and :meth:`table` reads them from there (``fixedmask_<name>``
        marks them). The trainable tensor keeps its shape; its masked entries are unused
        and get zero gradients. Calling it again adds to the frozen set."""
        self.layout.spec(name)
        p = self.free[name]
        mask = torch.as_tensor(mask, dtype=torch.bool, device=p.device).reshape(p.shape)
        if name in self.frozen_names:
            old = getattr(self, f"fixedmask_{name}")
            fixed = torch.where(old, getattr(self, f"fixed_{name}"), p.detach())
            mask = mask | old
        else:
            fixed = p.detach().clone()
            self.frozen_names.append(name)
        self.register_buffer(f"fixed_{name}", fixed.clone())
        self.register_buffer(f"fixedmask_{name}", mask.clone())

    def _free_values(self, name: str) -> torch.Tensor:
        v = self.free[name]
        if name in self.frozen_names:
            v = torch.where(getattr(self, f"fixedmask_{name}"), getattr(self, f"fixed_{name}"), v)
        return v

    def set_values(self, values: dict[str, object]) -> None:
        """Set physical values: scalars, or nested lists/arrays of the full table shape
        (S,), (S, S) or (S, S, S) indexed [a], [a][b], [a][b][c]."""
        S = self.n_species
        for name, val in values.items():
            spec = self.layout.spec(name)
            imap = getattr(self, f"map_{name}")
            full = torch.as_tensor(val, dtype=torch.float64)
            shape = {"element": (S,), "pair": (S, S), "triple": (S, S, S)}[spec.indexing]
            if full.ndim == 0:
                full = full.expand(shape)
            if tuple(full.shape) != shape:
                raise ValueError(f"parameter {name}: expected shape {shape}, got {tuple(full.shape)}")
            raw = full.reshape(-1).clone().apply_(spec.inverse) if spec.transform != "identity" else full.reshape(-1)
            with torch.no_grad():
                p = self.free[name]
                new = torch.zeros_like(p).scatter_(0, imap.reshape(-1).to(p.device), raw.to(p))
                if name in self.frozen_names:
                    mask = getattr(self, f"fixedmask_{name}")
                    if not torch.equal(new[mask], getattr(self, f"fixed_{name}")[mask]):
                        raise ValueError(f"parameter {name}: the values of its frozen entries cannot be changed")
                p.copy_(new)

    def table(self) -> torch.Tensor:
        """Raw (S, P) table of every species' parameter vector."""
        cols = []
        for spec in self.layout.specs:
            imap = getattr(self, f"map_{spec.name}")
            cols.append(self._free_values(spec.name)[imap])
        return torch.cat(cols, dim=1)

    def values(self) -> dict[str, torch.Tensor]:
        """Physical parameter tables per species: (S,), (S, S) or (S, S, S)."""
        return self.layout.physical(self.table())

    def forward(self, graph) -> torch.Tensor:
        return self.table()[graph.species]

    def config(self) -> dict:
        return {"frozen": list(self.frozen_names)} if self.frozen_names else {}

    @classmethod
    def from_config(cls, config: dict, term) -> "ConstantPerSpecies":
        return cls(term.parameter_specs(), term.n_species, frozen=config.get("frozen", ()))
