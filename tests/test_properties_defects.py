"""Point defects of physml.properties.defects against LAMMPS on the same potential (Al99
EAM, which physml evaluates to 1e-13 of LAMMPS): self-interstitial formation energies
(same starting geometry, LAMMPS' CG minimiser) and the vacancy migration barrier (physml's
climbing-image NEB against the LAMMPS energy of the saddle, found without NEB: the jumping
atom held at the midpoint of the jump, every other atom relaxed; that configuration is
inversion-symmetric about the midpoint, so it is the stationary point the climbing image
converges to). Also: the convergence flags flip for too small cells and too short NEBs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from ase import Atoms

import physml
from physml.properties import relaxed_crystal
from physml.properties.defects import INTERSTITIALS, _centre_site, interstitial_formation, vacancy_migration

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.data


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def al99(potentials_dir):
    calc = physml.Calculator(physml.load(potentials_dir / "Al99.eam.alloy"))
    return relaxed_crystal(calc, "Al", "fcc", 4.05)


@pytest.fixture(scope="module")
def ref(potentials_dir, lammps):
    spec = importlib.util.spec_from_file_location("lammps_properties", ROOT / "validation" / "reference" / "lammps_properties.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    lmp = mod.Lammps(potentials_dir / "Al99.eam.alloy", "Al")
    return mod, lmp, mod.equilibrium(lmp, "fcc", 4.05)["e_atom"]


def _interstitial_start(cr, kind: str, n: int) -> Atoms:
    """The starting geometry of :func:`interstitial_formation`, built here from the table."""
    shape, vec = INTERSTITIALS["fcc"][kind]
    at = cr.supercell(n)
    i = _centre_site(at)
    p = at.positions[i].copy()
    v = np.asarray(vec, float)
    if shape == "dumbbell":
        u = v / np.linalg.norm(v)
        d = 0.6 * cr.nn_distance
        del at[i]
        at += Atoms(["Al"] * 2, positions=[p + u * d / 2, p - u * d / 2])
    else:
        at += Atoms("Al", positions=[p + v * cr.a])
    return at


@pytest.mark.lammps
@pytest.mark.parametrize("kind", ["100", "110", "crowdion", "oct"])
def test_interstitial_formation_matches_lammps_minimiser(al99, ref, kind):
    mod, lmp, e_atom = ref
    res = interstitial_formation(al99, kinds=[kind], sizes=[3])[f"E_sia_{kind}"]
    start = _interstitial_start(al99, kind, 3)
    e_lmp = mod.relaxed_energy(lmp, start) - len(start) * e_atom
    assert res.value == pytest.approx(e_lmp, abs=2e-4)
    assert res.checks[0].passed  # relaxation reached fmax
    assert 2.0 < res.value < 3.5  # Al99: ⟨100⟩ dumbbell 2.59 eV (Mishin et al. 1999), octahedral above it


@pytest.mark.lammps
def test_vacancy_migration_neb_matches_lammps_saddle(al99, ref):
    mod, lmp, _ = ref
    res = vacancy_migration(al99, size=3, n_images=3, fmax=1e-2)
    perfect = al99.supercell(3)
    v = _centre_site(perfect)
    d = np.linalg.norm(perfect.positions - perfect.positions[v], axis=1)
    d[v] = np.inf
    j = int(np.argmin(d))
    initial = perfect.copy()
    del initial[v]
    jj = j if j < v else j - 1
    saddle = initial.copy()
    saddle.positions[jj] = 0.5 * (perfect.positions[j] + perfect.positions[v])
    e_m = mod.relaxed_energy(lmp, saddle, hold=[jj]) - mod.relaxed_energy(lmp, initial)
    assert res.converged
    assert res.value == pytest.approx(e_m, abs=2e-3)
    path = np.asarray(res.data["path_energy"])
    assert path[0] == 0.0 and abs(path[-1]) < 1e-3  # the two end points are equivalent sites
    assert np.argmax(path) == len(path) // 2  # symmetric jump: the climbing image sits in the middle


def test_convergence_flags_flip_for_small_cells_and_short_neb(al99):
    small = interstitial_formation(al99, kinds=["100"], sizes=[2, 3])["E_sia_100"]
    assert not small.converged and not small.checks[-1].passed and small.checks[-1].measure > 0.1
    large = interstitial_formation(al99, kinds=["100"], sizes=[4, 5])["E_sia_100"]
    assert large.converged and large.value == pytest.approx(2.60, abs=0.02)
    short = vacancy_migration(al99, size=3, n_images=3, steps=3)
    assert not short.converged and not next(c for c in short.checks if "NEB" in c.name).passed


def test_interstitial_kind_and_lattice_errors(al99):
    with pytest.raises(ValueError, match="unknown fcc interstitial 'dumbell'; known: 100, 110"):
        interstitial_formation(al99, kinds=["dumbell"], sizes=[2])
