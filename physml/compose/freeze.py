"""Frozen tensors of a potential: which they are, their hashes, and explicit unfreezing.

Freezing is structural. A frozen tensor is either a parameter with ``requires_grad=False``
(an inherited elemental network, kept whole) or a buffer (the frozen entries of a partly
frozen table, :meth:`~physml.parameters.ConstantPerSpecies.freeze_entries`; tabulated
functions; reference energies). Neither enters an optimiser, so gradients, Adam moments,
weight decay and L-BFGS steps cannot change them, and they are bit-identical after any fit.
The model file records the frozen blocks in the providers' configurations (a reloaded
alloy is frozen the same way) and the hash of every frozen tensor (:func:`frozen_hashes`),
checked again when the file is loaded.

Unfreezing is always explicit (:func:`unfreeze`) and may give the unfrozen block a reduced
learning rate (``lr_scale`` on its tensors, honoured by the trainer's Adam stages).
"""

from __future__ import annotations

import hashlib
from typing import Mapping

import torch

from physml.potential import Potential


def frozen_state(potential: Potential) -> dict[str, torch.Tensor]:
    """Every tensor that training cannot change: frozen parameters and all buffers that
    are saved with the model."""
    out = {n: p for n, p in potential.named_parameters() if not p.requires_grad}
    state = potential.state_dict(keep_vars=True)
    for n, b in potential.named_buffers():
        if n in state:
            out[n] = b
    return out


def tensor_hash(t: torch.Tensor) -> str:
    """sha256 of a tensor's dtype, shape and bytes (CPU, contiguous)."""
    t = t.detach().cpu().contiguous()
    h = hashlib.sha256(f"{t.dtype}{tuple(t.shape)}".encode())
    h.update(t.numpy().tobytes())
    return h.hexdigest()


def frozen_hashes(potential: Potential) -> dict[str, str]:
    """Name → sha256 of every frozen tensor (see :func:`frozen_state`)."""
    return {n: tensor_hash(t) for n, t in sorted(frozen_state(potential).items())}


def has_frozen_blocks(potential: Potential) -> bool:
    """True if some trainable tensor of the potential was frozen (a parameter with
    ``requires_grad=False`` or a partly frozen table)."""
    return any(not p.requires_grad for p in potential.parameters()) or any(
        getattr(c.provider, "frozen_names", None) for c in potential.components
    )


def verify_frozen(potential: Potential, hashes: dict[str, str], where: str = "model") -> None:
    """Raise if a frozen tensor is missing or differs from its recorded hash."""
    state = potential.state_dict()
    for name, h in hashes.items():
        if name not in state:
            raise ValueError(f"{where}: frozen tensor {name} is missing")
        if tensor_hash(state[name]) != h:
            raise ValueError(f"{where}: frozen tensor {name} differs from its recorded hash (the file was changed)")


def unfreeze(potential: Potential, blocks: Mapping[str, float]) -> list[str]:
    """Make the inherited blocks of the given species trainable, each with a learning-rate
    factor (``{"W": 0.1}``: W's elemental network and baseline train at 0.1 × the learning
    rate). Returns the names of the tensors made trainable. This breaks the inheritance
    guarantee for those species, which the model file then records (they are no longer
    frozen)."""
    names: list[str] = []
    unknown = [s for s in blocks if s not in potential.species]
    if unknown:
        raise ValueError(f"unfreeze: {unknown} are not species of the potential {potential.species}")
    for s, f in blocks.items():
        if not float(f) > 0:
            raise ValueError(f"unfreeze.{s}: the learning-rate factor must be positive, got {f}")
    for ci, c in enumerate(potential.components):
        prov = c.provider
        if prov.kind != "inherited":
            continue
        idx = {potential.species.index(s) for s in blocks}
        prov.set_frozen([a for a in prov.frozen if a not in idx])
        for a in idx:
            for n, p in prov.elementals[a].named_parameters():
                p.lr_scale = float(blocks[potential.species[a]])  # type: ignore[attr-defined]
                names.append(f"components.{ci}.provider.elementals.{a}.{n}")
    if blocks and not names:
        raise ValueError("unfreeze: the potential has no inherited physics-informed blocks (classic tables stay frozen)")
    return names
