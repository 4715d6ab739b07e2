"""Per-element reference (isolated-atom) energies: given, or fitted by least squares.

Fitting solves min_e Σ_s (E_s − Σ_el n_{s,el} e_el)² over the structures s with an energy
label (n: composition counts). The fitted e_el absorb the DFT zero of energy, so the
potential learns cohesive/formation energies rather than the arbitrary offset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physml.data.structures import Dataset


@dataclass
class ReferenceFit:
    energies: dict[str, float]
    rmse_per_atom: float  # residual of the linear fit, eV/atom


def composition_matrix(dataset: Dataset, species: list[str]) -> np.ndarray:
    col = {s: k for k, s in enumerate(species)}
    A = np.zeros((len(dataset), len(species)))
    for r, s in enumerate(dataset):
        for sym in s.symbols:
            if sym not in col:
                raise ValueError(f"{s.source}: element {sym} not in {species}")
            A[r, col[sym]] += 1
    return A


def fit_reference_energies(dataset: Dataset, species: list[str] | None = None) -> ReferenceFit:
    species = species or dataset.species
    rows = [k for k, s in enumerate(dataset) if s.energy is not None]
    if not rows:
        raise ValueError("no structure has an energy label; cannot fit reference energies")
    sub = dataset[rows]
    A = composition_matrix(sub, species)
    y = np.array([s.energy for s in sub])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    n = A.sum(axis=1)
    rmse = float(np.sqrt(np.mean(((A @ coef - y) / n) ** 2)))
    return ReferenceFit(dict(zip(species, coef.tolist())), rmse)


def subtract_reference(dataset: Dataset, energies: dict[str, float]) -> Dataset:
    """A copy of the dataset with Σ n_el e_el removed from every energy label."""
    from dataclasses import replace

    out = []
    for s in dataset:
        if s.energy is None:
            out.append(s)
            continue
        missing = set(s.symbols) - set(energies)
        if missing:
            raise ValueError(f"{s.source}: no reference energy for {sorted(missing)}")
        out.append(replace(s, energy=s.energy - sum(energies[x] for x in s.symbols)))
    return Dataset(out, dataset.name)
