"""Elastic-constant targets: a prior that holds a fitted model's C11, C12, C44 of a cubic
crystal near given values (property fitting, as in atomicrex or potfit).

A database can contain the elastic response and still not pin it down: small homogeneous
strains (|ε| ≲ 0.6 % in the Ta data) move the stresses by a few tenths of a GPa, the size
of the stress errors elsewhere, so a flexible model can trade its shear modulus for a better
fit of large, strongly anharmonic displacements. The targets state C_ij explicitly. For
every target crystal (bcc, fcc or sc of one element at lattice constant a, conventional
cubic cell) the model's stresses are evaluated at four strains — ε_xx = ±δ and
ε_yz = ε_zy = ±δ/2 (engineering shear γ = ±δ) — and the elastic constants follow from central
differences (exact to O(δ²); a monatomic Bravais lattice has no internal relaxation):

    C11 = (σ_xx(+δ) − σ_xx(−δ)) / 2δ,   C12 = (σ_yy + σ_zz)(+δ) − (σ_yy + σ_zz)(−δ)) / 4δ,
    C44 = (σ_yz(+γ) − σ_yz(−γ)) / 2γ                                  (ASE stress sign)

The penalty is the mean over the targeted constants of ((C_model − C_target)/τ)², τ the
target's tolerance in GPa (a Gaussian prior of width τ); ``loss.elastic`` is its weight. It
has gradients into every trainable parameter (the stresses are evaluated with
``create_graph``), costs one energy + stress evaluation of 4 small cells per mini-batch, and
is added once per full-data evaluation (validation, L-BFGS) like the anchor penalty.

Like :mod:`physml.train.anchors`, this is a regulariser, not data: use the C_ij that the data
themselves imply (e.g. a linear fit of the DFT stresses of strained cells) or trusted
reference values, and say which in the fit's README.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from ase import Atoms
from ase.build import bulk
from ase.units import GPa

CONSTANTS = ("C11", "C12", "C44")
LATTICES = ("bcc", "fcc", "sc")


@dataclass(frozen=True)
class ElasticTarget:
    """One cubic crystal and the elastic constants (GPa) it should have; a constant left
    as None is not targeted."""

    element: str
    lattice: str
    a: float
    C11: float | None = None
    C12: float | None = None
    C44: float | None = None
    tolerance: float = 10.0
    strain: float = 0.01
    repeat: int = 1

    def __post_init__(self):
        where = f"elastic target {self.element} {self.lattice}"
        if self.lattice not in LATTICES:
            raise ValueError(f"{where}: lattice must be one of {list(LATTICES)} (monatomic cubic Bravais lattices, no internal relaxation), got {self.lattice!r}")
        for name, v in (("a", self.a), ("tolerance", self.tolerance), ("strain", self.strain)):
            if not (isinstance(v, (int, float)) and v == v and v > 0 and v != float("inf")):
                raise ValueError(f"{where}: {name} must be a positive finite number, got {v!r}")
        if self.strain > 0.05:
            raise ValueError(f"{where}: strain {self.strain} is not small (≤ 0.05)")
        if not isinstance(self.repeat, int) or self.repeat < 1:
            raise ValueError(f"{where}: repeat must be a positive integer, got {self.repeat!r}")
        if not self.targeted:
            raise ValueError(f"{where}: give at least one of {list(CONSTANTS)}")
        for c in self.targeted:
            v = getattr(self, c)
            if not (v == v and abs(v) != float("inf")):
                raise ValueError(f"{where}: {c} must be finite, got {v!r}")

    @property
    def targeted(self) -> tuple[str, ...]:
        return tuple(c for c in CONSTANTS if getattr(self, c) is not None)

    def structures(self) -> list[Atoms]:
        """The four strained cells: ε_xx = +δ, −δ; engineering γ_yz = +δ, −δ."""
        ref = bulk(self.element, self.lattice, a=self.a, cubic=True) * ((self.repeat,) * 3)
        d = self.strain
        out = []
        for eps in (_normal(d), _normal(-d), _shear(d), _shear(-d)):
            at = ref.copy()
            at.set_cell(ref.cell.array @ (np.eye(3) + eps).T, scale_atoms=True)  # rows: lattice vectors
            out.append(at)
        return out


def _normal(d: float) -> np.ndarray:
    e = np.zeros((3, 3))
    e[0, 0] = d
    return e


def _shear(g: float) -> np.ndarray:
    e = np.zeros((3, 3))
    e[1, 2] = e[2, 1] = 0.5 * g
    return e


class ElasticPrior:
    """The strained cells of every target, their neighbour lists (built once: the cells do
    not move) and the penalty as a differentiable function of the model.

    Args:
        potential: the model being fitted.
        targets: the crystals and their target constants.
    """

    def __init__(self, potential, targets: Sequence[ElasticTarget]):
        from physml.neighbors import neighbor_list

        if not targets:
            raise ValueError("elastic targets: none given")
        known = set(potential.species)
        for t in targets:
            if t.element not in known:
                raise ValueError(f"elastic target {t.element} {t.lattice}: element {t.element!r} is not in the model's species {list(potential.species)}")
        self.pot = potential
        self.targets = list(targets)
        self.batches = []
        for t in self.targets:
            batch = potential.batch(t.structures())
            nl = neighbor_list(batch, potential.cutoff, full=potential.needs_full_list)
            self.batches.append((batch, nl))

    def constants(self, create_graph: bool = True) -> list[dict[str, torch.Tensor]]:
        """Per target, the model's C11, C12, C44 (GPa, scalar tensors; detached unless
        ``create_graph``). The stresses need autograd, so it is enabled here even inside
        ``torch.no_grad()`` (validation)."""
        out = []
        for t, (batch, nl) in zip(self.targets, self.batches):
            with torch.enable_grad():
                s = self.pot(batch, nlist=nl, forces=False, stress=True, create_graph=create_graph)["stress"] / GPa
            if not create_graph:
                s = s.detach()
            d = t.strain
            out.append({
                "C11": (s[0, 0, 0] - s[1, 0, 0]) / (2 * d),
                "C12": ((s[0, 1, 1] + s[0, 2, 2]) - (s[1, 1, 1] + s[1, 2, 2])) / (4 * d),
                "C44": (s[2, 1, 2] - s[3, 1, 2]) / (2 * d),
            })
        return out

    def penalty(self) -> torch.Tensor:
        """Mean over the targeted constants of ((C_model − C_target)/τ)²."""
        terms = []
        for t, c in zip(self.targets, self.constants(create_graph=True)):
            for name in t.targeted:
                terms.append(((c[name] - getattr(t, name)) / t.tolerance) ** 2)
        return torch.stack(terms).mean()

    def describe(self) -> str:
        parts = []
        for t in self.targets:
            vals = ", ".join(f"{c} {getattr(t, c):g}" for c in t.targeted)
            parts.append(f"{t.element} {t.lattice} a = {t.a:g} Å: {vals} GPa (± {t.tolerance:g}, strain {t.strain:g})")
        return "elastic targets: " + "; ".join(parts)
