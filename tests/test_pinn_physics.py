"""Physics checks of the physics-informed machinery with randomly initialised networks
(so the network path is exercised, not only p0), for one and two species, for the PINN
bond-order term, the pure neural potential and both descriptor families."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk

import physml
from physml.empirical import PinnBOP
from physml.ml import BehlerParrinello, GaussianLegendre, PhysicsInformed, SiteEnergy
from physml.potential import Component, Potential
from tests import physics_checks as pc

RC, HC = 4.5, 1.0


def gl():
    return GaussianLegendre([0, 1, 2, 4], [2.5, 3.0, 4.0], 1.0, 1.5 * RC, HC)


def pinn(species=("Al",), seed=0, out_scale=0.05):
    species = list(species)
    t = PinnBOP(species, cutoff=RC, smoothing=HC)
    prov = PhysicsInformed(t.parameter_specs(), len(species), gl(), hidden=[8, 8], out_scale=out_scale, seed=seed)
    with torch.no_grad():  # non-trivial biases too
        for b in prov.networks.parameters():
            b.add_(0.05 * torch.randn(b.shape, generator=torch.Generator().manual_seed(seed + 1), dtype=b.dtype))
    return Potential(species, [Component(t, prov)])


def pure_nn(species=("Al",), desc=None, seed=0):
    species = list(species)
    t = SiteEnergy(species)
    prov = PhysicsInformed(t.parameter_specs(), len(species), desc or gl(), hidden=[8, 8], activation="tanh", seed=seed)
    return Potential(species, [Component(t, prov)])


def crystal(species=("Al",), n=2, seed=0):
    return pc.strained_alloy(tuple(species), 4.05, n, seed, rattle=0.1)


MODELS = {
    "pinn_1": lambda: (pinn(), ("Al",)),
    "pinn_2": lambda: (pinn(("Al", "Cu")), ("Al", "Cu")),
    "nn_gl_2": lambda: (pure_nn(("Al", "Cu")), ("Al", "Cu")),
    "nn_bp_2": lambda: (pure_nn(("Al", "Cu"), BehlerParrinello(5.0)), ("Al", "Cu")),
}


@pytest.fixture(params=sorted(MODELS))
def model(request):
    return MODELS[request.param]()


def test_fd_forces_and_stress(model):
    pot, sp = model
    at = crystal(sp)
    pc.check_forces_fd(pot, at, n_atoms=4)
    pc.check_stress_fd(pot, at)


def test_invariances(model):
    pot, sp = model
    pc.check_invariances(pot, crystal(sp, seed=2))


def test_batch_consistency(model):
    pot, sp = model
    pc.check_batch_consistency(pot, [crystal(sp, 2, 1), crystal(sp, 1, 3)])


def test_cutoff_continuity():
    pot = pinn()
    # a dimer across the BOP cutoff and across the descriptor cutoff. Near r_c the
    # promotion term −σ√Φ with Φ ∝ f_c ≈ z⁴ behaves like z², so the force vanishes
    # linearly in the distance to the cutoff: probe closer, and check the scaling.
    d1 = pc.check_cutoff_smoothness(pot, ("Al", "Al"), RC, delta=1e-9)[1]
    d2 = pc.check_cutoff_smoothness(pot, ("Al", "Al"), RC, delta=1e-10)[1]
    assert d2 < 0.2 * d1 + 1e-14
    pc.check_cutoff_smoothness(pot, ("Al", "Al"), 1.5 * RC)
    nn = pure_nn()
    pc.check_cutoff_smoothness(nn, ("Al", "Al"), 1.5 * RC)


def test_absent_species_block_is_zero():
    pot = pinn(("Al", "Cu"))
    prov = pot.components[0].provider
    at = crystal(("Al",))
    b = pot.batch(at)
    from physml.neighbors import Graph, neighbor_list

    g = Graph.build(b, neighbor_list(b, pot.cutoff), 2)
    G = prov.descriptor.raw(g)
    nb = prov.descriptor.n_per_block()
    assert torch.count_nonzero(G[:, nb:]) == 0  # blocks Al-Cu and Cu-Cu are exactly zero


def test_energy_gradients_wrt_weights_and_baseline():
    """gradcheck of E with respect to network weights and p0 (these drive training)."""
    pot = pinn(("Al", "Cu"), out_scale=0.1)
    at = crystal(("Al", "Cu"), n=1, seed=5)
    b = pot.batch(at)
    from physml.neighbors import neighbor_list

    nl = neighbor_list(b, pot.cutoff)
    prov = pot.components[0].provider
    W = prov.networks.nets[0].weights[0]
    p0 = prov.p0

    def energy(w, base):
        with torch.no_grad():
            pass
        saved_w, saved_p = W.data, p0.data
        W.data, p0.data = w, base
        try:
            out = pot(b, nlist=nl, forces=False, stress=False)["energy"].sum()
        finally:
            W.data, p0.data = saved_w, saved_p
        return out

    # use functional_call for a clean gradcheck
    from torch.func import functional_call

    names = {n: p for n, p in pot.named_parameters()}
    wname = [n for n in names if n.endswith("nets.0.weights.0")][0]
    pname = [n for n in names if n.endswith("provider.p0")][0]

    def f(w, base):
        return functional_call(pot, {wname: w, pname: base}, (b,), {"nlist": nl, "forces": False, "stress": False})["energy"].sum()

    w0 = names[wname].detach().clone().requires_grad_(True)
    b0 = names[pname].detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(f, (w0, b0), eps=1e-6, atol=1e-6, rtol=1e-5)


def test_force_gradients_wrt_weights():
    """The force loss is differentiable w.r.t. the weights (double backward)."""
    pot = pinn()
    at = crystal()
    b = pot.batch(at)
    out = pot(b, create_graph=True)
    loss = (out["forces"] ** 2).sum()
    loss.backward()
    grads = [p.grad for p in pot.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


def test_isolated_atom_and_dimer_far_apart():
    pot = pinn()
    e1 = pot.evaluate(Atoms("Al", positions=[[0, 0, 0]]), stress=False)[0]["energy"]
    assert e1 == 0.0  # a free atom has zero BOP energy
    far = Atoms("Al2", positions=[[0, 0, 0], [30, 0, 0]])
    assert pot.evaluate(far, stress=False)[0]["energy"] == 0.0


@pytest.mark.parametrize("name", sorted(MODELS))
def test_chunked_inference_equals_full(name):
    """Large cells are evaluated in chunks of centre atoms: exact by locality."""
    pot, sp = MODELS[name]()
    at = crystal(sp, n=2, seed=7)
    ref = pot.evaluate(at)[0]
    pot.chunk_atoms = 5
    got = pot.evaluate(at)[0]
    assert got["energy"] == pytest.approx(ref["energy"], abs=1e-10)
    np.testing.assert_allclose(got["forces"], ref["forces"], atol=1e-10)
    np.testing.assert_allclose(got["stress"], ref["stress"], atol=1e-12)
    np.testing.assert_allclose(got["energies"], ref["energies"], atol=1e-10)
