"""TorchScript form of physml potentials, run without Python by the physml LAMMPS pair
style (``lammps-plugin/``).

:func:`script_potential` converts a :class:`~physml.potential.Potential` term by term into
the modules of this package (one scripted counterpart per term, provider and descriptor
kind; the interface is documented in :mod:`physml.export.scripted.model`). Kinds without a
counterpart are refused with their names.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from physml.export.scripted.bop import ScriptedPinnBOP
from physml.export.scripted.descriptors import ScriptedBehlerParrinello, ScriptedGaussianLegendre
from physml.export.scripted.eam import ScriptedAnalyticEAM, ScriptedTabulatedEAM
from physml.export.scripted.model import ExportedPotential, ScriptedComponent
from physml.export.scripted.neural import ScriptedConstant, ScriptedLayout, ScriptedPhysicsInformed
from physml.export.scripted.pair import ScriptedMorse, ScriptedSiteEnergy, ScriptedZBL
from physml.export.scripted.tersoff import ScriptedTersoff

TERMS = {
    "eam_tabulated": ScriptedTabulatedEAM,
    "eam": ScriptedAnalyticEAM,
    "morse": ScriptedMorse,
    "zbl": ScriptedZBL,
    "tersoff": ScriptedTersoff,
    "pinn_bop": ScriptedPinnBOP,
    "site_energy": ScriptedSiteEnergy,
}
DESCRIPTORS = {"gaussian_legendre": ScriptedGaussianLegendre, "behler_parrinello": ScriptedBehlerParrinello}


def _exact(obj, kind: str, table) -> None:
    """Refuse subclasses of registered classes: their own equations have no exported form."""
    registered = table.get(kind)
    if registered is not None and type(obj) is not registered:
        raise ValueError(f"{type(obj).__name__} (kind {kind!r}) overrides {registered.__name__}; it has no exported form")


def _provider(provider, n_species: int) -> nn.Module:
    from physml.registry import PROVIDERS

    _exact(provider, provider.kind, PROVIDERS)
    if provider.kind == "constant":
        return ScriptedConstant(provider)
    if provider.kind == "physics_informed":
        kind = provider.descriptor.kind
        if kind not in DESCRIPTORS:
            raise ValueError(f"descriptor kind {kind!r} has no exported form (supported: {sorted(DESCRIPTORS)})")
        return ScriptedPhysicsInformed(provider, DESCRIPTORS[kind](provider.descriptor, n_species))
    raise ValueError(f"provider kind {provider.kind!r} has no exported form (supported: constant, physics_informed)")


def build_exported(potential) -> ExportedPotential:
    """The eager (not yet scripted) exported module of ``potential``."""
    from physml.io.model_file import model_hash
    from physml import __version__

    from physml.registry import TERMS as REGISTERED_TERMS

    comps = []
    S = len(potential.species)
    for c in potential.components:
        if c.term.kind not in TERMS:
            raise ValueError(f"component {c.name!r}: term kind {c.term.kind!r} has no exported form (supported: {sorted(TERMS)})")
        _exact(c.term, c.term.kind, REGISTERED_TERMS)
        term = TERMS[c.term.kind](c.term)
        comps.append(ScriptedComponent(_provider(c.provider, S), ScriptedLayout(c.provider.layout), term, c.provider.layout.size))
    return ExportedPotential(
        potential.species, potential.cutoff, comps, potential.reference_energies, potential.chunk_atoms or 500,
        __version__, model_hash(potential),
    )


def script_potential(potential) -> torch.jit.ScriptModule:
    """``potential`` as a TorchScript module (float64, CPU)."""
    module = build_exported(potential.to(torch.float64).cpu()).eval()
    with warnings.catch_warnings():
        # torch.jit is deprecated upstream in favour of torch.export; see physml.export.torchscript
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.script(module)


__all__ = ["build_exported", "script_potential", "TERMS", "DESCRIPTORS"]
