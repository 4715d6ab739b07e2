"""The exported model: a sum of scripted (provider, layout, term) components.

Interface (version 1), the one the physml LAMMPS pair style calls::

    energies = model(vectors, centre, species_centre, species_neighbour)

* ``vectors`` (E, 3) float64: r_cj = x_j − x_c for every pair of a centre c with r < cutoff
  (j local or ghost; periodic images are explicit atoms);
* ``centre`` (E,) int64: the centre 0 ≤ c < n of each pair, sorted;
* ``species_centre`` (n,) int64: species index of each centre (order of ``species``);
* ``species_neighbour`` (E,) int64: species index of each pair's neighbour j;
* returns the site energies E_c (n,) in eV, reference energies included.

The caller differentiates: F_c += ∂E/∂r_cj, F_j −= ∂E/∂r_cj, W = −Σ r_cj ⊗ ∂E/∂r_cj.
Attributes read by the caller: ``species``, ``cutoff`` (Å), ``chunk_atoms``,
``interface_version``, ``physml_version``, ``model_hash``.
"""

from typing import List

import torch
from torch import Tensor, nn

from physml.export.scripted.geometry import PairList

INTERFACE_VERSION = 1


class ScriptedComponent(nn.Module):
    def __init__(self, provider: nn.Module, layout: nn.Module, term: nn.Module, n_params: int):
        super().__init__()
        self.provider = provider
        self.layout = layout
        self.term = term
        self.n_params = int(n_params)

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
        r = torch.sqrt((vectors * vectors).sum(1))
        pairs = PairList(vectors, r, centre, species_neighbour)
        e = self.reference_energies[species_centre]
        for comp in self.components:
            e = e + comp(pairs, species_centre)
        return e
