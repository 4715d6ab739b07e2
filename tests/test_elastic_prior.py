"""Elastic-constant prior (physml.train.elastic): its C_ij against an independent
energy-strain finite difference, the penalty against hand-computed values, its gradients,
its effect in a fit, its data-parallel shares and the config errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.build import bulk
from ase.units import GPa

import physml
from physml.empirical import Morse
from physml.ml import GaussianLegendre, PhysicsInformed
from physml.potential import Component, Potential
from physml.train import LossWeights
from physml.train.elastic import ElasticPrior, ElasticTarget
from physml.train.trainer import Trainer
from tests.test_trainer import TRUE, labelled


def _morse():
    pot = Potential(["Cu"], [Component(Morse(["Cu"], cutoff=5.0))])
    pot.components[0].provider.set_values(TRUE)
    return pot


def _pinn(seed=0):
    t = Morse(["Cu"], cutoff=4.5)
    prov = PhysicsInformed(t.parameter_specs(), 1, GaussianLegendre([0, 2], [2.5, 3.5], 1.0, 4.5, 1.0), hidden=[4], seed=seed, out_scale=0.3)
    return Potential(["Cu"], [Component(t, prov)])


def _energy_fd_constants(pot, lattice: str, a: float, h: float = 2e-3) -> dict[str, float]:
    """C11, C12, C44 (GPa) from second differences of the energy in the Green–Lagrange
    strain (Voigt: E = E0 + ½ V Σ C_ab ε_a ε_b, ε4 = 2 E_yz = γ), which equal the
    stress-strain slopes at an unstressed lattice constant a; no internal relaxation in
    these Bravais lattices."""
    calc = physml.Calculator(pot)
    ref = bulk("Cu", lattice, a=a, cubic=True)
    V = ref.get_volume()

    def energy(e11=0.0, e22=0.0, gamma=0.0) -> float:
        E = np.array([[e11, 0, 0], [0, e22, gamma / 2], [0, gamma / 2, 0]])
        w, U = np.linalg.eigh(np.eye(3) + 2 * E)  # C = FᵀF = I + 2E, F = √C (symmetric)
        F = U @ np.diag(np.sqrt(w)) @ U.T
        at = ref.copy()
        at.set_cell(ref.cell.array @ F.T, scale_atoms=True)
        at.calc = calc
        return at.get_potential_energy()

    E0 = energy()
    d11 = (energy(e11=h) - 2 * E0 + energy(e11=-h)) / h**2
    d12 = (energy(h, h) - energy(h, -h) - energy(-h, h) + energy(-h, -h)) / (4 * h**2)
    d44 = (energy(gamma=h) - 2 * E0 + energy(gamma=-h)) / h**2
    return {"C11": d11 / V / GPa, "C12": d12 / V / GPa, "C44": d44 / V / GPa}


def _equilibrium_a(pot, lattice: str, guess: float) -> float:
    """The unstressed cubic lattice constant: the root of the pressure (brentq)."""
    from scipy.optimize import brentq

    calc = physml.Calculator(pot)

    def sxx(a: float) -> float:
        at = bulk("Cu", lattice, a=a, cubic=True)
        at.calc = calc
        return float(at.get_stress()[0])

    a0 = brentq(sxx, 0.8 * guess, 1.2 * guess, xtol=1e-12)
    assert abs(sxx(a0)) < 1e-9
    return a0


@pytest.mark.parametrize("lattice,guess", [("fcc", 3.6), ("bcc", 2.9)])
def test_constants_match_energy_second_differences(lattice, guess):
    """At the unstressed lattice constant the stress-difference C_ij of the prior equal the
    second derivatives of the energy (an independent route: energies only, Green–Lagrange
    strains), for a close-packed and an open lattice."""
    pot = _morse()
    a0 = _equilibrium_a(pot, lattice, guess)
    prior = ElasticPrior(pot, [ElasticTarget("Cu", lattice, a0, C11=0.0, C12=0.0, C44=0.0, strain=1e-3)])
    got = {k: float(v) for k, v in prior.constants(create_graph=False)[0].items()}
    want = _energy_fd_constants(pot, lattice, a0)
    for k in ("C11", "C12", "C44"):
        assert abs(want[k]) > 1.0, k  # a real elastic response, not a vanishing one
        assert got[k] == pytest.approx(want[k], rel=2e-3, abs=0.05), (k, got, want)


def test_repeat_and_strain_do_not_change_the_constants():
    pot = _morse()
    c1 = ElasticPrior(pot, [ElasticTarget("Cu", "fcc", 3.6, C44=0.0, repeat=1, strain=1e-3)]).constants(False)[0]
    c2 = ElasticPrior(pot, [ElasticTarget("Cu", "fcc", 3.6, C44=0.0, repeat=2, strain=1e-3)]).constants(False)[0]
    c3 = ElasticPrior(pot, [ElasticTarget("Cu", "fcc", 3.6, C44=0.0, repeat=1, strain=5e-3)]).constants(False)[0]
    for k in ("C11", "C12", "C44"):
        assert float(c1[k]) == pytest.approx(float(c2[k]), rel=1e-10)
        assert float(c1[k]) == pytest.approx(float(c3[k]), rel=2e-3)  # O(δ²) differences


def test_penalty_against_hand_computed_values():
    pot = _morse()
    t1 = ElasticTarget("Cu", "fcc", 3.6, C11=150.0, C44=40.0, tolerance=5.0)
    t2 = ElasticTarget("Cu", "bcc", 2.9, C12=80.0, tolerance=20.0)
    prior = ElasticPrior(pot, [t1, t2])
    c = [{k: float(v) for k, v in d.items()} for d in prior.constants(create_graph=False)]
    want = np.mean([((c[0]["C11"] - 150.0) / 5.0) ** 2, ((c[0]["C44"] - 40.0) / 5.0) ** 2, ((c[1]["C12"] - 80.0) / 20.0) ** 2])
    assert float(prior.penalty().detach()) == pytest.approx(want, rel=1e-12)
    exact = ElasticPrior(pot, [ElasticTarget("Cu", "fcc", 3.6, C11=c[0]["C11"], C12=c[0]["C12"], C44=c[0]["C44"])])
    assert float(exact.penalty().detach()) < 1e-20
    assert "elastic targets: Cu fcc a = 3.6 Å: C11 150, C44 40 GPa (± 5, strain 0.01)" in prior.describe()


def test_penalty_gradients_reach_networks_and_baseline():
    """dR_C/dθ (θ: network weights and p0) against central finite differences."""
    pot = _pinn(seed=3)
    prior = ElasticPrior(pot, [ElasticTarget("Cu", "fcc", 3.55, C11=100.0, C12=50.0, C44=30.0, repeat=1)])
    prov = pot.components[0].provider
    params = [prov.p0] + list(prov.networks.parameters())
    grads = torch.autograd.grad(prior.penalty(), params, allow_unused=True)
    assert all(g is not None for g in grads)
    rng = np.random.default_rng(0)
    for p, g in zip(params, grads):
        flat = p.detach().view(-1)
        for idx in rng.choice(flat.numel(), size=min(2, flat.numel()), replace=False):
            h = 1e-5
            with torch.no_grad():
                old = float(flat[idx])
                flat[idx] = old + h
                up = float(prior.penalty().detach())
                flat[idx] = old - h
                dn = float(prior.penalty().detach())
                flat[idx] = old
            fd = (up - dn) / (2 * h)
            assert float(g.view(-1)[idx]) == pytest.approx(fd, rel=1e-4, abs=1e-8)


def test_prior_in_a_fit_moves_the_constants_to_the_target():
    """The same fit without and with the prior: with it, C44 ends closer to the target."""
    data = labelled(8, 3)
    miss = {}
    for weight in (0.0, 1.0):
        torch.manual_seed(0)
        pot = _pinn(seed=1)
        prior = ElasticPrior(pot, [ElasticTarget("Cu", "fcc", 3.6, C44=5.0, tolerance=1.0, repeat=1)])
        tr = Trainer(pot, data, None, LossWeights(energy=1.0, forces=0.1, elastic=weight), batch_size=4, learning_rate=0.02, seed=0,
                     progress=False, elastic=prior)
        h = tr.run("network", epochs=15)
        assert np.isfinite(h.epochs[-1]["train_loss"])
        miss[weight] = abs(float(prior.constants(False)[0]["C44"]) - 5.0)
        if weight:
            assert h.epochs[-1]["train_elastic"] > 0
    assert miss[1.0] < 0.5 * miss[0.0]


def test_shares_of_a_split_batch_and_full_data_objectives():
    """Data parallelism: the parts' shares add up to the whole batch's penalty; validation
    carries the penalty once."""
    from physml.data.labels import LabelledBatch
    from physml.train.loss import loss_normalisers, loss_terms

    ds = labelled(3, 5)
    pot = _pinn()
    prior = ElasticPrior(pot, [ElasticTarget("Cu", "fcc", 3.6, C44=20.0, repeat=1)])
    w = LossWeights(energy=1.0, forces=0.0, elastic=2.0)
    full = LabelledBatch.from_dataset(ds, ["Cu"])
    nz = loss_normalisers(full, w)

    def term(b, normalisers=None):
        return loss_terms({"energy": b.energy.clone()}, b, w, pot, normalisers=normalisers, elastic=prior)

    whole = term(full)
    parts = [term(LabelledBatch.from_dataset(ds[idx], ["Cu"]), nz) for idx in ([0, 2], [1])]
    pe = float(prior.penalty().detach())
    assert float(whole["elastic"].detach()) == pytest.approx(pe, rel=1e-12)
    assert float(sum(p["elastic"] for p in parts).detach()) == pytest.approx(pe, rel=1e-12)
    assert float(whole["total"].detach()) == pytest.approx(2.0 * pe, rel=1e-12)
    tr = Trainer(pot, ds, labelled(4, 8), w, batch_size=2, progress=False, elastic=prior)
    total, comp = tr.validate(components=True)
    assert comp["elastic"] == pytest.approx(pe, rel=1e-10)
    per_batch = [tr._loss(p, create_graph=False) for p in tr.val_batches]
    n = sum(p.n_structures for p in tr.val_batches)
    assert total == pytest.approx(sum(float(t["total"].detach()) * p.n_structures for t, p in zip(per_batch, tr.val_batches)) / n, rel=1e-10)


def test_target_and_config_errors():
    with pytest.raises(ValueError, match="lattice must be one of"):
        ElasticTarget("Cu", "hcp", 3.6, C44=10.0)
    with pytest.raises(ValueError, match="give at least one of"):
        ElasticTarget("Cu", "fcc", 3.6)
    with pytest.raises(ValueError, match="strain 0.2 is not small"):
        ElasticTarget("Cu", "fcc", 3.6, C44=10.0, strain=0.2)
    with pytest.raises(ValueError, match="tolerance must be a positive finite number"):
        ElasticTarget("Cu", "fcc", 3.6, C44=10.0, tolerance=float("nan"))
    with pytest.raises(ValueError, match="element 'Ta' is not in the model's species"):
        ElasticPrior(_morse(), [ElasticTarget("Ta", "bcc", 3.3, C44=80.0)])

    from physml.train.config import ConfigError, validate_config

    base = {"data": {"train": "x.extxyz"}, "model": {"species": ["Cu"], "terms": [{"kind": "morse"}]}}
    tgt = {"element": "Cu", "lattice": "fcc", "a": 3.6, "C44": 70.0}
    with pytest.raises(ConfigError, match=r"loss.elastic: needs the target crystals \(data.elastic_targets\)"):
        validate_config({**base, "loss": {"elastic": 1.0}})
    with pytest.raises(ConfigError, match="data.elastic_targets: unused without a positive loss.elastic weight"):
        validate_config({**base, "data": {"train": "x.extxyz", "elastic_targets": [tgt]}})
    with pytest.raises(ConfigError, match=r"data.elastic_targets\[0\].element: 'Ta' is not in model.species"):
        validate_config({**base, "data": {"train": "x.extxyz", "elastic_targets": [{**tgt, "element": "Ta"}]}, "loss": {"elastic": 1.0}})
    with pytest.raises(ConfigError, match=r"data.elastic_targets\[0\]: give at least one of C11, C12, C44"):
        validate_config({**base, "data": {"train": "x.extxyz", "elastic_targets": [{"element": "Cu", "lattice": "fcc", "a": 3.6}]}, "loss": {"elastic": 1.0}})
    with pytest.raises(ConfigError, match="lattice"):
        validate_config({**base, "data": {"train": "x.extxyz", "elastic_targets": [{**tgt, "lattice": "hcp"}]}, "loss": {"elastic": 1.0}})
    with pytest.raises(ConfigError, match="C44"):
        validate_config({**base, "data": {"train": "x.extxyz", "elastic_targets": [{**tgt, "C44": float("nan")}]}, "loss": {"elastic": 1.0}})
    with pytest.raises(ConfigError, match="tolernace"):
        validate_config({**base, "data": {"train": "x.extxyz", "elastic_targets": [{**tgt, "tolernace": 5.0}]}, "loss": {"elastic": 1.0}})
    cfg = validate_config({**base, "data": {"train": "x.extxyz", "elastic_targets": [tgt]}, "loss": {"elastic": 1.0}})
    assert cfg.data.elastic_targets[0].C44 == 70.0 and cfg.data.elastic_targets[0].tolerance == 10.0
