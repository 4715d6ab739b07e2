"""Build a :class:`~physml.potential.Potential` from the ``model`` section of a fit config.

With ``inherit`` the model is an alloy of elemental potentials (:mod:`physml.compose`).
Terms are looked up by kind in :mod:`physml.registry`, so every registered term works
without changes here. ``provider = "physics_informed"`` wraps the term's parameters in a
:class:`~physml.ml.physics_informed.PhysicsInformed` provider whose ``provider_config``
holds ``descriptor`` (a descriptor config with ``kind``), ``hidden``, ``activation``, …;
``initial`` sets the physical starting values (p0) of the parameters.
"""

from __future__ import annotations

from typing import Sequence

import torch

from physml.ml.descriptors import descriptor_from_config
from physml.ml.physics_informed import PhysicsInformed
from physml.potential import Component, Potential
from physml.registry import term_class
from physml.train.config import ModelConfig


def build_potential(model: ModelConfig, reference_energies: Sequence[float] | None = None, seed: int = 0) -> Potential:
    """The potential of a model section. With ``inherit`` it is an alloy of the inherited
    elemental potentials (:func:`physml.alloy`), whose reference energies are inherited
    too (``reference_energies`` is then ignored)."""
    if model.inherit:
        return _build_alloy(model, seed)
    species = list(model.species)
    comps = []
    for k, tc in enumerate(model.terms):
        term = term_class(tc.kind).from_config(dict(tc.config), species)
        if tc.provider == "constant":
            comp = Component(term)
            if tc.initial:
                comp.provider.set_values(dict(tc.initial))
        else:
            cfg = dict(tc.provider_config)
            if "descriptor" not in cfg:
                raise ValueError(f"model.terms[{k}].provider_config: a physics_informed provider needs a 'descriptor'")
            desc = descriptor_from_config(dict(cfg.pop("descriptor")))
            prov = PhysicsInformed(term.parameter_specs(), len(species), desc, seed=seed + k, **cfg)
            if tc.initial:
                prov.set_baseline(dict(tc.initial))
            comp = Component(term, prov)
        comps.append(comp)
    return Potential(species, comps, reference_energies=reference_energies)


def _build_alloy(model: ModelConfig, seed: int) -> Potential:
    from physml.compose.alloy import alloy, elemental_species

    by_species = {elemental_species(p): p for p in model.inherit}
    missing = [s for s in model.species if s not in by_species]
    if missing:
        raise ValueError(f"model.inherit: no elemental potential for {missing}")
    return alloy([by_species[s] for s in model.species], unfreeze=dict(model.unfreeze), seed=seed, **dict(model.alloy))


def start_from(potential: Potential, path: str) -> dict:
    """Copy the parameters and buffers (descriptor scales, reference energies) of the physml
    model at ``path`` into ``potential``, built from the same model section; returns a record
    for the log (path and :func:`~physml.io.model_file.model_hash` of the source model). The two must have the same
    species, terms and tensor shapes, and the same reference energies: anything else is an
    error naming the first difference (nothing is copied then)."""
    from physml.io import load
    from physml.io.model_file import model_hash

    src = load(path)
    where = f"model.start_from ({path})"
    if not isinstance(src, Potential):
        raise ValueError(f"{where}: not a physml potential")
    if list(src.species) != list(potential.species):
        raise ValueError(f"{where}: species {list(src.species)} differ from model.species {list(potential.species)}")
    mine, theirs = potential.state_dict(), src.state_dict()
    missing = [k for k in mine if k not in theirs]
    extra = [k for k in theirs if k not in mine]
    if missing or extra:
        raise ValueError(f"{where}: the model's terms differ from model.terms (tensors missing: {missing[:3]}, not expected: {extra[:3]})")
    for k, v in mine.items():
        if tuple(theirs[k].shape) != tuple(v.shape):
            raise ValueError(f"{where}: tensor {k} has shape {tuple(theirs[k].shape)}, the config's model {tuple(v.shape)}")
    ref_mine, ref_theirs = mine.get("reference_energies"), theirs.get("reference_energies")
    if ref_mine is not None and not torch.allclose(ref_mine.to(ref_theirs), ref_theirs, rtol=0, atol=1e-12):
        raise ValueError(
            f"{where}: its reference energies {dict(zip(src.species, ref_theirs.tolist()))} differ from the config's "
            f"{dict(zip(potential.species, ref_mine.tolist()))}"
        )
    potential.load_state_dict({k: theirs[k].to(mine[k]) for k in mine})
    return {"path": str(path), "model_hash": model_hash(src)}
