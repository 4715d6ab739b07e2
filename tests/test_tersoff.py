"""Tersoff files against LAMMPS pair_style tersoff; physics checks; file errors; writing."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

import physml
from physml.io.tersoff import TersoffFormatError, write_tersoff
from tests import physics_checks as pc


def si_structures():
    a = bulk("Si", "diamond", a=5.43, cubic=True) * (2, 2, 2)
    a.rattle(0.05, seed=1)
    return a


def sic_structures(seed=0):
    a = bulk("SiC", "zincblende", a=4.36, cubic=True) * (2, 2, 2)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(a), 6, replace=False)
    a.numbers[idx] = np.where(a.numbers[idx] == 14, 6, 14)  # random Si/C swaps
    a.rattle(0.05, seed=seed + 1)
    return a


def variants(a):
    t = a.copy()
    t.set_cell(a.cell.array @ np.array([[1.01, 0.02, 0.0], [0.0, 0.99, 0.03], [0.01, 0.0, 1.0]]), scale_atoms=True)
    s = a.copy()
    s.center(vacuum=5.0, axis=2)  # surface slab
    return {"perturbed": a, "strained_triclinic": t, "surface": s}


@pytest.mark.parametrize(
    "fname,elements,make",
    [("Si.tersoff", ["Si"], si_structures), ("SiC.tersoff", ["Si", "C"], sic_structures), ("SiC_Erhart-Albe.tersoff", ["Si", "C"], sic_structures)],
)
def test_matches_lammps(fname, elements, make, potentials_dir, lammps):
    path = potentials_dir / fname
    pot = physml.load(path, elements=elements)
    structs = variants(make())
    ref = lammps.run_lammps(list(structs.values()), elements, ["pair_style tersoff", f"pair_coeff * * {fname} {' '.join(elements)}"], files=[path])
    for (name, at), m, r in zip(structs.items(), pot.evaluate(list(structs.values())), ref):
        assert abs(m["energy"] - r.energy) / len(at) <= 1e-8, name
        assert np.abs(m["forces"] - r.forces).max() <= 1e-7, name
        assert np.abs(m["stress"] - r.stress).max() <= 1e-8, name


def test_physics(potentials_dir):
    pot = physml.load(potentials_dir / "SiC.tersoff", elements=["Si", "C"])
    at = sic_structures(3)
    pc.check_forces_fd(pot, at)
    pc.check_stress_fd(pot, at)
    pc.check_invariances(pot, at)
    pc.check_batch_consistency(pot, [at, si_structures()])


def test_write_round_trip(potentials_dir, tmp_path):
    pot = physml.load(potentials_dir / "SiC.tersoff", elements=["Si", "C"])
    write_tersoff(pot, tmp_path / "x.tersoff")
    back = physml.load(tmp_path / "x.tersoff", elements=["Si", "C"])
    at = sic_structures(5)
    assert back.evaluate(at)[0]["energy"] == pytest.approx(pot.evaluate(at)[0]["energy"], abs=1e-12)


def test_errors(potentials_dir, tmp_path):
    text = (potentials_dir / "Si.tersoff").read_text()
    with pytest.raises(TersoffFormatError, match="no entry for the element triple Si Si C"):
        physml.load(potentials_dir / "Si.tersoff", elements=["Si", "C"])
    (tmp_path / "cut.tersoff").write_text(text.rsplit(None, 1)[0])
    with pytest.raises(TersoffFormatError, match="not a multiple of 17"):
        physml.load(tmp_path / "cut.tersoff")
    lines = [ln for ln in text.splitlines()]
    k = next(n for n, ln in enumerate(lines) if ln.strip().startswith("Si"))
    lines[k] = lines[k].replace("Si Si Si", "Si Si Si", 1)
    toks = lines[k].split()
    toks[4] = "abc"
    lines[k] = " ".join(toks)
    (tmp_path / "bad.tersoff").write_text("\n".join(lines))
    with pytest.raises(TersoffFormatError, match=r"is not a number"):
        physml.load(tmp_path / "bad.tersoff")
