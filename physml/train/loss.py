"""The fitting loss: weighted energy-per-atom, force and stress errors with masks.

For structures b with weight ω_b = (structure weight) × (group weight of its config_type)
and label masks m:

    L_E = Σ_b m_b ω_b ((E_b − Ê_b)/n_b)² / Σ_b m_b ω_b                       (eV²/atom²)
    L_F = Σ_a m_a ω_b(a) |F_a − F̂_a|² / (3 Σ_a m_a ω_b(a))                   (eV²/Å²)
    L_S = Σ_b m_b ω_b ‖σ_b − σ̂_b‖²_F / (9 Σ_b m_b ω_b)                       (eV²/Å⁶)
    L   = w_E L_E + w_F L_F + w_S L_S + λ_p R_p

R_p is the mean squared network perturbation of physics-informed providers (keeps p_i near
the physical baseline p0, as in the PINN papers). A term whose labels are all missing
contributes exactly 0 (masked, never zero-filled). Weight decay on network weights is left
to the optimiser (and never applied to frozen tensors).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class LossWeights:
    energy: float = 1.0
    forces: float = 1.0
    stress: float = 0.0
    perturbation: float = 0.0
    group: dict[str, float] = field(default_factory=dict)  # config_type -> weight factor


def _masked_mean(sq: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    den = w.sum()
    if float(den) == 0.0:
        return sq.new_zeros(())
    return (sq * w).sum() / den


def loss_terms(pred: dict, batch, weights: LossWeights, potential=None) -> dict[str, torch.Tensor]:
    """Loss components and total for a :class:`~physml.data.labels.LabelledBatch`."""
    gw = torch.ones(len(batch.group_names), dtype=batch.weights.dtype, device=batch.weights.device)
    for k, name in enumerate(batch.group_names):
        gw[k] = float(weights.group.get(name, 1.0))
    omega = batch.weights * gw[batch.group]
    out: dict[str, torch.Tensor] = {}
    de = (pred["energy"] - batch.energy) / batch.natoms
    out["energy"] = _masked_mean(torch.where(batch.energy_mask, de * de, torch.zeros_like(de)), omega * batch.energy_mask)
    if "forces" in pred:
        df = ((pred["forces"] - batch.forces) ** 2).sum(-1) / 3.0
        wa = omega[batch.batch] * batch.forces_mask
        out["forces"] = _masked_mean(torch.where(batch.forces_mask, df, torch.zeros_like(df)), wa)
    else:
        out["forces"] = de.new_zeros(())
    if "stress" in pred and weights.stress:
        ds = ((pred["stress"] - batch.stress) ** 2).sum((-1, -2)) / 9.0
        ds = torch.where(batch.stress_mask & torch.isfinite(ds), ds, torch.zeros_like(ds))
        out["stress"] = _masked_mean(ds, omega * batch.stress_mask)
    else:
        out["stress"] = de.new_zeros(())
    reg = de.new_zeros(())
    if potential is not None and weights.perturbation:
        for c in potential.components:
            r = getattr(c.provider, "regularization", None)
            val = r() if callable(r) else None
            if val is not None:
                reg = reg + val
    out["perturbation"] = reg
    out["total"] = weights.energy * out["energy"] + weights.forces * out["forces"] + weights.stress * out["stress"] + weights.perturbation * reg
    return out
