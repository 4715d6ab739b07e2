"""The fitting loss on a hand-computed case (masks, group weights) and config validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase import Atoms

from physml.data.labels import LabelledBatch
from physml.data.structures import Dataset, LabelledStructure
from physml.train import ConfigError, LossWeights, load_config, loss_terms


def _batch():
    s0 = LabelledStructure(Atoms("Cu2", positions=[[0, 0, 0], [2.5, 0, 0]], cell=[5, 5, 5], pbc=True), energy=-2.2,
                           forces=np.zeros((2, 3)), stress=np.zeros((3, 3)), config_type="a")
    s1 = LabelledStructure(Atoms("Cu", positions=[[0, 0, 0]], cell=[5, 5, 5], pbc=True), energy=None,
                           forces=np.zeros((1, 3)), stress=None, config_type="b")
    return LabelledBatch.from_dataset(Dataset([s0, s1]), ["Cu"])


def test_hand_computed_loss():
    b = _batch()
    pred = {
        "energy": torch.tensor([-2.0, -1.0], dtype=torch.float64),  # s1 has no energy label
        "forces": torch.tensor([[0.3, 0, 0], [0, 0, 0], [0, 0.6, 0]], dtype=torch.float64),
        "stress": torch.tensor([[[0.01, 0, 0], [0, 0, 0], [0, 0, 0]], [[5.0, 0, 0], [0, 0, 0], [0, 0, 0]]], dtype=torch.float64),
    }
    w = LossWeights(energy=1.0, forces=2.0, stress=10.0, group={"b": 2.0})
    t = loss_terms(pred, b, w)
    # L_E = ((−2.0 + 2.2)/2)² = 0.01 (structure 1 masked)
    assert float(t["energy"]) == pytest.approx(0.01, rel=1e-12)
    # L_F = (0.09/3·1 + 0·1 + 0.36/3·2) / (1 + 1 + 2) = 0.0675
    assert float(t["forces"]) == pytest.approx(0.0675, rel=1e-12)
    # L_S = 0.01²/9 (structure 1 has no stress: its huge error is masked)
    assert float(t["stress"]) == pytest.approx(1e-4 / 9, rel=1e-12)
    assert float(t["total"]) == pytest.approx(0.01 + 2 * 0.0675 + 10 * 1e-4 / 9, rel=1e-12)


def test_all_labels_missing_gives_zero_not_nan():
    b = _batch()
    b.energy_mask[:] = False
    pred = {"energy": torch.tensor([1.0, 2.0], dtype=torch.float64)}
    t = loss_terms(pred, b, LossWeights())
    assert float(t["energy"]) == 0.0 and torch.isfinite(t["total"])


def _write(tmp_path, text):
    p = tmp_path / "fit.toml"
    p.write_text(text)
    return p


GOOD = """
seed = 1
[data]
train = "Ta-SNAP-2015"
[model]
species = ["Ta"]
[[model.terms]]
kind = "eam"
config = {family = "mishin", cutoff = 5.5}
[optimizer]
epochs = 10
"""


def test_valid_config(tmp_path):
    cfg = load_config(_write(tmp_path, GOOD))
    assert cfg.optimizer.epochs == 10 and cfg.model.terms[0].kind == "eam" and cfg.data.split.kind == "stratified"


@pytest.mark.parametrize(
    "bad,match",
    [
        (GOOD.replace("epochs = 10", "epoch = 10"), r"optimizer.epoch: unknown key; did you mean 'epochs'\?"),
        (GOOD.replace('species = ["Ta"]', 'specie = ["Ta"]'), r"model.specie: unknown key; did you mean 'species'\?"),
        (GOOD.replace("seed = 1", "sed = 1"), r"sed: unknown key; did you mean 'seed'\?"),
        (GOOD.replace('[data]\ntrain = "Ta-SNAP-2015"', "[data]"), r"data.train: Field required"),
        (GOOD.replace("epochs = 10", 'epochs = "many"'), r"optimizer.epochs: Input should be a valid integer"),
    ],
)
def test_config_errors_name_the_key(tmp_path, bad, match):
    with pytest.raises(ConfigError, match=match) as err:
        load_config(_write(tmp_path, bad))
    assert "fit.toml" in str(err.value)


def test_unparsable_config(tmp_path):
    with pytest.raises(ConfigError, match="cannot be parsed"):
        load_config(_write(tmp_path, "[data\ntrain="))
