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


def _three_groups():
    mk = lambda n, e, g: LabelledStructure(Atoms(f"Cu{n}", positions=[[2.5 * k, 0, 0] for k in range(n)], cell=[8, 5, 5], pbc=True),
                                           energy=e, forces=np.zeros((n, 3)), stress=None, config_type=g)
    return Dataset([mk(2, -2.2, "a"), mk(1, -1.0, "b"), mk(2, -2.0, "b")])


def test_energy_group_weights_weigh_energies_only():
    """ω^E = ω × energy group weight: the energy term changes, forces and stresses keep ω,
    and the shares of a batch split over processes (global normalisers) still add up."""
    from physml.train.loss import loss_normalisers

    ds = _three_groups()
    b = LabelledBatch.from_dataset(ds, ["Cu"])
    pred = {"energy": torch.tensor([-2.0, -1.3, -2.4], dtype=torch.float64),
            "forces": torch.tensor([[0.3, 0, 0], [0, 0, 0], [0, 0.6, 0], [0, 0, 0], [0.0, 0, 0.9]], dtype=torch.float64)}
    plain = LossWeights(energy=1.0, forces=1.0, group={"b": 2.0})
    w = LossWeights(energy=1.0, forces=1.0, group={"b": 2.0}, energy_group={"a": 3.0})
    t0, t = loss_terms(pred, b, plain), loss_terms(pred, b, w)
    e2 = np.array([(0.2 / 2) ** 2, 0.3**2, (0.4 / 2) ** 2])  # per-atom energy errors squared
    assert float(t0["energy"]) == pytest.approx((e2[0] + 2 * e2[1] + 2 * e2[2]) / 5, rel=1e-12)
    assert float(t["energy"]) == pytest.approx((3 * e2[0] + 2 * e2[1] + 2 * e2[2]) / 7, rel=1e-12)
    assert float(t["forces"]) == pytest.approx(float(t0["forces"]), rel=1e-14)
    # L_F = (0.09/3 + 0 + 2·0.36/3 + 2·0 + 2·0.81/3) / (1 + 1 + 2 + 2 + 2)
    assert float(t["forces"]) == pytest.approx((0.03 + 0.24 + 0.54) / 8, rel=1e-12)
    nz = loss_normalisers(b, w)
    assert nz["energy"] == pytest.approx(7.0) and nz["forces"] == pytest.approx(8.0)
    parts = [loss_terms({"energy": pred["energy"][idx], "forces": pred["forces"][rows]},
                        LabelledBatch.from_dataset(ds[idx], ["Cu"]), w, normalisers=nz)
             for idx, rows in (([0, 2], [0, 1, 3, 4]), ([1], [2]))]
    for key in ("energy", "forces", "total"):
        assert float(sum(p[key] for p in parts)) == pytest.approx(float(t[key]), rel=1e-12)


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
        (GOOD + "[loss]\nenergy_group_weight = { a = 2 }\n", r"loss.energy_group_weight: unknown key; did you mean 'energy_group_weights'\?"),
    ],
)
def test_config_errors_name_the_key(tmp_path, bad, match):
    with pytest.raises(ConfigError, match=match) as err:
        load_config(_write(tmp_path, bad))
    assert "fit.toml" in str(err.value)


def test_unparsable_config(tmp_path):
    with pytest.raises(ConfigError, match="cannot be parsed"):
        load_config(_write(tmp_path, "[data\ntrain="))


def test_masked_nan_prediction_gives_finite_gradients():
    """A cluster (no cell: predicted stress is NaN) batched with a bulk cell while training on
    stress: the masked entry contributes exactly 0 to the loss and to every gradient."""
    from ase.build import bulk

    from physml.empirical import Morse
    from physml.neighbors import neighbor_list
    from physml.potential import Component, Potential

    pot = Potential(["Cu"], [Component(Morse(["Cu"], cutoff=5.0))])
    cu = bulk("Cu", "fcc", a=3.6, cubic=True)
    cluster = Atoms("Cu3", positions=[[0, 0, 0], [2.5, 0, 0], [0, 2.5, 0]])
    ds = Dataset([LabelledStructure(cu, -10.0, np.zeros((4, 3)), np.zeros((3, 3))), LabelledStructure(cluster, -1.0, np.zeros((3, 3)), None)])
    b = LabelledBatch.from_dataset(ds, ["Cu"])
    pred = pot(b, nlist=neighbor_list(b, pot.cutoff), create_graph=True)
    assert torch.isnan(pred["stress"][1]).all() and torch.isfinite(pred["stress"][0]).all()
    t = loss_terms(pred, b, LossWeights(stress=1.0), pot)
    t["total"].backward()
    grads = [p.grad for p in pot.parameters()]
    assert all(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)
    s0 = pred["stress"][0].detach()
    assert float(t["stress"].detach()) == pytest.approx(float((s0**2).sum() / 9), rel=1e-12)  # only the bulk cell


def test_perturbation_and_weight_penalties(tmp_path):
    from physml.empirical import Morse
    from physml.ml import GaussianLegendre, PhysicsInformed
    from physml.neighbors import neighbor_list
    from physml.potential import Component, Potential

    t = Morse(["Cu"], cutoff=4.5)
    prov = PhysicsInformed(t.parameter_specs(), 1, GaussianLegendre([0, 2], [2.5, 3.5], 1.0, 4.5, 1.0), hidden=[4], seed=0)
    pot = Potential(["Cu"], [Component(t, prov)])
    b = _batch()
    pred = pot(b, nlist=neighbor_list(b, pot.cutoff))
    nn = prov._last_nn.detach()
    base = loss_terms(pred, b, LossWeights())
    w = list(prov.networks.parameters())
    t2 = loss_terms(pred, b, LossWeights(perturbation=3.0), pot, l2_parameters=w, weight_decay=0.5)
    l2 = sum(float((p * p).sum().detach()) for p in w)
    assert float(t2["perturbation"]) == pytest.approx(float((nn**2).mean()), rel=1e-12) and float(t2["perturbation"]) > 0
    assert float(t2["weight_decay"]) == pytest.approx(l2, rel=1e-12)
    assert float(t2["total"]) == pytest.approx(float(base["total"]) + 3.0 * float((nn**2).mean()) + 0.5 * l2, rel=1e-12)

    # per-parameter scales: R_p = mean over atoms and outputs of (δp_k / s_k)², here s_alpha = 0.5
    names = [sp.name for sp in prov.layout.specs]
    scaled = PhysicsInformed(t.parameter_specs(), 1, GaussianLegendre([0, 2], [2.5, 3.5], 1.0, 4.5, 1.0), hidden=[4], seed=0,
                             perturbation_scale={"alpha": 0.5})
    scaled.load_state_dict(prov.state_dict())
    pot_s = Potential(["Cu"], [Component(t, scaled)])
    pred_s = pot_s(b, nlist=neighbor_list(b, pot_s.cutoff))
    torch.testing.assert_close(pred_s["energy"], pred["energy"], rtol=0, atol=0)  # the scale changes only the penalty
    factor = torch.tensor([4.0 if n == "alpha" else 1.0 for n in names], dtype=torch.float64)
    expected = float((nn**2 * factor).mean())
    assert expected > float((nn**2).mean())
    assert float(loss_terms(pred_s, b, LossWeights(perturbation=1.0), pot_s)["perturbation"]) == pytest.approx(expected, rel=1e-12)
    assert scaled.config()["perturbation_scale"] == {"alpha": 0.5} and "perturbation_scale" not in prov.config()
    from physml.io.model_file import load_model, save

    back = load_model(save(pot_s, tmp_path / "scaled"))  # the scales are part of the saved model
    assert back.components[0].provider.perturbation_scale == {"alpha": 0.5}
    with pytest.raises(ValueError, match="perturbation_scale: unknown parameter 'alfa'"):
        PhysicsInformed(t.parameter_specs(), 1, GaussianLegendre([0], [2.5], 1.0, 4.5, 1.0), hidden=[4], perturbation_scale={"alfa": 1.0})

    class WithGraph:  # the hook may also take the graph
        def regularization(self, graph):
            return torch.tensor(2.0, dtype=torch.float64)

    from physml.train.loss import provider_regularization

    assert float(provider_regularization(WithGraph(), graph=None)) == 2.0
    assert provider_regularization(object()) is None


MODEL_ERRORS = [
    ('config = {family = "mishin", cutoff = 5.5}', 'config = {family = "mishin", cutof = 5.5}',
     r"model.terms\[0\].config.cutof: unknown key; did you mean 'cutoff'\?"),
    ('kind = "eam"', 'kind = "eamm"', r"model.terms\[0\].kind: unknown term kind 'eamm'; did you mean 'eam'\?"),
    ('config = {family = "mishin", cutoff = 5.5}', 'config = {family = "mishn", cutoff = 5.5}', r"model.terms\[0\].config: unknown EAM family"),
    ('species = ["Ta"]', 'species = ["Taa"]', r"model.species\[0\]: 'Taa' is not an element symbol; did you mean 'Ta'\?"),
    ("epochs = 10", "epochs = -1", r"optimizer.epochs: Input should be greater than or equal to 0"),
    ('train = "Ta-SNAP-2015"', 'train = "Ta-SNAP-2015"\nreference_energies = {Tb = 0.0}',
     r"data.reference_energies.Tb: unknown key; did you mean 'Ta'\?"),
]


@pytest.mark.parametrize("old,new,match", MODEL_ERRORS)
def test_model_section_errors_name_the_key(tmp_path, old, new, match):
    assert old in GOOD
    with pytest.raises(ConfigError, match=match):
        load_config(_write(tmp_path, GOOD.replace(old, new)))


PINN = """
[data]
train = "x.extxyz"
[model]
species = ["Cu"]
[[model.terms]]
kind = "morse"
config = {cutoff = 4.5}
provider = "physics_informed"
initial = {D = 0.3, alpha = 1.5, r0 = 2.5}
[model.terms.provider_config]
hidden = [8]
descriptor = {kind = "gaussian_legendre", orders = [0, 2], centres = [2.5, 3.5], width = 1.0, cutoff = 4.5, smoothing = 1.0}
"""


@pytest.mark.parametrize(
    "old,new,match",
    [
        ("hidden = [8]", "hiden = [8]", r"model.terms\[0\].provider_config.hiden: unknown key; did you mean 'hidden'\?"),
        ("width = 1.0", "widht = 1.0", r"provider_config.descriptor.widht: unknown key; did you mean 'width'\?"),
        ("width = 1.0, ", "", r"provider_config.descriptor.width: required key missing"),
        ('kind = "gaussian_legendre"', 'kind = "gaussian_legendr"', r"descriptor.kind: unknown descriptor kind 'gaussian_legendr'; did you mean 'gaussian_legendre'\?"),
        ("r0 = 2.5}", "r00 = 2.5}", r"model.terms\[0\].initial.r00: unknown key; did you mean 'r0'\?"),
        ("hidden = [8]", "hidden = [8]\nperturbation_scale = {alpa = 0.5}",
         r"model.terms\[0\].provider_config.perturbation_scale.alpa: unknown key; did you mean 'alpha'\?"),
        ("hidden = [8]", "hidden = [8]\nperturbation_scale = {alpha = 0.0}",
         r"provider_config.perturbation_scale.alpha: must be a positive number, got 0.0"),
        ("hidden = [8]", "hidden = [8]\nperturbation_scale = 0.5", r"provider_config.perturbation_scale: must be a table"),
    ],
)
def test_provider_errors_name_the_key(tmp_path, old, new, match):
    load_config(_write(tmp_path, PINN))  # the unmodified config is valid
    assert old in PINN
    with pytest.raises(ConfigError, match=match):
        load_config(_write(tmp_path, PINN.replace(old, new)))


def test_json_and_yaml_configs(tmp_path):
    import json

    import tomllib

    data = tomllib.loads(GOOD)
    pj = tmp_path / "fit.json"
    pj.write_text(json.dumps(data))
    assert load_config(pj).optimizer.epochs == 10
    yaml = pytest.importorskip("yaml")
    py = tmp_path / "fit.yaml"
    py.write_text(yaml.safe_dump(data))
    assert load_config(py).model_dump() == load_config(pj).model_dump()
    data["optimizer"]["learning_rat"] = 0.1
    py.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"optimizer.learning_rat: unknown key; did you mean 'learning_rate'\?"):
        load_config(py)
