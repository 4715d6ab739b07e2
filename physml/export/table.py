"""Pair terms with constant parameters as a LAMMPS ``pair_style table`` file.

For each unordered species pair (a, b) the file holds the pair energy of the physml terms,

    e_ab(r) = Σ_terms [½ φ(r; p_a[b]) + ½ φ(r; p_b[a])]      (the energy of one a–b pair)

and f_ab(r) = −de_ab/dr, evaluated by physml itself (the terms' own ``energies`` on isolated
dimers, derivatives by autograd), on N points evenly spaced in r² from ``r_inner`` to the
cutoff (LAMMPS keyword ``RSQ``). With ``pair_style table linear N`` and the same N, LAMMPS
uses these values unchanged (no re-spline) and interpolates energy and f/r linearly in r²
(``PairTable::compute``); :func:`table_results` reproduces that lookup in numpy, which is
how the tabulation error is measured (:mod:`physml.export.tabulation`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from ase import Atoms

from physml.neighbors import Graph, NeighborList
from physml.system import Batch


@dataclass
class PairTable:
    """Tables of every unordered species pair on one r² grid."""

    species: list[str]
    rsq: np.ndarray  # (N,) grid in r², Å²
    energy: dict[tuple[int, int], np.ndarray]  # (a, b), a ≤ b → (N,) eV
    force: dict[tuple[int, int], np.ndarray]  # −de/dr, eV/Å

    @property
    def cutoff(self) -> float:
        return float(np.sqrt(self.rsq[-1]))

    @property
    def r_inner(self) -> float:
        return float(np.sqrt(self.rsq[0]))

    def keyword(self, a: int, b: int) -> str:
        return f"{self.species[min(a, b)]}_{self.species[max(a, b)]}"


def pair_energy(components, n_species: int, r: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """e_ab(r) and −de_ab/dr of the pair terms ``components`` for isolated a–b dimers."""
    M = len(r)
    dt = torch.float64
    x = torch.zeros(2 * M, 3, dtype=dt)
    x[1::2, 0] = torch.as_tensor(r, dtype=dt)
    x.requires_grad_(True)
    species = torch.tensor([a, b] * M, dtype=torch.long)
    idx = torch.arange(2 * M)
    batch = Batch(
        positions=x, cell=torch.zeros(M, 3, 3, dtype=dt), pbc=torch.zeros(M, 3, dtype=torch.bool), species=species,
        numbers=torch.zeros(2 * M, dtype=torch.long), batch=idx // 2, ptr=torch.arange(0, 2 * M + 1, 2),
    )
    nl = NeighborList(i=idx, j=idx ^ 1, shifts=torch.zeros(2 * M, 3, dtype=dt), cutoff=float(np.max(r)) + 1.0, full=True)
    graph = Graph.build(batch, nl, n_species, positions=x)
    e = sum(c.energies(graph) for c in components)
    pair = e.view(M, 2).sum(1)
    (g,) = torch.autograd.grad(pair.sum(), [x])
    return pair.detach().numpy(), -g[1::2, 0].numpy()  # F on the second atom along +x = −de/dr


def tabulate(components, species: Sequence[str], cutoff: float, n: int, r_inner: float) -> PairTable:
    S = len(species)
    rsq = np.linspace(r_inner * r_inner, cutoff * cutoff, n)
    r = np.sqrt(rsq)
    energy, force = {}, {}
    for a in range(S):
        for b in range(a, S):
            energy[a, b], force[a, b] = pair_energy(components, S, r, a, b)
    return PairTable(list(species), rsq, energy, force)


def write_table(table: PairTable, path: str | os.PathLike) -> Path:
    """Write the ``pair_style table`` file (atomically), one section per species pair."""
    path = Path(path)
    out = ["# pair_style table file written by physml: e(r) eV, f(r) = -de/dr eV/Angstrom", ""]
    r = np.sqrt(table.rsq)
    S = len(table.species)
    for a in range(S):
        for b in range(a, S):
            out += [table.keyword(a, b), f"N {len(r)} RSQ {table.r_inner!r} {table.cutoff!r}", ""]
            e, f = table.energy[a, b], table.force[a, b]
            out += [f"{k + 1} {r[k]:.17g} {e[k]:.17g} {f[k]:.17g}" for k in range(len(r))]
            out.append("")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(out))
    os.replace(tmp, path)
    return path


def pair_commands(table: PairTable, filename: str, style_prefix: str = "") -> list[str]:
    """``pair_coeff`` lines for every type pair (``style_prefix`` for hybrid styles)."""
    S = len(table.species)
    sty = f"{style_prefix} " if style_prefix else ""
    return [f"pair_coeff {a + 1} {b + 1} {sty}{filename} {table.keyword(a, b)} {table.cutoff!r}" for a in range(S) for b in range(a, S)]


def table_results(table: PairTable, structures: Sequence[Atoms]) -> list[dict]:
    """Energies, site energies (half of each pair to each atom) and forces as LAMMPS'
    ``pair_style table linear N`` computes them from ``table`` (numpy emulation of its
    lookup: linear in r² for e and f/r)."""
    import vesin

    rsq0, delta = float(table.rsq[0]), float(table.rsq[1] - table.rsq[0])
    r = np.sqrt(table.rsq)
    out = []
    for atoms in structures:
        sp = np.array([table.species.index(s) for s in atoms.get_chemical_symbols()])
        nl = vesin.NeighborList(cutoff=table.cutoff, full_list=False)
        box = atoms.cell.array if atoms.pbc.any() else np.zeros((3, 3))
        i, j, d = nl.compute(points=atoms.positions, box=box, periodic=bool(atoms.pbc.any()), quantities="ijD")
        rs = np.einsum("ij,ij->i", d, d)
        keep = rs < table.rsq[-1]
        i, j, d, rs = i[keep], j[keep], d[keep], rs[keep]
        if np.any(rs < rsq0):
            raise ValueError(f"a pair distance {np.sqrt(rs.min()):.3f} Å is below the table's inner cutoff {table.r_inner} Å")
        k = ((rs - rsq0) / delta).astype(np.int64)
        frac = (rs - table.rsq[k]) / delta
        e = np.zeros(len(rs))
        fr = np.zeros(len(rs))
        a, b = np.minimum(sp[i], sp[j]), np.maximum(sp[i], sp[j])
        for (p, q), ev in table.energy.items():
            m = (a == p) & (b == q)
            fv = table.force[p, q] / r
            e[m] = ev[k[m]] + frac[m] * (ev[k[m] + 1] - ev[k[m]])
            fr[m] = fv[k[m]] + frac[m] * (fv[k[m] + 1] - fv[k[m]])
        n = len(atoms)
        site = np.zeros(n)
        np.add.at(site, i, 0.5 * e)
        np.add.at(site, j, 0.5 * e)
        f = np.zeros((n, 3))
        np.add.at(f, i, -fr[:, None] * d)  # d = x_j − x_i: repulsion pushes i away from j
        np.add.at(f, j, fr[:, None] * d)
        out.append({"energy": float(e.sum()), "energies": site, "forces": f})
    return out
