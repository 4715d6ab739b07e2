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


def _pair_set(nl, batch, cutoff):
    g = Graph.build(batch, nl, 1)
    pr = g.pairs(cutoff)
    S = nl.shifts[pr.index].round().long().tolist()
    return sorted((int(i), int(j), *s) for i, j, s in zip(pr.i.tolist(), pr.j.tolist(), S))


def _strained_path(at: Atoms, steps: int, seed: int, drift: float = 0.0):
    """A barostat-like trajectory: small anisotropic strains and shears with the atoms
    rescaled with the cell (``drift``: a steady volumetric strain per step), plus
    thermal-like displacements."""
    rng = np.random.default_rng(seed)
    at = at.copy()
    for _ in range(steps):
        eps = (1.0 + drift) * np.eye(3) + rng.normal(0.0, 2e-3, (3, 3))
        at.set_cell(at.cell.array @ eps, scale_atoms=True)
        at.positions += rng.normal(0.0, 0.01, at.positions.shape)
        yield at.copy()


@pytest.mark.parametrize("name", ["single_atom_small_cell", "tiny_triclinic", "slab_mixed_pbc"])
def test_neighbor_cache_complete_under_strain(name):
    """Along a strained trajectory (compressed by 20 % overall, so that pairs enter the
    cutoff from beyond the skin) the reused list yields exactly the pairs (i, j, S) within
    the cutoff of a fresh list, and is rebuilt far fewer times than once per step."""
    cutoff = 4.5
    cache = NeighborCache(skin=1.0)
    species = sorted(set(CASES[name].get_chemical_symbols()))
    steps = 60
    for at in _strained_path(CASES[name], steps, seed=5, drift=-3.7e-3):
        b = Batch.from_atoms(at, species)
        assert _pair_set(cache.get(b, cutoff), b, cutoff) == _pair_set(neighbor_list(b, cutoff), b, cutoff)
    assert 2 <= cache.builds < steps // 3


def test_neighbor_cache_rebuild_criterion_under_strain():
    """rc = 5, skin = 1: σ_min(F)·6 − 2 max|u| > 5 keeps the list, whatever the expansion."""
    a = bulk("Al", "fcc", a=4.05, cubic=True) * (2, 2, 2)
    cache = NeighborCache(skin=1.0)

    def get():
        cache.get(Batch.from_atoms(a, ["Al"]), 5.0)
        return cache.builds

    assert get() == 1
    a.set_cell(a.cell.array * 1.3, scale_atoms=True)  # expansion: no pair can enter
    assert get() == 1
    a.set_cell(a.cell.array / 1.3 * 0.85, scale_atoms=True)  # 0.85·6 = 5.1 > 5
    assert get() == 1
    a.positions[3] += [0.06, 0.0, 0.0]  # 5.1 − 2·0.06 = 4.98 < 5
    assert get() == 2
    a.set_cell(a.cell.array * 0.82, scale_atoms=True)  # from the new reference: 4.92 < 5
    assert get() == 3
    a.set_cell(a.cell.array @ np.array([[1.0, 0.1, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), scale_atoms=True)  # shear 0.1: σ_min = 0.951
    assert get() == 3
    a.set_cell(a.cell.array @ np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), scale_atoms=True)  # total shear 0.4: σ_min = 0.82
    assert get() == 4


def test_calculator_forces_identical_with_and_without_reuse_under_strain():
    """physml.Calculator with the default skin against one rebuilding at every call
    (skin 0) along a strained trajectory: same forces and stress at every step."""
    import physml
    from tests.test_potential import alloy, morse_potential

    pot = morse_potential()
    reuse, fresh = physml.Calculator(pot), physml.Calculator(pot, skin=0.0)
    steps = 24
    for at in _strained_path(alloy(n=2, seed=2), steps, seed=7):
        (f1, s1), (f0, s0) = [(c.get_property("forces", at), c.get_property("stress", at)) for c in (reuse, fresh)]
        assert np.abs(f1 - f0).max() < 1e-12 and np.abs(s1 - s0).max() < 1e-14
    assert fresh.neighbors.builds >= steps and reuse.neighbors.builds < steps // 4
