"""Route plugin: physml models exported as TorchScript and evaluated in LAMMPS by
pair_style physml (physml/lammps/plugin_src, built once per session into its build/).

LAMMPS (1 and 2 MPI ranks) is compared with physml on a perturbed crystal, a vacancy, a
surface and a hot liquid for single- and multi-element EAM, PINN-EAM, PINN-BOP, pure
neural-network and sum-of-terms models: site energies, forces and the virial; per-atom
virials (compute stress/atom) and chunked evaluation; one registration of physml's C++
kernels when LAMMPS runs inside a Python process that uses them (either order); the
plugin sources as package data (and, with -m slow, a build from an installed wheel)."""

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
            # round-off relative to the stress scale (the compressed verification cells reach ~300 eV/Å³)
            assert np.nanmax(np.abs(m["stress"] - g["stress"])) < 1e-14 * max(1.0, np.nanmax(np.abs(m["stress"]))) + 1e-12, kernels


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


# LAMMPS driven from Python (the lammps module) in one process with physml's kernels: the
# kernel operators must be registered once whichever side comes first
_ONE_PROCESS = r"""
import json, sys
order, plugin, model_dir, model_pt, data = sys.argv[1:6]

def physml_side():
    import physml
    from physml import ext
    from ase.io import read
    atoms = read(data.replace(".data", ".extxyz"))
    pot = physml.load(model_dir)
    assert ext.available(), ext.error()
    return pot.evaluate(atoms)[0]["energy"]

def lammps_side():
    from lammps import lammps
    lmp = lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    for c in ["units metal", "atom_style atomic", f"read_data {data}", f"plugin load {plugin}",
              "pair_style physml", f"pair_coeff * * {model_pt} Al Cu", "run 0"]:
        lmp.command(c)
    return lmp.get_thermo("pe")

first, second = (physml_side, lammps_side) if order == "physml-first" else (lammps_side, physml_side)
a = first()
b = second()
e = {"physml": a, "lammps": b} if order == "physml-first" else {"lammps": a, "physml": b}
print("RESULT " + json.dumps(e))
"""


@pytest.mark.lammps
@pytest.mark.parametrize("order", ["physml-first", "lammps-first"])
def test_kernels_registered_once_with_lammps_in_python(order, plugin, lammps, tmp_path):
    """`import physml` + a PINN evaluation with the C++ kernels and `plugin load` + a model
    calling the kernels, in one Python process and in either order: no second registration
    of torch.ops.physml (which aborts), and both sides give the same energy."""
    import json
    import subprocess
    import sys

    from ase.io import write

    from physml.export.scripted.kernels import kernels_available

    if not kernels_available():
        pytest.skip("physml's C++ kernels are not available here")
    pot = pinn_bop_alloy()
    physml.save(pot, tmp_path / "model")
    export_lammps(pot, tmp_path, route="plugin", kernels=True)
    at = verification_set(pot.species, "fcc", 3.9)["crystal"]
    at.set_cell(np.diag(at.cell.lengths()), scale_atoms=False)  # orthogonal box for the data file
    write(tmp_path / "s.data", at, format="lammps-data", specorder=pot.species, masses=True)
    write(tmp_path / "s.extxyz", at)
    # the plugin as a new process builds it: linked to the kernel library such a process loads
    # (the same as `plugin` unless physml/csrc changed since this session loaded the kernels)
    r = subprocess.run([sys.executable, "-c", "from physml.lammps.plugin import build_plugin; print(build_plugin())"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    so = r.stdout.split()[-1]
    args = [order, so, str(tmp_path / "model"), str(tmp_path / "AlCu.pt"), str(tmp_path / "s.data")]
    r = subprocess.run([sys.executable, "-c", _ONE_PROCESS, *args], capture_output=True, text=True, env=lammps.lammps_env(), timeout=600)
    assert r.returncode == 0, f"{order}: exit {r.returncode}\n{(r.stdout + r.stderr)[-3000:]}"
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("RESULT "))
    e = json.loads(line[len("RESULT "):])
    assert abs(e["physml"] - e["lammps"]) <= TOL_E * len(at), e


@pytest.mark.lammps
def test_per_atom_virial_and_chunks(plugin, lammps, tmp_path):
    """`compute stress/atom` of pair_style physml (1 and 2 ranks, ghost contributions
    returned to their owners): every atom's virial is the pair style's half-per-pair
    partition, computed here from the exported model's gradient, and the sum is the
    global virial of LAMMPS and physml's stress. The model is exported with 16 centre atoms
    per call, so the pair style evaluates the 107-atom cell in 7 chunks."""
    import glob

    from ase.build import bulk

    pot = pinn_bop_alloy()
    pot.chunk_atoms = 16
    res = export_lammps(pot, tmp_path, route="plugin")
    module = load_exported(res.files[0])
    assert module.chunk_atoms == 16
    at = bulk("Al", "fcc", a=3.9, cubic=True).repeat(3)  # orthogonal: LAMMPS frame = ASE frame
    at.numbers[::3] = 29
    at.rattle(0.08, seed=3)
    del at[5]
    ref = pot.evaluate(at)[0]
    mine = evaluate_exported(module, at)[0]
    vol = at.get_volume()
    assert np.abs(-mine["virials"].sum(0)[[0, 1, 2, 5, 4, 3]] / vol - ref["stress"]).max() < 1e-12  # Σ_i W_i = −σV
    extra = ["compute sa all stress/atom NULL virial", "dump sa all custom 1 sa.dump id c_sa[1] c_sa[2] c_sa[3] c_sa[4] c_sa[5] c_sa[6]",
             "dump_modify sa sort id format float %.17g"]
    for nprocs in (1, 2):
        work = tmp_path / f"np{nprocs}"
        work.mkdir()
        got = lammps.run_lammps(at, pot.species, res.pair_commands[1:], files=res.files, nprocs=nprocs, workdir=work, extra_commands=extra, preamble=[f"plugin load {plugin}"])[0]
        _compare(ref, got, len(at), f"chunks of 16 ({nprocs} ranks)")
        (dump,) = glob.glob(str(work / "*" / "sa.dump"))
        sa = np.loadtxt(dump, skiprows=9, ndmin=2)
        assert np.array_equal(sa[:, 0], np.arange(1, len(at) + 1))
        W = -sa[:, 1:] / lammps.NKTV2P_METAL  # compute stress/atom is −W_i in bar·Å³
        dW = np.abs(W - mine["virials"]).max()
        assert dW < 1e-10, f"per-atom virial deviation {dW:.2e} eV ({nprocs} ranks)"
        sigma = -W.sum(0)[[0, 1, 2, 5, 4, 3]] / vol  # Voigt xx yy zz yz xz xy, ASE sign
        assert np.abs(sigma - got.stress).max() < 1e-12 and np.abs(sigma - ref["stress"]).max() < TOL_S


def test_plugin_sources_are_package_data(monkeypatch, tmp_path):
    """The plugin sources are found inside the physml package, every file there is covered
    by pyproject's package-data (so a wheel carries them), and a directory without them is
    refused with the missing file names."""
    import fnmatch
    import tomllib
    from pathlib import Path

    from physml.lammps import plugin as pl

    monkeypatch.delenv("PHYSML_PLUGIN_SOURCE", raising=False)
    src = pl.source_dir()
    pkg = Path(physml.__file__).parent
    assert src == pkg / "lammps" / "plugin_src"
    root = pkg.parent / "pyproject.toml"
    if root.exists():  # a source checkout (editable install)
        globs = tomllib.loads(root.read_text())["tool"]["setuptools"]["package-data"]["physml"]
        files = [f.relative_to(pkg).as_posix() for f in src.iterdir() if f.is_file()]
        assert set(pl.SOURCES) <= {Path(f).name for f in files}
        uncovered = [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)]
        assert not uncovered, f"plugin sources missing from [tool.setuptools.package-data]: {uncovered}"
    (tmp_path / "CMakeLists.txt").write_text("project(x)\n")
    monkeypatch.setenv("PHYSML_PLUGIN_SOURCE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="pair_physml.cpp") as err:
        pl.source_dir()
    assert str(tmp_path) in str(err.value) and "PHYSML_PLUGIN_SOURCE" in str(err.value)


@pytest.mark.slow
@pytest.mark.lammps
def test_plugin_builds_from_a_wheel(lammps, tmp_path, request):
    """A wheel of physml, installed (not editable) into a fresh virtual environment, builds
    the plugin with `physml build-lammps-plugin` from its package data, and the plugin runs
    a model exported with physml's C++ kernels. About a minute (wheel, environment, plugin
    compile): run with `-m slow`; test_plugin_sources_are_package_data covers the packaging
    in the default run."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from physml import ext
    from physml.lammps.plugin import toolchain_missing

    tokens = (request.config.getoption("markexpr") or "").replace("(", " ").replace(")", " ").split()
    if not any(t == "slow" and (k == 0 or tokens[k - 1] != "not") for k, t in enumerate(tokens)):
        pytest.skip("slow (wheel, virtual environment and plugin build, about a minute): run with -m slow")
    why = toolchain_missing()
    if why:
        pytest.skip(f"cannot build the LAMMPS plugin here: {why}")
    repo = Path(physml.__file__).resolve().parents[1]
    if not (repo / "pyproject.toml").exists():
        pytest.skip("not a physml source checkout")
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(repo / "pyproject.toml", src)
    shutil.copy(repo / "README.md", src)
    shutil.copytree(repo / "physml", src / "physml", ignore=shutil.ignore_patterns("build", "__pycache__", "*.so"))
    run = lambda *cmd, **kw: subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)  # noqa: E731
    r = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist"), str(src))
    assert r.returncode == 0, r.stdout + r.stderr
    (wheel,) = (tmp_path / "dist").glob("physml-*.whl")
    venv = tmp_path / "venv"
    r = run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv))
    assert r.returncode == 0, r.stdout + r.stderr
    py = venv / "bin" / "python"
    r = run(sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel))
    assert r.returncode == 0, r.stdout + r.stderr
    env = lammps.lammps_env()
    if ext.available():  # the same kernel sources: reuse their build
        env["PHYSML_EXT_DIR"] = str(ext.build_directory().parent)
    env.pop("PHYSML_PLUGIN_SOURCE", None)
    r = run(str(py), "-c", "import physml.lammps.plugin as p; print(p.source_dir())", env=env, cwd=tmp_path)
    assert r.returncode == 0 and Path(r.stdout.strip()).is_relative_to(venv), r.stdout + r.stderr
    r = run(str(venv / "bin" / "physml"), "build-lammps-plugin", "--build-dir", str(tmp_path / "build"), env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    so = tmp_path / "build" / "physmlplugin.so"
    pot = pinn_bop_alloy()
    res = export_lammps(pot, tmp_path / "model", route="plugin")
    structs = list(verification_set(pot.species, "fcc", 3.9).values())[:2]
    got = lammps.run_lammps(structs, pot.species, res.pair_commands[1:], files=res.files, preamble=[f"plugin load {so}"])
    for at, m, g in zip(structs, pot.evaluate(structs), got):
        _compare(m, g, len(at), "plugin built from a wheel")
