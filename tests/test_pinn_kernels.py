"""The C++ PINN kernels (physml/csrc, loaded by physml.ext) against the torch implementation:
energies, per-atom energies, forces and stresses of the published Al_2020 potential and of
random two-species PINN models (so the network path and the species indexing are exercised)
on triclinic cells, small cells with self-images, a vacancy and a free cluster; finite
differences through the C++ path; forces at a fixed cell by the kernel that scatters to the
positions (and its backward for weighted site energies); gradients with respect to network
weights; the fallback when the kernels are disabled or cannot be built; bad input to the
operators."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk

import physml
from physml import ext
from physml.empirical import PinnBOP
from physml.empirical.bop import _PinnBOPKernel, _PinnBOPPositionsKernel
from physml.ml import GaussianLegendre, PhysicsInformed
from physml.ml.descriptors import _GaussianLegendreKernel
from physml.neighbors import Graph, neighbor_list
from physml.potential import Component, Potential
from tests import physics_checks as pc

RC, HC = 4.5, 1.0


@pytest.fixture(scope="module", autouse=True)
def kernels():
    """The kernels must build wherever a C++ compiler exists (a failure is an error here)."""
    if shutil.which("c++") is None and shutil.which("g++") is None:
        pytest.skip("no C++ compiler")
    assert ext.load(), f"the C++ kernels failed to build: {ext.error()}"


@pytest.fixture
def calls(monkeypatch):
    """Counts calls of the kernel-backed autograd functions ("bop": either BOP kernel;
    "bop_positions": the one differentiable in the positions)."""
    n = {"desc": 0, "bop": 0, "bop_positions": 0}
    for keys, fn in ((("desc",), _GaussianLegendreKernel), (("bop",), _PinnBOPKernel), (("bop", "bop_positions"), _PinnBOPPositionsKernel)):
        orig = fn.apply

        def counted(*args, _orig=orig, _keys=keys):
            for k in _keys:
                n[k] += 1
            return _orig(*args)

        monkeypatch.setattr(fn, "apply", counted)
    return n


def random_pinn(species=("Al", "Cu"), seed=0, out_scale=0.3, orders=(0, 1, 2, 4, 6)) -> Potential:
    """A PINN model with random network weights and biases and species-dependent baselines."""
    species = list(species)
    S = len(species)
    t = PinnBOP(species, cutoff=RC, smoothing=HC)
    desc = GaussianLegendre(list(orders), [2.0, 2.6, 3.1, 4.0, 5.2], 0.9, 1.5 * RC, HC)
    prov = PhysicsInformed(t.parameter_specs(), S, desc, hidden=[8, 6], out_scale=out_scale, seed=seed)
    gen = torch.Generator().manual_seed(seed + 7)
    with torch.no_grad():
        for b in prov.networks.parameters():
            b.add_(0.05 * torch.randn(b.shape, generator=gen, dtype=b.dtype))
        # species-dependent baselines (pair and triple tables differ entry by entry)
        prov.p0.add_(0.1 * torch.randn(prov.p0.shape, generator=gen, dtype=prov.p0.dtype))
    return Potential(species, [Component(t, prov)])


def structures(species=("Al", "Cu")) -> dict[str, Atoms]:
    sp = tuple(species)
    out = {"triclinic": pc.strained_alloy(sp, 4.05, 2, seed=3, rattle=0.1)}
    small = bulk(sp[0], "fcc", a=4.05)  # 1-atom primitive cell: every neighbour is a self-image
    small.rattle(0.0)
    out["primitive"] = small
    two = bulk(sp[0], "fcc", a=4.05) * (2, 1, 1)
    two.positions[1] += [0.07, -0.05, 0.03]
    if len(sp) > 1:
        two.symbols[1] = sp[1]
    out["two_atoms"] = two
    vac = pc.strained_alloy(sp, 4.05, 2, seed=5, rattle=0.05)
    del vac[3]
    out["vacancy"] = vac
    cl = pc.strained_alloy(sp, 4.05, 1, seed=6, rattle=0.15)
    cl.pbc = False
    cl.center(vacuum=6.0)
    out["cluster"] = cl
    return out


def evaluate(pot: Potential, atoms: Atoms, monkeypatch, torch_path: bool) -> dict:
    if torch_path:
        monkeypatch.setenv("PHYSML_NO_EXT", "1")
    else:
        monkeypatch.delenv("PHYSML_NO_EXT", raising=False)
    try:
        return pot.evaluate(atoms, stress=bool(atoms.pbc.all()))[0]
    finally:
        monkeypatch.delenv("PHYSML_NO_EXT", raising=False)


def assert_same(got: dict, ref: dict, rtol: float = 1e-12):
    for key in ("energy", "energies", "forces", "stress"):
        if key not in ref:
            continue
        a, b = np.asarray(got[key]), np.asarray(ref[key])
        scale = max(1.0, float(np.abs(b).max()))
        err = float(np.abs(a - b).max())
        assert err <= rtol * scale, f"{key}: C++ and torch differ by {err:.3e} (scale {scale:.3e})"


@pytest.mark.parametrize("name", ["triclinic", "primitive", "two_atoms", "vacancy", "cluster"])
def test_two_species_random_model_matches_torch(name, monkeypatch, calls):
    pot = random_pinn()
    at = structures()[name]
    got = evaluate(pot, at, monkeypatch, torch_path=False)
    assert calls["desc"] > 0 and calls["bop"] > 0, "the C++ path was not used"
    n_calls = dict(calls)
    ref = evaluate(pot, at, monkeypatch, torch_path=True)
    assert calls == n_calls, "PHYSML_NO_EXT=1 did not select the torch path"
    assert np.abs(ref["forces"]).max() > 1e-3 or len(at) == 1  # a non-trivial configuration
    assert_same(got, ref)


def test_al_2020_matches_torch_and_reference(data_dir, monkeypatch, calls):
    import ase.io

    al = physml.load(data_dir / "pinn" / "Al_2020.pinn")
    cases = [pc.strained_alloy(("Al",), 4.04, 2, seed=1, rattle=0.1)]
    v = bulk("Al", "fcc", a=4.04, cubic=True) * (3, 3, 3)
    v.rattle(0.03, seed=2)
    del v[0]
    cases.append(v)
    for at in cases:
        assert_same(evaluate(al, at, monkeypatch, False), evaluate(al, at, monkeypatch, True))
    # and the authors' reference results, through the C++ path
    files = sorted((data_dir / "pinn" / "reference").glob("Al_2020_*.xyz"))[:4]
    assert files
    for f in files:
        a = ase.io.read(f)
        m = al.evaluate(a)[0]
        assert abs(m["energy"] - a.get_potential_energy()) / len(a) <= 1e-6
        assert np.abs(m["forces"] - a.get_forces()).max() <= 1e-5
        assert np.abs(m["stress"] - a.get_stress()).max() <= 1e-6
    assert calls["bop"] > 0


def test_single_species_and_low_orders(monkeypatch):
    """One species (the specialised screening loop) and a descriptor without l ≥ 2."""
    pot = random_pinn(("Al",), seed=2, orders=(0, 1))
    at = structures(("Al",))["triclinic"]
    assert_same(evaluate(pot, at, monkeypatch, False), evaluate(pot, at, monkeypatch, True))


def test_finite_differences_through_kernels(calls):
    pot = random_pinn(seed=4)
    at = structures()["triclinic"]
    pc.check_forces_fd(pot, at, n_atoms=4)
    pc.check_stress_fd(pot, at)
    assert calls["bop"] > 0 and calls["desc"] > 0


@pytest.mark.parametrize("name", ["triclinic", "primitive", "vacancy"])
def test_forces_without_stress_by_positions_kernel(name, monkeypatch, calls):
    """Forces at a fixed cell come from physml::pinn_bop_positions (pair Jacobians scattered
    to the positions in C++): the same as the torch path and as the per-pair Jacobian path
    that the stress needs."""
    pot = random_pinn(seed=9)
    at = structures()[name]
    monkeypatch.delenv("PHYSML_NO_EXT", raising=False)
    got = pot.evaluate(at, stress=False)[0]
    assert calls["bop_positions"] > 0
    with_stress = pot.evaluate(at, stress=True)[0]
    monkeypatch.setenv("PHYSML_NO_EXT", "1")
    ref = pot.evaluate(at, stress=False)[0]
    assert_same(got, ref)
    assert_same(got, {k: with_stress[k] for k in ("energy", "energies", "forces")}, rtol=1e-13)


def test_weighted_site_energy_gradient_by_positions_kernel(monkeypatch, calls):
    """∂(Σ_i w_i E_i)/∂x with weights other than 1 (the positions kernel's backward falls back
    to the scaled pair Jacobians) equals the torch path."""
    pot = random_pinn(seed=10)
    at = structures()["triclinic"]
    b = pot.batch(at)
    nl = neighbor_list(b, pot.cutoff)
    w = torch.rand(len(at), generator=torch.Generator().manual_seed(1), dtype=torch.float64)

    def grad(no_ext: bool) -> torch.Tensor:
        if no_ext:
            monkeypatch.setenv("PHYSML_NO_EXT", "1")
        pos = b.positions.detach().requires_grad_(True)
        e = pot.site_energies(Graph.build(b, nl, len(pot.species), positions=pos))
        (g,) = torch.autograd.grad((w * e).sum(), pos)
        monkeypatch.delenv("PHYSML_NO_EXT", raising=False)
        return g

    g_ext = grad(False)
    assert calls["bop_positions"] > 0
    torch.testing.assert_close(g_ext, grad(True), rtol=1e-10, atol=1e-12)


def test_chunked_inference_equals_full():
    pot = random_pinn(seed=5)
    at = pc.strained_alloy(("Al", "Cu"), 4.05, 3, seed=8, rattle=0.08)
    ref = pot.evaluate(at)[0]
    pot.chunk_atoms = 17
    assert_same(pot.evaluate(at)[0], ref, rtol=1e-11)


def test_weight_gradients_match_torch(monkeypatch, calls):
    """Energy training (first derivatives w.r.t. weights and baselines) through the kernels."""
    pot = random_pinn(seed=6)
    at = structures()["triclinic"]
    b = pot.batch(at)
    nl = neighbor_list(b, pot.cutoff)

    def grads(no_ext: bool):
        if no_ext:
            monkeypatch.setenv("PHYSML_NO_EXT", "1")
        pot.zero_grad()
        out = pot(b, nlist=nl, forces=False, stress=False)
        (out["energy"].sum() + 0.3 * (out["energies"] ** 2).sum()).backward()
        monkeypatch.delenv("PHYSML_NO_EXT", raising=False)
        return [p.grad.clone() for p in pot.parameters() if p.grad is not None]

    g_ext = grads(False)
    assert calls["bop"] > 0
    g_ref = grads(True)
    assert len(g_ext) == len(g_ref) and len(g_ref) > 0
    for a, r in zip(g_ext, g_ref):
        torch.testing.assert_close(a, r, rtol=1e-10, atol=1e-12)


def test_force_training_uses_torch_path(calls):
    """create_graph=True needs second derivatives: the kernels are not used, and the force
    loss is differentiable."""
    pot = random_pinn(seed=7)
    at = structures()["triclinic"]
    out = pot(pot.batch(at), create_graph=True)
    assert calls == {"desc": 0, "bop": 0, "bop_positions": 0}
    (out["forces"] ** 2).sum().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in pot.parameters())
    ref = pot.evaluate(at)[0]  # inference: kernels
    np.testing.assert_allclose(out["forces"].detach().numpy(), ref["forces"], atol=1e-12)


def test_bond_order_guard_and_parameter_derivatives(monkeypatch):
    """pinn_bop with per-atom parameters driving 1 + z_ij ≤ 0 (the authors' guard), negative λ
    and two species: energies and dE/dp against autograd of the torch path."""
    term = PinnBOP(["Al", "Cu"], cutoff=RC, smoothing=HC)
    at = structures()["triclinic"]
    b = Potential(["Al", "Cu"], [Component(term)]).batch(at)
    g = Graph.build(b, neighbor_list(b, 1.5 * RC), 2)
    layout = term.layout()
    gen = torch.Generator().manual_seed(3)
    raw = layout.physical(torch.zeros(len(at), layout.size))
    base = {"A": 7.0, "alpha": 2.5, "B": 3.0, "beta": 1.2, "h": -0.3, "sigma": 0.4, "a": 0.8, "lambda": 0.9}
    params = {}
    for name, v in raw.items():
        params[name] = (base[name] + 0.3 * torch.randn(v.shape, generator=gen)).requires_grad_(True)
    with torch.no_grad():
        params["a"][::3] = -3.0  # z_ij ≪ −1 for these atoms
        params["lambda"][1::4] = -0.2

    def run(no_ext: bool):
        if no_ext:
            monkeypatch.setenv("PHYSML_NO_EXT", "1")
        e = term.energies(g, params)
        gr = torch.autograd.grad((e * torch.linspace(0.5, 1.5, len(e))).sum(), list(params.values()))
        monkeypatch.delenv("PHYSML_NO_EXT", raising=False)
        return e.detach(), gr

    e1, g1 = run(False)
    e0, g0 = run(True)
    torch.testing.assert_close(e1, e0, rtol=1e-12, atol=1e-12)
    for a, r in zip(g1, g0):
        torch.testing.assert_close(a, r, rtol=1e-10, atol=1e-11)


def test_asymmetric_screening_table(monkeypatch, calls):
    """λ_i[t_j][t_k] ≠ λ_i[t_k][t_j]: the factor of k in the screening of the bond i–j uses
    λ_i[t_j][t_k] (the kernel evaluates both triplets of a pair of bonds together). A classic
    Al–Cu bond-order potential with a strongly asymmetric table agrees with the torch path for
    the table and its transpose, which give clearly different energies (a transposed lookup
    fails). Single species: λ below and above the range of the factorised exponentials."""
    base = {"A": 7.0, "alpha": 2.5, "B": 3.0, "beta": 1.2, "h": -0.3, "sigma": 0.4, "a": 0.8}
    lam = np.array([[[1.1, 0.2], [2.6, 1.6]], [[0.9, 3.0], [0.3, 1.4]]])  # [t_i][t_j][t_k]
    pot = Potential(["Al", "Cu"], [Component(PinnBOP(["Al", "Cu"], cutoff=RC, smoothing=HC))])
    at = structures()["triclinic"]
    assert len(set(at.get_chemical_symbols())) == 2
    energies = []
    for table in (lam, lam.transpose(0, 2, 1)):
        pot.components[0].provider.set_values({**base, "lambda": table})
        n = calls["bop"]
        got = evaluate(pot, at, monkeypatch, torch_path=False)
        assert calls["bop"] > n, "the C++ path was not used"
        assert_same(got, evaluate(pot, at, monkeypatch, torch_path=True))
        energies.append(got["energy"])
    assert abs(energies[0] - energies[1]) > 0.005 * len(at), energies  # eV
    one = Potential(["Al"], [Component(PinnBOP(["Al"], cutoff=RC, smoothing=HC))])
    al = structures(("Al",))["triclinic"]
    for lam1 in (0.6, 30.0):  # λ rc < 100: one exponential per pair of bonds; above: per triplet
        one.components[0].provider.set_values({**base, "lambda": lam1})
        assert_same(evaluate(one, al, monkeypatch, False), evaluate(one, al, monkeypatch, True))


@pytest.mark.parametrize("species", [("Al",), ("Al", "Cu")])
def test_screening_candidates_at_the_cutoff(species, monkeypatch, calls):
    """Neighbours k beyond rc screen the bond i–j only if x_ijk = r_ik + r_jk − r_ij < rc; the
    kernel finds them by a single-precision test that must never reject one. Clusters with one
    such k at x_ijk = rc − δ (δ down to 0.005 Å, where the factor is ≈ 1e-11 from 1) in several
    directions: the kernel agrees with the torch path (which evaluates every triplet) to
    1e-13. (A test that rejects the candidates within ≈ 0.02 Å of the cutoff, kTestMargin =
    −0.02, fails here by 4e-12 eV.)"""
    pot = Potential(list(species), [Component(PinnBOP(list(species), cutoff=RC, smoothing=HC))])
    base = {"A": 7.0, "alpha": 2.5, "B": 3.0, "beta": 1.2, "h": -0.3, "sigma": 0.4, "a": 0.8, "lambda": 0.7}
    pot.components[0].provider.set_values(base)

    def cluster(r_ij: float, phi: float, x_target: float) -> Atoms:
        j = np.array([r_ij, 0.0, 0.0])
        u = np.array([np.cos(phi), np.sin(phi) * 0.6, np.sin(phi) * 0.8])
        lo, hi = 0.0, 3.0 * RC  # x grows with the distance ρ of k from j along u
        for _ in range(200):
            rho = 0.5 * (lo + hi)
            k = j + rho * u
            lo, hi = (rho, hi) if np.linalg.norm(k) + rho - r_ij < x_target else (lo, rho)
        k = j + 0.5 * (lo + hi) * u
        x = np.linalg.norm(k) + np.linalg.norm(k - j) - r_ij
        assert RC < np.linalg.norm(k) < 1.5 * RC and abs(x - x_target) < 1e-9
        # three more bonds of atom 0 on its far side: with 4 bonds the kernel's blocks of 4 end at
        # the last bond, so k goes through the candidate test (not through a bond's block)
        filler = [[-2.9, 0.3, 0.0], [-0.2, -2.8, 0.4], [0.3, 0.2, -3.0]]
        at = Atoms([species[0], species[-1], species[0]] + [species[0]] * 3, positions=[[0.0, 0.0, 0.0], j, k, *filler], pbc=False)
        at.center(vacuum=10.0)
        return at

    n = calls["bop"]
    for r_ij in (3.2, 4.0, 4.4):
        for phi in (0.0, 0.25, 0.5):
            for x in (RC - 0.3, RC - 0.02, RC - 0.005, RC + 0.05):
                at = cluster(r_ij, phi, x)
                got = evaluate(pot, at, monkeypatch, torch_path=False)
                assert_same(got, evaluate(pot, at, monkeypatch, torch_path=True), rtol=1e-13)
    assert calls["bop"] > n, "the C++ path was not used"


def test_disabled_and_failed_build_fall_back(monkeypatch, calls):
    pot = random_pinn(seed=8)
    at = structures()["vacancy"]
    ref = pot.evaluate(at)[0]
    monkeypatch.setenv("PHYSML_NO_EXT", "1")
    assert not ext.available() and not ext.use_kernels(torch.zeros(2, dtype=torch.float64))
    monkeypatch.delenv("PHYSML_NO_EXT")
    # a build that fails (no compiler): one warning naming the reason, then the torch path
    from torch.utils import cpp_extension

    def broken(*args, **kwargs):
        raise RuntimeError("simulated: c++ not found")

    monkeypatch.setattr(ext, "_STATE", {"tried": False, "ok": False, "error": None})
    monkeypatch.setattr(ext, "registered", lambda: False)  # as in a process that never loaded them
    monkeypatch.setattr(cpp_extension, "load", broken)
    n = dict(calls)
    with pytest.warns(RuntimeWarning, match="C\\+\\+ kernels unavailable.*simulated: c\\+\\+ not found"):
        got = pot.evaluate(at)[0]
    assert calls == n
    assert "simulated" in ext.error()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pot.evaluate(at)  # warned once only
    assert_same(got, ref)


def test_kernels_registered_elsewhere_are_not_built_again(monkeypatch):
    """Operators already in the process (a LAMMPS plugin's kernel library opened first)
    count as loaded: no second build or load, which would register them twice."""
    from torch.utils import cpp_extension

    assert ext.available() and ext.registered()

    def must_not_build(*args, **kwargs):
        raise AssertionError("built although the operators were registered")

    monkeypatch.setattr(ext, "_STATE", {"tried": False, "ok": False, "error": None})
    monkeypatch.setattr(cpp_extension, "load", must_not_build)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ext.load() and ext.error() is None


def test_float32_and_build_directory(monkeypatch, tmp_path):
    assert not ext.use_kernels(torch.zeros(3, dtype=torch.float32))
    monkeypatch.setenv("PHYSML_EXT_DIR", str(tmp_path))
    d = ext.build_directory()
    assert d.parent == tmp_path and "torch" in d.name


def test_operator_input_errors():
    v = torch.randn(4, 3, dtype=torch.float64)
    i = torch.tensor([1, 0, 1, 1])
    j = torch.tensor([0, 1, 0, 0])
    sp = torch.zeros(2, dtype=torch.long)
    p = torch.zeros(2, 8, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="sorted by centre atom"):
        torch.ops.physml.pinn_bop(v, i, j, sp, p, 1, 6.0, 1.5, False, False)
    i = torch.tensor([0, 0, 1, 1])
    with pytest.raises(RuntimeError, match="8 columns"):
        torch.ops.physml.pinn_bop(v, i, j, sp, p[:, :5], 1, 6.0, 1.5, False, False)
    with pytest.raises(RuntimeError, match="species 1 of atom 0 outside 0..0"):
        torch.ops.physml.pinn_bop(v, i, j, torch.tensor([1, 0]), p, 1, 6.0, 1.5, False, False)
    with pytest.raises(RuntimeError, match="float64"):
        torch.ops.physml.gl_descriptor(v.float(), i, j, sp, 2, 1, [0, 1], [2.0], 1.0, 6.0, 1.5)
    with pytest.raises(RuntimeError, match="Gaussian centre is zero"):
        torch.ops.physml.gl_descriptor(v, i, j, sp, 2, 1, [0, 1], [0.0], 1.0, 6.0, 1.5)


def test_operators_read_any_layout_of_the_vectors():
    """The ops read (3, E)-row vectors in place and gather any other strides: the same pairs in
    row, (E, 3) and strided-view layouts give bit-identical outputs of all four operators."""
    a = bulk("Al", "fcc", a=4.05) * (2, 2, 2) + bulk("Cu", "fcc", a=3.6)
    a.rattle(0.1, seed=3)
    a.set_cell(a.cell * 1.02, scale_atoms=True)
    a.pbc = True
    b = Potential(["Al", "Cu"], [Component(PinnBOP(["Al", "Cu"], RC, HC))]).batch(a)
    g = Graph.build(b, neighbor_list(b, 1.5 * RC), 2)
    pr = g.pairs(1.5 * RC)
    v = pr.vectors.detach()
    rows = v.t().contiguous().t()
    pad = torch.randn(len(v), 5, dtype=v.dtype)
    pad[:, 1:4] = v
    layouts = {"rows": rows, "contiguous": v.contiguous(), "view": pad[:, 1:4]}
    assert rows.stride(0) == 1 and layouts["view"].stride() == (5, 1)
    N, S = len(a), 2
    gen = torch.Generator().manual_seed(4)
    params = 0.5 + 0.1 * torch.rand(N, 4 * S + 3 * S * S + 1, generator=gen, dtype=v.dtype)
    hyper = ([0, 1, 2, 4], [2.0, 3.0, 4.0], 1.0, 1.5 * RC, HC)
    ops = torch.ops.physml
    out = {}
    for name, vec in layouts.items():
        gd, A = ops.gl_descriptor(vec, pr.i, pr.j, g.species, N, S, *hyper)
        grad_g = torch.linspace(-1.0, 1.0, gd.numel(), dtype=v.dtype).reshape(gd.shape)
        back = ops.gl_descriptor_backward(grad_g, A, vec, pr.i, pr.j, g.species, S, *hyper)
        bop = ops.pinn_bop(vec, pr.i, pr.j, g.species, params, S, RC, HC, True, True)
        pos = ops.pinn_bop_positions(vec, pr.i, pr.j, g.species, params, S, RC, HC, True)
        out[name] = [gd, A, back, *bop, *pos]
        assert bool((gd != 0).any()) and bool((back != 0).any()) and bool((pos[1] != 0).any())
    for name in ("contiguous", "view"):
        for x, y in zip(out["rows"], out[name]):
            assert torch.equal(x, y), name


def test_isolated_atoms_have_zero_energy():
    pot = random_pinn(seed=9)
    far = Atoms("AlCu", positions=[[0, 0, 0], [30, 0, 0]])
    r = pot.evaluate(far, stress=False)[0]
    assert r["energy"] == 0.0 and np.all(r["forces"] == 0.0)


def test_automatic_chunk_size(monkeypatch):
    """Kernel-backed models are evaluated in larger chunks; an explicit size always wins."""
    pot = random_pinn(seed=10)
    b = pot.batch(structures()["two_atoms"])
    assert pot.chunk_size(b) == 4000
    monkeypatch.setenv("PHYSML_NO_EXT", "1")
    assert pot.chunk_size(b) == 500
    pot.chunk_atoms = 7
    assert pot.chunk_size(b) == 7
