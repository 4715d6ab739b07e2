"""Corrections of systematic errors in DFT labels, applied when a dataset is loaded for a fit.

**Pressure offset.** Plane-wave DFT stresses computed with a basis set that is not
converged carry an isotropic error, the Pulay stress: the pressure from the stress tensor,
P = −tr(σ)/3, differs from the pressure of the energies, −dE/dV, by a nearly constant
amount (G. P. Francis and M. C. Payne, J. Phys.: Condens. Matter 2, 4395 (1990)). A model
fitted to energies and such stresses at once is asked for two incompatible equations of
state. With the offset δ (GPa) by which the stress pressure lies *below* the energy
pressure, the corrected stress is

    σ' = σ − δ·I          (ASE sign: σ = (1/V) ∂E/∂ε, P = −tr(σ)/3, so P' = P + δ)

Only the isotropic part changes; shear components and the elastic response dσ/dε are
untouched. For the SNAP-2015 Ta data δ ≈ 0.4–1.1 GPa (data README, anomaly 6:
intercepts of P_stress against −dE/dV over the Volume groups, and the zero-strain stress
of the Elastic groups from their stresses against that from their energies).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from ase.units import GPa

from physml.data.structures import Dataset


def shift_pressure(dataset: Dataset, offset_gpa: float) -> Dataset:
    """A copy of ``dataset`` with every stress label replaced by σ − δ·I (δ = ``offset_gpa``
    in GPa, added to the pressure); structures without a stress label are unchanged, and
    the input dataset is not modified."""
    offset = float(offset_gpa)
    if not math.isfinite(offset):
        raise ValueError(f"pressure offset must be a finite number of GPa, got {offset_gpa!r}")
    if offset == 0.0:
        return dataset
    shift = offset * GPa * np.eye(3)
    items = [s if s.stress is None else replace(s, stress=np.asarray(s.stress, dtype=np.float64) - shift) for s in dataset.items]
    return Dataset(items, dataset.name)
