"""The :class:`Potential`: a sum of (analytic term, parameter provider) components.

    E = Σ_structures Σ_i [ E_ref(s_i) + Σ_c e^c_i(r; p^c_i) ],   p^c_i = provider_c(G_i)

Forces are F = −∂E/∂x and the stress is σ = (1/V) ∂E/∂ε (ASE convention: negative under
compression), both by automatic differentiation through the neighbour geometry.
Everything that uses a potential (ASE calculator, trainer, validation, exporters) talks
only to this class.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from ase import Atoms
from torch import nn

from physml.empirical.base import Term, double_backward
from physml.neighbors import Graph, NeighborList, neighbor_list
from physml.parameters import ConstantPerSpecies, ParameterProvider
from physml.species import SpeciesMap
from physml.system import Batch


def _virial_to_stress(virial: torch.Tensor, cell: torch.Tensor) -> torch.Tensor:
    """σ = W / V, NaN where the cell has no volume. The NaN is selected *after* a division
    by a safe volume, so back-propagation through a batch that mixes clusters and bulk
    cells (stress training) gives finite gradients (0 · NaN never occurs)."""
    vol = torch.linalg.det(cell).abs()
    ok = vol > 1e-12
    safe = torch.where(ok, vol, torch.ones_like(vol))
    return torch.where(ok[:, None, None], virial / safe[:, None, None], torch.full_like(virial, float("nan")))


class Component(nn.Module):
    """One analytic term with the provider of its per-atom parameters."""

    def __init__(self, term: Term, provider: ParameterProvider | None = None, name: str | None = None):
        super().__init__()
        self.term = term
        if provider is None:
            provider = ConstantPerSpecies(term.parameter_specs(), term.n_species)
        if provider.layout.size != term.layout().size:
            raise ValueError(
                f"provider for {term.kind} supplies {provider.layout.size} values per atom, "
                f"the term needs {term.layout().size}"
            )
        self.provider = provider
        self.name = name or term.kind

    @property
    def cutoff(self) -> float:
        return max(float(self.term.cutoff), float(getattr(self.provider, "cutoff", 0.0)))

    def energies(self, graph: Graph) -> torch.Tensor:
        layout = self.provider.layout
        if layout.size:
            raw = self.provider(graph)
            params = layout.physical(raw)
        else:
            params = {}
        return self.term.energies(graph, params)


class Potential(nn.Module):
    """Sum of components plus per-species reference (isolated-atom) energies.

    Args:
        species: element symbols; the order defines species indices (and LAMMPS types on
            export).
        components: the (term, provider) pairs.
        reference_energies: E_ref per species in eV (default 0).
        metadata: free-form JSON-able provenance (training data hashes, parents, …).
    """

    def __init__(
        self,
        species: Sequence[str],
        components: Sequence[Component],
        reference_energies: Sequence[float] | None = None,
        metadata: dict | None = None,
    ):
        super().__init__()
        self.species_map = SpeciesMap(species)
        self.components = nn.ModuleList(components)
        for c in components:
            if list(c.term.species) != list(species):
                raise ValueError(f"component {c.name} has species {c.term.species}, potential has {list(species)}")
        ref = torch.zeros(len(species), dtype=torch.float64)
        if reference_energies is not None:
            ref = torch.as_tensor(list(reference_energies), dtype=torch.float64)
            if ref.shape != (len(species),):
                raise ValueError(f"reference_energies needs {len(species)} values, got {tuple(ref.shape)}")
        self.register_buffer("reference_energies", ref)
        self.metadata: dict = dict(metadata or {})
        #: inference on more atoms than this is done in chunks of centre atoms (bounded
        #: memory; exact by locality). 0 disables chunking; None: :meth:`chunk_size`.
        self.chunk_atoms: int | None = None

    # ------------------------------------------------------------------ properties
    @property
    def species(self) -> list[str]:
        return list(self.species_map.symbols)

    @property
    def cutoff(self) -> float:
        """Neighbour-list cutoff needed by every term and descriptor, Å."""
        return max([c.cutoff for c in self.components] + [0.0])

    @property
    def needs_full_list(self) -> bool:
        """False only if every term handles half lists and no provider reads the environment."""
        for c in self.components:
            if not getattr(c.term, "supports_half_list", False):
                return True
            if getattr(c.provider, "cutoff", 0.0) > 0 or c.provider.kind != "constant":
                return True
        return False

    @property
    def dtype(self) -> torch.dtype:
        return self.reference_energies.dtype

    @property
    def device(self) -> torch.device:
        return self.reference_energies.device

    def n_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # ------------------------------------------------------------------ evaluation
    def batch(self, structures: Atoms | Sequence[Atoms]) -> Batch:
        return Batch.from_atoms(structures, self.species_map, dtype=self.dtype, device=self.device)

    def site_energies(self, graph: Graph) -> torch.Tensor:
        """Per-atom energies E_i (N,), including the reference energies."""
        e = self.reference_energies[graph.species].clone()
        for comp in self.components:
            e = e + comp.energies(graph)
        return e

    def forward(
        self,
        batch: Batch,
        nlist: NeighborList | None = None,
        forces: bool = True,
        stress: bool = True,
        create_graph: bool = False,
    ) -> dict[str, torch.Tensor]:
        """Evaluate a batch.

        Returns a dict with ``energy`` (B,), ``energies`` (N,), and when asked
        ``forces`` (N, 3) and ``stress`` (B, 3, 3) in eV/Å³ (NaN for structures whose cell
        has no volume). ``create_graph`` keeps the graph for force/stress training.
        """
        if nlist is None:
            nlist = neighbor_list(batch, self.cutoff, full=self.needs_full_list)
        elif not nlist.full and self.needs_full_list:
            raise ValueError("this potential needs a full neighbour list")
        chunk = self.chunk_size(batch) if not create_graph else 0
        if chunk and batch.n_atoms > chunk and nlist.full:
            return self._chunked_forward(batch, nlist, forces, stress, chunk)
        pos = batch.positions
        cell = batch.cell
        inputs = []
        if forces:
            pos = pos.detach().requires_grad_(True)
            inputs.append(pos)
        eps = None
        if stress:
            eps = torch.zeros_like(cell).requires_grad_(True)
            sym = 0.5 * (eps + eps.transpose(1, 2))
            eye = torch.eye(3, dtype=cell.dtype, device=cell.device)
            deform = eye + sym
            pos = torch.einsum("ni,nij->nj", pos, deform[batch.batch])
            cell = torch.einsum("bij,bjk->bik", cell, deform)
            inputs.append(eps)
        graph = Graph.build(batch, nlist, len(self.species), positions=pos, cell=cell)
        if create_graph:
            with double_backward():
                e_atom = self.site_energies(graph)
        else:
            e_atom = self.site_energies(graph)
        energy = torch.zeros(batch.n_structures, dtype=e_atom.dtype, device=e_atom.device)
        energy = energy.index_add(0, batch.batch, e_atom)
        out = {"energy": energy, "energies": e_atom}
        if inputs:
            if e_atom.requires_grad:
                grads = torch.autograd.grad(energy.sum(), inputs, create_graph=create_graph, allow_unused=True)
            else:
                grads = [None] * len(inputs)
            grads = [torch.zeros_like(x) if g is None else g for g, x in zip(grads, inputs)]
            k = 0
            if forces:
                out["forces"] = -grads[0]
                k = 1
            if stress:
                out["stress"] = _virial_to_stress(grads[k], batch.cell)
        return out

    def chunk_size(self, batch: Batch) -> int:
        """Centre atoms per inference chunk: ``chunk_atoms`` if set, else 4,000 when the C++
        kernels evaluate every term and descriptor (a few kB per atom, and fewer chunks
        halve the per-chunk overhead), else 500 (a torch graph holds ~2 MB per atom)."""
        if self.chunk_atoms is not None:
            return int(self.chunk_atoms)
        from physml import ext

        def fast(c: Component) -> bool:
            term_ok = getattr(c.term, "kernel_backed", False) or float(c.term.cutoff) == 0.0  # reads no pairs
            desc = getattr(c.provider, "descriptor", None)
            return term_ok and (desc is None or getattr(desc, "kernel_backed", False))

        return 4000 if all(fast(c) for c in self.components) and ext.use_kernels(batch.positions) else 500

    def _chunked_forward(self, batch: Batch, nlist: NeighborList, forces: bool, stress: bool, chunk: int) -> dict[str, torch.Tensor]:
        """Inference in chunks of centre atoms, so memory stays bounded for large cells.

        Exact by locality: E_i depends only on pairs centred on i (the list is sorted by
        i), so Σ_{i∈chunk} E_i is evaluated from that slice of the list, differentiated,
        and forces and virials of all chunks are summed. Needs a full neighbour list.
        """
        N, B = batch.n_atoms, batch.n_structures
        counts = nlist.counts(N)
        ptr = torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])
        e_atom = torch.zeros(N, dtype=self.dtype, device=self.device)
        f_tot = torch.zeros(N, 3, dtype=self.dtype, device=self.device)
        w_tot = torch.zeros(B, 3, 3, dtype=self.dtype, device=self.device)
        eye = torch.eye(3, dtype=batch.cell.dtype, device=batch.cell.device)
        glob2loc = torch.full((N,), -1, dtype=torch.long, device=batch.positions.device)
        for start in range(0, N, chunk):
            stop = min(N, start + chunk)
            lo, hi = int(ptr[start]), int(ptr[stop])
            # local sub-system: the chunk's centre atoms first, then their neighbours
            centres = torch.arange(start, stop, device=glob2loc.device)
            others = torch.unique(nlist.j[lo:hi])
            others = others[(others < start) | (others >= stop)]
            needed = torch.cat([centres, others])
            glob2loc[needed] = torch.arange(len(needed), device=glob2loc.device)
            sub = NeighborList(glob2loc[nlist.i[lo:hi]], glob2loc[nlist.j[lo:hi]], nlist.shifts[lo:hi], nlist.cutoff, True)
            glob2loc[needed] = -1
            pos = batch.positions.detach().requires_grad_(forces)
            inputs = [pos] if forces else []
            cell = batch.cell
            p = pos
            if stress:
                eps = torch.zeros_like(cell).requires_grad_(True)
                deform = eye + 0.5 * (eps + eps.transpose(1, 2))
                p = torch.einsum("ni,nij->nj", pos, deform[batch.batch])
                cell = torch.einsum("bij,bjk->bik", cell, deform)
                inputs.append(eps)
            local = Batch(
                positions=p[needed], cell=cell, pbc=batch.pbc, species=batch.species[needed],
                numbers=batch.numbers[needed], batch=batch.batch[needed],
                ptr=torch.tensor([0, len(needed)], device=glob2loc.device),
            )
            graph = Graph.build(local, sub, len(self.species), positions=local.positions, cell=cell)
            e = self.site_energies(graph)[: stop - start]
            total = e.sum()
            if inputs and total.requires_grad:
                grads = torch.autograd.grad(total, inputs, allow_unused=True)
                k = 0
                if forces:
                    if grads[0] is not None:
                        f_tot -= grads[0]
                    k = 1
                if stress and grads[k] is not None:
                    w_tot += grads[k]
            e_atom[start:stop] = e.detach()
        energy = torch.zeros(B, dtype=self.dtype, device=self.device).index_add(0, batch.batch, e_atom)
        out = {"energy": energy, "energies": e_atom}
        if forces:
            out["forces"] = f_tot
        if stress:
            out["stress"] = _virial_to_stress(w_tot, batch.cell)
        return out

    def evaluate(
        self, structures: Atoms | Sequence[Atoms], forces: bool = True, stress: bool = True
    ) -> list[dict[str, np.ndarray | float]]:
        """Evaluate ASE structures; returns one dict of numpy results per structure
        (energy in eV, energies, forces eV/Å, stress as Voigt eV/Å³ in ASE order)."""
        single = isinstance(structures, Atoms)
        structs = [structures] if single else list(structures)
        batch = self.batch(structs)
        out = self(batch, forces=forces, stress=stress)
        res = []
        ptr = batch.ptr.tolist()
        for b in range(batch.n_structures):
            lo, hi = ptr[b], ptr[b + 1]
            d: dict[str, np.ndarray | float] = {
                "energy": float(out["energy"][b].detach()),
                "energies": out["energies"][lo:hi].detach().cpu().numpy(),
            }
            if forces:
                d["forces"] = out["forces"][lo:hi].detach().cpu().numpy()
            if stress:
                s = out["stress"][b].detach().cpu().numpy()
                d["stress"] = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
            res.append(d)
        return res

    # ------------------------------------------------------------------ description
    def describe(self) -> str:
        lines = [f"species: {' '.join(self.species)}", f"cutoff: {self.cutoff:g} Å"]
        lines.append(f"parameters: {self.n_parameters()} ({self.n_parameters(True)} trainable)")
        for c in self.components:
            nprov = sum(p.numel() for p in c.provider.parameters())
            lines.append(
                f"  term {c.name}: {c.term.describe()}; provider {c.provider.kind} "
                f"(cutoff {getattr(c.provider, 'cutoff', 0.0):g} Å, {nprov} parameters, "
                f"{c.provider.layout.size} per-atom values)"
            )
        ref = self.reference_energies.tolist()
        if any(ref):
            lines.append("reference energies: " + ", ".join(f"{s} {e:.6f} eV" for s, e in zip(self.species, ref)))
        return "\n".join(lines)
