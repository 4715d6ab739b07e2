"""physml export --route native: the written LAMMPS files reproduce physml in LAMMPS."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

import physml
from physml.cli import main
from physml.empirical import ZBL
from physml.potential import Component, Potential


def _structs():
    a = bulk("Cu", "fcc", a=3.6, cubic=True) * (3, 3, 3)
    rng = np.random.default_rng(1)
    a.numbers[rng.random(len(a)) < 0.4] = 28
    a.rattle(0.1, seed=2)
    v = a.copy()
    del v[3]
    return [a, v]


def _snippet_commands(path, species):
    lines = path.read_text().splitlines()
    assert lines[0] == "# species: " + " ".join(species)
    return [ln for ln in lines if ln and not ln.startswith("#") and not ln.startswith("mass")]


def test_setfl_export_reproduces_physml_in_lammps(potentials_dir, tmp_path, lammps):
    pot = physml.load(potentials_dir / "CuNi.eam.alloy")
    assert main(["export", str(potentials_dir / "CuNi.eam.alloy"), "--format", "lammps", "--out", str(tmp_path)]) == 0
    cmds = _snippet_commands(tmp_path / "physml.lmp", pot.species)
    files = [p for p in tmp_path.iterdir() if p.name.endswith(".eam.alloy")]
    structs = _structs()
    ref = lammps.run_lammps(structs, pot.species, cmds, files=files)
    for m, r, s in zip(pot.evaluate(structs), ref, structs):
        assert abs(m["energy"] - r.energy) / len(s) < 1e-9
        assert np.abs(m["forces"] - r.forces).max() < 1e-6


def test_zbl_overlay_export(potentials_dir, tmp_path, lammps):
    base = physml.load(potentials_dir / "CuNi.eam.alloy", elements=["Cu", "Ni"])
    pot = Potential(["Cu", "Ni"], [base.components[0], Component(ZBL(["Cu", "Ni"], 1.0, 2.0))])
    from physml.export.lammps import export_lammps

    res = export_lammps(pot, tmp_path)
    assert res.route == "native" and "hybrid/overlay" in res.pair_commands[0]
    structs = _structs()
    ref = lammps.run_lammps(structs, ["Cu", "Ni"], res.pair_commands, files=res.files)
    for m, r, s in zip(pot.evaluate(structs), ref, structs):
        assert abs(m["energy"] - r.energy) / len(s) < 1e-9
        assert np.abs(m["forces"] - r.forces).max() < 1e-6


def test_non_native_model_is_refused(tmp_path):
    from physml.empirical import PinnBOP
    from physml.export.lammps import export_lammps

    pot = Potential(["Al"], [Component(PinnBOP(["Al"]))])
    with pytest.raises(ValueError, match="no native LAMMPS writer for term 'pinn_bop'"):
        export_lammps(pot, tmp_path, route="native")


def _morse(sp):
    from physml.empirical import Morse

    m = Component(Morse(sp, cutoff=5.5))
    m.provider.set_values({"D": [[0.30, 0.35], [0.35, 0.42]], "r0": [[2.55, 2.5], [2.5, 2.48]], "alpha": 1.4})
    return m


def _analytic_eam(sp):
    from physml.empirical import AnalyticEAM

    e = Component(AnalyticEAM(sp, "mishin", cutoff=5.5))
    e.provider.set_values({"F_rho0": 3.0, "rho_b1": 0.4, "phi_E1": 0.2})
    return e


# name → (model builder, exact: LAMMPS evaluates the same numbers; else tabulated)
NATIVE = {
    "setfl_CuNi": (lambda d: physml.load(d / "potentials" / "CuNi.eam.alloy", elements=["Cu", "Ni"]), True),
    "tersoff_SiC": (lambda d: physml.load(d / "potentials" / "SiC.tersoff"), True),
    "table_morse": (lambda d: Potential(["Cu", "Ni"], [_morse(["Cu", "Ni"])]), False),
    "analytic_eam": (lambda d: Potential(["Cu", "Ni"], [_analytic_eam(["Cu", "Ni"])]), False),
    "eam+table+zbl+Eref": (
        lambda d: Potential(["Cu", "Ni"], [physml.load(d / "potentials" / "CuNi.eam.alloy", elements=["Cu", "Ni"]).components[0], _morse(["Cu", "Ni"]), Component(ZBL(["Cu", "Ni"], 1.0, 1.8))], reference_energies=[-0.25, 0.4]),
        False,
    ),
}


@pytest.mark.parametrize("name", list(NATIVE))
def test_native_route_on_one_and_two_ranks(name, data_dir, tmp_path, lammps):
    """Every native writer in LAMMPS (1 and 2 MPI ranks) against physml on a perturbed
    crystal, a vacancy, a surface and a hot liquid at the model's fcc equilibrium: exact
    files to round-off, tabulated ones within the measured tabulation error ≤ 1e-5 eV/atom
    (grid chosen by the exporter)."""
    from physml.export.lammps import export_lammps
    from physml.export.tabulation import equilibrium_fcc
    from physml.lammps.structures import verification_set

    build, exact = NATIVE[name]
    pot = build(data_dir)
    res = export_lammps(pot, tmp_path, route="native")
    if not exact:
        assert any("measured tabulation error" in n for n in res.notes), res.notes
    if name == "tersoff_SiC":
        structs = verification_set(pot.species, "diamond", 4.36)
    else:
        structs = verification_set(pot.species, "fcc", equilibrium_fcc(pot) if not name.startswith(("setfl", "eam")) else 3.6)
    ref = pot.evaluate(list(structs.values()))
    tol_e, tol_f = (1e-9, 1e-8) if exact else (1e-5, 1e-4)
    runs = {}
    worst = [0.0, 0.0]
    for nprocs in (1, 2):
        runs[nprocs] = lammps.run_lammps(list(structs.values()), pot.species, res.pair_commands, files=res.files, nprocs=nprocs)
        for (sname, at), m, r in zip(structs.items(), ref, runs[nprocs]):
            dE = abs(m["energy"] - r.energy) / len(at)
            if name != "tersoff_SiC":  # LAMMPS tersoff splits each bond's energy between i and j
                dE = max(dE, np.abs(m["energies"] - r.energies).max())
            dF = np.abs(m["forces"] - r.forces).max()
            worst = [max(worst[0], dE), max(worst[1], dF)]
            assert dE <= tol_e and dF <= tol_f, f"{name} {sname} ({nprocs} ranks): {dE:.2e} eV/atom, {dF:.2e} eV/Å"
            if np.isfinite(r.stress).all():
                assert np.abs(m["stress"] - r.stress).max() <= (1e-12 if exact else 1e-6)
    print(f"{name}: LAMMPS − physml ≤ {worst[0]:.2e} eV/atom, {worst[1]:.2e} eV/Å; {res.notes}")
    for r1, r2 in zip(runs[1], runs[2]):
        assert abs(r1.energy - r2.energy) <= 1e-10 * max(1.0, abs(r1.energy))
        assert np.abs(r1.forces - r2.forces).max() <= 1e-10


def test_tabulation_grid_is_refined_until_within_tolerance(tmp_path):
    """A tighter tolerance gives a finer table with a smaller measured error."""
    from physml.export.lammps import export_lammps

    pot = Potential(["Cu", "Ni"], [_morse(["Cu", "Ni"])])
    coarse = export_lammps(pot, tmp_path / "a", route="native", tol=1e-3)
    fine = export_lammps(pot, tmp_path / "b", route="native", tol=1e-6)

    def n_and_error(res):
        note = next(n for n in res.notes if "N=" in n)
        n = int(note.split("N=")[1].split()[0])
        err = float(note.split("measured tabulation error ")[1].split()[0])
        return n, err

    (n1, e1), (n2, e2) = n_and_error(coarse), n_and_error(fine)
    assert n2 > n1 and e2 < e1 and e1 <= 1e-3 and e2 <= 1e-6
    assert f"table linear {n2}" in fine.pair_commands[0]


def test_reference_energies_only_inside_eam(data_dir, tmp_path):
    from physml.export.lammps import export_lammps

    ts = physml.load(data_dir / "potentials" / "SiC.tersoff")
    shifted = Potential(ts.species, list(ts.components), reference_energies=[0.1, 0.2])
    with pytest.raises(ValueError, match="reference energies"):
        export_lammps(shifted, tmp_path, route="native")


def test_pinn_route_round_trip(data_dir, tmp_path):
    """Route pinn: the written .pinn reloads to identical numbers."""
    pot = physml.load(data_dir / "pinn" / "Al_2020.pinn")
    assert main(["export", str(data_dir / "pinn" / "Al_2020.pinn"), "--format", "lammps", "--out", str(tmp_path)]) == 0
    snippet = (tmp_path / "physml.lmp").read_text()
    assert snippet.startswith("# species: Al") and "pair_style pinn" in snippet and "mass 1" in snippet
    back = physml.load(tmp_path / "Al.pinn")
    at = bulk("Al", "fcc", a=4.0, cubic=True) * (2, 2, 2)
    at.rattle(0.1, seed=3)
    a, b = pot.evaluate(at)[0], back.evaluate(at)[0]
    assert a["energy"] == b["energy"] and np.array_equal(a["forces"], b["forces"])


def test_pinn_route_written_file_matches_the_authors_results(data_dir, tmp_path):
    """Al_2020 written back out by route pinn still reproduces the results of the authors'
    pair_style pinn (pinn/reference)."""
    import ase.io

    from physml.export.lammps import export_lammps

    res = export_lammps(physml.load(data_dir / "pinn" / "Al_2020.pinn"), tmp_path, route="pinn")
    back = physml.load(res.files[0])
    files = sorted((data_dir / "pinn" / "reference").glob("Al_2020_*.xyz"))
    assert len(files) >= 10
    structs = [ase.io.read(f) for f in files]
    for at, m in zip(structs, back.evaluate(structs)):
        assert abs(m["energy"] - at.get_potential_energy()) / len(at) <= 1e-6
        assert np.abs(m["forces"] - at.get_forces()).max() <= 1e-5
        assert np.abs(m["energies"] - at.arrays["site_energies"]).max() <= 1e-6
        if at.pbc.all():
            assert np.abs(m["stress"] - at.get_stress()).max() <= 1e-6


def test_plugin_route_is_the_default_for_other_models(tmp_path, capsys):
    """A model without a native pair style exports to the plugin route: a TorchScript file
    that reproduces physml (evaluated the way pair_style physml does) and a snippet."""
    from ase.build import bulk

    from physml.empirical import Morse
    from physml.export.torchscript import evaluate_exported, load_exported
    from physml.ml import GaussianLegendre, PhysicsInformed

    term = Morse(["Cu"], cutoff=5.0)
    desc = GaussianLegendre([0, 2], [2.5, 3.5], 1.0, 5.0, 1.0)
    pot = Potential(["Cu"], [Component(term, PhysicsInformed(term.parameter_specs(), 1, desc, hidden=(4,), out_scale=0.01))])
    physml.save(pot, tmp_path / "m")
    assert main(["export", str(tmp_path / "m"), "--out", str(tmp_path / "o")]) == 0
    assert "route: plugin" in capsys.readouterr().out
    lines = (tmp_path / "o" / "physml.lmp").read_text().splitlines()
    assert lines[0] == "# species: Cu" and "pair_style physml" in lines and "pair_coeff * * Cu.pt Cu" in lines
    at = bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 2, 2)
    at.rattle(0.1, seed=4)
    ref = pot.evaluate(at)[0]
    got = evaluate_exported(load_exported(tmp_path / "o" / "Cu.pt"), at)[0]
    assert abs(ref["energy"] - got["energy"]) < 1e-12 and np.abs(ref["forces"] - got["forces"]).max() < 1e-12
