"""The optional torch.compile'd kernels (PHYSML_COMPILE=1) give the eager numbers."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

import physml
import physml.compile as pc


@pytest.fixture
def compiled():
    old = pc.enabled()
    pc.enable(True)
    yield
    pc.enable(old)


def test_compiled_eam_equals_eager(potentials_dir, compiled):
    at = bulk("Cu", "fcc", a=3.6, cubic=True) * (3, 3, 3)
    at.numbers[::3] = 28
    at.rattle(0.1, seed=1)
    for name, elements in (("CuNi.eam.alloy", ["Cu", "Ni"]), ("Al99.eam.alloy", ["Al"])):
        if elements == ["Al"]:
            at = bulk("Al", "fcc", a=4.05, cubic=True) * (3, 3, 3)
            at.rattle(0.1, seed=2)
        pot = physml.load(potentials_dir / name, elements=elements)
        pc.enable(False)
        ref = pot.evaluate(at)[0]
        pc.enable(True)
        got = pot.evaluate(at)[0]
        assert got["energy"] == pytest.approx(ref["energy"], abs=1e-10)
        np.testing.assert_allclose(got["forces"], ref["forces"], atol=1e-10)
        np.testing.assert_allclose(got["stress"], ref["stress"], atol=1e-12)
