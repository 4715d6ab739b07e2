"""Physics checks for every EAM form (tabulated and analytic, one and two species)."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

import physml
from physml.empirical import AnalyticEAM
from physml.potential import Component, Potential
from tests import physics_checks as pc

MISHIN_VALUES = {
    "phi_E1": [[0.25, 0.28], [0.28, 0.31]],
    "phi_r1": [[2.6, 2.55], [2.55, 2.5]],
    "phi_a1": [[1.4, 1.45], [1.45, 1.5]],
    "phi_E2": [[0.02, 0.01], [0.01, 0.03]],
    "phi_delta": [[0.001, 0.0], [0.0, -0.001]],
    "rho_a": [[1.2, 0.9], [1.2, 0.9]],
    "rho_b1": [[0.4, 0.5], [0.4, 0.5]],
    "rho_b2": [[1.3, 1.6], [1.3, 1.6]],
    "F_F0": [-2.8, -3.1],
    "F_F2": [0.9, 1.1],
    "F_q1": [-0.05, 0.02],
    "F_q2": [0.01, 0.03],
    "F_rho0": [1.5, 1.7],
}
FS_VALUES = {
    "phi_c": [[3.3, 3.4], [3.4, 3.45]],
    "phi_c0": [[1.2, 1.0], [1.0, 0.8]],
    "phi_c1": [[-0.3, -0.2], [-0.2, -0.1]],
    "phi_c2": [[0.02, 0.01], [0.01, 0.015]],
    "rho_d": [[3.6, 3.7], [3.6, 3.7]],
    "rho_beta": [[0.3, 0.1], [0.3, 0.1]],
    "F_A": [1.4, 1.8],
}


def analytic(family: str, values: dict) -> Potential:
    cutoff = 5.0 if family == "mishin" else 4.0
    t = AnalyticEAM(["Cu", "Ni"], family=family, cutoff=cutoff, smoothing=1.0)
    pot = Potential(["Cu", "Ni"], [Component(t)])
    pot.components[0].provider.set_values(values)
    return pot


def alloy_crystal(n=2, seed=0):
    return pc.strained_alloy(("Cu", "Ni"), 3.6, n, seed)


POTS = {
    "mishin": lambda d: analytic("mishin", MISHIN_VALUES),
    "finnis_sinclair": lambda d: analytic("finnis_sinclair", FS_VALUES),
    "setfl_CuNi": lambda d: physml.load(d / "potentials" / "CuNi.eam.alloy"),
}


@pytest.fixture(params=sorted(POTS))
def pot(request):
    import os
    from pathlib import Path

    if request.param.startswith("setfl"):
        d = os.environ.get("PHYSML_DATA_DIR")
        if not d:
            pytest.skip("PHYSML_DATA_DIR not set")
        return POTS[request.param](Path(d))
    return POTS[request.param](None)


def test_fd_forces_and_stress(pot):
    at = alloy_crystal()
    pc.check_forces_fd(pot, at)
    pc.check_stress_fd(pot, at)


def test_invariances(pot):
    pc.check_invariances(pot, alloy_crystal(seed=3))


def test_batch_and_small_cells(pot):
    pc.check_batch_consistency(pot, [alloy_crystal(2, 1), alloy_crystal(1, 2), bulk("Ni", "fcc", a=3.52)])
    prim = bulk("Ni", "fcc", a=3.52)
    e1 = pot.evaluate(prim)[0]["energy"]
    big = prim * (6, 6, 6)
    assert abs(pot.evaluate(big)[0]["energy"] / len(big) - e1) < 1e-10
    cube = bulk("Cu", "fcc", a=3.6, cubic=True)  # 4 atoms, cell < cutoff
    assert abs(pot.evaluate(cube)[0]["energy"] / 4 - pot.evaluate(cube * (4, 4, 4))[0]["energy"] / 256) < 1e-10


def test_cutoff_continuity(pot):
    if pot.components[0].term.kind == "eam_tabulated":
        pytest.skip("a tabulated file's behaviour at its cutoff is the file's (CuNi.eam.alloy has a 1e-2 eV/Å force step there, in LAMMPS too)")
    pc.check_cutoff_smoothness(pot, ("Cu", "Ni"), pot.cutoff, tol=1e-8)


def test_model_round_trip(pot, tmp_path):
    physml.save(pot, tmp_path / "m")
    back = physml.load(tmp_path / "m")
    at = alloy_crystal()
    a, b = pot.evaluate(at)[0], back.evaluate(at)[0]
    assert a["energy"] == b["energy"]
    np.testing.assert_array_equal(a["forces"], b["forces"])


def test_chunked_inference_equals_full(pot):
    from physml.neighbors import neighbor_list

    at = alloy_crystal(n=3, seed=4)
    b = pot.batch(at)
    nl = neighbor_list(b, pot.cutoff, full=True)
    ref = pot(b, nlist=nl)
    pot.chunk_atoms = 7
    got = pot(b, nlist=nl)
    for k in ("energy", "energies", "forces", "stress"):
        assert np.abs((got[k] - ref[k]).detach().numpy()).max() < 1e-10, k
