"""Phonon frequencies at high-symmetry points (phonopy finite displacements).

Force constants from ``phonopy`` (A. Togo, J. Phys. Condens. Matter 35, 353001 (2023)):
symmetry-reduced displacements of ``displacement`` Å in an n×n×n supercell of the
conventional cell, forces from the calculator; frequencies (THz) at the points below, in
reduced coordinates of the primitive reciprocal lattice. Reported as ``nu_<point>``, the
sorted frequencies at that point (a list). Convergence: the same frequencies from an
(n+1)-supercell agree within ``tol`` THz, and no frequency is imaginary (< −0.05 THz)
at the reported points.
"""

from __future__ import annotations

import numpy as np
from phonopy import Phonopy
from phonopy.phonon.band_structure import get_band_qpoints
from phonopy.structure.atoms import PhonopyAtoms

from physml.properties.crystal import Crystal
from physml.properties.result import Check, Result

POINTS: dict[str, dict[str, tuple[float, float, float]]] = {
    "fcc": {"X": (0.5, 0.0, 0.5), "L": (0.5, 0.5, 0.5), "W": (0.5, 0.25, 0.75)},
    "diamond": {"X": (0.5, 0.0, 0.5), "L": (0.5, 0.5, 0.5)},
    "bcc": {"H": (0.5, -0.5, 0.5), "N": (0.0, 0.0, 0.5), "P": (0.25, 0.25, 0.25)},
    "hcp": {"M": (0.5, 0.0, 0.0), "K": (1 / 3, 1 / 3, 0.0), "A": (0.0, 0.0, 0.5)},
}
PATHS: dict[str, list[str]] = {"fcc": ["G", "X", "W", "L", "G"], "diamond": ["G", "X", "L", "G"], "bcc": ["G", "H", "N", "G", "P", "H"], "hcp": ["G", "M", "K", "G", "A"]}
_PRIMITIVE = {"fcc": "F", "diamond": "F", "bcc": "I", "hcp": None}


def _phonopy(cr: Crystal, n: int, displacement: float) -> Phonopy:
    at = cr.cell()
    unit = PhonopyAtoms(symbols=at.get_chemical_symbols(), cell=at.cell.array, scaled_positions=at.get_scaled_positions())
    ph = Phonopy(unit, supercell_matrix=np.diag([n, n, n]), primitive_matrix=_PRIMITIVE[cr.lattice])
    ph.generate_displacements(distance=displacement)
    forces = []
    from ase import Atoms

    for sc in ph.supercells_with_displacements:
        a = Atoms(sc.symbols, cell=sc.cell, scaled_positions=sc.scaled_positions, pbc=True)
        a.calc = cr.calc
        f = a.get_forces()
        forces.append(f - f.mean(axis=0))
    ph.forces = np.array(forces)
    ph.produce_force_constants()
    return ph


def phonons(cr: Crystal, size: int | None = None, displacement: float = 0.01, tol: float = 0.05, band_points: int = 41) -> dict[str, Result]:
    """``nu_<point>`` (THz) at the lattice's high-symmetry points; the band structure along
    ``PATHS`` is in the results' ``data`` for plotting."""
    if cr.lattice not in POINTS:
        raise ValueError(f"phonon points are defined for {', '.join(POINTS)}, not {cr.lattice}")
    n = size or (4 if cr.lattice in ("fcc", "bcc") else 3)
    pts = POINTS[cr.lattice]
    q = np.array(list(pts.values()))
    freqs = []
    for m in (n, n + 1):
        ph = _phonopy(cr, m, displacement)
        freqs.append(np.sort(np.asarray(ph.run_qpoints(q).frequencies), axis=1))
    coords = {"G": (0.0, 0.0, 0.0), **pts}
    path = [[coords[a] for a in PATHS[cr.lattice]]]
    bands = get_band_qpoints(path, npoints=band_points)
    ph.run_band_structure(bands)
    bs = ph.band_structure
    data = {"labels": PATHS[cr.lattice], "distance": np.concatenate(bs.distances).tolist(), "frequency": np.concatenate(bs.frequencies).tolist()}
    out = {}
    for k, name in enumerate(pts):
        diff = float(np.abs(freqs[1][k] - freqs[0][k]).max())
        checks = [Check(f"supercell {n} vs {n + 1}", diff <= tol, diff, tol), Check("no imaginary frequency", bool(freqs[1][k].min() > -0.05), float(freqs[1][k].min()), -0.05)]
        out[f"nu_{name}"] = Result(freqs[1][k].tolist(), "THz", checks, notes=[f"phonopy, {n + 1}x{n + 1}x{n + 1} conventional supercell, displacement {displacement} Å, q = {pts[name]} (primitive reciprocal)"], data=data)
    return out
