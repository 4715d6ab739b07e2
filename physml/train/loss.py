"""The fitting loss: weighted energy-per-atom, force and stress errors with masks.

For structures b with weight ω_b = (structure weight) × (group weight of its config_type),
ω^E_b = ω_b × (energy group weight of its config_type: the energies of a group weighted
apart from its forces and stresses, e.g. to hold a phase's energy while the force weight
rises) and label masks m:

    L_E = Σ_b m_b ω^E_b ((E_b − Ê_b)/n_b)² / Σ_b m_b ω^E_b                   (eV²/atom²)
    L_F = Σ_a m_a ω_b(a) |F_a − F̂_a|² / (3 Σ_a m_a ω_b(a))                   (eV²/Å²)
    L_S = Σ_b m_b ω_b ‖σ_b − σ̂_b‖²_F / (9 Σ_b m_b ω_b)                       (eV²/Å⁶)
    L   = w_E L_E + w_F L_F + w_S L_S + λ_p R_p + λ_a R_a + λ_C R_C + λ_w Σ w²

R_p is the mean squared network perturbation of physics-informed providers (keeps p_i near
the physical baseline p0, as in the PINN papers; each parameter's perturbation measured in
its own ``perturbation_scale``, see :class:`~physml.ml.physics_informed.PhysicsInformed`).
A provider opts in by implementing
``regularization(graph)`` (or ``regularization()`` using its last evaluation), returning a
scalar or None. λ_w Σ w² is the L2 weight penalty, used by the L-BFGS stages; the Adam
stages apply decoupled weight decay in the optimiser instead (never to frozen tensors).
R_a is the anchor penalty (:mod:`physml.train.anchors`): the networks' perturbations at
unlabelled anchor structures held at those of a reference crystal; every batch carries it
whole (a data-parallel part carries its share of the global batch's structures). R_C, the
elastic-constant prior (:mod:`physml.train.elastic`: the model's C11, C12, C44 of target
crystals against given values, in units of their tolerance), is carried the same way.

Data-parallel training splits a global mini-batch over processes: each process passes the
*global* batch's normalisers (:func:`loss_normalisers` of the whole batch) and gets the
share of the global loss that its structures contribute, so the shares summed over the
processes equal the single-process loss of the global batch (up to round-off), and so do
their gradients.

Missing labels are masked, never zero-filled: a masked prediction is replaced by its label
*before* the difference is taken, so a masked entry contributes exactly 0 to the loss and to
every gradient (even when the prediction is NaN, e.g. the stress of a cluster). A term
whose labels are all missing is exactly 0.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Iterable

import torch


@dataclass
class LossWeights:
    energy: float = 1.0
    forces: float = 1.0
    stress: float = 0.0
    perturbation: float = 0.0
    group: dict[str, float] = field(default_factory=dict)  # config_type -> weight factor
    anchor: float = 0.0
    energy_group: dict[str, float] = field(default_factory=dict)  # config_type -> factor of its energies only
    elastic: float = 0.0  # weight of the elastic-constant prior (physml.train.elastic)


def _masked_mean(sq: torch.Tensor, w: torch.Tensor, den: torch.Tensor | float | None = None) -> torch.Tensor:
    den = w.sum() if den is None else den
    if float(den) == 0.0:
        return sq.new_zeros(())
    return (sq * w).sum() / den


def _omega(batch, weights: LossWeights, energy: bool = False) -> torch.Tensor:
    """ω_b (``energy``: ω^E_b) of every structure of the batch."""
    factor = [float(weights.group.get(n, 1.0)) * (float(weights.energy_group.get(n, 1.0)) if energy else 1.0) for n in batch.group_names]
    gw = torch.tensor(factor, dtype=batch.weights.dtype, device=batch.weights.device)
    return batch.weights * gw[batch.group]


def loss_normalisers(batch, weights: LossWeights) -> dict[str, float]:
    """The denominators of L_E, L_F, L_S (Σ m ω) and the atom count of a batch; pass those
    of a global batch to :func:`loss_terms` of each of its parts (data parallelism).
    ``anchors``: an :class:`~physml.train.anchors.AnchorSet` (its penalty enters with
    ``weights.anchor``)."""
    omega = _omega(batch, weights)
    return {
        "energy": float((_omega(batch, weights, energy=True) * batch.energy_mask).sum()),
        "forces": float((omega[batch.batch] * batch.forces_mask).sum()),
        "stress": float((omega * batch.stress_mask).sum()),
        "atoms": float(batch.n_atoms),
        "structures": float(len(batch.natoms)),
    }


def _masked(pred: torch.Tensor, label: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """pred where labelled, else the label itself (difference 0, gradient exactly 0)."""
    m = mask.view(mask.shape + (1,) * (pred.dim() - mask.dim()))
    return torch.where(m, pred, label)


def provider_regularization(provider, graph=None) -> torch.Tensor | None:
    """The provider's perturbation penalty (None if it has none)."""
    fn = getattr(provider, "regularization", None)
    if not callable(fn):
        return None
    try:
        takes_graph = len(inspect.signature(fn).parameters) > 0
    except (TypeError, ValueError):
        takes_graph = False
    return fn(graph) if takes_graph else fn()


def _prior_share(prior, weight: float, batch, normalisers: dict[str, float] | None, zero: torch.Tensor) -> torch.Tensor:
    """A prior's penalty (anchors, elastic targets; ``zero`` when unused) as this batch's share
    of the global batch: structures of the part / structures of the global batch."""
    if prior is None or not weight:
        return zero
    val = prior.penalty()
    if normalisers is not None and normalisers.get("structures", 0) > 0:
        val = val * (len(batch.natoms) / normalisers["structures"])
    return val


def loss_terms(
    pred: dict,
    batch,
    weights: LossWeights,
    potential=None,
    graph=None,
    l2_parameters: Iterable[torch.Tensor] | None = None,
    weight_decay: float = 0.0,
    normalisers: dict[str, float] | None = None,
    anchors=None,
    elastic=None,
) -> dict[str, torch.Tensor]:
    """Loss components (``energy``, ``forces``, ``stress``, ``perturbation``, ``anchor``,
    ``elastic``, ``weight_decay``) and their weighted sum ``total`` for a
    :class:`~physml.data.labels.LabelledBatch` and the potential's predictions.

    ``normalisers`` (from :func:`loss_normalisers` of the global batch this batch is a part
    of) makes every component this part's share of the global batch's loss (the weight
    penalty belongs to one part only: pass ``l2_parameters`` to one of them). ``anchors``
    (:class:`~physml.train.anchors.AnchorSet`) and ``elastic``
    (:class:`~physml.train.elastic.ElasticPrior`) add their penalties with ``weights.anchor``
    and ``weights.elastic``, each part its share."""
    omega = _omega(batch, weights)
    nz = normalisers or {}
    out: dict[str, torch.Tensor] = {}
    e = _masked(pred["energy"], batch.energy, batch.energy_mask)
    de = (e - batch.energy) / batch.natoms
    out["energy"] = _masked_mean(de * de, _omega(batch, weights, energy=True) * batch.energy_mask, nz.get("energy"))
    zero = de.new_zeros(())
    if "forces" in pred:
        f = _masked(pred["forces"], batch.forces, batch.forces_mask)
        df = ((f - batch.forces) ** 2).sum(-1) / 3.0
        out["forces"] = _masked_mean(df, omega[batch.batch] * batch.forces_mask, nz.get("forces"))
    else:
        out["forces"] = zero
    if "stress" in pred and weights.stress:
        s = _masked(pred["stress"], batch.stress, batch.stress_mask)
        ds = ((s - batch.stress) ** 2).sum((-1, -2)) / 9.0
        out["stress"] = _masked_mean(ds, omega * batch.stress_mask, nz.get("stress"))
    else:
        out["stress"] = zero
    reg = zero
    if potential is not None and weights.perturbation:
        for c in potential.components:
            val = provider_regularization(c.provider, graph)
            if val is not None:
                reg = reg + val
        if normalisers is not None and normalisers["atoms"] > 0:
            reg = reg * (batch.n_atoms / normalisers["atoms"])  # a per-atom mean
    out["perturbation"] = reg
    anc = out["anchor"] = _prior_share(anchors, weights.anchor, batch, normalisers, zero)
    el = out["elastic"] = _prior_share(elastic, weights.elastic, batch, normalisers, zero)
    l2 = zero
    if weight_decay and l2_parameters is not None:
        for p in l2_parameters:
            l2 = l2 + (p * p).sum()
    out["weight_decay"] = l2
    out["total"] = (
        weights.energy * out["energy"] + weights.forces * out["forces"] + weights.stress * out["stress"]
        + weights.perturbation * reg + weights.anchor * anc + weights.elastic * el + weight_decay * l2
    )
    return out
