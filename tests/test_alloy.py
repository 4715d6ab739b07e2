"""Alloys inheriting elemental potentials (physml.alloy): the inheritance contract.

* on pure-element structures the alloy gives the elemental energies, forces and stresses to
  round-off, before and after alloy training;
* frozen tensors are bit-identical after AdamW (with weight decay) and L-BFGS, also when an
  optimiser is handed them explicitly, and after save/load;
* partly frozen tables keep their frozen entries; unfreezing is explicit, with its factor;
* imported setfl elementals plus a cross pair reproduce eam/alloy (physml and LAMMPS).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from ase.build import bulk

import physml
from physml.compose import alloy, check_inheritance, cross_pair, frozen_hashes, frozen_state, johnson_cross
from physml.data.structures import Dataset, LabelledStructure
from physml.empirical.bop import PinnBOP
from physml.empirical.pair import Morse
from physml.ml.descriptors import BehlerParrinello, GaussianLegendre
from physml.ml.physics_informed import PhysicsInformed
from physml.parameters import ConstantPerSpecies
from physml.potential import Component, Potential
from physml.train.loss import LossWeights
from physml.train.trainer import Trainer


def elemental_pinn(symbol: str, seed: int, descriptor: str = "gl") -> Potential:
    """A small PINN-BOP elemental potential with non-trivial (random) network weights."""
    term = PinnBOP([symbol], cutoff=3.4, smoothing=0.8)
    if descriptor == "gl":  # g_ref != 0: absent blocks are asinh(g_ref), not zero
        desc = GaussianLegendre([0, 1, 2], [2.0, 2.8], 0.7, 4.0, 0.8, g_ref=0.3)
    else:
        desc = BehlerParrinello(4.0, radial_eta=(0.5, 2.0), angular_eta=(0.05,), zeta=(1.0,), lambdas=(1.0, -1.0))
    prov = PhysicsInformed(term.parameter_specs(), 1, desc, hidden=[6], seed=seed, out_scale=0.1)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in prov.networks.parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
        prov.p0[0, prov.layout.slices["A"]] += 0.3 * seed
    return Potential([symbol], [Component(term, prov)], reference_energies=[-2.0 - seed])


def structures():
    w = bulk("W", "bcc", a=3.16, cubic=True) * (2, 1, 1)
    w.rattle(0.08, seed=1)
    be = bulk("Be", "hcp", a=2.29, c=3.58) * (2, 1, 1)
    be.rattle(0.08, seed=2)
    mixed = []
    for k in range(4):
        m = bulk("W", "bcc", a=3.0 + 0.05 * k, cubic=True) * (2, 1, 1)
        m.symbols[[0, 2 + (k % 2)]] = "Be"
        m.rattle(0.1, seed=10 + k)
        mixed.append(m)
    return [w, be], mixed


def labelled(frames, pot: Potential) -> Dataset:
    """Frames labelled by a reference potential (an arbitrary smooth 'truth')."""
    out = []
    for a, r in zip(frames, pot.evaluate(frames, stress=False)):
        out.append(LabelledStructure(a, energy=r["energy"], forces=r["forces"], config_type="mixed"))
    return Dataset(out)


def max_diff(a: Potential, b: Potential, frames) -> tuple[float, float, float]:
    ra, rb = a.evaluate(frames), b.evaluate(frames)
    de = max(abs(x["energy"] - y["energy"]) / len(f) for x, y, f in zip(ra, rb, frames))
    df = max(float(np.abs(x["forces"] - y["forces"]).max()) for x, y in zip(ra, rb))
    ds = max(float(np.abs(x["stress"] - y["stress"]).max()) for x, y in zip(ra, rb))
    return de, df, ds


@pytest.mark.parametrize("descriptor", ["gl", "bp"])
def test_pure_elements_unchanged_and_mixed_trainable(descriptor):
    W, Be = elemental_pinn("W", 1, descriptor), elemental_pinn("Be", 2, descriptor)
    al = alloy([W, Be], hidden=[5])
    assert al.species == ["W", "Be"]
    assert al.reference_energies.tolist() == [-3.0, -4.0]
    pure, mixed = structures()
    for frame, ref in zip(pure, (W, Be)):
        assert max(max_diff(al, ref, [frame])) <= 1e-12
    # the cross part is live in mixed structures: a cross-network weight changes the energy
    e0 = al.evaluate(mixed[0], stress=False)[0]["energy"]
    with torch.no_grad():
        al.components[0].provider.networks.nets[0].weights[-1].fill_(0.05)
    assert abs(al.evaluate(mixed[0], stress=False)[0]["energy"] - e0) > 1e-6
    for frame, ref in zip(pure, (W, Be)):  # ... and still nothing in pure elements
        assert max(max_diff(al, ref, [frame])) <= 1e-12


def test_training_leaves_frozen_blocks_bit_identical(tmp_path):
    W, Be = elemental_pinn("W", 1), elemental_pinn("Be", 2)
    al = alloy([W, Be], hidden=[5])
    truth = alloy([elemental_pinn("W", 3), elemental_pinn("Be", 4)], hidden=[5], seed=7)
    with torch.no_grad():
        for net in truth.components[0].provider.networks.nets:
            net.weights[-1].normal_(0.0, 0.1)
    pure, mixed = structures()
    data = labelled(mixed, truth)
    before = frozen_hashes(al)
    trainable = {n: p.detach().clone() for n, p in al.named_parameters() if p.requires_grad}
    tr = Trainer(al, data, None, LossWeights(1.0, 0.1, 0.0, 0.0, {}), batch_size=2, learning_rate=1e-2, weight_decay=0.1, progress=False)
    tr.lbfgs_iterations = 4
    tr.fit([("baseline", 1), ("network", 2), ("lbfgs", 1)])
    loss0 = tr.history.epochs[0]["train_loss"]
    assert tr.history.epochs[-1]["train_loss"] < loss0
    assert frozen_hashes(al) == before
    changed = [n for n, p in al.named_parameters() if p.requires_grad and not torch.equal(p, trainable[n])]
    assert any("networks" in n for n in changed) and any(n.endswith("provider.p0") for n in changed)
    assert max(check_inheritance(al, [W, Be], pure).values()) <= 1e-12
    # an optimiser that is handed the frozen tensors explicitly cannot move them either
    opt = torch.optim.AdamW(al.parameters(), lr=0.1, weight_decay=1.0)
    al(al.batch(mixed), forces=False, stress=False)["energy"].sum().backward()
    opt.step()
    assert frozen_hashes(al) == before
    # the elemental tensors inside the alloy are the elementals' own, bit for bit
    prov = al.components[0].provider
    for a, ref in enumerate((W, Be)):
        for (n, x), (m, y) in zip(prov.elementals[a].state_dict().items(), ref.components[0].provider.state_dict().items()):
            assert n == m and torch.equal(x, y)


def test_save_load_keeps_blocks_frozen(tmp_path):
    al = alloy([elemental_pinn("W", 1), elemental_pinn("Be", 2)], hidden=[5])
    physml.save(al, tmp_path / "wbe")
    desc = json.loads((tmp_path / "wbe" / "model.json").read_text())
    assert desc["frozen"] == frozen_hashes(al)
    assert desc["components"][0]["provider"]["config"]["frozen"] == [0, 1]
    back = physml.load(tmp_path / "wbe")
    assert back.n_parameters(True) == al.n_parameters(True) < al.n_parameters()
    assert {n for n, p in back.named_parameters() if not p.requires_grad} == {n for n, p in al.named_parameters() if not p.requires_grad}
    _, mixed = structures()
    assert max(max_diff(back, al, mixed)) == 0.0
    # a changed frozen tensor is detected on load
    from safetensors.torch import load_file, save_file

    w = load_file(tmp_path / "wbe" / "weights.safetensors")
    name = next(n for n in desc["frozen"] if "elementals.0.networks" in n)
    w[name] = w[name] + 1e-12
    save_file(w, tmp_path / "wbe" / "weights.safetensors")
    with pytest.raises(ValueError, match="differs from its recorded hash"):
        physml.load(tmp_path / "wbe")


def test_unfreeze_is_explicit_with_learning_rate_factor():
    W, Be = elemental_pinn("W", 1), elemental_pinn("Be", 2)
    al = alloy([W, Be], hidden=[5], unfreeze={"W": 0.1})
    prov = al.components[0].provider
    assert prov.frozen == [1]
    assert all(p.requires_grad for p in prov.elementals[0].parameters())
    assert not any(p.requires_grad for p in prov.elementals[1].parameters())
    _, mixed = structures()
    tr = Trainer(al, labelled(mixed, al), None, LossWeights(), learning_rate=1e-2, progress=False)
    opt = tr._make_optimizer("network")
    lrs = {id(p): g["lr"] for g in opt.param_groups for p in g["params"]}
    assert all(abs(lrs[id(p)] - 1e-3) < 1e-15 for p in prov.elementals[0].parameters())
    assert all(abs(lrs[id(p)] - 1e-2) < 1e-15 for p in prov.networks.parameters())
    with pytest.raises(ValueError, match="not species"):
        alloy([W, Be], unfreeze={"Ta": 0.1})
    with pytest.raises(ValueError, match="positive"):
        alloy([W, Be], unfreeze={"W": 0.0})


def test_partly_frozen_table_survives_adamw_and_lbfgs(tmp_path):
    term = Morse(["Cu", "Ni"], cutoff=4.5)
    prov = ConstantPerSpecies(term.parameter_specs(), 2, {"D": [[0.3, 0.4], [0.4, 0.5]]})
    mask = torch.tensor([True, False, True])  # D_CuCu, D_NiNi frozen; D_CuNi trainable
    prov.freeze_entries("D", mask)
    frozen_before = prov.values()["D"].clone()
    pot = Potential(["Cu", "Ni"], [Component(term, prov)])
    frames = []
    for k in range(3):
        a = bulk("Cu", "fcc", a=3.6, cubic=True)
        a.symbols[[1, 2]] = "Ni"
        a.rattle(0.1, seed=k)
        frames.append(a)
    truth = Potential(["Cu", "Ni"], [Component(Morse(["Cu", "Ni"], cutoff=4.5))])
    truth.components[0].provider.set_values({"D": [[0.3, 0.7], [0.7, 0.5]]})
    data = labelled(frames, truth)
    Trainer(pot, data, None, LossWeights(1.0, 0.1, 0.0, 0.0, {}), learning_rate=0.05, weight_decay=0.5, joint_baseline=True, progress=False).fit([("network", 4)])
    Trainer(pot, data, None, LossWeights(1.0, 0.1, 0.0, 0.0, {}), baseline_optimizer="lbfgs", progress=False).fit([("baseline", 2)])
    D = prov.values()["D"]
    assert D[0, 0].item() == frozen_before[0, 0].item() and D[1, 1].item() == frozen_before[1, 1].item()
    assert abs(D[0, 1].item() - 0.7) < 1e-3  # the cross entry was fitted
    with pytest.raises(ValueError, match="frozen entries"):
        prov.set_values({"D": [[0.9, 0.4], [0.4, 0.5]]})
    physml.save(pot, tmp_path / "m")
    back = physml.load(tmp_path / "m")
    assert torch.equal(back.components[0].provider.values()["D"], D.detach())
    assert back.components[0].provider.frozen_names == ["D"]


def test_elementals_must_share_the_functional_form():
    W = elemental_pinn("W", 1)
    other = elemental_pinn("Be", 2, descriptor="bp")
    with pytest.raises(ValueError, match="one descriptor configuration"):
        alloy([W, other])
    with pytest.raises(ValueError, match="exactly one elemental"):
        alloy([W, elemental_pinn("W", 2)])
    with pytest.raises(ValueError, match="one species"):
        alloy([alloy([W, elemental_pinn("Be", 2)])])


@pytest.mark.data
def test_setfl_elementals_with_cross_pair_reproduce_eam_alloy(data_dir):
    path = data_dir / "potentials" / "CuNi.eam.alloy"
    full = physml.load(path)
    cu, ni = physml.load(path, elements=["Cu"]), physml.load(path, elements=["Ni"])
    t = full.components[0].term
    z2r = t.functions_on_grid()["z2r"]
    al = alloy([cu, ni], eam_cross={("Cu", "Ni"): z2r[0, 1]})
    assert max(max_diff(al, full, cuni_frames(3))) <= 1e-12
    # Johnson's rule on the grid
    rho = t.functions_on_grid()["rho"]
    jo = alloy([cu, ni]).components[0].term.functions_on_grid()["z2r"][0, 1]
    r = np.arange(t.nr) * t.dr
    k = np.searchsorted(r, 2.5)
    expect = 0.5 * (rho[1, 0, k] / rho[0, 0, k] * z2r[0, 0, k] + rho[0, 0, k] / rho[1, 0, k] * z2r[1, 1, k])
    assert jo[k] == pytest.approx(expect, rel=1e-14)
    assert np.array_equal(johnson_cross(z2r[0, 0], z2r[1, 1], rho[0, 0], rho[1, 0]), jo)


def cuni_frames(n: int, a0: float = 3.50):
    frames = []
    for k in range(n):
        a = bulk("Cu", "fcc", a=a0 + 0.02 * k, cubic=True) * (2, 1, 1)
        a.symbols[list(range(k % 3, 8, 2))] = "Ni"
        a.rattle(0.05, seed=k)
        frames.append(a)
    return frames


@pytest.mark.data
@pytest.mark.lammps
def test_setfl_elementals_plus_fitted_cross_pair_is_eam_alloy(data_dir, tmp_path, lammps):
    """Elemental setfl tables + a Morse cross pair fitted to mixed structures of the CuNi
    eam/alloy potential: pure elements stay exact and frozen, the mixed error drops, and
    the assembled alloy, tabulated as one setfl file, is what LAMMPS eam/alloy computes."""
    from physml.empirical.cutoff import pinn_cutoff
    from physml.io.setfl import write_setfl

    path = data_dir / "potentials" / "CuNi.eam.alloy"
    full = physml.load(path)
    cu, ni = physml.load(path, elements=["Cu"]), physml.load(path, elements=["Ni"])
    morse = Morse(["Cu", "Ni"], cutoff=5.0, smoothing=1.0)
    al = alloy([cu, ni], eam_cross="zero", cross=[cross_pair(morse)])
    before = frozen_hashes(al)
    frames = cuni_frames(6)
    train, test = frames[::2] + frames[1:2], frames[3::2]
    err0 = max_diff(al, full, test)[0]
    Trainer(al, labelled(train, full), None, LossWeights(1.0, 0.1, 0.0, 0.0, {}), baseline_optimizer="lbfgs", lbfgs_iterations=40, progress=False).fit([("baseline", 1)])
    assert max_diff(al, full, test)[0] < 0.02 * err0
    assert frozen_hashes(al) == before
    pure = [bulk("Cu", "fcc", a=3.6, cubic=True), bulk("Ni", "fcc", a=3.52, cubic=True)]
    for p in pure:
        p.rattle(0.05, seed=3)
    assert max(check_inheritance(al, [cu, ni], pure).values()) <= 1e-12
    v = {k: t.detach() for k, t in al.components[1].provider.values().items()}
    assert v["D"][0, 0].item() == 0.0 and v["D"][1, 1].item() == 0.0
    # the fitted cross pair on the setfl grid → one eam/alloy file → LAMMPS
    t = full.components[0].term
    r = torch.arange(t.nr, dtype=torch.float64) * t.dr
    x = torch.exp(-v["alpha"][0, 1] * (r - v["r0"][0, 1]))
    phi = v["D"][0, 1] * (x * x - 2 * x) * pinn_cutoff(r, morse.cutoff, morse.smoothing)
    tab = alloy([cu, ni], eam_cross={("Cu", "Ni"): (r * phi).numpy()})
    assert max_diff(tab, al, test)[0] < 1e-5  # tabulation error only
    g = tab.components[0].term.functions_on_grid()
    write_setfl(tmp_path / "CuNi_fit.eam.alloy", ["Cu", "Ni"], t.nrho, t.drho, t.nr, t.dr, t.cutoff, g["F"], g["rho"][:, 0, :], g["z2r"])
    ref = lammps.run_lammps(test, ["Cu", "Ni"], ["pair_style eam/alloy", "pair_coeff * * CuNi_fit.eam.alloy Cu Ni"], files=[tmp_path / "CuNi_fit.eam.alloy"], workdir=tmp_path)
    for atoms, res, got in zip(test, ref, tab.evaluate(test)):
        assert abs(got["energy"] - res.energy) / len(atoms) <= 1e-12
        assert np.abs(got["forces"] - res.forces).max() <= 1e-10


@pytest.mark.data
@pytest.mark.lammps
def test_setfl_alloy_matches_lammps_eam_alloy(data_dir, tmp_path, lammps):
    path = data_dir / "potentials" / "CuNi.eam.alloy"
    cu, ni = physml.load(path, elements=["Cu"]), physml.load(path, elements=["Ni"])
    z2r = physml.load(path).components[0].term.functions_on_grid()["z2r"]
    al = alloy([cu, ni], eam_cross={("Cu", "Ni"): z2r[0, 1]})
    a = bulk("Cu", "fcc", a=3.55, cubic=True) * (2, 2, 2)
    a.symbols[::3] = "Ni"
    a.rattle(0.1, seed=5)
    ref = lammps.run_lammps([a], ["Cu", "Ni"], ["pair_style eam/alloy", f"pair_coeff * * {path.name} Cu Ni"], files=[path], workdir=tmp_path)[0]
    got = al.evaluate(a)[0]
    assert abs(got["energy"] - ref.energy) / len(a) <= 1e-12
    assert np.abs(got["forces"] - ref.forces).max() <= 1e-10
    assert np.abs(got["stress"] - ref.stress).max() <= 1e-12


def _elemental(kind: str, symbol: str, seed: int, tmp_path) -> Potential:
    """Elementals of other kinds: PINN-EAM, classic analytic EAM, an imported .pinn file."""
    from physml.empirical.eam import AnalyticEAM
    from physml.io.pinn_file import write_pinn

    if kind == "pinn_eam":
        term = AnalyticEAM([symbol], family="mishin", cutoff=4.5, smoothing=1.0)
        prov = PhysicsInformed(term.parameter_specs(), 1, GaussianLegendre([0, 2], [2.2, 3.0], 0.8, 4.5, 1.0), hidden=[5], seed=seed, out_scale=0.05)
        return Potential([symbol], [Component(term, prov)], reference_energies=[-1.0 * seed])
    if kind == "classic_eam":
        term = AnalyticEAM([symbol], family="mishin", cutoff=4.5, smoothing=1.0)
        pot = Potential([symbol], [Component(term)], reference_energies=[-1.0 * seed])
        pot.components[0].provider.set_values({"phi_E1": 0.2 + 0.1 * seed, "phi_r1": 2.4 + 0.1 * seed})
        return pot
    # an elemental .pinn file (one shared network, the format's conventions)
    term = PinnBOP([symbol], cutoff=3.4, smoothing=0.8)
    prov = PhysicsInformed(term.parameter_specs(), 1, GaussianLegendre([0, 1, 2], [2.0, 2.8], 0.7, 5.1, 0.8, g_ref=0.2),
                           hidden=[5], shared_network=True, seed=seed)
    with torch.no_grad():
        for w in prov.networks.parameters():
            w.mul_(0.3)
    path = write_pinn(Potential([symbol], [Component(term, prov)]), tmp_path / f"{symbol}.pinn")
    return physml.load(path)


@pytest.mark.parametrize("kind", ["pinn_eam", "classic_eam", "pinn_file"])
def test_other_elemental_kinds_are_inherited_exactly(kind, tmp_path):
    W, Be = _elemental(kind, "W", 1, tmp_path), _elemental(kind, "Be", 2, tmp_path)
    al = alloy([W, Be], hidden=[4])
    pure, mixed = structures()
    for frame, ref in zip(pure, (W, Be)):
        assert max(max_diff(al, ref, [frame])) <= 1e-12
    before = frozen_hashes(al)
    truth = alloy([_elemental(kind, "W", 3, tmp_path), _elemental(kind, "Be", 4, tmp_path)], hidden=[4])
    Trainer(al, labelled(mixed, truth), None, LossWeights(1.0, 0.1, 0.0, 0.0, {}), batch_size=2, learning_rate=0.01, weight_decay=0.1, progress=False).fit([("baseline", 1), ("network", 1)])
    assert frozen_hashes(al) == before
    assert max(check_inheritance(al, [W, Be], pure).values()) <= 1e-12


def test_frozen_state_lists_inherited_tensors():
    al = alloy([elemental_pinn("W", 1), elemental_pinn("Be", 2)], hidden=[5])
    names = set(frozen_state(al))
    assert "components.0.provider.elementals.0.p0" in names and "reference_energies" in names
    assert not any(n.startswith("components.0.provider.networks") for n in names)


ALLOY_CONFIG = """
seed = 1
output = "{out}"
[data]
train = "{data}"
reference_energies = "fit"
[data.split]
kind = "random"
fractions = [0.75, 0.25]
[model]
species = ["W", "Be"]
inherit = ["{w}", "{be}"]
alloy = {{ hidden = [4] }}
{extra}
[loss]
forces = 0.1
[optimizer]
baseline_epochs = 1
baseline_optimizer = "lbfgs"
lbfgs_iterations = 3
epochs = 1
batch_size = 2
weight_decay = 0.01
"""


def _alloy_fit_files(tmp_path, extra: str = ""):
    import ase.io
    from ase.calculators.singlepoint import SinglePointCalculator

    W, Be = elemental_pinn("W", 1), elemental_pinn("Be", 2)
    physml.save(W, tmp_path / "W")
    physml.save(Be, tmp_path / "Be.physml")
    truth = alloy([W, Be], hidden=[4], seed=5)
    with torch.no_grad():
        truth.components[0].provider.networks.nets[0].weights[-1].fill_(0.02)
    _, mixed = structures()
    for a, r in zip(mixed, truth.evaluate(mixed, stress=False)):
        a.calc = SinglePointCalculator(a, energy=r["energy"], forces=r["forces"])
    ase.io.write(tmp_path / "mixed.extxyz", mixed)
    cfg = tmp_path / "fit.toml"
    cfg.write_text(ALLOY_CONFIG.format(out=tmp_path / "run", data=tmp_path / "mixed.extxyz", w=tmp_path / "W", be=tmp_path / "Be.physml", extra=extra))
    return cfg, W, Be


def test_fit_config_inherit_records_parents_and_keeps_frozen(tmp_path):
    from physml.compose.alloy import _path_sha256
    from physml.io.model_file import model_hash
    from physml.train.run import fit

    cfg, W, Be = _alloy_fit_files(tmp_path)
    run = fit(cfg, progress=False)
    pot = physml.load(run / "model")
    assert pot.reference_energies.tolist() == [-3.0, -4.0]  # inherited, not refitted
    parents = pot.metadata["alloy"]["parents"]
    assert [p["species"] for p in parents] == ["W", "Be"]
    assert parents[0]["file_sha256"] == _path_sha256(tmp_path / "W")
    assert parents[1]["file_sha256"] == _path_sha256(tmp_path / "Be.physml")
    assert pot.metadata["parents"] == [model_hash(W), model_hash(Be)]
    prov = pot.components[0].provider
    assert prov.frozen == [0, 1]
    for a, ref in enumerate((W, Be)):
        for x, y in zip(prov.elementals[a].state_dict().values(), ref.components[0].provider.state_dict().values()):
            assert torch.equal(x, y)
    # the repository links the alloy to its elementals
    from physml.repository import Repository

    repo = Repository(tmp_path / "repo")
    repo.add(tmp_path / "W", name="W-pinn")
    entry = repo.add(run / "model", name="WBe-pinn")
    assert entry.parents[0] == repo.find("W-pinn").hash and entry.data_hashes and entry.metrics
    assert [c.name for c in repo.children("W-pinn")] == ["WBe-pinn"]


def test_fit_config_inherit_errors(tmp_path):
    from physml.train.config import ConfigError, load_config

    cfg, _, _ = _alloy_fit_files(tmp_path, extra='unfreeze = { Wx = 0.1 }')
    with pytest.raises(ConfigError, match=r"model.unfreeze.Wx: unknown key; did you mean 'W'\?"):
        load_config(cfg)
    text = cfg.read_text().replace('unfreeze = { Wx = 0.1 }', "").replace("hidden = [4]", "hiden = [4]")
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=r"model.alloy.hiden: unknown key; did you mean 'hidden'\?"):
        load_config(cfg)
    cfg.write_text(text.replace("hiden", "hidden").replace('["W", "Be"]', '["W", "Ta"]'))
    with pytest.raises(ConfigError, match="inherited species"):
        load_config(cfg)
    cfg.write_text(text.replace("hiden", "hidden").replace(str(tmp_path / "Be.physml"), str(tmp_path / "nope")))
    with pytest.raises(ConfigError, match=r"model.inherit\[1\]: .*no such file"):
        load_config(cfg)
    good = load_config(cfg.write_text(text.replace("hiden", "hidden").replace("{ hidden = [4] }", "{ hidden = [4] }\nunfreeze = { W = 0.1 }")) and cfg)
    from physml.train.build import build_potential

    pot = build_potential(good.model)
    assert pot.components[0].provider.frozen == [1]


def test_committed_wbe_fits_link_to_their_elementals(tmp_path):
    """fits/w, fits/be → fits/wbe: the committed alloy names the committed elementals as its
    parents (repository links), records the hashes of its frozen blocks, carries their
    tensors bit for bit and inherits their isolated-atom reference energies (0 eV)."""
    from pathlib import Path

    from physml.compose.freeze import tensor_hash
    from physml.repository import Repository

    fits = Path(__file__).resolve().parents[1] / "fits"
    paths = {n: fits / n / "model" for n in ("w", "be", "wbe")}
    if not all(p.exists() for p in paths.values()):
        pytest.skip("fits/{w,be,wbe}/model not present")
    repo = Repository(tmp_path / "repo")
    w = repo.add(paths["w"], name="W-pinn-WBe2019")
    be = repo.add(paths["be"], name="Be-pinn-WBe2019")
    wbe = repo.add(paths["wbe"], name="WBe-pinn-inherited")
    assert wbe.parents == [w.hash, be.hash]
    assert [c.name for c in repo.children("W-pinn-WBe2019")] == ["WBe-pinn-inherited"]
    assert [c.name for c in repo.children("Be-pinn-WBe2019")] == ["WBe-pinn-inherited"]
    W, Be, WBe = (physml.load(paths[n]) for n in ("w", "be", "wbe"))
    assert WBe.reference_energies.tolist() == [0.0, 0.0] == W.reference_energies.tolist() + Be.reference_energies.tolist()
    prov = WBe.components[0].provider
    assert prov.frozen == [0, 1]
    for a, ref in enumerate((W, Be)):
        theirs = ref.components[0].provider.state_dict()
        mine = prov.elementals[a].state_dict()
        assert set(mine) == set(theirs) and all(tensor_hash(mine[k]) == tensor_hash(theirs[k]) for k in theirs)
    recorded = json.loads((paths["wbe"] / "model.json").read_text())["frozen"]
    assert recorded == frozen_hashes(WBe)
    for a, ref in enumerate((W, Be)):  # the recorded hashes are those of the elementals' own tensors
        for k, t in ref.components[0].provider.state_dict().items():
            assert recorded[f"components.0.provider.elementals.{a}.{k}"] == tensor_hash(t)


def test_fit_config_inherit_refuses_other_reference_energies(tmp_path):
    """An alloy keeps its elementals' reference energies (-3, -4 eV here): a config that
    states other values is an error naming the species, not silently overridden."""
    from physml.train.config import ConfigError
    from physml.train.run import fit

    cfg, _, _ = _alloy_fit_files(tmp_path)
    cfg.write_text(cfg.read_text().replace('reference_energies = "fit"', "reference_energies = { W = -3.0, Be = 0.0 }"))
    with pytest.raises(ConfigError, match=r"data.reference_energies: an alloy inherits .*other values for \['Be'\]"):
        fit(cfg, progress=False)
