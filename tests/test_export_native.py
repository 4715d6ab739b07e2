"""physml export --route native: the written LAMMPS files reproduce physml in LAMMPS."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

import physml
from physml.cli import main
from physml.empirical import ZBL
from physml.potential import Component, Potential


def _structs():
    a = bulk("Cu", "fcc", a=3.6, cubic=True) * (3, 3, 3)
    rng = np.random.default_rng(1)
    a.numbers[rng.random(len(a)) < 0.4] = 28
    a.rattle(0.1, seed=2)
    v = a.copy()
    del v[3]
    return [a, v]


def _snippet_commands(path, species):
    lines = path.read_text().splitlines()
    assert lines[0] == "# species: " + " ".join(species)
    return [ln for ln in lines if ln and not ln.startswith("#") and not ln.startswith("mass")]


def test_setfl_export_reproduces_physml_in_lammps(potentials_dir, tmp_path, lammps):
    pot = physml.load(potentials_dir / "CuNi.eam.alloy")
    assert main(["export", str(potentials_dir / "CuNi.eam.alloy"), "--format", "lammps", "--out", str(tmp_path)]) == 0
    cmds = _snippet_commands(tmp_path / "physml.lmp", pot.species)
    files = [p for p in tmp_path.iterdir() if p.name.endswith(".eam.alloy")]
    structs = _structs()
    ref = lammps.run_lammps(structs, pot.species, cmds, files=files)
    for m, r, s in zip(pot.evaluate(structs), ref, structs):
        assert abs(m["energy"] - r.energy) / len(s) < 1e-9
        assert np.abs(m["forces"] - r.forces).max() < 1e-6


def test_zbl_overlay_export(potentials_dir, tmp_path, lammps):
    base = physml.load(potentials_dir / "CuNi.eam.alloy", elements=["Cu", "Ni"])
    pot = Potential(["Cu", "Ni"], [base.components[0], Component(ZBL(["Cu", "Ni"], 1.0, 2.0))])
    from physml.export.lammps import export_lammps

    res = export_lammps(pot, tmp_path)
    assert res.route == "native" and "hybrid/overlay" in res.pair_commands[0]
    structs = _structs()
    ref = lammps.run_lammps(structs, ["Cu", "Ni"], res.pair_commands, files=res.files)
    for m, r, s in zip(pot.evaluate(structs), ref, structs):
        assert abs(m["energy"] - r.energy) / len(s) < 1e-9
        assert np.abs(m["forces"] - r.forces).max() < 1e-6


def test_non_native_model_is_refused(tmp_path):
    from physml.empirical import Morse
    from physml.export.lammps import export_lammps

    pot = Potential(["Cu"], [Component(Morse(["Cu"]))])
    with pytest.raises(ValueError, match="no native LAMMPS writer"):
        export_lammps(pot, tmp_path, route="native")


def test_pinn_route_round_trip(data_dir, tmp_path):
    """Route pinn: the written .pinn reloads to identical numbers."""
    pot = physml.load(data_dir / "pinn" / "Al_2020.pinn")
    assert main(["export", str(data_dir / "pinn" / "Al_2020.pinn"), "--format", "lammps", "--out", str(tmp_path)]) == 0
    snippet = (tmp_path / "physml.lmp").read_text()
    assert snippet.startswith("# species: Al") and "pair_style pinn" in snippet and "mass 1" in snippet
    back = physml.load(tmp_path / "Al.pinn")
    at = bulk("Al", "fcc", a=4.0, cubic=True) * (2, 2, 2)
    at.rattle(0.1, seed=3)
    a, b = pot.evaluate(at)[0], back.evaluate(at)[0]
    assert a["energy"] == b["energy"] and np.array_equal(a["forces"], b["forces"])


def test_plugin_route_is_the_default_for_other_models(tmp_path, capsys):
    """A model without a native pair style exports to the plugin route: a TorchScript file
    that reproduces physml (evaluated the way pair_style physml does) and a snippet."""
    from ase.build import bulk

    from physml.empirical import Morse
    from physml.export.torchscript import evaluate_exported, load_exported

    pot = Potential(["Cu"], [Component(Morse(["Cu"], cutoff=5.0))])
    physml.save(pot, tmp_path / "m")
    assert main(["export", str(tmp_path / "m"), "--out", str(tmp_path / "o")]) == 0
    assert "route: plugin" in capsys.readouterr().out
    lines = (tmp_path / "o" / "physml.lmp").read_text().splitlines()
    assert lines[0] == "# species: Cu" and "pair_style physml" in lines and "pair_coeff * * Cu.pt Cu" in lines
    at = bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 2, 2)
    at.rattle(0.1, seed=4)
    ref = pot.evaluate(at)[0]
    got = evaluate_exported(load_exported(tmp_path / "o" / "Cu.pt"), at)[0]
    assert abs(ref["energy"] - got["energy"]) < 1e-12 and np.abs(ref["forces"] - got["forces"]).max() < 1e-12
