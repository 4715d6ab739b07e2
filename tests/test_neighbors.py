"""Neighbour lists against ASE's (independent implementation) in the hard cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk, fcc111, molecule
from ase.neighborlist import neighbor_list as ase_nl

from physml.neighbors import Graph, NeighborCache, neighbor_list
from physml.system import Batch


def _pairs_physml(atoms: Atoms, cutoff: float):
    b = Batch.from_atoms(atoms, sorted(set(atoms.get_chemical_symbols())))
    nl = neighbor_list(b, cutoff)
    g = Graph.build(b, nl, 1)
    pr = g.pairs(cutoff)
    return sorted(
        (int(i), int(j), round(float(d), 9))
        for i, j, d in zip(pr.i.tolist(), pr.j.tolist(), pr.distances.tolist())
    )


def _pairs_ase(atoms: Atoms, cutoff: float):
    i, j, d = ase_nl("ijd", atoms, cutoff)
    return sorted((int(a), int(b), round(float(c), 9)) for a, b, c in zip(i, j, d))


CASES = {
    "single_atom_small_cell": bulk("Al", "fcc", a=4.05),  # 1 atom, cell << cutoff
    "tiny_triclinic": bulk("Fe", "bcc", a=2.87),
    "hcp": bulk("Mg", "hcp", a=3.2, c=5.2),
    "slab_mixed_pbc": fcc111("Al", size=(2, 2, 3), vacuum=5.0),
    "molecule_isolated": molecule("CH3CH2OH"),
    "wire_one_periodic_axis": Atoms("Cu2", positions=[[0, 0, 0], [1.3, 1.3, 0]], cell=[[0, 0, 0], [0, 0, 0], [0, 0, 2.5]], pbc=[False, False, True]),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("cutoff", [2.5, 6.3])
def test_same_pairs_as_ase(name, cutoff):
    atoms = CASES[name].copy()
    atoms.rattle(0.01, seed=3)
    assert _pairs_physml(atoms, cutoff) == _pairs_ase(atoms, cutoff)


def test_image_count_small_cell():
    # one atom in a 2 Å simple-cubic cell, cutoff 3 Å: 6 images at 2 Å, 12 at 2.83 Å
    a = Atoms("Po", cell=np.eye(3) * 2.0, pbc=True)
    pr = _pairs_physml(a, 3.0)
    assert len(pr) == 18
    assert sum(1 for p in pr if abs(p[2] - 2.0) < 1e-9) == 6


def test_single_isolated_atom_has_no_pairs():
    a = Atoms("Al", positions=[[0, 0, 0]])
    assert _pairs_physml(a, 5.0) == []


def test_vectors_differentiable_and_batch_offsets():
    a = bulk("Al", "fcc", a=4.05) * (2, 1, 1)
    c = molecule("H2O")
    b = Batch.from_atoms([a, c], ["H", "O", "Al"])
    nl = neighbor_list(b, 3.0)
    pos = b.positions.clone().requires_grad_(True)
    g = Graph.build(b, nl, 3, positions=pos)
    g.distances.sum().backward()
    assert pos.grad is not None and torch.isfinite(pos.grad).all()
    # no pair crosses structures
    assert (b.batch[nl.i] == b.batch[nl.j]).all()


def test_pairs_rejects_larger_cutoff():
    b = Batch.from_atoms(bulk("Al"), ["Al"])
    g = Graph.build(b, neighbor_list(b, 3.0), 1)
    with pytest.raises(ValueError, match="exceeds the neighbour-list cutoff"):
        g.pairs(4.0)


def test_neighbor_cache_reuses_within_skin():
    a = bulk("Al", "fcc", a=4.05) * (2, 2, 2)
    cache = NeighborCache(skin=1.0)
    b = Batch.from_atoms(a, ["Al"])
    nl1 = cache.get(b, 5.0)
    a.positions[0, 0] += 0.3  # < skin/2
    nl2 = cache.get(Batch.from_atoms(a, ["Al"]), 5.0)
    assert nl2 is nl1 and cache.builds == 1
    a.positions[0, 0] += 0.3  # now 0.6 > skin/2
    cache.get(Batch.from_atoms(a, ["Al"]), 5.0)
    assert cache.builds == 2


def test_unknown_element_names_structure():
    with pytest.raises(ValueError, match=r"structure 1: element\(s\) Cu not in"):
        Batch.from_atoms([bulk("Al"), bulk("Cu")], ["Al"])
