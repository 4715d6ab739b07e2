"""Point defects of physml.properties.defects against LAMMPS on the same potential (Al99
EAM, which physml evaluates to 1e-13 of LAMMPS): self-interstitial formation energies
(same starting geometry, LAMMPS' CG minimiser) and the vacancy migration barrier (physml's
climbing-image NEB against the LAMMPS energy of the saddle, found without NEB: the jumping
atom held at the midpoint of the jump, every other atom relaxed; that configuration is
inversion-symmetric about the midpoint, so it is the stationary point the climbing image
converges to). Also: the convergence flags flip for too small cells and too short NEBs."""

from __future__ import annotations

import numpy as np
import pytest

from physml.properties.defects import add_interstitial, interstitial_formation, vacancy_jump, vacancy_migration
from tests.test_properties import _one_thread, al99, al99_crystal, lmp_al99  # noqa: F401  (shared fixtures)

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def ref(lmp_al99):
    mod, lmp = lmp_al99
    return mod, lmp, mod.equilibrium(lmp, "fcc", 4.05)["e_atom"]


@pytest.mark.lammps
@pytest.mark.parametrize("kind", ["100", "110", "crowdion", "oct"])
def test_interstitial_formation_matches_lammps_minimiser(al99_crystal, ref, kind):
    mod, lmp, e_atom = ref
    res = interstitial_formation(al99_crystal, kinds=[kind], sizes=[3])[f"E_sia_{kind}"]
    start = add_interstitial(al99_crystal, al99_crystal.supercell(3), kind)
    e_lmp = mod.relaxed_energy(lmp, start) - len(start) * e_atom
    assert res.value == pytest.approx(e_lmp, abs=2e-4)
    assert res.checks[0].passed  # relaxation reached fmax
    assert 2.0 < res.value < 3.5  # Al99: ⟨100⟩ dumbbell 2.59 eV (Mishin et al. 1999), octahedral above it


@pytest.mark.lammps
def test_vacancy_migration_neb_matches_lammps_saddle(al99_crystal, ref):
    mod, lmp, _ = ref
    res = vacancy_migration(al99_crystal, size=3, n_images=3, fmax=1e-2)
    initial, final, jj = vacancy_jump(al99_crystal, 3)
    assert np.linalg.norm(final.positions[jj] - initial.positions[jj]) == pytest.approx(al99_crystal.nn_distance, rel=1e-9)
    saddle = initial.copy()
    saddle.positions[jj] = 0.5 * (initial.positions[jj] + final.positions[jj])
    e_m = mod.relaxed_energy(lmp, saddle, hold=[jj]) - mod.relaxed_energy(lmp, initial)
    assert res.converged
    assert res.value == pytest.approx(e_m, abs=2e-3)
    path = np.asarray(res.data["path_energy"])
    assert path[0] == 0.0 and abs(path[-1]) < 1e-3  # the two end points are equivalent sites
    assert np.argmax(path) == len(path) // 2  # symmetric jump: the climbing image sits in the middle


def test_convergence_flags_flip_for_small_cells_and_short_neb(al99_crystal):
    small = interstitial_formation(al99_crystal, kinds=["100"], sizes=[2, 3])["E_sia_100"]
    assert not small.converged and not small.checks[-1].passed and small.checks[-1].measure > 0.1
    large = interstitial_formation(al99_crystal, kinds=["100"], sizes=[4, 5])["E_sia_100"]
    assert large.converged and large.value == pytest.approx(2.60, abs=0.02)
    short = vacancy_migration(al99_crystal, size=3, n_images=3, steps=3)
    assert not short.converged and not next(c for c in short.checks if "NEB" in c.name).passed


def test_interstitial_kind_and_lattice_errors(al99_crystal):
    with pytest.raises(ValueError, match="unknown fcc interstitial 'dumbell'; known: 100, 110"):
        interstitial_formation(al99_crystal, kinds=["dumbell"], sizes=[2])
