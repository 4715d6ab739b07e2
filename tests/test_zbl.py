"""ZBL against LAMMPS pair_style zbl (same inner/outer), and physics checks."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from physml.empirical import ZBL
from physml.potential import Component, Potential
from tests import physics_checks as pc

INNER, OUTER = 1.2, 2.4


def zbl_pot(species=("W", "Be")) -> Potential:
    return Potential(list(species), [Component(ZBL(list(species), INNER, OUTER))])


def dimers(a, b):
    out = []
    for r in np.concatenate([np.linspace(0.3, 1.1, 5), np.linspace(1.25, 2.35, 12), [2.39, 2.45, 3.0]]):
        out.append(Atoms([a, b], positions=[[5, 5, 5], [5 + r * 0.6, 5 + r * 0.8, 5]], cell=[20, 20, 20], pbc=True))
    return out


def compressed_crystal():
    at = bulk("W", "bcc", a=2.0, cubic=True) * (2, 2, 2)  # nearest neighbours 1.73 Å: switching region
    at.numbers[::3] = 4
    at.rattle(0.1, seed=2)
    return at


@pytest.mark.parametrize("pair", [("W", "W"), ("W", "Be"), ("Be", "Be")])
def test_dimers_match_lammps(pair, lammps):
    species = ["W", "Be"]
    pot = zbl_pot(species)
    structs = dimers(*pair)
    cmds = [f"pair_style zbl {INNER} {OUTER}", "pair_coeff 1 1 74 74", "pair_coeff 1 2 74 4", "pair_coeff 2 2 4 4"]
    ref = lammps.run_lammps(structs, species, cmds)
    for at, m, r in zip(structs, pot.evaluate(structs), ref):
        assert abs(m["energy"] - r.energy) <= 1e-9 * max(1.0, abs(r.energy)), (at.get_distance(0, 1), m["energy"], r.energy)
        assert np.abs(m["forces"] - r.forces).max() <= 1e-7 * max(1.0, np.abs(r.forces).max())


def test_compressed_crystal_matches_lammps(lammps):
    species = ["W", "Be"]
    pot = zbl_pot(species)
    at = compressed_crystal()
    cmds = [f"pair_style zbl {INNER} {OUTER}", "pair_coeff 1 1 74 74", "pair_coeff 1 2 74 4", "pair_coeff 2 2 4 4"]
    r = lammps.run_lammps([at], species, cmds)[0]
    m = pot.evaluate(at)[0]
    assert abs(m["energy"] - r.energy) / len(at) <= 1e-9 * max(1, abs(r.energy))
    assert np.abs(m["forces"] - r.forces).max() <= 1e-6
    assert np.abs(m["stress"] - r.stress).max() <= 1e-8 * max(1, np.abs(r.stress).max())
    assert np.abs(m["energies"] - r.energies).max() <= 1e-8


def test_zbl_physics():
    pot = zbl_pot()
    at = compressed_crystal()
    pc.check_forces_fd(pot, at, h=1e-5)
    pc.check_stress_fd(pot, at)
    pc.check_invariances(pot, at)
    pc.check_cutoff_smoothness(pot, ("W", "Be"), OUTER)


def test_zbl_rejects_bad_switching():
    with pytest.raises(ValueError, match="inner < outer"):
        ZBL(["W"], 2.0, 1.0)
