"""Anchor structures (physml.train.anchors): the penalty against hand-computed values,
its invariances, its gradients, its effect in a fit, the config and file errors."""

from __future__ import annotations

import ase.io
import numpy as np
import pytest
import torch
from ase.build import bulk

from physml.empirical import Morse
from physml.ml import GaussianLegendre, PhysicsInformed
from physml.neighbors import neighbor_list
from physml.potential import Component, Potential
from physml.train import LossWeights
from physml.train.anchors import AnchorSet, read_anchors
from physml.train.trainer import Trainer
from tests.test_trainer import labelled


def _pinn(seed=0):
    t = Morse(["Cu"], cutoff=4.5)
    prov = PhysicsInformed(t.parameter_specs(), 1, GaussianLegendre([0, 2], [2.5, 3.5], 1.0, 4.5, 1.0), hidden=[4], seed=seed, out_scale=0.3)
    return Potential(["Cu"], [Component(t, prov)])


def _crystal():
    return bulk("Cu", "fcc", a=3.6, cubic=True)


def _vacancy():
    a = _crystal() * (2, 2, 2)
    del a[0]
    return a


def _perturbations(pot, atoms):
    """δp of every atom of one structure, through the provider's ordinary forward."""
    prov = pot.components[0].provider
    b = pot.batch(atoms)
    pot(b, nlist=neighbor_list(b, pot.cutoff), forces=False, stress=False)
    return prov._last_nn.detach()


def _site_energies(pot, atoms, raw=None):
    """E_i of one structure's atoms from the PINN component, with the provider's own raw
    parameters or the given ones (one row per atom)."""
    from physml.neighbors import Graph

    comp = pot.components[0]
    b = pot.batch(atoms)
    g = Graph.build(b, neighbor_list(b, pot.cutoff), 1)
    if raw is None:
        raw = comp.provider(g)
    return comp.term.energies(g, comp.provider.layout.physical(raw)).detach()


def test_penalty_against_hand_computed_values():
    pot = _pinn()
    prov = pot.components[0].provider
    ref, vac = _crystal(), _vacancy()
    y_ref, y_vac = _perturbations(pot, ref), _perturbations(pot, vac)
    p0 = prov.p0.detach()[0]
    # with a reference: (E_i(p0 + δp_i) − E_i(p0 + mean δp_ref))², mean over the anchor atoms
    e = _site_energies(pot, vac)
    e_ref = _site_energies(pot, vac, (p0 + y_ref.mean(0)).expand(len(vac), -1))
    got = float(AnchorSet(pot, [ref, vac], [True, False]).penalty().detach())
    assert got == pytest.approx(float(((e - e_ref) ** 2).mean()), rel=1e-10) and got > 0
    # without one: held at the baseline p0
    e0 = _site_energies(pot, vac, p0.expand(len(vac), -1))
    got0 = float(AnchorSet(pot, [vac], [False]).penalty().detach())
    assert got0 == pytest.approx(float(((e - e0) ** 2).mean()), rel=1e-10)
    assert float(((y_vac - y_ref.mean(0)) ** 2).sum()) > 0  # the environments differ


def test_penalty_vanishes_for_the_reference_environment_and_is_translation_invariant():
    pot = _pinn()
    ref = _crystal()
    same = ref * (2, 1, 1)  # every atom the reference environment
    assert abs(float(AnchorSet(pot, [ref, same], [True, False]).penalty().detach())) < 1e-28
    vac = _vacancy()
    moved = vac.copy()
    moved.translate([0.31, -0.2, 0.77])
    moved.wrap()
    p1 = float(AnchorSet(pot, [ref, vac], [True, False]).penalty().detach())
    p2 = float(AnchorSet(pot, [ref, moved], [True, False]).penalty().detach())
    assert p2 == pytest.approx(p1, rel=1e-10)


def test_penalty_gradients():
    """Gradients into the network weights and p0 against central differences (no
    reference: with one, the reference perturbation is a target without gradient, which a
    finite difference of the weights would move)."""
    pot = _pinn()
    prov = pot.components[0].provider
    anchors = AnchorSet(pot, [_vacancy()], [False])
    anchors.penalty().backward()
    g = [p.grad for p in prov.networks.parameters()]
    assert all(x is not None for x in g) and sum(float(x.abs().sum()) for x in g) > 0
    h = 1e-6
    for p in (next(prov.networks.parameters()), prov.p0):
        k = (0,) * p.dim()
        with torch.no_grad():
            p[k] += h
            up = float(anchors.penalty().detach())
            p[k] -= 2 * h
            dn = float(anchors.penalty().detach())
            p[k] += h
        assert float(p.grad[k]) != 0.0
        assert (up - dn) / (2 * h) == pytest.approx(float(p.grad[k]), rel=1e-6, abs=1e-14)
    # with a reference the gradient still flows into the networks
    pot.zero_grad()
    AnchorSet(pot, [_crystal(), _vacancy()], [True, False]).penalty().backward()
    assert sum(float(q.grad.abs().sum()) for q in prov.networks.parameters()) > 0


def test_anchors_in_a_fit_hold_the_anchor_energies():
    data = labelled(8, 3)
    ref, vac = _crystal(), _vacancy()
    penalties = {}
    for weight in (0.0, 100.0):
        torch.manual_seed(0)
        pot = _pinn(seed=1)
        anchors = AnchorSet(pot, [ref, vac], [True, False])
        tr = Trainer(pot, data, None, LossWeights(energy=1.0, forces=0.1, anchor=weight), batch_size=4, learning_rate=0.02, seed=0,
                     progress=False, anchors=anchors)
        h = tr.run("network", epochs=15)
        assert np.isfinite(h.epochs[-1]["train_loss"])
        penalties[weight] = float(anchors.penalty().detach())
    assert penalties[100.0] < 0.2 * penalties[0.0]


def test_anchor_files_and_config_errors(tmp_path):
    ref, vac = _crystal(), _vacancy()
    ref.info["config_type"] = "reference"
    p = tmp_path / "anchors.extxyz"
    ase.io.write(p, [ref, vac])
    frames, refs = read_anchors(p, ["Cu"])
    assert refs == [True, False] and len(frames[1]) == len(vac)
    ase.io.write(tmp_path / "mixed.extxyz", [bulk("Ta", "bcc", a=3.3), vac])
    with pytest.raises(ValueError, match=r"mixed.extxyz, structure 1: element\(s\) \['Cu'\] are not in model.species \['Ta'\]"):
        read_anchors(tmp_path / "mixed.extxyz", ["Ta"])
    ase.io.write(tmp_path / "only_ref.extxyz", [ref])
    with pytest.raises(ValueError, match="every structure is a reference"):
        read_anchors(tmp_path / "only_ref.extxyz", ["Cu"])
    with pytest.raises(FileNotFoundError, match="data.anchors: .*nowhere.extxyz: no such file"):
        read_anchors(tmp_path / "nowhere.extxyz", ["Cu"])
    (tmp_path / "broken.extxyz").write_text("3\nnot an extxyz header\nCu 0 0\n")
    with pytest.raises(ValueError, match="broken.extxyz: cannot be read"):
        read_anchors(tmp_path / "broken.extxyz", ["Cu"])
    with pytest.raises(ValueError, match="no physics-informed provider"):
        AnchorSet(Potential(["Cu"], [Component(Morse(["Cu"], cutoff=4.5))]), [vac], [False])

    from physml.train.config import ConfigError, validate_config

    base = {"data": {"train": "x.extxyz"}, "model": {"species": ["Cu"], "terms": [{"kind": "morse"}]}}
    with pytest.raises(ConfigError, match=r"loss.anchor: needs the anchor structures \(data.anchors\)"):
        validate_config({**base, "loss": {"anchor": 1.0}})
    with pytest.raises(ConfigError, match="data.anchors: unused without a positive loss.anchor weight"):
        validate_config({**base, "data": {"train": "x.extxyz", "anchors": str(p)}})
    with pytest.raises(ConfigError, match="data.anchors: .*missing.extxyz: no such file"):
        validate_config({**base, "data": {"train": "x.extxyz", "anchors": str(tmp_path / "missing.extxyz")}, "loss": {"anchor": 1.0}})
    with pytest.raises(ConfigError, match="loss.anchor"):
        validate_config({**base, "loss": {"anchor": -1.0}})
    cfg = validate_config({**base, "data": {"train": "x.extxyz", "anchors": str(p)}, "loss": {"anchor": 1.0}})
    assert cfg.loss.anchor == 1.0


def test_fit_cli_with_anchors(tmp_path):
    """``physml fit`` with data.anchors and loss.anchor: the anchors are logged, their
    penalty is a recorded loss component, and the fit completes."""
    import json

    from physml.cli import main
    from tests.test_fit_cli import _data

    data = _data(tmp_path)
    ref, vac = _crystal(), _vacancy()
    ref.info["config_type"] = "reference"
    anchors = tmp_path / "anchors.extxyz"
    ase.io.write(anchors, [ref, vac])
    out = tmp_path / "run"
    (tmp_path / "fit.toml").write_text(f"""
seed = 2
output = "{out}"
[data]
train = "{data}"
reference_energies = {{Cu = 0.0}}
anchors = "{anchors}"
[data.split]
fractions = [0.6, 0.2, 0.2]
[model]
species = ["Cu"]
[[model.terms]]
kind = "morse"
config = {{cutoff = 4.5, smoothing = 1.0}}
provider = "physics_informed"
initial = {{D = 0.3, alpha = 1.5, r0 = 2.5}}
[model.terms.provider_config]
hidden = [4]
out_scale = 0.3
descriptor = {{kind = "gaussian_legendre", orders = [0, 2], centres = [2.5, 3.5], width = 1.0, cutoff = 4.5, smoothing = 1.0}}
[loss]
forces = 0.1
anchor = 10.0
[optimizer]
epochs = 3
batch_size = 4
learning_rate = 0.01
""")
    assert main(["fit", str(tmp_path / "fit.toml")]) == 0
    log = (out / "log.txt").read_text()
    assert f"anchors: 2 structures, {len(vac)} anchor atoms held at the site energies of their analytic terms with the parameters of {len(ref)} reference atoms" in log
    epochs = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert epochs and all(e["train_anchor"] > 0 and e["val_anchor"] > 0 for e in epochs)


def test_anchor_shares_of_a_split_batch_add_up():
    """Under data parallelism every part of a global batch carries its share of the anchor
    penalty (structures of the part / structures of the batch): the shares add up to the
    single-process value, and so do their gradients."""
    from physml.data.labels import LabelledBatch
    from physml.train.loss import loss_normalisers, loss_terms

    ds = labelled(3, 5)
    pot = _pinn()
    anchors = AnchorSet(pot, [_crystal(), _vacancy()], [True, False])
    w = LossWeights(energy=1.0, forces=0.0, anchor=2.0)
    full = LabelledBatch.from_dataset(ds, ["Cu"])
    nz = loss_normalisers(full, w)

    def anchor_term(b, normalisers=None):
        pred = {"energy": b.energy.clone()}
        return loss_terms(pred, b, w, pot, normalisers=normalisers, anchors=anchors)

    whole = anchor_term(full)
    parts = [anchor_term(LabelledBatch.from_dataset(ds[idx], ["Cu"]), nz) for idx in ([0, 2], [1])]
    assert float(sum(p["anchor"] for p in parts).detach()) == pytest.approx(float(whole["anchor"].detach()), rel=1e-12)
    assert float(whole["total"].detach()) == pytest.approx(2.0 * float(whole["anchor"].detach()), rel=1e-12)
    prov = pot.components[0].provider
    g_whole = torch.autograd.grad(whole["total"], list(prov.networks.parameters()))
    g_parts = [torch.autograd.grad(p["total"], list(prov.networks.parameters())) for p in parts]
    for gw, ga, gb in zip(g_whole, *g_parts):
        assert torch.allclose(ga + gb, gw, rtol=1e-10, atol=1e-16)


def test_full_data_objectives_carry_the_anchor_penalty_once():
    """Validation and the L-BFGS objective add R_a once instead of once per batch: the same
    value (and gradient) as the sum of every batch's share."""
    data = labelled(6, 7)
    pot = _pinn(seed=2)
    anchors = AnchorSet(pot, [_crystal(), _vacancy()], [True, False])
    w = LossWeights(energy=1.0, forces=0.1, anchor=3.0)
    tr = Trainer(pot, data, labelled(4, 8), w, batch_size=2, progress=False, anchors=anchors)
    pa = float(anchors.penalty().detach())
    per_batch = [tr._loss(p, create_graph=False) for p in tr.val_batches]
    n = sum(p.n_structures for p in tr.val_batches)
    want = sum(float(t["total"].detach()) * p.n_structures for t, p in zip(per_batch, tr.val_batches)) / n
    total, comp = tr.validate(components=True)
    assert comp["anchor"] == pytest.approx(pa, rel=1e-12) and total == pytest.approx(want, rel=1e-12)
    # L-BFGS: objective and gradient equal the per-batch sum with the penalty in every batch
    tr.optimizer = tr._make_optimizer("lbfgs")
    last: dict = {}
    obj = float(tr._lbfgs_closure("lbfgs", 1.0, last)())
    params = [q for g in tr.optimizer.param_groups for q in g["params"]]
    grad_once = [q.grad.clone() for q in params]
    tr.optimizer.zero_grad(set_to_none=True)
    ref = 0.0
    for part in tr.train_batches:
        t = tr._loss(part, create_graph=True)
        f = part.n_structures / tr.n_train
        (t["total"] * f).backward()
        ref += float(t["total"].detach()) * f
    l2 = tr.l2 * sum(float((q * q).sum().detach()) for q in tr._decayed("lbfgs"))
    assert obj == pytest.approx(ref + l2, rel=1e-12) and last["anchor"] == pytest.approx(pa, rel=1e-12)
    for g1, q in zip(grad_once, params):
        assert torch.allclose(g1, q.grad, rtol=1e-10, atol=1e-15)
