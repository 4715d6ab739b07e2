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
