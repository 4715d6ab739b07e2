"""Trainer: a baseline fit recovers known parameters; resume is bit-identical; frozen
tensors stay untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.build import bulk

from physml.data.structures import Dataset, LabelledStructure
from physml.empirical import Morse
from physml.ml import GaussianLegendre, PhysicsInformed
from physml.potential import Component, Potential
from physml.train.loss import LossWeights
from physml.train.trainer import Trainer

TRUE = {"D": 0.35, "alpha": 1.6, "r0": 2.55}


def labelled(n=12, seed=0):
    truth = Potential(["Cu"], [Component(Morse(["Cu"], cutoff=5.0))])
    truth.components[0].provider.set_values(TRUE)
    rng = np.random.default_rng(seed)
    items = []
    for k in range(n):
        a = bulk("Cu", "fcc", a=3.5 + 0.3 * rng.random(), cubic=True)
        a.rattle(0.1, seed=int(rng.integers(1 << 30)))
        r = truth.evaluate(a)[0]
        s = r["stress"]
        st = np.array([[s[0], s[5], s[4]], [s[5], s[1], s[3]], [s[4], s[3], s[2]]])
        items.append(LabelledStructure(a, r["energy"], r["forces"], st, config_type=f"g{k % 2}"))
    return Dataset(items)


def test_baseline_fit_recovers_parameters():
    torch.manual_seed(0)
    pot = Potential(["Cu"], [Component(Morse(["Cu"], cutoff=5.0))])
    pot.components[0].provider.set_values({"D": 0.3, "alpha": 1.5, "r0": 2.5})
    tr = Trainer(pot, labelled(), None, LossWeights(energy=1.0, forces=1.0), batch_size=4, learning_rate=0.01, seed=1)
    h = tr.run("baseline", epochs=300)
    v = pot.components[0].provider.values()
    assert h.epochs[-1]["train_loss"] < 1e-3 * h.epochs[0]["train_loss"]
    for k, val in TRUE.items():
        assert float(v[k][0, 0].detach()) == pytest.approx(val, rel=2e-2), k


def pinn_morse(seed=0):
    t = Morse(["Cu"], cutoff=4.5)
    prov = PhysicsInformed(t.parameter_specs(), 1, GaussianLegendre([0, 2], [2.5, 3.5], 1.0, 4.5, 1.0), hidden=[6], out_scale=0.1, seed=seed)
    prov.set_baseline({"D": 0.3, "alpha": 1.5, "r0": 2.5})
    return Potential(["Cu"], [Component(t, prov)])


def test_resume_is_bit_identical(tmp_path):
    torch.set_num_threads(1)
    data = labelled(8, 3)
    full = pinn_morse()
    Trainer(full, data, None, LossWeights(), batch_size=3, seed=5).run("network", epochs=6)
    part = pinn_morse()
    t1 = Trainer(part, data, None, LossWeights(), batch_size=3, seed=5, checkpoint=tmp_path / "ck.pt")
    t1.run("network", epochs=3)
    resumed = pinn_morse(seed=99)  # different init: everything must come from the checkpoint
    t2 = Trainer(resumed, data, None, LossWeights(), batch_size=3, seed=5)
    t2.load_checkpoint(tmp_path / "ck.pt")
    t2.run("network", epochs=6)
    for (k, a), (_, b) in zip(full.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), k


def test_frozen_tensors_are_not_trained():
    pot = pinn_morse()
    net = pot.components[0].provider.networks.nets[0]
    net.weights[0].requires_grad_(False)
    before = net.weights[0].detach().clone()
    p0_before = pot.components[0].provider.p0.detach().clone()
    tr = Trainer(pot, labelled(4, 1), None, LossWeights(), batch_size=2, weight_decay=0.1, seed=2)
    tr.run("network", epochs=3)
    assert torch.equal(net.weights[0], before)  # frozen: bit-identical, even with weight decay
    assert torch.equal(pot.components[0].provider.p0, p0_before)  # baseline frozen in this stage
    assert not torch.equal(net.weights[1].detach(), net.weights[1].detach() * 0)


def test_early_stopping_keeps_best_validation_model():
    pot = pinn_morse()
    train, val = labelled(6, 1), labelled(4, 2)
    tr = Trainer(pot, train, val, LossWeights(), batch_size=3, learning_rate=0.5, seed=4, patience=3, lr_patience=100)
    h = tr.run("network", epochs=200)
    vals = [e["val_loss"] for e in h.epochs]
    assert len(vals) < 200  # stopped early (an oversized learning rate stops improving)
    assert tr.best_val == min(vals)
    assert tr.validate() == pytest.approx(min(vals), rel=1e-12)  # the best model was restored


def test_descriptor_scales_give_unit_rms_inputs():
    from physml.train.scaling import fit_descriptor_scales

    pot = pinn_morse()
    data = labelled(6, 5)
    prov = pot.components[0].provider
    inputs = []
    hook = prov.descriptor.register_forward_hook(lambda m, i, o: inputs.append(o.detach() * prov.scale[0]))
    (scale,) = fit_descriptor_scales(pot, data)
    inputs.clear()
    for s in data:
        pot.evaluate(s.atoms, stress=False)
    hook.remove()
    x = torch.cat(inputs)
    assert x.shape[0] == sum(s.n_atoms for s in data)
    torch.testing.assert_close(x.pow(2).mean(0).sqrt(), torch.ones(x.shape[1], dtype=x.dtype))
    assert not torch.allclose(scale, torch.ones_like(scale))  # the raw descriptors were not unit RMS
    assert torch.equal(pot.state_dict()["components.0.provider.scale"], scale)  # saved with the model
    # a provider that already has its scales (an inherited or imported model) keeps them
    assert fit_descriptor_scales(pot, labelled(3, 9)) == []
    assert torch.equal(prov.scale, scale)


def test_resumed_cosine_stage_of_another_length_follows_the_new_schedule(tmp_path):
    import math

    data = labelled(6, 3)
    pot = pinn_morse()
    Trainer(pot, data, None, LossWeights(), batch_size=3, seed=5, scheduler="cosine", learning_rate=0.01, checkpoint=tmp_path / "ck.pt").run("network", epochs=4)
    tr = Trainer(pinn_morse(), data, None, LossWeights(), batch_size=3, seed=5, scheduler="cosine", learning_rate=0.01)
    tr.load_checkpoint(tmp_path / "ck.pt", epochs={"network": 10})  # the stage grew from 4 to 10 epochs
    h = tr.run("network", epochs=10)
    for rec in h.epochs[4:]:
        # the lr after epoch e is the closed-form cosine of the 10-epoch stage
        assert rec["lr"] == pytest.approx(0.01 * (1 + math.cos(math.pi * rec["epoch"] / 10)) / 2, rel=1e-9, abs=1e-15)


def _lbfgs_morse():
    pot = Potential(["Cu"], [Component(Morse(["Cu"], cutoff=5.0))])
    pot.components[0].provider.set_values({"D": 0.3, "alpha": 1.5, "r0": 2.5})
    return pot


def test_lbfgs_converges_on_a_loss_of_tiny_scale():
    # weights of 1e-6 make the loss ~1e-9: torch's absolute L-BFGS tolerances alone would
    # stop at the first iteration; the trainer normalises the objective by its initial value
    pot = _lbfgs_morse()
    log = []
    tr = Trainer(pot, labelled(), None, LossWeights(energy=1e-6, forces=1e-6), baseline_optimizer="lbfgs", lbfgs_iterations=20, seed=1, log=log.append)
    h = tr.run("baseline", epochs=30)
    assert h.epochs[-1]["train_loss"] < 1e-8 * tr.lbfgs_ref
    v = pot.components[0].provider.values()
    for k, val in TRUE.items():
        assert float(v[k][0, 0].detach()) == pytest.approx(val, rel=1e-5), k
    # a converged fit ends the stage instead of repeating steps that change nothing
    assert tr.stopped and len(h.epochs) < 30
    assert any("converged at step" in m for m in log)


def test_lbfgs_restarts_after_a_step_without_decrease():
    pot = _lbfgs_morse()
    log = []
    tr = Trainer(pot, labelled(), None, LossWeights(), baseline_optimizer="lbfgs", lbfgs_iterations=5, seed=1, log=log.append)
    tr.run("baseline", epochs=1)
    assert tr.optimizer.state  # a history exists
    with torch.no_grad():  # move to a point where the stored history no longer applies
        for p in pot.components[0].provider.parameters():
            p.mul_(0.9)
    tr.lbfgs_ref = 1e300  # a scale at which every change is below the tolerances
    tr.run("baseline", epochs=2)
    assert any("restarted" in m for m in log) and not tr.optimizer.state


def test_lbfgs_resume_is_bit_identical(tmp_path):
    torch.set_num_threads(1)
    data = labelled(6, 4)
    full = pinn_morse()
    Trainer(full, data, None, LossWeights(), lbfgs_iterations=4, seed=5, weight_decay=1e-4).run("lbfgs", epochs=3)
    part = pinn_morse()
    Trainer(part, data, None, LossWeights(), lbfgs_iterations=4, seed=5, weight_decay=1e-4, checkpoint=tmp_path / "ck.pt").run("lbfgs", epochs=1)
    resumed = pinn_morse(seed=99)
    t2 = Trainer(resumed, data, None, LossWeights(), lbfgs_iterations=4, seed=5, weight_decay=1e-4)
    t2.load_checkpoint(tmp_path / "ck.pt")
    assert t2.lbfgs_ref > 0  # the objective's normalisation comes from the checkpoint
    t2.run("lbfgs", epochs=3)
    for (k, a), (_, b) in zip(full.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), k
