"""physml.properties: agreement with LAMMPS on the same potentials (fast subset of
validation/reference/compare_lammps.py), convergence reporting, and checks of the
individual methods against independent calculations."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from ase.build import bulk
from ase.calculators.lj import LennardJones
from ase.units import GPa

import physml
from physml.properties import Material, compute, relaxed_crystal
from physml.properties.defects import vacancy_formation
from physml.properties.elastic import elastic_constants
from physml.properties.eos import equation_of_state, structure_energies
from physml.properties.faults import gamma_line
from physml.properties.phonons import phonons
from physml.properties.result import Check, Result

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # the cells here are small: threads only add overhead
    yield
    torch.set_num_threads(n)


def _lammps_reference():
    spec = importlib.util.spec_from_file_location("lammps_properties", ROOT / "validation" / "reference" / "lammps_properties.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def al99(potentials_dir):
    return physml.Calculator(physml.load(potentials_dir / "Al99.eam.alloy"))


@pytest.fixture(scope="module")
def al99_crystal(al99):
    """The relaxed fcc crystal of Al99 (shared with the other test_properties_* files)."""
    return relaxed_crystal(al99, "Al", "fcc", 4.05)


@pytest.fixture(scope="module")
def lmp_al99(potentials_dir, lammps):
    """validation/reference/lammps_properties.py and its runner on Al99.eam.alloy."""
    mod = _lammps_reference()
    return mod, mod.Lammps(potentials_dir / "Al99.eam.alloy", "Al")


@pytest.mark.data
@pytest.mark.lammps
def test_al99_properties_match_lammps(al99, potentials_dir, lammps):
    ref = _lammps_reference()
    lmp = ref.Lammps(potentials_dir / "Al99.eam.alloy", "Al")
    eq = ref.equilibrium(lmp, "fcc", 4.05)
    el = ref.elastic(lmp, "fcc", eq["a0"])
    e_vac = ref.vacancy(lmp, "fcc", eq["a0"], eq["e_atom"], 3)
    g111 = ref.surface(lmp, "fcc", eq["a0"], eq["e_atom"], "111")
    g_isf = ref.isf(lmp, eq["a0"], thickness=24.0)
    res = compute(al99, Material("Al", "fcc", 4.05), ["a0", "E_coh", "B", "C11", "C12", "C44", "E_vac_f", "gamma_surf_111"], {"E_vac_f": {"sizes": [3]}})
    for k, v in {"a0": eq["a0"], "E_coh": eq["E_coh"], "E_vac_f": e_vac, "gamma_surf_111": g111}.items():
        assert res[k].value == pytest.approx(v, rel=1e-3), k
    for k in ("B", "C11", "C12", "C44"):
        assert res[k].value == pytest.approx(el[k], rel=1e-2), k
    line = gamma_line(res["a0"] and relaxed_crystal(al99, "Al", "fcc", 4.05), "111", n_points=2, thickness=24.0)
    assert line["gamma"][-1] == pytest.approx(g_isf, rel=1e-3)
    assert res["a0"].converged and res["C44"].converged and res["gamma_surf_111"].converged


@pytest.mark.data
@pytest.mark.lammps
def test_bcc_w_matches_lammps(potentials_dir, lammps):
    ref = _lammps_reference()
    f = potentials_dir / "W_zhou.eam.alloy"
    lmp = ref.Lammps(f, "W")
    eq = ref.equilibrium(lmp, "bcc", 3.16)
    el = ref.elastic(lmp, "bcc", eq["a0"])
    g110 = ref.surface(lmp, "bcc", eq["a0"], eq["e_atom"], "110")
    res = compute(physml.Calculator(physml.load(f)), Material("W", "bcc", 3.16), ["a0", "E_coh", "C11", "C12", "C44", "gamma_surf_110"])
    for k, v in {"a0": eq["a0"], "E_coh": eq["E_coh"], "gamma_surf_110": g110}.items():
        assert res[k].value == pytest.approx(v, rel=1e-3), k
    for k in ("C11", "C12", "C44"):
        assert res[k].value == pytest.approx(el[k], rel=1e-2), k


@pytest.mark.data
def test_ta_from_multi_element_setfl(potentials_dir):
    """The Ta block of CuTa.eam.alloy (elements=["Ta"]) gives the bcc crystal of that potential."""
    calc = physml.Calculator(physml.load(potentials_dir / "CuTa.eam.alloy", elements=["Ta"]))
    cr = relaxed_crystal(calc, "Ta", "bcc", 3.3)
    assert cr.relax_converged and 3.2 < cr.a < 3.4 and 7.5 < cr.cohesive_energy < 8.5


def test_any_ase_calculator_hexagonal_elastic_consistent_with_eos():
    """LJ hcp (ASE's LennardJones): the Voigt bulk modulus of the hexagonal C_ij (with
    internal relaxation) equals the EOS bulk modulus, and C66-free constants are positive."""
    lj = LennardJones(sigma=2.3, epsilon=0.1, rc=5.0, smooth=True)
    cr = relaxed_crystal(lj, "Ar", "hcp", 2.6, c_over_a=1.63)
    assert cr.relax_converged
    eos = equation_of_state(cr, n=7)
    el = elastic_constants(cr)
    assert el["B_elastic"].value == pytest.approx(eos["B"].value, rel=1e-2)
    for k in ("C11", "C12", "C13", "C33", "C44"):
        assert el[k].value > 0 and el[k].converged, k


def test_structure_energies_keep_symmetry():
    """Diamond and A15 relax only their lattice constant (the fixed-symmetry minimum), and
    fcc/hcp of a pair potential with nearest-neighbour range are degenerate."""
    lj = LennardJones(sigma=2.3, epsilon=0.1, rc=2.3 * 1.3, smooth=True)
    cr = relaxed_crystal(lj, "Ar", "fcc", 2.3 * 1.55)
    dE = structure_energies(lj, cr, ("hcp", "diamond", "A15", "bcc"))
    assert abs(dE["dE_hcp"].value) < 2e-3  # smooth cutoff: only the tail differs
    assert dE["dE_diamond"].value > 0.05  # four neighbours instead of twelve
    assert all(r.converged for r in dE.values())


@pytest.mark.data
def test_phonon_X_longitudinal_matches_frozen_phonon(al99):
    """ν_L(X) of phonopy equals the frozen-phonon frequency of the (001) planes moving
    against each other: F_z = −m ω² u for every atom."""
    cr = relaxed_crystal(al99, "Al", "fcc", 4.05)
    nu = phonons(cr, size=3)["nu_X"]
    at = cr.cell()
    u = 1e-3
    sign = np.where(np.isclose(at.positions[:, 2] % cr.a, 0.0, atol=1e-6), 1.0, -1.0)
    at.positions[:, 2] += sign * u
    fz = at.get_forces()[:, 2]
    w2 = float(np.mean(-fz * sign / u)) / at.get_masses()[0]
    nu_frozen = math.sqrt(w2) * 15.633302  # ω = 1 sqrt(eV/Å²/amu) = 9.82269e13 rad/s, i.e. ν = 15.6333 THz
    assert nu.value[-1] == pytest.approx(nu_frozen, rel=2e-3)


@pytest.mark.data
def test_convergence_is_reported(al99):
    cr = relaxed_crystal(al99, "Al", "fcc", 4.05)
    one = vacancy_formation(cr, sizes=[2])
    assert not one.converged and any("not checked" in c.name for c in one.checks)
    tight = vacancy_formation(cr, sizes=[2, 3], size_tol=1e-6)  # 2×2×2 is far from converged
    assert not tight.converged and not tight.checks[-1].passed and tight.checks[-1].measure > 1e-3
    ok = vacancy_formation(cr, sizes=[3, 4])
    assert ok.converged and ok.value == pytest.approx(0.6776, abs=2e-3)
    j = Result(float("nan"), "eV", [Check("x", True)]).to_json()
    assert j["converged"] is False and j["value"] is None


@pytest.mark.data
def test_elastic_constants_finite_difference_of_stress(al99):
    """matscipy's regression equals a hand central difference of the stress (C44)."""
    cr = relaxed_crystal(al99, "Al", "fcc", 4.05)
    el = elastic_constants(cr)
    at = cr.cell()
    d = 1e-4
    s = []
    for e in (-d, d):
        x = at.copy()
        x.calc = al99
        x.set_cell(at.cell.array @ (np.eye(3) + np.array([[0, 0, 0], [0, 0, e / 2], [0, e / 2, 0]])), scale_atoms=True)
        s.append(x.get_stress()[3])
    assert el["C44"].value == pytest.approx((s[1] - s[0]) / (2 * d) / GPa, rel=2e-3)


def test_order_parameter_and_tm_estimate():
    """ψ is 1 in a perfect crystal and small in a random gas; the T_m fit recovers the
    zero of a noisy linear v(T) within its error bar."""
    from physml.properties.melting import estimate_tm
    from physml.properties.order import order_parameter

    at = bulk("Al", "fcc", a=4.05, cubic=True) * (4, 4, 4)
    assert np.allclose(order_parameter(at, 4.05, "fcc"), 1.0)
    gas = at.copy()
    gas.positions = np.random.default_rng(0).random((len(at), 3)) * at.cell.lengths()
    assert order_parameter(gas, 4.05, "fcc").mean() < 0.2
    rng = np.random.default_rng(1)
    T = np.array([900.0, 950.0, 1000.0, 1050.0, 1100.0])
    runs = [{"T": t, "v": 0.01 * (1012.0 - t) + rng.normal(0, 0.02), "v_err": 0.02} for t in T]
    tm, err, checks = estimate_tm(runs)
    assert all(c.passed for c in checks) and abs(tm - 1012.0) < 3 * err and err < 10
    runs[-1]["v"] = 0.5  # solid growing at the highest temperature: not a usable series
    assert not all(c.passed for c in estimate_tm(runs)[2])


@pytest.mark.data
def test_scans_pass_for_eam_and_catch_a_kink(al99):
    from ase.calculators.calculator import Calculator, all_changes

    from physml.properties.scans import dimer_scan, volume_scan

    cr = relaxed_crystal(al99, "Al", "fcc", 4.05)
    v = volume_scan(cr, n=31)
    assert all(c.passed for c in v["checks"]), [c for c in v["checks"] if not c.passed]

    class Kinked(Calculator):  # a Morse dimer with a narrow bump: a network artefact
        implemented_properties = ["energy", "forces"]

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            r = atoms.get_distance(0, 1)
            e = 0.5 * (np.exp(-2 * 1.5 * (r - 2.7)) - 2 * np.exp(-1.5 * (r - 2.7))) * (r < 8) + 0.05 * np.exp(-(((r - 4.0) / 0.05) ** 2))
            self.results = {"energy": float(e), "forces": np.zeros((len(atoms), 3))}

    d = dimer_scan(Kinked(), "Al", 0.0)
    failed = {c.name for c in d["checks"] if not c.passed}
    assert any("smooth" in n for n in failed) and not any("monotonic" in n for n in failed)


@pytest.mark.data
def test_npt_md_reuses_neighbours_correctly_and_conserves_energy(al99):
    """One-call Berendsen MD with the strain-tolerant neighbour cache: after NPT steps the
    forces and stress equal a fresh calculator's, and with very long coupling times the
    dynamics is velocity Verlet (total energy conserved)."""
    from physml.properties.md import MDSettings, run_npt, thermalise

    cr = relaxed_crystal(al99, "Al", "fcc", 4.05)
    at = cr.supercell(3)
    thermalise(at, 1200, 3)
    run_npt(at, 600, 150, MDSettings(bulk_modulus=79, taup=100.0))
    assert at.calc.inner.neighbors.builds < 150  # the cell changed every step, the list was reused
    fresh = at.copy()
    fresh.calc = physml.Calculator(physml.load(al99.potential.metadata["source"]))
    assert np.abs(fresh.get_forces() - at.get_forces()).max() < 1e-10
    assert np.abs(fresh.get_stress() - at.get_stress()).max() < 1e-12
    at2 = cr.supercell(3)
    thermalise(at2, 600, 4)
    e = run_npt(at2, 300, 400, MDSettings(dt=1.0, bulk_modulus=79, taut=1e12, taup=1e12), every=20, sample=lambda x: x.get_potential_energy() + x.get_kinetic_energy())
    assert np.ptp(e) / len(at2) < 2e-4  # eV/atom over 0.4 ps
