"""Route plugin: physml models exported as TorchScript and evaluated in LAMMPS by
pair_style physml (lammps-plugin/, built once per session into lammps-plugin/build).

LAMMPS (1 and 2 MPI ranks) is compared with physml on a perturbed crystal, a vacancy, a
surface and a hot liquid for single- and multi-element EAM, PINN-EAM, PINN-BOP, pure
neural-network and sum-of-terms models: site energies, forces and the virial."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import physml
from physml.empirical import ZBL, AnalyticEAM, Morse, PinnBOP
from physml.export.lammps import export_lammps
from physml.export.torchscript import evaluate_exported, load_exported
from physml.lammps.structures import verification_set
from physml.ml import BehlerParrinello, GaussianLegendre, PhysicsInformed, SiteEnergy
from physml.potential import Component, Potential

TOL_E = 1e-6  # eV/atom (energy per atom and every site energy)
TOL_F = 1e-5  # eV/Å
TOL_S = 1e-7  # eV/Å³ (virial / volume)


@pytest.fixture(scope="session")
def plugin():
    from physml.lammps.plugin import build_plugin, toolchain_missing

    why = toolchain_missing()
    if why:
        pytest.skip(f"cannot build the LAMMPS plugin here: {why}")
    return build_plugin()


def _pinn(term, desc, hidden=(8,), seed=1, **kw) -> Component:
    prov = PhysicsInformed(term.parameter_specs(), term.n_species, desc, hidden=hidden, out_scale=0.05, seed=seed, **kw)
    return Component(term, prov)


def _gl(cutoff: float) -> GaussianLegendre:
    return GaussianLegendre([0, 1, 2, 4], [2.0, 3.0, 4.0], 1.0, cutoff, 1.0)


def pinn_eam() -> Potential:
    sp = ["Cu", "Ni"]
    term = AnalyticEAM(sp, "mishin", cutoff=5.0)
    comp = _pinn(term, _gl(5.0))
    comp.provider.set_baseline({"F_rho0": 3.0, "rho_b1": 0.4, "phi_E1": 0.2})
    return Potential(sp, [comp], reference_energies=[-0.5, -0.7])


def pinn_bop_alloy() -> Potential:
    sp = ["Al", "Cu"]
    term = PinnBOP(sp, cutoff=4.5, smoothing=1.0)
    return Potential(sp, [_pinn(term, _gl(6.75), shared_network=True, central_species_blocks=True)])


def pure_nn() -> Potential:
    sp = ["Cu", "Ni"]
    desc = BehlerParrinello(4.5, radial_eta=(0.5, 2.0), angular_eta=(0.01,), zeta=(1.0, 2.0), lambdas=(1.0, -1.0))
    term = SiteEnergy(sp, default=-3.0)
    return Potential(sp, [_pinn(term, desc, hidden=(8, 8), activation="tanh")])


def eam_zbl_morse(potentials_dir) -> Potential:
    base = physml.load(potentials_dir / "CuNi.eam.alloy")
    sp = base.species
    morse = Component(Morse(sp, cutoff=4.5))
    morse.provider.set_values({"D": 0.02, "r0": 2.6})
    return Potential(sp, [base.components[0], Component(ZBL(sp, 1.0, 1.8)), morse])


# name → (builder, lattice, lattice constant, LAMMPS type order or None for the model's)
MODELS = {
    "eam_Al99": (lambda d: physml.load(d / "potentials" / "Al99.eam.alloy"), "fcc", 4.05, None),
    "pinn_bop_Al_2020": (lambda d: physml.load(d / "pinn" / "Al_2020.pinn"), "fcc", 4.04, None),
    "tersoff_SiC": (lambda d: physml.load(d / "potentials" / "SiC.tersoff"), "diamond", 5.0, None),
    "eam+zbl+morse_CuNi": (lambda d: eam_zbl_morse(d / "potentials"), "fcc", 3.6, ["Cu", "Ni"]),
    "pinn_eam_CuNi": (lambda d: pinn_eam(), "fcc", 3.6, None),
    "pinn_bop_AlCu": (lambda d: pinn_bop_alloy(), "fcc", 3.9, None),
    "pure_nn_CuNi": (lambda d: pure_nn(), "fcc", 3.6, None),
}


def _compare(ref: dict, got, n: int, where: str, tol_e=TOL_E, tol_f=TOL_F, tol_s=TOL_S) -> None:
    dE = abs(ref["energy"] - got.energy) / n
    dEi = np.abs(ref["energies"] - got.energies).max()
    dF = np.abs(ref["forces"] - got.forces).max()
    assert dE <= tol_e and dEi <= tol_e, f"{where}: energy deviation {dE:.2e} eV/atom, site energies {dEi:.2e} eV"
    assert dF <= tol_f, f"{where}: force deviation {dF:.2e} eV/Å"
    if np.isfinite(got.stress).all():
        dS = np.abs(ref["stress"] - got.stress).max()
        assert dS <= tol_s, f"{where}: stress deviation {dS:.2e} eV/Å³"


@pytest.mark.lammps
@pytest.mark.parametrize("name", list(MODELS))
def test_plugin_reproduces_physml_on_one_and_two_ranks(name, plugin, lammps, data_dir, tmp_path):
    build, lattice, a, types = MODELS[name]
    pot = build(data_dir)
    types = types or pot.species
    structs = verification_set(pot.species, lattice, a)
    res = export_lammps(pot, tmp_path, route="plugin")
    cmds = [c for c in res.pair_commands if not c.startswith("plugin load")]
    cmds[-1] = f"pair_coeff * * {res.files[0].name} {' '.join(types)}"  # LAMMPS types in their own order
    ref = pot.evaluate(list(structs.values()))
    runs = {}
    for nprocs in (1, 2):
        runs[nprocs] = lammps.run_lammps(list(structs.values()), types, cmds, files=res.files, nprocs=nprocs, preamble=[f"plugin load {plugin}"])
        for (sname, at), m, r in zip(structs.items(), ref, runs[nprocs]):
            _compare(m, r, len(at), f"{name} {sname} ({nprocs} rank{'s' * (nprocs > 1)})")
    for r1, r2 in zip(runs[1], runs[2]):  # domain decomposition changes only the summation order
        assert abs(r1.energy - r2.energy) <= 1e-10 * max(1.0, abs(r1.energy))
        assert np.abs(r1.forces - r2.forces).max() <= 1e-10


def test_exported_variants_match_physml():
    """Provider options (shared network, descriptor scaling, no baseline, SiLU) and a sum
    with an analytic Finnis–Sinclair EAM survive the export (no LAMMPS needed)."""
    from physml.export.scripted import script_potential

    at = verification_set(["Cu", "Ni"], "fcc", 3.6)["crystal"]
    sp = ["Cu", "Ni"]
    fs = Component(AnalyticEAM(sp, "finnis_sinclair", cutoff=4.8))
    fs.provider.set_values({"phi_c": 4.5, "rho_d": 4.6, "F_A": 1.2, "phi_c0": 0.3})
    nn = _pinn(SiteEnergy(sp), _gl(4.5), hidden=(6,), activation="silu", shared_network=True)
    nn.provider.scale.mul_(0.7)
    nb = _pinn(SiteEnergy(sp), _gl(4.0), hidden=(5,), activation="sigmoid", baseline=False)
    pot = Potential(sp, [fs, nn, nb], reference_energies=[0.1, -0.2])
    ref = pot.evaluate(at)[0]
    got = evaluate_exported(script_potential(pot), at)[0]
    assert abs(ref["energy"] - got["energy"]) < 1e-10
    assert np.abs(ref["energies"] - got["energies"]).max() < 1e-10
    assert np.abs(ref["forces"] - got["forces"]).max() < 1e-10
    assert np.abs(ref["stress"] - got["stress"]).max() < 1e-12


@pytest.mark.parametrize("build", [pinn_eam, pinn_bop_alloy], ids=["pinn_eam", "pinn_bop_alloy"])
def test_exported_kernel_and_torch_paths_agree(build):
    """The export through physml's C++ kernels (descriptor VJP, BOP local Jacobians) and
    the pure-TorchScript export give physml's numbers."""
    from physml.export.scripted import script_potential
    from physml.export.scripted.kernels import kernels_available

    if not kernels_available():
        pytest.skip("physml's C++ kernels are not available here")
    pot = build()
    structs = list(verification_set(pot.species, "fcc", 3.7).values())
    ref = pot.evaluate(structs)
    for kernels in (False, True):
        got = evaluate_exported(script_potential(pot, kernels=kernels), structs)
        for m, g, at in zip(ref, got, structs):
            assert abs(m["energy"] - g["energy"]) / len(at) < 1e-12, kernels
            assert np.abs(m["forces"] - g["forces"]).max() < 1e-10, kernels
            assert np.nanmax(np.abs(m["stress"] - g["stress"])) < 1e-12, kernels


def test_exported_parameter_transforms():
    from physml.export.scripted.neural import ScriptedLayout
    from physml.parameters import ParameterLayout, ParameterSpec

    specs = [
        ParameterSpec("a", "element", 1.0, transform="softplus"),
        ParameterSpec("b", "pair", 1.0, transform="exp"),
        ParameterSpec("c", "triple", 0.5, transform="sigmoid", bounds=(-1.0, 2.0)),
        ParameterSpec("d", "pair", 0.0),
    ]
    layout = ParameterLayout(specs, 3)
    raw = torch.randn(7, layout.size, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ref = layout.physical(raw)
    got = torch.jit.script(ScriptedLayout(layout))(raw)
    assert set(got) == set(ref)
    for k in ref:
        assert got[k].shape == ref[k].shape and torch.allclose(got[k], ref[k], rtol=0, atol=1e-15), k


def test_subclassed_term_is_refused(tmp_path):
    class Custom(SiteEnergy):  # registered kind of its base, but its own energies
        def energies(self, graph, params):
            return 2.0 * params["E"]

    with pytest.raises(ValueError, match="Custom"):
        export_lammps(Potential(["Cu"], [Component(Custom(["Cu"]))]), tmp_path, route="plugin")


def test_unsupported_kind_is_named(tmp_path):
    from physml.empirical.base import Term

    class Odd(Term):
        kind = "odd_term"

        def energies(self, graph, params):
            return torch.zeros(graph.n_atoms)

    with pytest.raises(ValueError, match="odd_term"):
        export_lammps(Potential(["Cu"], [Component(Odd(["Cu"]))]), tmp_path, route="plugin")
    assert not (tmp_path / "Cu.pt").exists()


@pytest.mark.lammps
def test_snippet_is_a_working_include(plugin, lammps, tmp_path):
    """`physml export` + `include physml.lmp` after read_data is all a LAMMPS input needs
    (the snippet loads the built plugin; loading it again for a second structure works)."""
    from physml.cli import main

    pot = pinn_bop_alloy()
    physml.save(pot, tmp_path / "model")
    assert main(["export", str(tmp_path / "model"), "--route", "plugin", "--out", str(tmp_path / "out")]) == 0
    snippet = tmp_path / "out" / "physml.lmp"
    lines = snippet.read_text().splitlines()
    assert lines[0] == "# species: Al Cu" and f"plugin load {plugin}" in lines
    assert any(ln.startswith("# model sha256: ") for ln in lines) and "mass 2 63.546" in lines
    structs = list(verification_set(pot.species, "fcc", 3.9).values())[:2]
    got = lammps.run_lammps(structs, pot.species, ["include physml.lmp"], files=[snippet, tmp_path / "out" / "AlCu.pt"])
    for at, m, r in zip(structs, pot.evaluate(structs), got):
        _compare(m, r, len(at), "include physml.lmp")


@pytest.mark.lammps
def test_pair_coeff_errors_are_clear(plugin, lammps, tmp_path):
    pot = pinn_eam()
    res = export_lammps(pot, tmp_path, route="plugin")
    at = verification_set(["Cu"], "fcc", 3.6)["crystal"]
    pre = [f"plugin load {plugin}"]
    with pytest.raises(RuntimeError, match="element Fe .*not a species"):
        lammps.run_lammps(at, ["Cu", "Fe"], ["pair_style physml", "pair_coeff * * CuNi.pt Cu Fe"], files=res.files, preamble=pre)
    with pytest.raises(RuntimeError, match="requires newton pair on"):
        lammps.run_lammps(at, pot.species, ["pair_style physml", "pair_coeff * * CuNi.pt Cu Ni"], files=res.files, preamble=pre, newton="off")


@pytest.mark.lammps
def test_null_types_and_hybrid_overlay(plugin, lammps, data_dir, tmp_path):
    """pair_coeff NULL leaves a type to another style: physml on Cu–Cu only + zbl on the rest
    equals a physml model of pure Cu plus LAMMPS zbl."""
    pot = physml.load(data_dir / "potentials" / "CuNi.eam.alloy")
    res = export_lammps(pot, tmp_path, route="plugin")
    at = verification_set(["Cu"], "fcc", 3.6)["crystal"]
    at.numbers[::4] = 28
    zbl = ["pair_coeff 1 1 zbl 29 29", "pair_coeff 1 2 zbl 29 28", "pair_coeff 2 2 zbl 28 28"]
    cmds_null = ["pair_style hybrid/overlay physml zbl 1.0 1.8", "pair_coeff * * physml NiCu.pt Cu NULL", *zbl]
    r = lammps.run_lammps(at, ["Cu", "Ni"], cmds_null, files=res.files, preamble=[f"plugin load {plugin}"])[0]
    cu = at[at.numbers == 29]
    both = lammps.run_lammps(at, ["Cu", "Ni"], ["pair_style zbl 1.0 1.8", *(c.replace(" zbl", "") for c in zbl)])[0]
    alone = pot.evaluate(cu)[0]
    assert abs(r.energy - both.energy - alone["energy"]) < 1e-9
