"""Anchor structures: unlabelled atomic environments at which a physics-informed model is
held to the energies its analytic terms give with the parameters of a reference crystal.

The PINN idea is that far from the training data the analytic term with (nearly) its
baseline parameters still describes the physics. A network, though, answers everywhere: an
environment the data never show (a vacancy's neighbours in a database without vacancies)
gets whatever perturbation the nearest training environments taught it, and a parameter
change of 1 % can move a defect energy by electronvolts. Anchors state the prior
explicitly. For every atom i of the anchor structures (positions only, no labels) the site
energy with the network's parameters should equal the site energy that the same analytic
term gives with the reference crystal's parameters, in the same environment:

    R_a = ⟨ (E_i(p0 + δp_i) − E_i(p0 + δp̄(s_i)))² ⟩               (eV², mean over anchor atoms)

summed over the physics-informed components, with δp̄(s) the mean network perturbation over
the atoms of species s in the anchor file's structures whose ``config_type`` is
``"reference"`` (δp̄ = 0 — the baseline p0 itself — for a species without reference atoms).
δp̄ is a target (no gradient flows into it); gradients reach the networks and p0. The loss
adds λ_a R_a (``loss.anchor``) to every mini-batch. The anchor descriptors are computed once
(the structures do not move); a step costs one energy evaluation of the anchor atoms with
each parameter set. A defect energy E_def − n ε_bulk then comes from the analytic term with
the bulk's parameters, which is what the term was made to extrapolate with.

Measured in energy rather than in the parameters on purpose: the parameters differ by orders
of magnitude in how strongly they move the energy (an exponent times a bond length against
a prefactor), and what has to stay physical is the energy.

This is a regulariser, not data: it encodes "an unseen environment behaves like the
reference crystal with the analytic term's own response". Anchors should be environments
absent from the data; anchoring environments that the data contain works against them.
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
    """The anchor structures' graph and descriptors for every physics-informed component of
    ``potential``, and the penalty R_a (module docstring) as a differentiable function of
    the model.

    Args:
        potential: the model being fitted (its descriptor modules are evaluated here once).
        structures: the anchor structures.
        reference: per structure, whether it is a reference crystal.
    """

    def __init__(self, potential, structures: Sequence[Atoms], reference: Sequence[bool]):
        from physml.neighbors import Graph, neighbor_list

        if len(structures) != len(reference):
            raise ValueError("one reference flag per anchor structure")
        self.components = [c for c in potential.components if hasattr(c.provider, "perturbation") and hasattr(c.provider, "descriptor")]
        if not self.components:
            raise ValueError("data.anchors: the model has no physics-informed provider to anchor")
        batch = potential.batch(list(structures))
        nl = neighbor_list(batch, potential.cutoff, full=potential.needs_full_list)
        self.graph = Graph.build(batch, nl, len(potential.species))
        with torch.no_grad():
            self.G = [c.provider.descriptor(self.graph).detach() for c in self.components]
        self.species = self.graph.species
        flags = torch.tensor([bool(r) for r in reference], device=batch.batch.device)
        self.is_ref = flags[batch.batch]
        self.n_atoms = int((~self.is_ref).sum())
        self.n_reference = int(self.is_ref.sum())
        self.n_structures = len(structures)

    def _reference_perturbation(self, y: torch.Tensor, n_species: int) -> torch.Tensor:
        """δp̄ per species (S, P), detached; zero rows for species without reference atoms."""
        y = y.detach()
        target = y.new_zeros((n_species, y.shape[1]))
        if self.n_reference:
            ref = self.is_ref
            sums = target.index_add(0, self.species[ref], y[ref])
            counts = y.new_zeros(n_species).index_add(0, self.species[ref], y.new_ones(int(ref.sum())))
            target = sums / counts.clamp(min=1.0)[:, None]
        return target

    def penalty(self) -> torch.Tensor:
        """R_a summed over the physics-informed components (a scalar with gradients into the
        networks and baselines)."""
        anchor = ~self.is_ref
        total = None
        for comp, G in zip(self.components, self.G):
            prov = comp.provider
            y = prov.perturbation(G, self.species)
            ybar = self._reference_perturbation(y, prov.n_species)[self.species]
            base = prov.p0[self.species] if prov.use_baseline else torch.zeros_like(y)
            layout = prov.layout
            e = comp.term.energies(self.graph, layout.physical(base + y))
            e_ref = comp.term.energies(self.graph, layout.physical(base + ybar))
            d = (e - e_ref)[anchor]
            val = (d * d).mean()
            total = val if total is None else total + val
        return total

    def describe(self) -> str:
        return (f"anchors: {self.n_structures} structures, {self.n_atoms} anchor atoms held at the site energies of their "
                "analytic terms with the parameters of " + (f"{self.n_reference} reference atoms" if self.n_reference else "the baseline p0 (no reference structures)"))
