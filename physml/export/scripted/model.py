"""The exported model: a sum of scripted (provider, layout, term) components.

Interface (version 1), the one the physml LAMMPS pair style calls::

    energies, gradient = model.energy_and_gradient(vectors, centre, species_centre, species_neighbour)

* ``vectors`` (E, 3) float64: r_cj = x_j − x_c for every pair of a centre c with r < cutoff
  (j local or ghost; periodic images are explicit atoms);
* ``centre`` (E,) int64: the centre 0 ≤ c < n of each pair, sorted;
* ``species_centre`` (n,) int64: species index of each centre (order of ``species``);
* ``species_neighbour`` (E,) int64: species index of each pair's neighbour j;
* returns the site energies E_c (n,) in eV, reference energies included, and the gradient
  ∂(Σ_c E_c)/∂r_cj (E, 3) in eV/Å.

The caller turns the gradient into forces and the virial: F_c += ∂E/∂r_cj, F_j −= ∂E/∂r_cj,
W = −Σ r_cj ⊗ ∂E/∂r_cj. The whole model is differentiated by one autograd pass (run by
libtorch in C++), w.r.t. the pair vectors and, for components whose descriptors come from
physml's C++ kernels, w.r.t. those descriptors, which the kernel's vector–Jacobian product
maps back to the pair vectors. ``model(...)`` returns the energies alone.
Attributes read by the caller: ``species``, ``cutoff`` (Å), ``chunk_atoms``,
``interface_version``, ``physml_version``, ``model_hash``, ``uses_kernels`` (the model
calls ``torch.ops.physml``: the pair style must be built with physml's C++ kernels).
"""

from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

from physml.export.scripted.geometry import PairList

INTERFACE_VERSION = 1


class ScriptedComponent(nn.Module):
    """provider → layout → term, differentiated by autograd (protocol: ``prepare``,
    ``energies``, ``descriptor_vjp``, called by :class:`ExportedPotential`)."""

    def __init__(self, provider: nn.Module, layout: nn.Module, term: nn.Module, n_params: int):
        super().__init__()
        self.provider = provider
        self.layout = layout
        self.term = term
        self.n_params = int(n_params)

    def _params(self, pairs: PairList, species: Tensor) -> Dict[str, Tensor]:
        if self.n_params > 0:
            return self.layout(self.provider(pairs, species))
        return self.layout(torch.zeros([species.shape[0], 0], dtype=pairs.distances.dtype, device=species.device))

    @torch.jit.export
    def prepare(self, plain: PairList, species: Tensor) -> Tuple[Tensor, Tensor]:
        """Kernel descriptors (an autograd leaf) and their moments; none here."""
        none = torch.zeros([0], dtype=plain.distances.dtype, device=plain.distances.device)
        return none, none

    @torch.jit.export
    def energies(self, pairs: PairList, species: Tensor, descriptors: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
        """Site energies and an optional direct gradient w.r.t. the pair vectors (see
        :class:`~physml.export.scripted.base.ScriptedTerm`)."""
        return self.term.split(pairs, species, self._params(pairs, species))

    @torch.jit.export
    def descriptor_vjp(self, grad: Tensor, moments: Tensor, plain: PairList) -> Tensor:
        return torch.zeros_like(plain.vectors)


class KernelDescriptorComponent(ScriptedComponent):
    """A physics-informed component whose Gaussian–Legendre descriptors come from the C++
    kernel (see :mod:`physml.export.scripted.kernels`): ``prepare`` returns them as an
    autograd leaf, ``descriptor_vjp`` maps ∂E/∂g back to the pair vectors."""

    @torch.jit.export
    def prepare(self, plain: PairList, species: Tensor) -> Tuple[Tensor, Tensor]:
        g, moments = self.provider.descriptor.raw_and_moments(plain, species)
        return g.requires_grad_(True), moments

    @torch.jit.export
    def energies(self, pairs: PairList, species: Tensor, descriptors: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
        G = self.provider.descriptor.transform(descriptors)
        params = self.layout(self.provider.from_descriptors(G, species))
        return self.term.split(pairs, species, params)

    @torch.jit.export
    def descriptor_vjp(self, grad: Tensor, moments: Tensor, plain: PairList) -> Tensor:
        return self.provider.descriptor.vjp(grad, moments, plain)


class ExportedPotential(nn.Module):
    def __init__(self, species: List[str], cutoff: float, components: List[ScriptedComponent], reference_energies: Tensor, chunk_atoms: int, physml_version: str, model_hash: str, uses_kernels: bool = False, autograd_pairs: bool = True):
        super().__init__()
        self.species: List[str] = list(species)
        self.cutoff = float(cutoff)
        self.chunk_atoms = int(chunk_atoms)
        self.interface_version = INTERFACE_VERSION
        self.physml_version = str(physml_version)
        self.model_hash = str(model_hash)
        self.uses_kernels = bool(uses_kernels)
        #: False when only C++ kernels read the pair vectors (they return their own derivatives)
        self.autograd_pairs = bool(autograd_pairs)
        self.components = nn.ModuleList(components)
        self.register_buffer("reference_energies", reference_energies.detach().to(torch.float64).clone())

    def forward(self, vectors: Tensor, centre: Tensor, species_centre: Tensor, species_neighbour: Tensor) -> Tensor:
        return self.energy_and_gradient(vectors, centre, species_centre, species_neighbour)[0]

    @torch.jit.export
    def energy_and_gradient(self, vectors: Tensor, centre: Tensor, species_centre: Tensor, species_neighbour: Tensor) -> Tuple[Tensor, Tensor]:
        fixed = vectors.detach()
        if self.autograd_pairs:
            v = fixed.clone().requires_grad_(True)
            pairs = PairList(v, torch.sqrt((v * v).sum(1)), centre, species_neighbour)
            plain = PairList(fixed, pairs.distances.detach(), centre, species_neighbour)
        else:  # only kernels read the pairs: no distances, no autograd through the vectors
            v = fixed
            pairs = PairList(fixed, torch.zeros([0], dtype=fixed.dtype, device=fixed.device), centre, species_neighbour)
            plain = pairs
        e = self.reference_energies[species_centre]
        leaves: List[Tensor] = []
        moments: List[Tensor] = []
        grad = torch.zeros_like(fixed)
        for comp in self.components:
            g, m = comp.prepare(plain, species_centre)
            ec, direct = comp.energies(pairs, species_centre, g)
            e = e + ec
            if direct is not None:
                grad = grad + direct
            leaves.append(g)
            moments.append(m)
        if e.requires_grad:
            inputs: List[Tensor] = []
            if self.autograd_pairs:
                inputs.append(v)
            for g in leaves:
                if g.requires_grad:
                    inputs.append(g)
            grads = torch.autograd.grad([e.sum()], inputs, allow_unused=True)
            k = 0
            if self.autograd_pairs:
                gv = grads[0]
                if gv is not None:
                    grad = grad + gv
                k = 1
            for c, part in enumerate(self.components):
                if leaves[c].requires_grad:
                    gg = grads[k]
                    k += 1
                    if gg is not None:
                        grad = grad + part.descriptor_vjp(gg, moments[c], plain)
        return e.detach(), grad
