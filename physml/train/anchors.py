"""Anchor structures: unlabelled atomic environments at which the networks of physics-informed
providers are held to the parameters of a reference crystal.

The PINN idea is that far from the training data the analytic term with (nearly) its
baseline parameters still describes the physics. A network, though, answers everywhere: an
environment the data never show (a vacancy's neighbours in a database without vacancies)
gets whatever perturbation the nearest training environments taught it, and a small
parameter change can move a defect energy by electronvolts. Anchors state the prior
explicitly: for the atoms of the anchor structures (no labels needed — positions only) the
perturbation δp_i should equal that of the reference crystal,

    R_a = ⟨ Σ_k ((δp_ik − δp̄_k(s_i)) / s_k)² ⟩ / P          (mean over the anchor atoms)

with δp̄(s) the mean perturbation over the atoms of species s in the anchor file's structures
whose ``config_type`` is ``"reference"`` (δp̄ = 0 — the baseline p0 itself — for a species
without reference atoms), s_k the provider's ``perturbation_scale`` and P its number of
outputs. The loss adds λ_a R_a (``loss.anchor``) to every mini-batch. Gradients reach both
the anchor and the reference perturbations. The descriptors of the anchors are computed once
(the structures do not move), so the penalty costs one network evaluation of their atoms
per step.

This is a regulariser, not data: it encodes "an unseen environment behaves like the
reference crystal with the analytic term's own response", which the analytic term then turns
into a defect energy. Anchors should be environments absent from the data; anchoring
environments that the data do contain works against the data terms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from ase import Atoms

REFERENCE = "reference"


def read_anchors(path: str | Path, species: Sequence[str]) -> tuple[list[Atoms], list[bool]]:
    """The structures of an anchor file (any ASE-readable format, e.g. extxyz) and, per
    structure, whether it is a reference (``config_type = "reference"``). Errors name the
    file and the structure."""
    import ase.io

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"data.anchors: {p}: no such file")
    try:
        frames = ase.io.read(p, index=":")
    except Exception as err:  # the reader's own message, with the file named
        raise ValueError(f"data.anchors: {p}: cannot be read ({err})") from err
    if not isinstance(frames, list):
        frames = [frames]
    if not frames:
        raise ValueError(f"data.anchors: {p}: no structures")
    known = set(species)
    refs = []
    for k, a in enumerate(frames):
        bad = sorted(set(a.get_chemical_symbols()) - known)
        if bad:
            raise ValueError(f"data.anchors: {p}, structure {k}: element(s) {bad} are not in model.species {list(species)}")
        if not torch.isfinite(torch.as_tensor(a.get_positions())).all():
            raise ValueError(f"data.anchors: {p}, structure {k}: non-finite positions")
        refs.append(str(a.info.get("config_type", "")) == REFERENCE)
    if all(refs):
        raise ValueError(f"data.anchors: {p}: every structure is a reference; anchors need at least one other structure")
    return frames, refs


class AnchorSet:
    """The anchor atoms' descriptors for every physics-informed provider of ``potential``,
    and the penalty R_a (module docstring) as a differentiable function of the networks.

    Args:
        potential: the model being fitted (its descriptor modules are evaluated here once).
        structures: the anchor structures.
        reference: per structure, whether it is a reference crystal.
    """

    def __init__(self, potential, structures: Sequence[Atoms], reference: Sequence[bool]):
        if len(structures) != len(reference):
            raise ValueError("one reference flag per anchor structure")
        self.providers = [c.provider for c in potential.components if hasattr(c.provider, "perturbation") and hasattr(c.provider, "descriptor")]
        if not self.providers:
            raise ValueError("data.anchors: the model has no physics-informed provider to anchor")
        index = {s: k for k, s in enumerate(potential.species)}
        captured: dict[int, list[torch.Tensor]] = {id(p): [] for p in self.providers}
        hooks = [p.descriptor.register_forward_hook(lambda m, i, o, key=id(p): captured[key].append(o.detach())) for p in self.providers]
        species, is_ref = [], []
        try:
            with torch.no_grad():
                for k, (a, ref) in enumerate(zip(structures, reference)):
                    before = {key: len(v) for key, v in captured.items()}
                    potential.evaluate([a], forces=False, stress=False)
                    for p in self.providers:
                        rows = sum(t.shape[0] for t in captured[id(p)][before[id(p)]:])
                        if rows != len(a):  # chunked evaluation would interleave other rows
                            raise RuntimeError(f"anchor structure {k}: {rows} descriptor rows for {len(a)} atoms")
                    species.append(torch.tensor([index[s] for s in a.get_chemical_symbols()]))
                    is_ref.append(torch.full((len(a),), bool(ref)))
        finally:
            for h in hooks:
                h.remove()
        dev = potential.device
        self.species = torch.cat(species).to(dev)
        self.is_ref = torch.cat(is_ref).to(dev)
        self.G = [torch.cat(captured[id(p)]) for p in self.providers]
        self.n_atoms = int((~self.is_ref).sum())
        self.n_reference = int(self.is_ref.sum())
        self.n_structures = len(structures)

    def penalty(self) -> torch.Tensor:
        """R_a summed over the providers (a scalar with gradients into the networks)."""
        anchor, ref = ~self.is_ref, self.is_ref
        n_species = int(self.species.max()) + 1
        total = None
        for prov, G in zip(self.providers, self.G):
            y = prov.perturbation(G, self.species)
            target = y.new_zeros((max(n_species, prov.n_species), y.shape[1]))
            if self.n_reference:
                sums = target.index_add(0, self.species[ref], y[ref])
                counts = torch.zeros(target.shape[0], dtype=y.dtype, device=y.device).index_add(0, self.species[ref], torch.ones_like(y[ref, 0]))
                target = sums / counts.clamp(min=1.0)[:, None]  # species without reference atoms: 0 (p0)
            d = y[anchor] - target[self.species[anchor]]
            val = (d * d * prov.penalty_weights()).mean()
            total = val if total is None else total + val
        return total

    def describe(self) -> str:
        return (f"anchors: {self.n_structures} structures, {self.n_atoms} anchor atoms held at the perturbation of "
                + (f"{self.n_reference} reference atoms" if self.n_reference else "the baseline p0 (no reference structures)"))
