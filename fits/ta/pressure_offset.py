"""Estimate the isotropic stress offset of the SNAP-2015 Ta DFT data (``data.pressure_offset``).

The pressure of the DFT stress tensor, P_σ = −tr(σ)/3, is compared with the pressure of the
DFT energies, −dE/dV, group by group (no potential involved):

* Elastic_BCC, Elastic_FCC: small homogeneous strains ε (Green–Lagrange, from each cell and
  the group's least-strained cell). A quadratic fit E = E0 + V0 s·ε + ½ V0 ε·C·ε gives the
  zero-strain stress s from the energies; a linear fit σ = s' + C ε gives it from the
  stresses; δ = (tr s' − tr s)/3.
* Volume_BCC, Volume_FCC, Volume_A15 (isotropic scalings): −dE/dV from three-point finite
  differences over the series, P_σ = a·(−dE/dV) + b fitted over |P| < 100 GPa; δ = −b.

δ > 0 means the stress pressure lies below the energy pressure. Usage:
``PHYSML_DATA_DIR=../shared/data python fits/ta/pressure_offset.py``
"""

from __future__ import annotations

import numpy as np
from ase.units import GPa

from physml.data import load_dataset


def _voigt_green_lagrange(F: np.ndarray) -> np.ndarray:
    e = 0.5 * (F.T @ F - np.eye(3))
    return np.array([e[0, 0], e[1, 1], e[2, 2], 2 * e[1, 2], 2 * e[0, 2], 2 * e[0, 1]])


def _voigt(s: np.ndarray) -> np.ndarray:
    return np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])


def elastic_offset(items) -> float:
    cells = np.array([s.atoms.cell.array for s in items])
    deviation = [np.abs(c - np.diag(np.diag(c))).sum() + np.ptp(np.diag(c)) for c in cells]
    ref = cells[int(np.argmin(deviation))]
    V0 = abs(np.linalg.det(ref))
    # rows of the cell are lattice vectors: cell = ref @ F^T
    eps = np.array([_voigt_green_lagrange(np.linalg.solve(ref, c).T) for c in cells])
    E = np.array([s.energy for s in items])
    cols = [np.ones(len(items))] + [V0 * eps[:, i] for i in range(6)]
    cols += [V0 * eps[:, i] * eps[:, j] * (0.5 if i == j else 1.0) for i in range(6) for j in range(i, 6)]
    coef = np.linalg.lstsq(np.array(cols).T, E, rcond=None)[0]
    s_energy = coef[1:7]
    S = np.array([_voigt(s.stress) for s in items])
    s_stress = np.linalg.lstsq(np.c_[np.ones(len(items)), eps], S, rcond=None)[0][0]
    return float(s_stress[:3].mean() - s_energy[:3].mean()) / GPa


def volume_offset(items) -> float:
    items = sorted(items, key=lambda s: s.atoms.get_volume() / len(s.atoms))
    V = np.array([s.atoms.get_volume() / len(s.atoms) for s in items])
    E = np.array([s.energy / len(s.atoms) for s in items])
    P = np.array([-np.trace(s.stress) / 3 for s in items]) / GPa
    dEdV = np.gradient(E, V)  # second-order differences on the non-uniform grid
    P_fd = -dEdV / GPa
    keep = (np.abs(P_fd) < 100)[1:-1]
    a, b = np.polyfit(P_fd[1:-1][keep], P[1:-1][keep], 1)
    return float(-b)


def main() -> None:
    ds = load_dataset("Ta-SNAP-2015")
    groups = ds.group_indices()
    rows = []
    for g in ("Elastic_BCC", "Elastic_FCC"):
        rows.append((g, elastic_offset([ds[k] for k in groups[g]])))
    for g in ("Volume_BCC", "Volume_FCC", "Volume_A15"):
        rows.append((g, volume_offset([ds[k] for k in groups[g]])))
    print("| group | δ (GPa) |\n|---|---|")
    for g, d in rows:
        print(f"| {g} | {d:.2f} |")
    print(f"| median | {np.median([d for _, d in rows]):.2f} |")


if __name__ == "__main__":
    main()
