"""Descriptor input scaling of physics-informed providers from the training structures.

The raw Gaussian–Legendre descriptors of one environment differ in magnitude by two
orders between Legendre orders (for bcc Ta, RMS ≈ 3.5 for l = 0 and ≈ 0.05 for l = 2), so
a network fed unscaled inputs barely sees the small blocks. Before a fit, each provider's
``scale`` buffer (p_i = p0 + NN(scale ⊙ G_i)) is set per central species to 1 / RMS of
each descriptor over the training atoms of that species. The scaling is multiplicative
only — no centring — so a descriptor that is exactly zero (a species absent from an
environment) stays zero, as the provider's alloy-inheritance contract requires. The
buffer is part of the model's state, so the fitted model file carries it.
"""

from __future__ import annotations

import torch

from physml.data.structures import Dataset
from physml.potential import Potential


def fit_descriptor_scales(potential: Potential, dataset: Dataset, floor: float = 1e-8) -> list[torch.Tensor]:
    """Set ``scale`` = 1 / RMS(G) (per species and feature) of every physics-informed
    provider of ``potential`` whose scale is still the initial 1 (inherited and imported
    providers keep theirs) from ``dataset``; returns the new scales. Features whose RMS is
    below ``floor`` (never non-zero in the data) keep the scale 1."""
    # providers whose scale is already set (inherited or imported models) keep it
    providers = [
        c.provider for c in potential.components
        if hasattr(c.provider, "descriptor") and hasattr(c.provider, "scale") and bool((c.provider.scale == 1).all())
    ]
    if not providers:
        return []
    captured: dict[int, list[torch.Tensor]] = {id(p): [] for p in providers}
    hooks = [p.descriptor.register_forward_hook(lambda m, i, o, key=id(p): captured[key].append(o.detach())) for p in providers]
    species: list[torch.Tensor] = []
    index = {s: k for k, s in enumerate(potential.species)}
    try:
        with torch.no_grad():
            # one structure at a time: below the chunk size, every descriptor row is a centre atom
            for item in dataset.items:
                potential.evaluate([item.atoms], forces=False, stress=False)
                species.append(torch.tensor([index[s] for s in item.atoms.get_chemical_symbols()]))
    finally:
        for h in hooks:
            h.remove()
    sp = torch.cat(species)
    out = []
    for p in providers:
        G = torch.cat(captured[id(p)])
        if G.shape[0] != sp.shape[0]:
            raise RuntimeError(f"descriptor rows ({G.shape[0]}) do not match the training atoms ({sp.shape[0]})")
        scale = torch.ones_like(p.scale)
        n_feat = G.shape[1]
        for s in range(scale.shape[0]):
            rows = G[sp.to(G.device) == s]
            if not len(rows):
                continue
            rms = rows.pow(2).mean(0).sqrt()
            inv = torch.where(rms > floor, 1.0 / rms.clamp_min(floor), torch.ones_like(rms))
            # with central-species blocks the input of species s sits in block s
            blocks = scale.shape[1] // n_feat
            k = s if blocks > 1 else 0
            scale[s, k * n_feat : (k + 1) * n_feat] = inv.to(scale.dtype)
        with torch.no_grad():
            p.scale.copy_(scale)
        out.append(scale)
    return out

