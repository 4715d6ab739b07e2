"""`physml info/eval/export/validate MODEL` pass --elements/--library/--types to physml.load
(MEAM library + parameter files, multi-element setfl), and say what is missing or misplaced."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import bulk
from ase.io import write

import physml
from physml.cli import main

pytestmark = pytest.mark.data


@pytest.fixture
def ni_meam(potentials_dir):
    return potentials_dir / "Ni.meam", potentials_dir / "library.meam"


def _opts(lib):
    return ["--elements", "Ni", "--library", str(lib)]


def test_info_and_missing_elements(ni_meam, capsys):
    param, lib = ni_meam
    assert main(["info", str(param), *_opts(lib)]) == 0
    out = capsys.readouterr().out
    assert "species: Ni" in out and "term meam" in out
    assert main(["info", str(param), "--library", str(lib)]) == 2  # the loader's own message
    err = capsys.readouterr().err
    assert "elements= is missing" in err and "Ni.meam" in err and "Ni1" in err


def test_eval_uses_the_options(ni_meam, tmp_path, capsys):
    """Labels made by the same MEAM potential: eval through the CLI options finds zero error."""
    param, lib = ni_meam
    pot = physml.load(param, library=lib, elements=["Ni"])
    structs = []
    for k, a in enumerate((3.45, 3.52, 3.60)):
        at = bulk("Ni", "fcc", a=a, cubic=True).repeat(2)
        at.rattle(0.05, seed=k)
        r = pot.evaluate(at)[0]
        at.info["energy"] = r["energy"]
        at.arrays["forces"] = r["forces"]
        structs.append(at)
    data = tmp_path / "ni.extxyz"
    write(data, structs)
    assert main(["eval", str(param), str(data), "--json", *_opts(lib)]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["all"]["n"] == 3
    assert metrics["all"]["energy_rmse"] < 1e-6 and metrics["all"]["force_rmse"] < 1e-6  # extxyz keeps 8 decimals


def test_export_with_types(potentials_dir, tmp_path, capsys):
    """--types selects the species among --elements (LAMMPS' second element list)."""
    param = potentials_dir / "AlSiMgCuFe.meam"
    lib = potentials_dir / "library.meam"
    els = ["AlS", "SiS", "MgS", "CuS", "FeS"]
    out = tmp_path / "out"
    assert main(["export", str(param), "--library", str(lib), "--elements", *els, "--types", "CuS", "AlS", "--out", str(out)]) == 0
    snippet = (out / "physml.lmp").read_text().splitlines()
    assert snippet[0] == "# species: Cu Al"
    coeff = next(ln for ln in snippet if ln.startswith("pair_coeff"))
    assert coeff == f"pair_coeff * * CuAl.library.meam {' '.join(els)} CuAl.meam CuS AlS"


def test_setfl_elements_and_misplaced_options(potentials_dir, tmp_path, capsys):
    assert main(["info", str(potentials_dir / "CuNi.eam.alloy"), "--elements", "Ni"]) == 0
    assert "species: Ni\n" in capsys.readouterr().out
    assert main(["info", str(potentials_dir / "CuNi.eam.alloy"), "--library", "x.meam"]) == 2
    assert "takes no --library" in capsys.readouterr().err
    model = tmp_path / "model"
    physml.save(physml.load(potentials_dir / "Al99.eam.alloy"), model)
    assert main(["info", str(model), "--elements", "Al"]) == 2
    assert "not to physml models" in capsys.readouterr().err


def test_validate_with_options(ni_meam, tmp_path, capsys):
    param, lib = ni_meam
    suite = tmp_path / "ni.toml"
    suite.write_text(
        '[material]\nname = "Ni"\nspecies = ["Ni"]\nlattice = "fcc"\na0_guess = 3.52\n\n'
        '[[property]]\nname = "a0"\nreference = 3.52\nunit = "Å"\nsource = "a test value"\ntolerance = 0.05\nquick = true\n'
    )
    out = tmp_path / "report"
    assert main(["validate", str(param), "--suite", str(suite), "--quick", "--out", str(out), *_opts(lib)]) == 0
    rep = json.loads((out / "report.json").read_text())
    a0 = rep["models"]["Ni.meam"]["properties"]["a0"]["value"]
    assert np.isclose(a0, 3.52, atol=0.02)  # the MEAM Ni lattice constant (Baskes: 3.52 Å)


def test_pinn_file_confirms_its_elements_and_refuses_meam_options(data_dir, capsys):
    """A .pinn file names its elements: --elements may confirm them, a different list and
    the MEAM options are refused with the file named (never silently ignored)."""
    al = data_dir / "pinn" / "Al_2020.pinn"
    assert physml.load(al, elements=["Al"]).species == ["Al"]
    with pytest.raises(ValueError, match=r"Al_2020.pinn: the file defines the elements \['Al'\].*\['Ta'\]"):
        physml.load(al, elements=["Ta"])
    assert main(["info", str(al), "--elements", "Al"]) == 0
    capsys.readouterr()
    assert main(["info", str(al), "--library", str(al)]) == 2
    err = capsys.readouterr().err
    assert "Al_2020.pinn: this format takes no --library" in err
    assert main(["info", str(al), "--elements", "Ta"]) == 2
    assert "do not match" in capsys.readouterr().err
