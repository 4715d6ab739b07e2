"""Point defects: vacancy formation and migration, self-interstitial formation.

Formation energies in a periodic n×n×n supercell of the conventional cell at the reference
crystal's zero-pressure lattice constant, atoms relaxed at fixed cell (L-BFGS):

    E_f(vacancy)      = E(N−1) − (N−1) ε₀,      E_f(interstitial) = E(N+1) − (N+1) ε₀

with ε₀ the energy per atom of the perfect crystal. Migration: climbing-image NEB
(``ase.mep.NEB``, G. Henkelman et al., J. Chem. Phys. 113, 9901 (2000)) between the
relaxed vacancy and the relaxed vacancy on a nearest-neighbour site, images started from
the IDPP path; E_m = max(E_image) − E_initial.

Convergence: relaxations (and the NEB) reach ``fmax``; the formation energy changes by
less than ``size_tol`` between the two supercell sizes (the larger one is reported).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from ase import Atoms
from ase.mep import NEB
from ase.optimize import FIRE

from physml.properties.crystal import Crystal
from physml.properties.relax import relax
from physml.properties.result import Check, Result, check_within

# interstitial geometries in units of the cubic lattice constant, relative to a lattice site
# (dumbbells: the site's atom is replaced by two atoms at ±d/2 along the direction)
INTERSTITIALS: dict[str, dict[str, tuple]] = {
    "fcc": {
        "100": ("dumbbell", (1, 0, 0)),
        "110": ("dumbbell", (1, 1, 0)),
        "111": ("dumbbell", (1, 1, 1)),
        "oct": ("site", (0.5, 0.0, 0.0)),
        "tet": ("site", (0.25, 0.25, 0.25)),
        "crowdion": ("site", (0.25, 0.25, 0.0)),
    },
    "bcc": {
        "100": ("dumbbell", (1, 0, 0)),
        "110": ("dumbbell", (1, 1, 0)),
        "111": ("dumbbell", (1, 1, 1)),
        "oct": ("site", (0.5, 0.0, 0.0)),
        "tet": ("site", (0.5, 0.25, 0.0)),
        "crowdion": ("site", (0.25, 0.25, 0.25)),
    },
}


def _centre_site(at: Atoms) -> int:
    c = at.cell.sum(axis=0) / 2
    return int(np.argmin(np.linalg.norm(at.positions - c, axis=1)))


def _sizes(cr: Crystal, sizes: Sequence[int] | None, larger: bool = False) -> list[int]:
    if sizes:
        return list(sizes)
    base = {"fcc": [3, 4], "bcc": [4, 5], "hcp": [4, 5], "diamond": [2, 3]}.get(cr.lattice, [3, 4])
    return [n + 1 for n in base] if larger else base


def add_interstitial(cr: Crystal, at: Atoms, kind: str) -> Atoms:
    """``at`` (a supercell of ``cr``) with an interstitial of ``kind`` (``INTERSTITIALS``) at
    its central site, unrelaxed; dumbbell atoms 0.6 nearest-neighbour distances apart."""
    shape, vec = INTERSTITIALS[cr.lattice][kind]
    i = _centre_site(at)
    p = at.positions[i].copy()
    v = np.asarray(vec, float)
    if shape == "dumbbell":
        u = v / np.linalg.norm(v)
        d = 0.6 * cr.nn_distance
        del at[i]
        at += Atoms([cr.element] * 2, positions=[p + u * d / 2, p - u * d / 2])
    else:
        at += Atoms(cr.element, positions=[p + v * cr.a])
    return at


def _formation(cr: Crystal, build, sizes: Sequence[int], fmax: float, size_tol: float, unit_note: str) -> Result:
    values, checks = [], []
    for n in sizes:
        at = build(cr.supercell(n))
        at.calc = cr.calc
        r = relax(at, fmax=fmax)
        checks.append(Check(f"relaxation {n}x{n}x{n} ({len(at)} atoms) fmax {r.fmax:.2g}", r.converged, r.fmax, fmax))
        values.append(float(at.get_potential_energy()) - len(at) * cr.e_atom)
    if len(values) > 1:
        checks.append(check_within(f"supercell size {sizes[-2]} vs {sizes[-1]}", values[-2], values[-1], abs_=size_tol))
    else:
        checks.append(Check("supercell size convergence (one size only: not checked)", False))
    notes = [unit_note, "relaxed at fixed cell, a = zero-pressure a0; values by size: " + ", ".join(f"{n}: {v:.4f}" for n, v in zip(sizes, values))]
    return Result(values[-1], "eV", checks, notes=notes, data={"sizes": list(sizes), "values": values})


def vacancy_formation(cr: Crystal, sizes: Sequence[int] | None = None, fmax: float = 1e-4, size_tol: float = 0.01) -> Result:
    """E_vac_f (eV): relaxed vacancy formation energy."""

    def build(at: Atoms) -> Atoms:
        del at[_centre_site(at)]
        return at

    return _formation(cr, build, _sizes(cr, sizes), fmax, size_tol, "E_f = E(N-1) - (N-1) e0")


def interstitial_formation(cr: Crystal, kinds: Sequence[str] | None = None, sizes: Sequence[int] | None = None, fmax: float = 1e-3, size_tol: float = 0.02) -> dict[str, Result]:
    """``E_sia_<kind>`` (eV) for the dumbbells, crowdion, octahedral and tetrahedral
    interstitials of fcc and bcc (``INTERSTITIALS``), and ``E_sia_f``, the lowest of them.
    The relaxed geometry may differ from the starting one (e.g. a bcc crowdion relaxing to
    the ⟨111⟩ dumbbell); the note records the largest displacement of the defect atoms."""
    table = INTERSTITIALS.get(cr.lattice)
    if table is None:
        raise ValueError(f"interstitials are defined for fcc and bcc, not {cr.lattice}")
    kinds = list(kinds or table)
    out: dict[str, Result] = {}
    for kind in kinds:
        if kind not in table:
            raise ValueError(f"unknown {cr.lattice} interstitial {kind!r}; known: {', '.join(table)}")

        def build(at: Atoms, kind=kind) -> Atoms:
            return add_interstitial(cr, at, kind)

        out[f"E_sia_{kind}"] = _formation(cr, build, _sizes(cr, sizes, larger=True), fmax, size_tol, f"{kind} interstitial: E_f = E(N+1) - (N+1) e0")
    best = min(out, key=lambda k: out[k].value)
    r = out[best]
    out["E_sia_f"] = Result(r.value, "eV", list(r.checks), notes=[f"lowest of {', '.join(out)}: {best}"] + r.notes)
    return out


def vacancy_jump(cr: Crystal, n: int) -> tuple[Atoms, Atoms, int]:
    """The end points of a nearest-neighbour vacancy jump in an n×n×n supercell (vacancy at
    the central site, unrelaxed) and the index of the jumping atom in both."""
    perfect = cr.supercell(n)
    v = _centre_site(perfect)
    d = np.linalg.norm(perfect.positions - perfect.positions[v], axis=1)
    d[v] = np.inf
    j = int(np.argmin(d))
    initial = perfect.copy()
    del initial[v]
    final = initial.copy()
    jj = j if j < v else j - 1
    final.positions[jj] = perfect.positions[v]
    return initial, final, jj


def vacancy_migration(cr: Crystal, size: int | None = None, n_images: int = 5, fmax: float = 5e-3, steps: int = 1000) -> Result:
    """E_vac_m (eV): climbing-image NEB barrier for a vacancy jump to a nearest neighbour."""
    n = size or _sizes(cr, None)[0]
    initial, final, _ = vacancy_jump(cr, n)
    checks = []
    for end in (initial, final):
        end.calc = cr.calc
        r = relax(end, fmax=fmax / 5)
        checks.append(Check(f"end-point relaxation fmax {r.fmax:.2g}", r.converged, r.fmax, fmax / 5))
    images = [initial] + [initial.copy() for _ in range(n_images)] + [final]
    for im in images[1:-1]:
        im.calc = cr.calc
    neb = NEB(images, climb=True, method="improvedtangent", allow_shared_calculator=True)
    neb.interpolate(method="idpp", mic=True)
    opt = FIRE(neb, logfile=None)
    ok = bool(opt.run(fmax=fmax, steps=steps))
    checks.append(Check(f"climbing-image NEB ({n_images} images) reached fmax", ok, None, fmax))
    e = np.array([im.get_potential_energy() for im in images])
    barrier = float(e.max() - e[0])
    checks.append(Check("barrier at an interior image (climbing image)", bool(0 < int(np.argmax(e)) < len(e) - 1)))
    return Result(barrier, "eV", checks, notes=[f"{n}x{n}x{n} supercell ({len(initial)} atoms), nearest-neighbour jump, size convergence not checked"], data={"path_energy": (e - e[0]).tolist()})
