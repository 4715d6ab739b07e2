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
W = −Σ r_cj ⊗ ∂E/∂r_cj. Components are differentiated by autograd in one reverse pass
(TorchScript runs it in C++), except *analytic* components, which return their gradient
themselves (C++ kernels with exact derivatives). ``model(...)`` returns the energies alone.
Attributes read by the caller: ``species``, ``cutoff`` (Å), ``chunk_atoms``,
``interface_version``, ``physml_version``, ``model_hash``.
"""

from typing import List, Tuple

import torch
from torch import Tensor, nn

from physml.export.scripted.geometry import PairList

INTERFACE_VERSION = 1


class ScriptedComponent(nn.Module):
    """provider → layout → term; differentiated by autograd (``analytic = False``)."""

    def __init__(self, provider: nn.Module, layout: nn.Module, term: nn.Module, n_params: int):
        super().__init__()
        self.provider = provider
        self.layout = layout
        self.term = term
        self.n_params = int(n_params)
        self.analytic = False

    @torch.jit.export
    def energy_and_gradient(self, pairs: PairList, species: Tensor) -> Tuple[Tensor, Tensor]:
        raise RuntimeError("this component is differentiated by autograd")

    def forward(self, pairs: PairList, species: Tensor) -> Tensor:
        if self.n_params > 0:
            params = self.layout(self.provider(pairs, species))
        else:
            params = self.layout(torch.zeros([species.shape[0], 0], dtype=pairs.distances.dtype, device=species.device))
        return self.term(pairs, species, params)


class ExportedPotential(nn.Module):
    def __init__(self, species: List[str], cutoff: float, components: List[ScriptedComponent], reference_energies: Tensor, chunk_atoms: int, physml_version: str, model_hash: str):
        super().__init__()
        self.species: List[str] = list(species)
        self.cutoff = float(cutoff)
        self.chunk_atoms = int(chunk_atoms)
        self.interface_version = INTERFACE_VERSION
        self.physml_version = str(physml_version)
        self.model_hash = str(model_hash)
        self.components = nn.ModuleList(components)
        self.register_buffer("reference_energies", reference_energies.detach().to(torch.float64).clone())

    def forward(self, vectors: Tensor, centre: Tensor, species_centre: Tensor, species_neighbour: Tensor) -> Tensor:
        return self.energy_and_gradient(vectors, centre, species_centre, species_neighbour)[0]

    @torch.jit.export
    def energy_and_gradient(self, vectors: Tensor, centre: Tensor, species_centre: Tensor, species_neighbour: Tensor) -> Tuple[Tensor, Tensor]:
        fixed = vectors.detach()
        v = fixed.clone().requires_grad_(True)
        pairs = PairList(v, torch.sqrt((v * v).sum(1)), centre, species_neighbour)
        plain = PairList(fixed, pairs.distances.detach(), centre, species_neighbour)
        e = self.reference_energies[species_centre]
        g = torch.zeros_like(fixed)
        e_auto = torch.zeros_like(e)
        for comp in self.components:
            if comp.analytic:
                ec, gc = comp.energy_and_gradient(plain, species_centre)
                e = e + ec
                g = g + gc
            else:
                e_auto = e_auto + comp(pairs, species_centre)
        if e_auto.requires_grad:
            grads = torch.autograd.grad([e_auto.sum()], [v], allow_unused=True)
            ga = grads[0]
            if ga is not None:
                g = g + ga
        return e + e_auto.detach(), g
