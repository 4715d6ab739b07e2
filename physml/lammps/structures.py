"""The structures on which exported potentials are compared with physml in LAMMPS.

:func:`verification_set` returns a perturbed (and sheared) crystal, a crystal with a
vacancy, a free surface (periodic slab with vacuum) and a hot-liquid snapshot, for one or
several species (atoms of a crystal get random species; the liquid is a random dense
packing at 1.1 times the crystal's volume). Built with ASE; seeded, so every call gives the same
structures.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from ase import Atoms
from ase.build import bulk, surface
from ase.data import atomic_numbers


def _assign(atoms: Atoms, species: Sequence[str], rng: np.random.Generator) -> Atoms:
    if len(species) > 1:
        z = np.array([atomic_numbers[s] for s in species])
        atoms.numbers = z[rng.integers(0, len(z), len(atoms))]
        atoms.numbers[: len(z)] = z  # every species present
    return atoms


def random_packing(n: int, volume: float, min_distance: float, rng: np.random.Generator) -> np.ndarray:
    """Positions of ``n`` points in a periodic cube of ``volume`` with no two closer than
    ``min_distance`` (random sequential addition; a liquid-like, fully disordered
    configuration). The loop runs over insertion attempts of a small cell."""
    L = volume ** (1.0 / 3.0)
    pts = np.zeros((0, 3))
    for _ in range(200 * n):
        if len(pts) == n:
            break
        p = rng.random(3) * L
        d = pts - p
        d -= L * np.round(d / L)
        if len(pts) == 0 or np.min(np.einsum("ij,ij->i", d, d)) >= min_distance**2:
            pts = np.vstack([pts, p])
    if len(pts) < n:
        raise ValueError(f"could not pack {n} points at distance {min_distance} Å in {volume:.1f} Å³")
    return pts


def verification_set(
    species: Sequence[str],
    lattice: str = "fcc",
    a: float = 4.05,
    repeat: int = 3,
    seed: int = 0,
) -> dict[str, Atoms]:
    """{"crystal", "vacancy", "surface", "liquid"} for ``species`` on ``lattice`` (ASE
    ``bulk`` name, cubic cell, lattice constant ``a`` Å)."""
    rng = np.random.default_rng(seed)
    base = bulk(species[0], lattice, a=a, cubic=True)
    crystal = _assign(base * (repeat, repeat, repeat), species, rng)
    crystal.set_cell(crystal.cell.array @ (np.eye(3) + np.array([[0.01, 0.02, 0.0], [0.0, -0.01, 0.015], [0.0, 0.0, 0.005]])), scale_atoms=True)
    crystal.rattle(0.1, seed=seed + 1)
    vacancy = _assign(base * (repeat, repeat, repeat), species, rng)
    del vacancy[len(vacancy) // 2]
    vacancy.rattle(0.03, seed=seed + 2)
    miller = (1, 1, 1) if lattice == "fcc" else (1, 1, 0) if lattice == "bcc" else (1, 0, 0)
    slab = surface(bulk(species[0], lattice, a=a), miller, 3 * repeat, vacuum=8.0, periodic=True) * (2, 2, 1)
    slab = _assign(slab, species, rng)
    slab.rattle(0.05, seed=seed + 3)
    n = len(crystal)
    nn = min(np.linalg.norm(v) for v in bulk(species[0], lattice, a=a).cell) if lattice != "diamond" else a * np.sqrt(3) / 4
    volume = 1.1 * crystal.get_volume()  # a liquid is ~10 % less dense than its crystal
    pts = random_packing(n, volume, 0.72 * nn, rng)
    L = volume ** (1.0 / 3.0)
    liquid = _assign(Atoms(f"{species[0]}{n}", positions=pts, cell=[L, L, L], pbc=True), species, rng)
    return {"crystal": crystal, "vacancy": vacancy, "surface": slab, "liquid": liquid}
