"""The Potential/Component/provider machinery, the ASE calculator and model files,
exercised with a two-species Morse term with non-trivial parameter tables."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from ase import Atoms, units
from ase.build import bulk, fcc111
from ase.filters import FrechetCellFilter
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from ase.md.verlet import VelocityVerlet
from ase.mep import NEB
from ase.optimize import BFGS, FIRE

import physml
from physml.empirical import Morse
from physml.parameters import ConstantPerSpecies, ParameterSpec
from physml.potential import Component, Potential
from tests import physics_checks as pc


def morse_potential(cutoff: float = 5.0) -> Potential:
    t = Morse(["Cu", "Ni"], cutoff=cutoff, smoothing=1.0)
    pot = Potential(["Cu", "Ni"], [Component(t)], reference_energies=[-0.1, -0.2])
    pot.components[0].provider.set_values(
        {"D": [[0.30, 0.35], [0.35, 0.42]], "alpha": [[1.4, 1.5], [1.5, 1.6]], "r0": [[2.55, 2.52], [2.52, 2.49]]}
    )
    return pot


def alloy(n=2, seed=0, a=3.6) -> Atoms:
    at = bulk("Cu", "fcc", a=a, cubic=True) * (n, n, n)
    rng = np.random.default_rng(seed)
    at.numbers[rng.random(len(at)) < 0.4] = 28
    at.rattle(0.08, seed=seed)
    at.set_cell(at.cell.array @ np.array([[1.0, 0.02, -0.01], [0.015, 0.99, 0.0], [0.0, 0.03, 1.01]]), scale_atoms=True)
    return at


def test_symmetric_tie_and_values():
    pot = morse_potential()
    prov = pot.components[0].provider
    assert prov.free["D"].numel() == 3  # symmetric 2x2 stored once
    D = prov.values()["D"]
    assert torch.allclose(D, D.T)


def test_fd_forces_stress_invariances():
    pot = morse_potential()
    at = alloy()
    pc.check_forces_fd(pot, at)
    pc.check_stress_fd(pot, at)
    pc.check_invariances(pot, at)


def test_cutoff_continuity():
    pot = morse_potential(cutoff=5.0)
    pc.check_cutoff_smoothness(pot, ("Cu", "Ni"), 5.0)


def test_batch_equals_single_and_small_cell_equals_supercell():
    pot = morse_potential(cutoff=6.0)
    structs = [alloy(2, 1), alloy(1, 2), bulk("Ni", "fcc", a=3.52)]
    pc.check_batch_consistency(pot, structs)
    prim = bulk("Cu", "fcc", a=3.6)  # 1 atom, cell much smaller than the cutoff
    big = prim * (5, 5, 5)
    e1 = pot.evaluate(prim)[0]["energy"]
    e2 = pot.evaluate(big)[0]["energy"] / len(big)
    assert abs(e1 - e2) < 1e-10


def test_reference_energy_isolated_atom():
    pot = morse_potential()
    a = Atoms("Ni", positions=[[0, 0, 0]])
    assert pot.evaluate(a, stress=False)[0]["energy"] == pytest.approx(-0.2, abs=1e-14)


def test_model_file_round_trip_dir_and_zip(tmp_path):
    pot = morse_potential()
    at = alloy()
    ref = pot.evaluate(at)[0]
    for target in (tmp_path / "m", tmp_path / "m.physml"):
        physml.save(pot, target)
        back = physml.load(target)
        r = back.evaluate(at)[0]
        assert r["energy"] == pytest.approx(ref["energy"], abs=1e-12)
        np.testing.assert_allclose(r["forces"], ref["forces"], atol=1e-12)
        for (k, v), (k2, v2) in zip(pot.state_dict().items(), back.state_dict().items()):
            assert k == k2 and torch.equal(v, v2)
    desc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert desc["species"] == ["Cu", "Ni"] and desc["components"][0]["term"]["kind"] == "morse"
    assert len(desc["model_hash"]) == 64


def test_model_file_errors(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "model.json").write_text("{not json")
    (tmp_path / "bad" / "weights.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match="invalid JSON"):
        physml.load(tmp_path / "bad")
    with pytest.raises(FileNotFoundError):
        physml.load(tmp_path / "missing")
    (tmp_path / "x.unknownformat").write_text("")
    with pytest.raises(ValueError, match="cannot tell the format"):
        physml.load(tmp_path / "x.unknownformat")


def test_save_is_atomic_over_existing(tmp_path, monkeypatch):
    pot = morse_potential()
    physml.save(pot, tmp_path / "m")
    before = (tmp_path / "m" / "weights.safetensors").read_bytes()
    import physml.io.model_file as mf

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(mf, "st_save", boom)
    with pytest.raises(RuntimeError):
        physml.save(pot, tmp_path / "m")
    assert (tmp_path / "m" / "weights.safetensors").read_bytes() == before
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]


def test_calculator_properties_and_caching():
    pot = morse_potential()
    at = alloy()
    at.calc = physml.Calculator(pot)
    e = at.get_potential_energy()
    assert at.get_potential_energy(force_consistent=True) == e
    assert at.get_forces().shape == (len(at), 3)
    assert at.get_stress().shape == (6,)
    assert np.sum(at.get_potential_energies()) == pytest.approx(e, abs=1e-10)
    calls = at.calc.neighbors.builds
    at.get_forces()
    assert at.calc.neighbors.builds == calls  # nothing changed: no recomputation


def test_calculator_float32_close_to_float64():
    pot = morse_potential()
    at = alloy()
    at.calc = physml.Calculator(pot)
    e64 = at.get_potential_energy()
    at.calc = physml.Calculator(pot, dtype=torch.float32)
    assert abs(at.get_potential_energy() - e64) < 1e-4 * len(at)


def test_relaxation_with_cell_filter():
    pot = morse_potential()
    at = alloy()
    at.calc = physml.Calculator(pot)
    opt = BFGS(FrechetCellFilter(at), logfile=None)
    assert opt.run(fmax=1e-3, steps=400)
    assert np.abs(at.get_forces()).max() < 1e-3
    assert np.abs(at.get_stress()).max() < 1e-3


def test_nve_md_conserves_energy_and_langevin_runs():
    pot = morse_potential()
    at = alloy(seed=4)
    at.calc = physml.Calculator(pot, skin=0.5)
    MaxwellBoltzmannDistribution(at, temperature_K=600, rng=np.random.default_rng(0))  # noqa
    e0 = at.get_total_energy()
    VelocityVerlet(at, timestep=1.0 * units.fs).run(200)
    assert abs(at.get_total_energy() - e0) / len(at) < 1e-3
    assert at.calc.neighbors.builds < 200  # the skin avoided rebuilding every step
    Langevin(at, timestep=1.0 * units.fs, temperature_K=300, friction=0.02 / units.fs, rng=np.random.default_rng(1)).run(20)
    assert np.isfinite(at.get_potential_energy())


def test_neb_vacancy_migration():
    pot = morse_potential()
    base = bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 2, 2)
    # nearest neighbour of site 0 jumps into the vacancy left at site 0
    d = base.get_distances(0, range(1, len(base)), mic=True)
    hop = 1 + int(np.argmin(d))
    initial = base.copy()
    del initial[0]
    final = initial.copy()
    final.positions[hop - 1] = base.positions[0]
    for img in (initial, final):
        img.calc = physml.Calculator(pot)
        BFGS(img, logfile=None).run(fmax=0.02, steps=200)
    images = [initial] + [initial.copy() for _ in range(3)] + [final]
    for img in images[1:-1]:
        img.calc = physml.Calculator(pot)
    neb = NEB(images, method="improvedtangent")
    neb.interpolate(mic=True)
    assert FIRE(neb, logfile=None).run(fmax=0.05, steps=400)
    energies = [im.get_potential_energy() for im in images]
    barrier = max(energies) - energies[0]
    assert abs(energies[-1] - energies[0]) < 1e-3  # symmetric hop
    assert 0.05 < barrier < 3.0
