"""The pressure-offset correction of DFT stresses (``data.pressure_offset``): σ' = σ − δ·I.

Data with a Pulay-like isotropic stress error are generated from a known Morse potential;
a fit with the matching offset recovers the potential exactly and its stresses, one
without the offset cannot.
"""

from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest
from ase.units import GPa

from physml.cli import main
from physml.data import Dataset, shift_pressure
from physml.train import ConfigError, load_config
from physml.train.compare import select_structures
from tests.test_fit_cli import _data
from tests.test_trainer import TRUE, labelled

DELTA = 2.0  # GPa: the stress pressure of the data lies 2 GPa below the energy pressure

CONFIG = """
seed = 3
output = "{out}"
[data]
train = "{data}"
reference_energies = {{Cu = 0.0}}
pressure_offset = {offset}
[data.split]
kind = "stratified"
fractions = [0.6, 0.2, 0.2]
[model]
species = ["Cu"]
[[model.terms]]
kind = "morse"
config = {{cutoff = 5.0, smoothing = 1.0}}
initial = {{D = 0.3, alpha = 1.5, r0 = 2.5}}
[loss]
energy = 1.0
forces = 1.0
stress = 100.0
[optimizer]
baseline_optimizer = "lbfgs"
baseline_epochs = 15
lbfgs_iterations = 20
patience = 0
"""


def test_shift_pressure_changes_only_the_isotropic_part():
    ds = labelled(4, 2)
    ds.items[1].stress = None  # a structure without a stress label stays without one
    before = [None if s.stress is None else s.stress.copy() for s in ds]
    out = shift_pressure(ds, 0.7)
    for s, old, new in zip(ds, before, out):
        if old is None:
            assert new.stress is None
            continue
        np.testing.assert_array_equal(s.stress, old)  # the input is not modified
        d = new.stress - old
        np.testing.assert_allclose(d, -0.7 * GPa * np.eye(3), rtol=0, atol=1e-15)
        # the pressure −tr(σ)/3 rises by exactly δ; shear components are untouched
        assert (-np.trace(new.stress) + np.trace(old)) / 3 / GPa == pytest.approx(0.7, rel=1e-12)
        assert new.energy == s.energy and new.forces is s.forces and new.config_type == s.config_type
    assert isinstance(out, Dataset) and shift_pressure(ds, 0.0) is ds
    with pytest.raises(ValueError, match="finite"):
        shift_pressure(ds, float("nan"))


def _pulay_data(tmp_path):
    """Frames of the TRUE Morse potential whose stresses carry +δ·I (pressure δ too low)."""
    return _data(tmp_path, stress_shift=DELTA * GPa * np.eye(3), name="pulay.extxyz")


def test_fit_with_the_pressure_offset_recovers_the_potential(tmp_path):
    import physml

    data = _pulay_data(tmp_path)
    results = {}
    for offset in (DELTA, 0.0):
        out = tmp_path / f"fit_{offset}"
        cfg = tmp_path / f"fit_{offset}.toml"
        cfg.write_text(CONFIG.format(out=out, data=data, offset=offset))
        assert main(["fit", str(cfg)]) == 0
        # the structures physml compare scores for this config carry the corrected stresses
        test = select_structures(None, cfg, "test")
        raw = ase.io.read(data, ":")
        by_source = {f"{data.name}:{k}": a for k, a in enumerate(raw)}
        for s in test:
            a = by_source[s.source]
            expect = a.get_stress(voigt=False) - offset * GPa * np.eye(3)
            np.testing.assert_allclose(s.stress, expect, rtol=0, atol=1e-12)
        pot = physml.load(out / "model")
        values = {k: float(v[0, 0].detach()) for k, v in pot.components[0].provider.values().items()}
        results[offset] = (json.loads((out / "metrics.json").read_text())["test"]["all"], values)
    m, values = results[DELTA]
    assert m["stress_rmse"] < 1e-4  # GPa: energies, forces and corrected stresses agree
    for k, v in TRUE.items():
        assert values[k] == pytest.approx(v, rel=1e-5), k
    # without the correction the fit has to compromise between energies and stresses
    # (here it follows the stresses and gives up the energies)
    m0, values0 = results[0.0]
    assert m["energy_rmse"] < 1e-6 and m0["energy_rmse"] > 1e-3  # eV/atom
    assert m0["stress_rmse"] > 100 * m["stress_rmse"]
    assert max(abs(values0[k] / v - 1) for k, v in TRUE.items()) > 1e-3


def test_pressure_offset_must_be_finite(tmp_path):
    p = tmp_path / "fit.toml"
    p.write_text(CONFIG.format(out=tmp_path / "x", data=tmp_path / "d.extxyz", offset="nan"))
    with pytest.raises(ConfigError, match="data.pressure_offset"):
        load_config(p)
