"""physml validate: suite files (good and bad), the report schema, side-by-side models,
the CLI, and the held-out-group driver on a tiny fit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from ase.calculators.lj import LennardJones

from physml.cli import main
from physml.validate import SuiteError, judge, load_suite, validate

ROOT = Path(__file__).resolve().parents[1]

SUITE = """
[material]
name = "Ar"
species = ["Ar"]
lattice = "fcc"
a0_guess = 3.6

[[property]]
name = "a0"
reference = 3.60
unit = "Å"
source = "a test value"
tolerance = 0.05
quick = true

[[property]]
name = "C44"
reference = 1.0
unit = "GPa"
source = "a test value far from LJ's"
tol_abs = 0.001

[[property]]
name = "E_vac_f"
unit = "eV"
quick = true
params = {{ sizes = [2, 3] }}

[[property]]
name = "gamma_surf_111"
unit = "J/m^2"
quick = true
{extra}
"""


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.replace('name = "C44"', 'name = "C45"'), "unknown property 'C45'; did you mean 'C44'"),
        (lambda s: s.replace('source = "a test value"\n', ""), "a reference value needs its source"),
        (lambda s: s.replace('reference = 3.60\nunit = "Å"\nsource = "a test value"\ntolerance = 0.05', 'reference = 3.60\nunit = "Å"\nsource = "x"'), "needs a tolerance"),
        (lambda s: s.replace('unit = "GPa"', 'unit = "eV"'), "C44 is reported in 'GPa'"),
        (lambda s: s.replace("tol_abs = 0.001", "tol_abz = 0.001"), "property.1.tol_abz: unknown key; did you mean 'tol_abs'?"),
        (lambda s: s.replace('lattice = "fcc"', 'lattice = "fcx"'), "unknown lattice 'fcx'"),
        (lambda s: s + '\n[extrapolation]\nscans = ["dimmer"]\n', "unknown scan 'dimmer'"),
        (lambda s: s + '\n[[property]]\nname = "a0"\n', "listed twice"),
        (lambda s: s.replace("[material]", "[material\n"), "not valid TOML"),
    ],
)
def test_bad_suite_files_are_refused_with_the_place(tmp_path, edit, message):
    p = _write(tmp_path, edit(SUITE.format(extra="")))
    with pytest.raises(SuiteError) as err:
        load_suite(p)
    assert message in str(err.value) and str(p) in str(err.value)


def test_shipped_suites_load():
    for f in sorted((ROOT / "validation").glob("*.toml")):
        s = load_suite(f)
        assert s.property and all(p.source for p in s.property if p.reference is not None), f


def test_judge():
    from physml.validate import PropertyEntry

    rel = PropertyEntry(name="a0", reference=4.0, source="x", tolerance=0.01)
    assert judge(rel, 4.03) == (pytest.approx(0.0075), True)
    assert judge(rel, 3.95)[1] is False
    lst = PropertyEntry(name="nu_X", reference=[5.0, 10.0], source="x", tolerance=0.1)
    assert judge(lst, [5.4, 10.5])[1] is True and judge(lst, [5.6, 10.0])[1] is False
    ab = PropertyEntry(name="C12", reference=20.0, source="x", tol_abs=5.0)
    assert judge(ab, 24.0) == (pytest.approx(4.0), True)
    assert judge(PropertyEntry(name="B"), 3.0) == (None, None)
    assert judge(rel, float("nan"))[1] is False


def test_report_schema_two_models_side_by_side(tmp_path):
    p = _write(tmp_path, SUITE.format(extra='[extrapolation]\nscans = ["dimer"]\nquick_scans = ["dimer"]\n'))
    models = [LennardJones(sigma=3.4 / 2 ** (1 / 6) * 0.75, epsilon=0.0104, rc=6.0, smooth=True), LennardJones(sigma=2.3, epsilon=0.012, rc=5.5, smooth=True)]
    out = tmp_path / "out"
    rep = validate(models, p, out, quick=False, labels=["lj_a", "lj_b"], progress=False)
    disk = json.loads((out / "report.json").read_text())
    assert disk["models"].keys() == {"lj_a", "lj_b"} and set(disk["reference"]) == {"a0", "C44", "E_vac_f", "gamma_surf_111"}
    units = {"a0": "Å", "C44": "GPa", "E_vac_f": "eV", "gamma_surf_111": "J/m^2"}
    for lb, m in disk["models"].items():
        for name, prop in m["properties"].items():
            assert {"value", "unit", "converged", "checks", "pass"} <= set(prop), (lb, name)
            assert prop["unit"] == units[name] and isinstance(prop["converged"], bool)
        assert m["properties"]["C44"]["pass"] is False  # 1 GPa ± 1 MPa is not LJ argon
        assert m["properties"]["E_vac_f"]["pass"] is None  # no reference
        assert m["scans"]["dimer"]["checks"]
        a0 = m["properties"]["a0"]
        assert a0["pass"] == (abs(a0["value"] - 3.6) <= 0.05 * 3.6)
    md = (out / "report.md").read_text()
    assert "| a0 | Å | 3.6 |" in md and "lj_a | error | pass | lj_b" in md and "eos.png" in md
    assert (out / "eos.png").exists() and (out / "scans.png").exists() and not list(out.glob("*.tmp"))
    assert rep["models"]["lj_a"]["properties"]["a0"]["value"] != rep["models"]["lj_b"]["properties"]["a0"]["value"]


@pytest.mark.data
def test_cli_quick_run(tmp_path, potentials_dir, capsys):
    suite = _write(tmp_path, SUITE.format(extra="").replace('"Ar"', '"Al"').replace("3.6\n", "4.05\n").replace("reference = 3.60", "reference = 4.05"))
    out = tmp_path / "q"
    assert main(["validate", str(potentials_dir / "Al99.eam.alloy"), "--suite", str(suite), "--quick", "--out", str(out)]) == 0
    rep = json.loads((out / "report.json").read_text())
    props = rep["models"]["Al99.eam.alloy"]["properties"]
    assert rep["suite"]["quick"] and set(props) == {"a0", "E_vac_f", "gamma_surf_111"}  # C44 is not quick
    assert props["a0"]["value"] == pytest.approx(4.05, abs=1e-4) and props["a0"]["pass"] is True
    assert props["gamma_surf_111"]["value"] == pytest.approx(0.8705, abs=1e-3) and props["gamma_surf_111"]["converged"]
    assert "1 passed, 0 failed" in capsys.readouterr().out
    assert main(["validate", str(potentials_dir / "Al99.eam.alloy"), "--suite", str(tmp_path / "missing.toml"), "--out", str(out)]) == 2


def test_holdout_table_fits_without_the_group(tmp_path, capsys):
    from tests.test_fit_cli import CONFIG, _data

    data = _data(tmp_path)
    cfgs = []
    for k, D in enumerate((0.3, 0.2)):
        c = tmp_path / f"m{k}.toml"
        c.write_text(CONFIG.format(out=tmp_path / f"unused{k}", data=data, epochs=3).replace("D = 0.3", f"D = {D}").replace("[0.6, 0.2, 0.2]", "[0.8, 0.2]"))
        cfgs.append(str(c))
    out = tmp_path / "holdout"
    assert main(["validate", "--holdout", *cfgs, "--groups", "g1", "--out", str(out), "--compare-labels", "morse_a", "morse_b"]) == 0
    res = json.loads((out / "holdout.json").read_text())
    for lb in ("morse_a", "morse_b"):
        test = res[lb]["g1"]["test"]
        assert set(test) == {"g1", "all"} and test["g1"]["n"] == 7  # 15 frames, every second one in g1
        cfg = json.loads((out / lb / "without_g1" / "config.resolved.json").read_text())
        assert cfg["data"]["split"]["kind"] == "holdout" and cfg["data"]["split"]["holdout_groups"] == ["g1"]
    md = (out / "holdout.md").read_text()
    assert "| g1 | g1 | 7 |" in md and "morse_a E" in md
    # a second call reuses the finished fits
    mtime = (out / "morse_a" / "without_g1" / "metrics.json").stat().st_mtime
    assert main(["validate", "--holdout", *cfgs, "--groups", "g1", "--out", str(out), "--compare-labels", "morse_a", "morse_b"]) == 0
    assert (out / "morse_a" / "without_g1" / "metrics.json").stat().st_mtime == mtime



def test_holdout_columns_fitted_at_different_times_and_changed_recipes(tmp_path, capsys):
    """A later call with more configs reuses the finished fits of an earlier one (one table,
    columns fitted at different times); per-config epoch caps and an L-BFGS step cap; a run
    directory of another recipe or cap is refused before any fit starts, leaving the table
    as it was."""
    from tests.test_fit_cli import CONFIG, _data

    data = _data(tmp_path)
    cfgs = []
    for k, D in enumerate((0.3, 0.2)):
        c = tmp_path / f"m{k}.toml"
        c.write_text(CONFIG.format(out=tmp_path / f"unused{k}", data=data, epochs=3).replace("D = 0.3", f"D = {D}").replace("[0.6, 0.2, 0.2]", "[0.8, 0.2]")
                     + ("lbfgs_steps = 3\nlbfgs_iterations = 2\n" if k else ""))
        cfgs.append(str(c))
    out = tmp_path / "holdout"
    args = ["validate", "--holdout", cfgs[0], "--groups", "g1", "--out", str(out), "--compare-labels", "a", "--holdout-epochs", "2"]
    assert main(args) == 0
    run_a = out / "a" / "without_g1"
    mtime = (run_a / "metrics.json").stat().st_mtime
    assert json.loads((run_a / "config.resolved.json").read_text())["optimizer"]["baseline_epochs"] == 2
    both = ["validate", "--holdout", *cfgs, "--groups", "g1", "--out", str(out), "--compare-labels", "a", "b", "--holdout-lbfgs-steps", "1"]
    assert main([*both, "--holdout-epochs", "2", "1"]) == 0
    assert (run_a / "metrics.json").stat().st_mtime == mtime  # reused (its recipe has no L-BFGS stage to cap)
    opt_b = json.loads((out / "b" / "without_g1" / "config.resolved.json").read_text())["optimizer"]
    assert opt_b["baseline_epochs"] == 1 and opt_b["lbfgs_steps"] == 1
    res = json.loads((out / "holdout.json").read_text())
    assert set(res) == {"a", "b"} and res["a"]["g1"]["epochs_cap"] == 2 and res["b"]["g1"]["epochs_cap"] == 1 and res["b"]["g1"]["lbfgs_steps_cap"] == 1
    assert res["a"]["g1"]["test"]["g1"]["energy_rmse"] != res["b"]["g1"]["test"]["g1"]["energy_rmse"]
    md = (out / "holdout.md").read_text()
    assert "a E | a F | b E | b F" in md and "epochs capped at 1, L-BFGS steps capped at 1" in md
    capsys.readouterr()
    # another cap for a finished run (or a changed recipe) is refused, naming the directory and key
    assert main([*both, "--holdout-epochs", "3", "1"]) == 2
    err = capsys.readouterr().err
    assert str(run_a) in err and "optimizer.baseline_epochs" in err
    Path(cfgs[1]).write_text(Path(cfgs[1]).read_text().replace("D = 0.2", "D = 0.25"))
    assert main([*both, "--holdout-epochs", "2", "1"]) == 2
    assert "model.terms" in capsys.readouterr().err
    assert (out / "holdout.md").read_text() == md and (run_a / "metrics.json").stat().st_mtime == mtime
    assert main([*both, "--holdout-epochs", "2", "1", "1"]) == 2  # neither one cap nor one per config
    assert "3 epoch caps for 2 configs" in capsys.readouterr().err

@pytest.mark.data
def test_wbe_suite_references_are_those_of_the_reference_script():
    """validation/wbe.toml quotes the DFT values that validation/reference/wbe_dft.py
    computes from the W–Be data (rounded as written in the suite)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("wbe_dft", ROOT / "validation" / "reference" / "wbe_dft.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    from physml.validate import dft_data_path

    suite = load_suite(ROOT / "validation" / "wbe.toml")
    res = mod.reference_values(dft_data_path(suite.material.dft_data), [(c.label, c.group, c.source, c.cubic_atoms) for c in suite.compound])
    refs = {p.name: p.reference for p in suite.property if p.source and "wbe_dft.py" in p.source}
    expected = {"a0": res["elements"]["W"]["a0"], "V0": res["elements"]["W"]["V0"], "B": res["elements"]["W"]["B"]}
    expected.update({f"Be:{k}": res["elements"]["Be"][k] for k in ("a0", "V0", "B")})
    for lb, c in res["compounds"].items():
        expected.update({f"E_form_{lb}": c["E_form"], f"V0_{lb}": c["V0"], f"B_{lb}": c["B"]})
        if "a0" in c:
            expected[f"a0_{lb}"] = c["a0"]
    assert set(refs) == set(expected)
    for name, value in expected.items():
        base = name.partition(":")[2] or name
        half_digit = 0.051 if base.startswith("B") else 5.1e-4 if base.startswith("V0") else 5.1e-5  # B to 0.1 GPa, V0 to 1e-3, a0 and E_form to 1e-4
        assert refs[name] == pytest.approx(value, abs=half_digit), name
    assert -0.35 < res["compounds"]["C15"]["E_form"] < -0.25 and res["compounds"]["B2"]["E_form"] > 0  # Laves phase stable, B2 not
