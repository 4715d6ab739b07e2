"""MEAM (LAMMPS pair_style meam): the shipped files and the file options against LAMMPS,
physics checks, the loading rules, malformed files and the native export round trip.

Targets (float64): energy ≤ 1e-8 eV/atom, forces ≤ 1e-7 eV/Å, stress ≤ 1e-8 eV/Å³ and
per-atom energies ≤ 1e-8 eV against LAMMPS 2025 ``pair_style meam``.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk
from ase.data import atomic_numbers

import physml
from physml.io.meam import MeamFormatError
from tests import physics_checks as pc

pytestmark = pytest.mark.data

ALLOY = ["AlS", "SiS", "MgS", "CuS", "FeS"]  # entries used by AlSiMgCuFe.meam, in its index order


def _structures(base: Atoms, seed: int = 0) -> dict[str, Atoms]:
    out = {}
    p = base.copy()
    p.rattle(0.1, seed=seed + 1)
    out["perturbed"] = p
    t = base.copy()
    t.set_cell(base.cell.array @ np.array([[1.02, 0.04, -0.03], [0.01, 0.98, 0.05], [0.0, 0.02, 1.01]]), scale_atoms=True)
    t.rattle(0.05, seed=seed + 2)
    out["triclinic"] = t
    v = base.copy()
    del v[5]
    v.rattle(0.03, seed=seed + 3)
    out["vacancy"] = v
    s = base.copy()
    s.center(vacuum=6.0, axis=2)
    s.rattle(0.05, seed=seed + 4)
    out["surface"] = s
    return out


def _alloy(symbols, lattice="fcc", a0=4.05, n=3, seed=0) -> Atoms:
    at = bulk(symbols[0], lattice, a=a0, cubic=True) * (n, n, n)
    rng = np.random.default_rng(seed)
    at.numbers = [atomic_numbers[symbols[k]] for k in rng.integers(0, len(symbols), len(at))]
    return at


def _compare(pot, structs: dict[str, Atoms], types, pair_commands, files, lammps):
    ref = lammps.run_lammps(list(structs.values()), types, pair_commands, files=files)
    for (name, at), m, r in zip(structs.items(), pot.evaluate(list(structs.values())), ref):
        de = abs(m["energy"] - r.energy) / len(at)
        df = np.abs(m["forces"] - r.forces).max()
        dei = np.abs(m["energies"] - r.energies).max()
        assert de <= 1e-8 and dei <= 1e-8, f"{name}: energy differs by {de:.2e} eV/atom (per-atom {dei:.2e} eV)"
        assert df <= 1e-7, f"{name}: forces differ by {df:.2e} eV/Å"
        if at.pbc.all():
            ds = np.abs(m["stress"] - r.stress).max()
            assert ds <= 1e-8, f"{name}: stress differs by {ds:.2e} eV/Å³"


def _ni(potentials_dir):
    return physml.load(potentials_dir / "Ni.meam", library=potentials_dir / "library.meam", elements=["Ni"])


def _alsimgcufe(potentials_dir, types):
    return physml.load(potentials_dir / "AlSiMgCuFe.meam", library=potentials_dir / "library.meam", elements=ALLOY, types=types)


# ----------------------------------------------------------------------------- LAMMPS


def test_ni_matches_lammps(potentials_dir, lammps):
    pot = _ni(potentials_dir)
    structs = _structures(bulk("Ni", "fcc", a=3.52, cubic=True) * (3, 3, 3))
    one = bulk("Ni", "fcc", a=3.52)
    one.set_cell(one.cell.array @ np.array([[1.01, 0.02, 0.0], [0.0, 0.99, 0.01], [0.0, 0.0, 1.0]]), scale_atoms=True)
    structs["one_atom_cell"] = one
    files = [potentials_dir / "library.meam", potentials_dir / "Ni.meam"]
    _compare(pot, structs, ["Ni"], ["pair_style meam", "pair_coeff * * library.meam Ni Ni.meam Ni"], files, lammps)


@pytest.mark.parametrize("types", [["AlS", "MgS"], ["AlS", "CuS"], ALLOY])
def test_alsimgcufe_matches_lammps(types, potentials_dir, lammps):
    pot = _alsimgcufe(potentials_dir, types)
    assert pot.species == [t[:-1] for t in types]  # chemical elements of the entries
    structs = _structures(_alloy(pot.species, seed=len(types)), seed=3)
    if len(types) == 5:  # the five-element case once: the random alloy and its triclinic strain
        structs = {k: structs[k] for k in ("perturbed", "triclinic")}
    files = [potentials_dir / "library.meam", potentials_dir / "AlSiMgCuFe.meam"]
    cmds = ["pair_style meam", f"pair_coeff * * library.meam {' '.join(ALLOY)} AlSiMgCuFe.meam {' '.join(types)}"]
    _compare(pot, structs, pot.species, cmds, files, lammps)


# parameter-file options beyond the shipped files: element lattices, alloy reference
# structures, ialloy, erose_form, nn2, zbl, emb_lin_neg, bkgd_dyn, gsmooth_factor
OPTIONS = {
    "bcc_nn2_erose2": (["Fe"], "nn2(1,1)=1\nerose_form=2\nattrac(1,1)=0.05\nrepuls(1,1)=0.05\nrc=4.5\ndelr=0.3\nCmin(1,1,1)=0.36\n", ("bcc", 2.87)),
    "hcp_library_only": (["Mg"], None, ("hcp", 3.2)),
    "dia_nn2_erose1_nozbl": (["Si"], "nn2(1,1)=1\nzbl(1,1)=0\nerose_form=1\nrc=4.5\ndelr=0.2\nCmin(1,1,1)=1.4\nattrac(1,1)=0.02\nrepuls(1,1)=0.03\n", ("diamond", 5.43)),
    "dim": (["H"], "rc=3.0\ndelr=0.2\n", ("sc", 1.6)),
    "l12_nn2_ialloy2": (["Ni", "Al"], "lattce(1,2)='l12'\ndelta(1,2)=0.2\nnn2(1,1)=1\nnn2(1,2)=1\nnn2(2,2)=1\nialloy=2\nre(1,2)=2.5\nCmin(1,1,2)=1.2\nCmin(2,2,1)=0.8\nrc=4.6\ndelr=0.2\n", ("fcc", 3.6)),
    "c11_dia_first": (["Si", "Mo"], "lattce(1,2)='c11'\ndelta(1,2)=0.1\nrc=4.5\nre(1,2)=2.6\n", ("bcc", 3.15)),
    "b2_nn2_ialloy1_linneg_dyn": (["Fe", "Al"], "lattce(1,2)='b2'\nnn2(1,1)=1\nnn2(1,2)=1\nnn2(2,2)=1\nialloy=1\nemb_lin_neg=1\nbkgd_dyn=1\nre(1,2)=2.5\nalpha(1,2)=4.8\nCmin(1,2,1)=0.5\nrc=4.6\ndelr=0.2\naugt1=0\n", ("bcc", 2.9)),
    "b1_nn2_gsmooth": (["Cu", "Ni"], "lattce(1,2)='b1'\nnn2(1,2)=1\ngsmooth_factor=20\nrc=4.2\nre(1,2)=2.1\n", ("fcc", 3.55)),
}


@pytest.mark.parametrize("case", sorted(OPTIONS))
def test_file_options_match_lammps(case, potentials_dir, tmp_path, lammps):
    elements, params, (lattice, a0) = OPTIONS[case]
    shutil.copy(potentials_dir / "library.meam", tmp_path)
    files = [tmp_path / "library.meam"]
    if params is None:  # the library alone (LAMMPS parameter file NULL)
        pot = physml.load(tmp_path / "library.meam", elements=elements)
        pfile = "NULL"
    else:
        (tmp_path / "p.meam").write_text(params)
        files.append(tmp_path / "p.meam")
        pot = physml.load(tmp_path / "p.meam", elements=elements)  # library found next to it
        pfile = "p.meam"
    sp = pot.species
    if lattice == "hcp":
        at = bulk(sp[0], "hcp", a=a0, c=1.62 * a0, orthorhombic=True) * (3, 2, 2)
    else:
        at = _alloy(sp, lattice, a0, n=4 if lattice == "sc" else 3)
    at.rattle(0.25 if lattice == "sc" else 0.1, seed=1)
    cmds = ["pair_style meam", f"pair_coeff * * library.meam {' '.join(elements)} {pfile} {' '.join(elements)}"]
    _compare(pot, {case: at}, sp, cmds, files, lammps)


# ----------------------------------------------------------------------------- physics


def test_physics(potentials_dir):
    pot = _alsimgcufe(potentials_dir, ["AlS", "MgS", "SiS"])
    at = _alloy(pot.species, n=2, seed=5)
    at.rattle(0.1, seed=6)
    pc.check_forces_fd(pot, at, n_atoms=3)
    pc.check_invariances(pot, at)
    pc.check_batch_consistency(pot, [at, _alloy(["Al", "Mg"], n=2, seed=7)])
    ni = _ni(potentials_dir)
    cell = bulk("Ni", "fcc", a=3.52, cubic=True) * (2, 2, 2)
    cell.rattle(0.1, seed=2)
    pc.check_stress_fd(ni, cell)
    # continuity at r_c: a Ni dimer's energy vanishes as r → r_c (LAMMPS f_c ~ x², times
    # ln x from the embedding; a dimer has Γ ≈ 20, so the approach is steep but continuous)
    def dimer(r):
        return pc.energy(ni, Atoms("Ni2", positions=[[0, 0, 0], [r, 0, 0]], cell=[30, 30, 30], pbc=False))

    e = [abs(dimer(4.0 - d)) for d in (1e-5, 1e-7, 1e-9)]
    assert e[0] > e[1] > e[2] and e[2] < 1e-9, e
    assert dimer(4.0) == 0.0 and dimer(4.0 + 1e-9) == 0.0


def test_chunked_inference_is_exact(potentials_dir):
    """E_i uses only pairs centred on i (screening atoms come from i's own list)."""
    pot = _alsimgcufe(potentials_dir, ["AlS", "CuS"])
    at = _alloy(pot.species, seed=2)
    at.rattle(0.1, seed=3)
    whole = pot.evaluate(at)[0]
    pot.chunk_atoms = 25
    part = pot.evaluate(at)[0]
    assert abs(part["energy"] - whole["energy"]) < 1e-10
    assert np.abs(part["forces"] - whole["forces"]).max() < 1e-11
    assert np.abs(part["stress"] - whole["stress"]).max() < 1e-12


def test_per_atom_parameters_are_local(potentials_dir):
    """Changing the parameters of one atom changes only that atom's energy."""
    from physml.neighbors import Graph, neighbor_list

    pot = _ni(potentials_dir)
    at = bulk("Ni", "fcc", a=3.52, cubic=True) * (2, 2, 2)
    at.rattle(0.1, seed=1)
    b = pot.batch(at)
    g = Graph.build(b, neighbor_list(b, pot.cutoff), 1)
    comp = pot.components[0]
    params = comp.provider.layout.physical(comp.provider(g))
    e0 = comp.term.energies(g, params)
    changed = {k: v.clone() for k, v in params.items()}
    changed["beta1"][3] *= 1.3
    changed["t2"][3] *= 0.7
    changed["A"][3] *= 1.1
    e1 = comp.term.energies(g, changed)
    diff = (e1 - e0).abs()
    assert diff[3] > 1e-3
    assert torch.cat([diff[:3], diff[4:]]).max() == 0.0


def test_model_save_load_round_trip(potentials_dir, tmp_path):
    pot = _alsimgcufe(potentials_dir, ["AlS", "MgS"])
    physml.save(pot, tmp_path / "m.physml")
    back = physml.load(tmp_path / "m.physml")
    at = _alloy(pot.species, n=2, seed=9)
    at.rattle(0.1, seed=1)
    a, b = pot.evaluate(at)[0], back.evaluate(at)[0]
    assert a["energy"] == b["energy"] and np.array_equal(a["forces"], b["forces"])


# ----------------------------------------------------------------------------- loading rules and errors


def test_library_lookup(potentials_dir, tmp_path):
    shutil.copy(potentials_dir / "Ni.meam", tmp_path)
    with pytest.raises(MeamFormatError, match="needs its library: pass library="):
        physml.load(tmp_path / "Ni.meam", elements=["Ni"])
    shutil.copy(potentials_dir / "library.meam", tmp_path)
    auto = physml.load(tmp_path / "Ni.meam", elements=["Ni"])
    at = bulk("Ni", "fcc", a=3.5) * (2, 2, 2)
    assert auto.evaluate(at)[0]["energy"] == _ni(potentials_dir).evaluate(at)[0]["energy"]
    shutil.copy(potentials_dir / "library.meam", tmp_path / "other.meam")
    with pytest.raises(MeamFormatError, match="several MEAM library files"):
        physml.load(tmp_path / "Ni.meam", elements=["Ni"])
    # explicit library= always works; the library alone is a potential with default settings
    physml.load(tmp_path / "Ni.meam", library=tmp_path / "other.meam", elements=["Ni"])
    alone = physml.load(tmp_path / "library.meam", elements=["Ni"], parameter_file=tmp_path / "Ni.meam")
    assert alone.evaluate(at)[0]["energy"] == auto.evaluate(at)[0]["energy"]
    with pytest.raises(MeamFormatError, match="elements= is missing"):
        physml.load(tmp_path / "Ni.meam", library=tmp_path / "library.meam")
    with pytest.raises(MeamFormatError, match="no library entry named Xx"):
        physml.load(tmp_path / "Ni.meam", library=tmp_path / "library.meam", elements=["Xx"])
    with pytest.raises(MeamFormatError, match="each element may appear once"):
        physml.load(tmp_path / "library.meam", elements=["Ni", "Ni1"])
    with pytest.raises(MeamFormatError, match="types="):
        physml.load(tmp_path / "library.meam", elements=["Ni"], types=["Cu"])


@pytest.mark.parametrize(
    "params,message",
    [
        ("rc = 4.0\nfoo(1,1) = 2\n", r"p\.meam:2: unknown keyword 'foo'"),
        ("Cmin(1,1) = 0.8\n", r"p\.meam:1: Cmin takes 3 element indices, got 2"),
        ("nn2(1,3) = 1\n", r"p\.meam:1: element index 3 out of range 1\.\.1"),
        ("# comment\nlattce(1,1) = 'xyz'\n", r"p\.meam:2: unknown lattice 'xyz'"),
        ("\n\nrc = four\n", r"p\.meam:3: rc = 'four' is not a number"),
        ("rc 4.0\n", r"p\.meam:1: expected 'keyword = value'"),
        ("mixture_ref_t = 1\n", r"p\.meam:1: mixture_ref_t = 1 .* not supported"),
    ],
)
def test_malformed_parameter_file(params, message, potentials_dir, tmp_path):
    (tmp_path / "p.meam").write_text(params)
    with pytest.raises(MeamFormatError, match=message):
        physml.load(tmp_path / "p.meam", library=potentials_dir / "library.meam", elements=["Ni"])


@pytest.mark.parametrize(
    "entry,message",
    [
        ("'Qq' 'fcc' 12. 28 58.71\n4.99 2.64 1.50 4.50 1.50 3.52 4.45\n", r"lib\.meam:1: incomplete library entry"),
        ("'Qq' 'fcx' 12. 28 58.71\n4.99 2.64 1.50 4.50 1.50 3.52 4.45 1.10\n1.0 1.692 4.987 3.683 1.0 1\n", r"lib\.meam:1: library entry 'Qq': unknown element lattice 'fcx'"),
        ("# c\n'Qq' 'fcc' 8. 28 58.71\n4.99 2.64 1.50 4.50 1.50 3.52 4.45 1.10\n1.0 1.692 4.987 3.683 1.0 1\n", r"lib\.meam:2: .*z = 8 does not match the fcc lattice"),
        ("'Qq' 'fcc' 12. 28 58.71\n4.99 2.64 1.50 4.50 1.50 3.52 4.45 1.10\n0.5 1.692 4.987 3.683 1.0 1\n", r"t0 = 0.5 is not supported"),
        ("'Qq' 'fcc' 12. 28 58.71\n4.99 2.64 1.50 x 1.50 3.52 4.45 1.10\n1.0 1.692 4.987 3.683 1.0 1\n", r"b2 = 'x' is not a number"),
        ("'Qq' 'fcc' 12. 28 58.71\n4.99 2.64 1.50 4.50 1.50 3.52 4.45 1.10\n1.0 1.692 4.987 3.683 1.0 2\n", r"ibar = 2 is not supported"),
    ],
)
def test_malformed_library(entry, message, tmp_path):
    (tmp_path / "lib.meam").write_text(entry)
    with pytest.raises(MeamFormatError, match=message):
        physml.load(tmp_path / "lib.meam", elements=["Qq"])


# ----------------------------------------------------------------------------- export


def test_native_export_round_trip(potentials_dir, tmp_path, lammps):
    """import → physml model → physml export --route native → LAMMPS gives physml's numbers."""
    from physml.cli import main

    pot = _alsimgcufe(potentials_dir, ["AlS", "MgS"])
    physml.save(pot, tmp_path / "m.physml")
    out = tmp_path / "lmp"
    assert main(["export", str(tmp_path / "m.physml"), "--format", "lammps", "--route", "native", "--out", str(out)]) == 0
    lines = (out / "physml.lmp").read_text().splitlines()
    cmds = [ln for ln in lines if ln and not ln.startswith("#")]
    assert cmds[0] == "pair_style meam" and cmds[1].startswith("pair_coeff * * ")
    files = [p for p in out.iterdir() if p.name.endswith(".meam")]
    assert len(files) == 2
    structs = _structures(_alloy(pot.species, n=3, seed=4), seed=8)
    structs = {k: structs[k] for k in ("triclinic", "surface")}
    _compare(pot, structs, pot.species, cmds, files, lammps)
    # the written files import to the same potential
    lib = next(p for p in files if p.name.endswith(".library.meam"))
    par = next(p for p in files if p is not lib)
    back = physml.load(par, library=lib, elements=ALLOY, types=["AlS", "MgS"])
    at = structs["triclinic"]
    assert back.evaluate(at)[0]["energy"] == pot.evaluate(at)[0]["energy"]


def test_export_refuses_changed_parameters(potentials_dir, tmp_path):
    from physml.export.lammps import export_lammps

    pot = _ni(potentials_dir)
    pot.components[0].provider.set_values({"beta1": [[1.7]]})
    with pytest.raises(ValueError, match="beta1 differs from the source files"):
        export_lammps(pot, tmp_path, route="native")


def test_force_training_gradient(potentials_dir):
    """d(Σ F²)/dp through create_graph matches central differences (force training)."""
    pot = _ni(potentials_dir)
    at = bulk("Ni", "fcc", a=3.52, cubic=True) * (2, 2, 2)
    at.rattle(0.1, seed=12)
    b = pot.batch(at)
    free = pot.components[0].provider.free

    def loss():
        out = pot(b, stress=False, create_graph=True)
        return (out["forces"] ** 2).sum()

    for name in ("beta2", "t3", "A"):
        pot.zero_grad()
        loss().backward()
        g = free[name].grad[0].item()
        h = 1e-6 * max(1.0, abs(free[name][0].item()))
        vals = []
        for step in (h, -2 * h, h):
            with torch.no_grad():
                free[name][0] += step
            vals.append(loss().item())
        lp, lm = vals[0], vals[1]
        fd = (lp - lm) / (2 * h)
        assert abs(g - fd) <= 1e-6 * max(1.0, abs(fd)), (name, g, fd)
