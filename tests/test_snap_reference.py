"""LAMMPS pair styles as reference models: the published SNAP Ta06A include file (with its
ZBL overlay) evaluated by LammpsReference agrees with ASE's LAMMPSlib (the LAMMPS Python
library, a different path into LAMMPS), its forces and stresses are derivatives of its own
energy (central finite differences), and `physml eval` / `physml compare` score it with the
same metric code as physml models."""

from __future__ import annotations

import json
import subprocess
import sys

import ase.io
import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator

from physml.evaluate import evaluate, load_model
from physml.lammps.reference import LammpsReference

pytestmark = [pytest.mark.data, pytest.mark.lammps]


def _structure():
    a = bulk("Ta", "bcc", a=3.31, cubic=True) * (2, 2, 2)
    a.rattle(0.08, seed=3)
    a.set_cell(a.cell @ np.array([[1.0, 0.03, 0.0], [0.0, 0.98, 0.02], [0.0, 0.0, 1.01]]), scale_atoms=True)
    return a


LAMMPSLIB = """
import json, os, sys
import numpy as np
import ase.io
from ase.calculators.lammpslib import LAMMPSlib
a = ase.io.read(sys.argv[1])
os.chdir(sys.argv[2])
a.calc = LAMMPSlib(lmpcmds=["include Ta06A.snap"], atom_types={"Ta": 1}, log_file=None,
                   lammps_header=["units metal", "atom_style atomic", "atom_modify map array sort 0 0"])
print(json.dumps({"energy": a.get_potential_energy(), "forces": a.get_forces().tolist(), "stress": a.get_stress().tolist()}))
"""


@pytest.fixture(scope="module")
def snap(potentials_dir, lammps):
    return LammpsReference.from_include(potentials_dir / "Ta06A.snap")


def test_include_file_is_parsed(snap, potentials_dir):
    assert snap.species == ["Ta"]
    assert {f.name for f in snap.files} == {"Ta06A.snap", "Ta06A.snapcoeff", "Ta06A.snapparam"}
    with pytest.raises(ValueError, match="not in the LAMMPS reference"):
        snap.evaluate(bulk("W", "bcc", a=3.16))


def test_agrees_with_ase_lammpslib(snap, potentials_dir, lammps, tmp_path):
    a = _structure()
    ase.io.write(tmp_path / "s.traj", a)
    r = subprocess.run([sys.executable, "-c", LAMMPSLIB, str(tmp_path / "s.traj"), str(potentials_dir)], capture_output=True, text=True, env=lammps.lammps_env(), timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    ref = json.loads(r.stdout.strip().splitlines()[-1])
    got = snap.evaluate(a)[0]
    assert got["energy"] == pytest.approx(ref["energy"], abs=1e-9)
    np.testing.assert_allclose(got["forces"], ref["forces"], atol=1e-8)
    np.testing.assert_allclose(got["stress"], ref["stress"], atol=1e-9)
    assert np.abs(got["forces"]).max() > 0.1  # a structure with real forces


def test_forces_and_stress_are_energy_derivatives(snap):
    a = _structure()
    h, eps = 1e-4, 1e-5
    moves = [(0, 0), (5, 1), (11, 2)]
    voigt = [(0, 0), (1, 2), (0, 1)]  # xx, yz, xy
    structures = []
    for atom, comp in moves:
        for sign in (1, -1):
            b = a.copy()
            b.positions[atom, comp] += sign * h
            structures.append(b)
    for i, j in voigt:
        for sign in (1, -1):
            b = a.copy()
            e = np.eye(3)
            e[i, j] += sign * eps / (2 if i != j else 1)
            e[j, i] += sign * eps / 2 if i != j else 0
            b.set_cell(a.cell @ e, scale_atoms=True)
            structures.append(b)
    res = snap.evaluate([a] + structures)
    base, rest = res[0], res[1:]
    for n, (atom, comp) in enumerate(moves):
        fd = -(rest[2 * n]["energy"] - rest[2 * n + 1]["energy"]) / (2 * h)
        assert base["forces"][atom, comp] == pytest.approx(fd, abs=2e-6)
    V = a.get_volume()
    k = {(0, 0): 0, (1, 2): 3, (0, 1): 5}
    off = 2 * len(moves)
    for n, ij in enumerate(voigt):
        fd = (rest[off + 2 * n]["energy"] - rest[off + 2 * n + 1]["energy"]) / (2 * eps) / V
        assert base["stress"][k[ij]] == pytest.approx(fd, abs=1e-7)


def test_eval_scores_lammps_reference_like_a_model(snap, potentials_dir, tmp_path, capsys):
    from physml.cli import main

    frames = []
    rng = np.random.default_rng(0)
    for k in range(3):
        a = _structure()
        a.rattle(0.02, seed=k)
        r = snap.evaluate(a)[0]
        s = r["stress"]
        # labels: SNAP itself + a known per-atom energy shift and force noise
        a.calc = SinglePointCalculator(a, energy=r["energy"] - 0.5 * len(a), forces=r["forces"] + rng.normal(0, 0.01, (len(a), 3)), stress=s)
        a.info["config_type"] = "rattled"
        frames.append(a)
    ase.io.write(tmp_path / "d.extxyz", frames)
    from physml.data import load_dataset

    ds = load_dataset(tmp_path / "d.extxyz")
    m, info = evaluate(load_model(potentials_dir / "Ta06A.snap"), ds, offset="median")
    # extxyz stores positions with 8 decimals: the labels match to ~1e-8 eV
    assert info["energy_offset_eV_per_atom"] == pytest.approx(0.5, abs=1e-7)
    assert m["all"]["energy_rmse"] == pytest.approx(0.0, abs=1e-7)
    noise = np.concatenate([s.forces - r["forces"] for s, r in zip(ds, snap.evaluate([s.atoms for s in ds]))])
    assert m["all"]["force_rmse"] == pytest.approx(np.sqrt(np.mean(noise**2)), rel=1e-12)
    assert m["all"]["force_rmse"] == pytest.approx(0.01, rel=0.2)
    assert main(["compare", f"snap={potentials_dir / 'Ta06A.snap'}", "--data", str(tmp_path / "d.extxyz"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["metrics"]["snap"]["all"]["force_rmse"] == pytest.approx(m["all"]["force_rmse"], rel=1e-12)
