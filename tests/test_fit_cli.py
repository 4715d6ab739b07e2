"""`physml fit CONFIG`: a tiny fit end to end, its run directory, and --resume."""

from __future__ import annotations

import json
import re

import ase.io
import numpy as np
import pytest
import torch
from ase.calculators.singlepoint import SinglePointCalculator

import physml
from physml.cli import main
from tests.test_trainer import labelled

CONFIG = """
seed = 3
output = "{out}"
[data]
train = "{data}"
reference_energies = {{Cu = 0.0}}
[data.split]
kind = "stratified"
fractions = [0.6, 0.2, 0.2]
[model]
species = ["Cu"]
[[model.terms]]
kind = "morse"
config = {{cutoff = 5.0, smoothing = 1.0}}
initial = {{D = 0.3, alpha = 1.5, r0 = 2.5}}
[optimizer]
baseline_epochs = {epochs}
batch_size = 4
learning_rate = 0.01
"""


def _data(tmp_path, stress_shift=None, name: str = "data.extxyz"):
    """Labelled frames of the true Morse potential as extxyz; ``stress_shift`` (3×3, eV/Å³)
    is added to every stress label."""
    frames = []
    for s in labelled(15, 7):
        a = s.atoms.copy()
        st = s.stress if stress_shift is None else s.stress + stress_shift
        a.calc = SinglePointCalculator(a, energy=s.energy, forces=s.forces, stress=[st[0, 0], st[1, 1], st[2, 2], st[1, 2], st[0, 2], st[0, 1]])
        a.info["config_type"] = s.config_type
        frames.append(a)
    p = tmp_path / name
    ase.io.write(p, frames)
    return p


def test_fit_run_directory_and_resume(tmp_path):
    data = _data(tmp_path)
    full = tmp_path / "full"
    cfg = tmp_path / "fit.toml"
    cfg.write_text(CONFIG.format(out=full, data=data, epochs=12))
    assert main(["fit", str(cfg)]) == 0
    for f in ("config.resolved.json", "log.txt", "checkpoint.pt", "metrics.json", "metrics.md", "learning_curve.png", "parity_forces.png"):
        assert (full / f).exists(), f
    m = json.loads((full / "metrics.json").read_text())
    assert set(m) == {"train", "validation", "test"} and m["test"]["all"]["force_rmse"] is not None
    pot = physml.load(full / "model")
    assert pot.metadata["data"]["hash"]
    # interrupted after 6 epochs, then resumed to 12: identical to the uninterrupted run
    part = tmp_path / "part"
    cfg2 = tmp_path / "fit2.toml"
    cfg2.write_text(CONFIG.format(out=part, data=data, epochs=6))
    assert main(["fit", str(cfg2)]) == 0
    cfg2.write_text(CONFIG.format(out=part, data=data, epochs=12))
    assert main(["fit", str(cfg2), "--resume"]) == 0
    a, b = physml.load(full / "model"), physml.load(part / "model")
    for (k, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), k


def test_fit_reports_config_errors(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(CONFIG.format(out=tmp_path / "x", data=tmp_path / "none.extxyz", epochs=1).replace("batch_size", "batchsize"))
    assert main(["fit", str(cfg)]) == 2
    assert "optimizer.batchsize: unknown key; did you mean 'batch_size'?" in capsys.readouterr().err


def test_committed_fit_configs_are_valid():
    from pathlib import Path

    from physml.train.build import build_potential
    from physml.train.config import load_config

    configs = sorted((Path(__file__).resolve().parents[1] / "fits").glob("*/*.toml"))
    assert len(configs) >= 6
    for path in configs:
        cfg = load_config(path)  # raises ConfigError naming the key on any problem
        ref = cfg.data.reference_energies
        pot = build_potential(cfg.model, [ref[s] for s in cfg.model.species] if isinstance(ref, dict) else None)
        assert pot.species == cfg.model.species, path


def test_fit_start_from_a_fitted_model(tmp_path, capsys):
    """``model.start_from``: the fit begins at the given model's parameters (zero epochs
    reproduce it exactly), continues from there, and refuses a model of another shape or
    with other reference energies, naming the difference."""
    data = _data(tmp_path)
    first = tmp_path / "first"
    (tmp_path / "a.toml").write_text(CONFIG.format(out=first, data=data, epochs=4))
    assert main(["fit", str(tmp_path / "a.toml")]) == 0
    a = physml.load(first / "model")
    start = f'start_from = "{first / "model"}"\n'
    same = tmp_path / "same"
    (tmp_path / "b.toml").write_text(CONFIG.format(out=same, data=data, epochs=0).replace('species = ["Cu"]\n', 'species = ["Cu"]\n' + start))
    assert main(["fit", str(tmp_path / "b.toml")]) == 0
    b = physml.load(same / "model")
    for (k, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), k
    assert "parameters and descriptor scales from" in (same / "log.txt").read_text()
    # continuing: the training loss goes on from the first fit's last value, not from the initial guess
    more = tmp_path / "more"
    (tmp_path / "c.toml").write_text(CONFIG.format(out=more, data=data, epochs=4).replace('species = ["Cu"]\n', 'species = ["Cu"]\n' + start))
    assert main(["fit", str(tmp_path / "c.toml")]) == 0
    m1 = json.loads((first / "metrics.json").read_text())["train"]["all"]["energy_rmse"]
    m2 = json.loads((more / "metrics.json").read_text())["train"]["all"]["energy_rmse"]
    assert m2 < m1
    c = physml.load(more / "model")
    assert not all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), c.state_dict().values()))
    # another reference energy, another term: refused with the reason
    bad = tmp_path / "bad.toml"
    bad.write_text(CONFIG.format(out=tmp_path / "x", data=data, epochs=1).replace("Cu = 0.0", "Cu = -1.0").replace('species = ["Cu"]\n', 'species = ["Cu"]\n' + start))
    assert main(["fit", str(bad)]) == 2
    assert "reference energies" in capsys.readouterr().err
    bad.write_text(CONFIG.format(out=tmp_path / "y", data=data, epochs=1).replace('species = ["Cu"]\n', 'species = ["Cu"]\n' + start).replace("[optimizer]", '[[model.terms]]\nkind = "site_energy"\n[optimizer]'))
    assert main(["fit", str(bad)]) == 2
    assert "model.start_from" in capsys.readouterr().err
    bad.write_text(CONFIG.format(out=tmp_path / "z", data=data, epochs=1).replace('species = ["Cu"]\n', 'species = ["Cu"]\nstart_from = "nowhere/model"\n'))
    assert main(["fit", str(bad)]) == 2
    assert "model.start_from: nowhere/model: no such model file" in capsys.readouterr().err


@pytest.mark.parametrize(
    "loss,match",
    [
        ("energy_group_weights = { g2 = 2.0 }", r"loss.energy_group_weights.g2: no such config_type in the data; groups: \['g0', 'g1'\]"),
        ("group_weights = { g1 = -1.0 }", r"loss.group_weights.g1: Input should be greater than or equal to 0"),
        ("energy_group_weights = { g0 = nan }", r"loss.energy_group_weights.g0: Input should be a finite number"),
    ],
)
def test_fit_rejects_bad_group_weights(tmp_path, capsys, loss, match):
    """Group weights name config_types of the data and are finite and non-negative; the
    error names the key, and nothing is fitted."""
    cfg = tmp_path / "fit.toml"
    cfg.write_text(CONFIG.format(out=tmp_path / "run", data=_data(tmp_path), epochs=2) + "[loss]\n" + loss + "\n")
    assert main(["fit", str(cfg)]) != 0
    assert re.search(match, capsys.readouterr().err)
    assert not (tmp_path / "run" / "model").exists()
