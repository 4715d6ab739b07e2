"""TorchScript form of physml potentials, run without Python by the physml LAMMPS pair
style (``physml/lammps/plugin_src``).

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
from physml.export.scripted.kernels import KernelGaussianLegendre, KernelPinnBOP, kernels_available
from physml.export.scripted.model import ExportedPotential, KernelDescriptorComponent, ScriptedComponent
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


def _provider(provider, n_species: int, kernels: bool) -> nn.Module:
    from physml.registry import PROVIDERS

    _exact(provider, provider.kind, PROVIDERS)
    if provider.kind == "constant":
        return ScriptedConstant(provider)
    if provider.kind == "physics_informed":
        kind = provider.descriptor.kind
        if kind not in DESCRIPTORS:
            raise ValueError(f"descriptor kind {kind!r} has no exported form (supported: {sorted(DESCRIPTORS)})")
        cls = KernelGaussianLegendre if kernels and kind == "gaussian_legendre" else DESCRIPTORS[kind]
        return ScriptedPhysicsInformed(provider, cls(provider.descriptor, n_species))
    raise ValueError(f"provider kind {provider.kind!r} has no exported form (supported: constant, physics_informed)")


def uses_kernels(potential) -> bool:
    """Whether the export of ``potential`` can call physml's C++ kernels (it has a PINN
    bond-order term or Gaussian–Legendre descriptors)."""
    for c in potential.components:
        if c.term.kind == "pinn_bop" or getattr(getattr(c.provider, "descriptor", None), "kind", "") == "gaussian_legendre":
            return True
    return False


def chunk_atoms(potential, kernels: bool) -> int:
    """Centre atoms per call of the pair style: physml's own inference chunk
    (:meth:`Potential.chunk_size <physml.potential.Potential.chunk_size>`: ``chunk_atoms`` if
    set, else larger chunks when the C++ kernels evaluate every term and descriptor) for the
    float64 CPU inputs of the pair style, as physml would run the model with (``kernels``) or
    without its C++ kernels; 0 (no chunking) becomes one chunk of any size."""
    from ase import Atoms

    from physml.empirical.base import double_backward
    from physml.system import Batch

    probe = Batch.from_atoms(Atoms(potential.species[0], positions=[[0.0, 0.0, 0.0]]), potential.species_map)
    if kernels:
        chunk = potential.chunk_size(probe)
    else:  # the inputs of a training pass: physml's torch path and its chunk
        with double_backward(), torch.enable_grad():
            chunk = potential.chunk_size(probe)
    return int(chunk) if chunk > 0 else 2**31 - 1


def build_exported(potential, kernels: bool = False) -> ExportedPotential:
    """The eager (not yet scripted) exported module of ``potential``; ``kernels``: call
    physml's C++ kernels (torch.ops.physml) for PINN-BOP terms and Gaussian–Legendre
    descriptors."""
    from physml.io.model_file import model_hash
    from physml import __version__

    from physml.registry import TERMS as REGISTERED_TERMS

    comps = []
    S = len(potential.species)
    for c in potential.components:
        if c.term.kind not in TERMS:
            raise ValueError(f"component {c.name!r}: term kind {c.term.kind!r} has no exported form (supported: {sorted(TERMS)})")
        _exact(c.term, c.term.kind, REGISTERED_TERMS)
        term = KernelPinnBOP(c.term) if kernels and c.term.kind == "pinn_bop" else TERMS[c.term.kind](c.term)
        provider = _provider(c.provider, S, kernels)
        kernel_desc = isinstance(getattr(provider, "descriptor", None), KernelGaussianLegendre)
        cls = KernelDescriptorComponent if kernel_desc else ScriptedComponent
        comps.append(cls(provider, ScriptedLayout(c.provider.layout), term, c.provider.layout.size))
    # the pair vectors need autograd unless every component reads them only through kernels
    kernel_only = all(
        isinstance(c.term, KernelPinnBOP) and (isinstance(c, KernelDescriptorComponent) or isinstance(c.provider, ScriptedConstant))
        for c in comps
    )
    return ExportedPotential(
        potential.species, potential.cutoff, comps, potential.reference_energies, chunk_atoms(potential, kernels),
        __version__, model_hash(potential), kernels, autograd_pairs=not kernel_only,
    )


def script_potential(potential, kernels: bool | None = None) -> torch.jit.ScriptModule:
    """``potential`` as a TorchScript module (float64, CPU). ``kernels=None``: use physml's
    C++ kernels where the model has a use for them and they are available here."""
    if kernels is None:
        kernels = uses_kernels(potential) and kernels_available()
    elif kernels and not kernels_available():
        from physml import ext

        raise RuntimeError(f"physml's C++ kernels are not available: {ext.error() or 'disabled by PHYSML_NO_EXT'}")
    module = build_exported(potential.to(torch.float64).cpu(), kernels=bool(kernels)).eval()
    with warnings.catch_warnings():
        # torch.jit is deprecated upstream in favour of torch.export; see physml.export.torchscript
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.script(module)


__all__ = ["build_exported", "chunk_atoms", "script_potential", "uses_kernels", "TERMS", "DESCRIPTORS"]
