"""Compound properties (physml.properties.compounds) and alloy suites: the energy fit against
the calculator's own stress (zero pressure at V0, B = −V dP/dV), the zero-formation-energy
limit, the fit of a stored E(V) series against exact Birch–Murnaghan data, the series
reader, and alloy suite files (element-prefixed properties, compounds) end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.units import GPa

import physml
from physml.properties import relaxed_crystal
from physml.properties.compounds import Compound, compound_eos, formation_energy, read_series, series_eos
from physml.properties.eos import _bm_energy
from physml.validate import SuiteError, load_suite, validate
from tests.test_potential import morse_potential
from tests.test_properties import _one_thread  # noqa: F401  (one torch thread)


@pytest.fixture(scope="module")
def cuni():
    calc = physml.Calculator(morse_potential())
    mu = {el: relaxed_crystal(calc, el, "fcc", 3.6).e_atom for el in ("Cu", "Ni")}
    return calc, mu


def _b2(a: float) -> Atoms:
    return Atoms("CuNi", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], cell=[a] * 3, pbc=True)


def test_b2_compound_against_stress(cuni):
    calc, mu = cuni
    res = compound_eos(calc, Compound("B2", _b2(2.55), cubic_atoms=2), mu)
    assert all(r.converged for r in res.values())
    a0 = res["a0_B2"].value
    assert res["V0_B2"].value == pytest.approx(a0**3 / 2, rel=1e-12)
    at = _b2(a0)
    at.calc = calc
    assert np.abs(at.get_stress()[:3]).max() < 2e-5  # eV/Å³: zero pressure at the fitted V0
    h = 2e-3
    p = []
    for s in (1 - h, 1 + h):
        x = at.copy()
        x.calc = calc
        x.set_cell(at.cell * s ** (1 / 3), scale_atoms=True)
        p.append(-x.get_stress()[:3].mean())
    b_stress = -at.get_volume() * (p[1] - p[0]) / (2 * h * at.get_volume()) / GPa
    assert res["B_B2"].value == pytest.approx(b_stress, rel=5e-3)
    e0 = at.get_potential_energy() / 2
    assert res["E_form_B2"].value == pytest.approx(e0 - 0.5 * (mu["Cu"] + mu["Ni"]), abs=1e-5)  # E0 of the fit: within its residual


def test_pure_element_compound_has_zero_formation_energy(cuni):
    calc, mu = cuni
    cr = relaxed_crystal(calc, "Ni", "fcc", 3.5)
    res = compound_eos(calc, Compound("fccNi", bulk("Ni", "fcc", a=3.4, cubic=True), cubic_atoms=4), mu)
    assert abs(res["E_form_fccNi"].value) < 1e-5 and res["a0_fccNi"].value == pytest.approx(cr.a, rel=1e-4)
    with pytest.raises(ValueError, match="no ground-state energy for Al"):
        formation_energy(-1.0, bulk("Al"), mu)


def _series(v0=10.5, e0=-5.2, b=200 * GPa, bp=4.3, n=31, noise=0.0, species=("W", "Be", "Be"), group="EOS", source="EOS_X_"):
    rng = np.random.default_rng(1)
    base = Atoms(species, scaled_positions=[[0, 0, 0], [0.3, 0.4, 0.5], [0.6, 0.1, 0.8]], cell=[[3, 0, 0], [0.4, 3.1, 0], [0.2, 0.3, 3.3]], pbc=True)
    out = []
    for k, v in enumerate(v0 * np.linspace(0.8, 1.25, n)):
        a = base.copy()
        a.set_cell(base.cell * (v * len(a) / base.get_volume()) ** (1 / 3), scale_atoms=True)
        a.calc = SinglePointCalculator(a, energy=len(a) * (_bm_energy(v, v0, e0, b, bp) + noise * rng.normal()))
        a.info.update(config_type=group, source=f"{source}{k}.json")
        out.append(a)
    return out


def test_series_fit_recovers_birch_murnaghan():
    fit = series_eos(_series())
    assert fit["V0"] == pytest.approx(10.5, rel=1e-8) and fit["E0"] == pytest.approx(-5.2, abs=1e-9)
    assert fit["B"] == pytest.approx(200.0, rel=1e-6) and fit["Bp"] == pytest.approx(4.3, rel=1e-4)
    with pytest.raises(ValueError, match="only 3 frames"):
        series_eos(_series(n=31), window=0.02)


def test_read_series_by_group_and_source(tmp_path):
    import ase.io

    path = tmp_path / "d.extxyz"
    frames = _series(n=7) + _series(n=5, source="EOS_Y_") + _series(n=4, group="Other")
    ase.io.write(path, frames, format="extxyz")
    x = read_series(path, "EOS", "EOS_X_")
    assert len(x) == 7 and x[3].get_potential_energy() == pytest.approx(frames[3].get_potential_energy(), abs=1e-6)
    assert np.allclose(x[3].positions, frames[3].positions, atol=1e-7)
    assert len(read_series(path, "EOS")) == 12 and len(read_series(path, "Other")) == 4
    with pytest.raises(ValueError, match="no frames of group 'EOS' with source containing 'EOS_Z_'"):
        read_series(path, "EOS", "EOS_Z_")
    bad = tmp_path / "bad.extxyz"
    bad.write_text(path.read_text().replace("3\n", "three\n", 1))
    with pytest.raises(ValueError, match="bad.extxyz: frame 0 does not start with an atom count"):
        read_series(bad, "EOS")


ALLOY = """
[material]
name = "Cu-Ni"
species = ["Cu", "Ni"]
lattice = "fcc"
a0_guess = 3.6
dft_data = "{data}"

[[element]]
symbol = "Ni"
lattice = "fcc"
a0_guess = 3.55

[[compound]]
label = "B2"
group = "EOS"
source = "EOS_B2_"
cubic_atoms = 2

[[property]]
name = "a0"
unit = "Å"
quick = true

[[property]]
name = "Ni:a0"
reference = {ni_a0}
unit = "Å"
source = "the same Morse potential, relaxed_crystal"
tolerance = 1e-6
quick = true

[[property]]
name = "E_form_B2"
reference = {e_form}
unit = "eV"
source = "the same Morse potential, direct calculation"
tol_abs = 1e-5
quick = true

[[property]]
name = "V0_B2"
unit = "Å^3"
quick = true
"""


def test_alloy_suite_end_to_end(tmp_path, cuni):
    """A Cu–Ni suite with a B2 compound whose structure is read from a data file: the
    report has the compound's and the second element's properties under their names."""
    import ase.io

    calc, mu = cuni
    ref = compound_eos(calc, Compound("B2", _b2(2.55), cubic_atoms=2), mu)
    frames = []
    for k, a in enumerate((2.45, 2.55, 2.65)):  # the structure is the lowest-energy frame (2.55 Å)
        at = _b2(a)
        at.calc = SinglePointCalculator(at, energy=-10.0 + abs(a - 2.55))
        at.info.update(config_type="EOS", source=f"EOS_B2_{k}.json")
        frames.append(at)
    data = tmp_path / "d.extxyz"
    ase.io.write(data, frames, format="extxyz")
    ni_a0 = relaxed_crystal(calc, "Ni", "fcc", 3.55).a
    suite = tmp_path / "alloy.toml"
    suite.write_text(ALLOY.format(data=data, ni_a0=ni_a0, e_form=ref["E_form_B2"].value))
    out = tmp_path / "out"
    validate([calc], suite, out, quick=True, labels=["morse"], progress=False)
    props = json.loads((out / "report.json").read_text())["models"]["morse"]["properties"]
    assert props["Ni:a0"]["pass"] is True and props["E_form_B2"]["pass"] is True
    assert props["V0_B2"]["value"] == pytest.approx(ref["V0_B2"].value, rel=1e-9)
    assert props["a0"]["value"] != pytest.approx(props["Ni:a0"]["value"], rel=1e-3)  # two different crystals
    md = (out / "report.md").read_text()
    assert "| Ni:a0 | Å |" in md and "| E_form_B2 | eV |" in md


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.replace('name = "Ni:a0"', 'name = "Fe:a0"'), "element 'Fe' has no [[element]] entry"),
        (lambda s: s.replace('name = "E_form_B2"', 'name = "E_form_L12"'), "no [[compound]] with label 'L12'"),
        (lambda s: s.replace('symbol = "Ni"', 'symbol = "Co"'), "element[0] (Co): not one of material.species"),
        (lambda s: s.replace('dft_data = "x.extxyz"\n', ""), "compound structures are read from material.dft_data"),
        (lambda s: s.replace('name = "Ni:a0"', 'name = "Ni:E_form_B2"'), "compound properties take no element prefix"),
        (lambda s: s.replace('label = "B2"', 'label = "B 2"'), "compound.0.label"),
        (lambda s: s.replace('lattice = "fcc"\na0_guess = 3.55', 'lattice = "fcx"\na0_guess = 3.55'), "element[0].lattice: unknown lattice 'fcx'"),
    ],
)
def test_bad_alloy_suites_are_refused(tmp_path, edit, message):
    p = tmp_path / "s.toml"
    p.write_text(edit(ALLOY.format(data="x.extxyz", ni_a0=3.5, e_form=0.0)))
    with pytest.raises(SuiteError) as err:
        load_suite(p)
    assert message in str(err.value) and str(p) in str(err.value)


@pytest.mark.data
@pytest.mark.lammps
def test_b2_cuni_eam_matches_lammps(potentials_dir):
    """B2 CuNi of CuNi.eam.alloy: V0, lattice constant and formation energy against LAMMPS
    (``box/relax iso`` of the same cell, fcc Cu and Ni equilibria of LAMMPS itself)."""
    from tests.test_properties import _lammps_reference

    f = potentials_dir / "CuNi.eam.alloy"
    calc = physml.Calculator(physml.load(f))
    mu = {el: relaxed_crystal(calc, el, "fcc", a).e_atom for el, a in (("Cu", 3.615), ("Ni", 3.52))}
    res = compound_eos(calc, Compound("B2", _b2(2.85), cubic_atoms=2), mu)
    mod = _lammps_reference()
    lmp = mod.Lammps(f, ["Cu", "Ni"])
    ref = mod.relaxed_volume(lmp, _b2(2.85))
    mu_l = {el: mod.equilibrium(mod.Lammps(f, el), "fcc", a)["e_atom"] for el, a in (("Cu", 3.615), ("Ni", 3.52))}
    assert res["V0_B2"].value == pytest.approx(ref["v_atom"], rel=2e-4)
    assert res["a0_B2"].value == pytest.approx((2 * ref["v_atom"]) ** (1 / 3), rel=1e-4)
    assert res["E_form_B2"].value == pytest.approx(ref["e_atom"] - 0.5 * (mu_l["Cu"] + mu_l["Ni"]), abs=2e-5)
    assert mu["Cu"] == pytest.approx(mu_l["Cu"], abs=1e-6) and res["E_form_B2"].converged
