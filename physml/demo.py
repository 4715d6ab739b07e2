"""The main job for now: evaluate an imported EAM potential on the shipped demo structures.

Prints, per structure, the number of atoms, energy per atom, max force and pressure, and
timings (neighbour list + energy/forces/stress per structure, and throughput).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

DEMO_FILE = Path(__file__).parent / "data" / "demo" / "al_demo.extxyz"


def default_potential() -> Path:
    d = os.environ.get("PHYSML_DATA_DIR")
    if not d:
        raise FileNotFoundError(
            "set PHYSML_DATA_DIR to the reference-data folder (it holds potentials/Al99.eam.alloy), "
            "or pass --potential FILE"
        )
    p = Path(d) / "potentials" / "Al99.eam.alloy"
    if not p.exists():
        raise FileNotFoundError(f"{p}: not found (PHYSML_DATA_DIR={d})")
    return p


def run(potential: str | None = None, structures: str | None = None) -> int:
    import ase.io
    import torch

    import physml

    pot_path = Path(potential) if potential else default_potential()
    t0 = time.perf_counter()
    pot = physml.load(pot_path)
    t_load = time.perf_counter() - t0
    frames = ase.io.read(structures or DEMO_FILE, index=":")
    print(f"potential: {pot_path} ({pot.species}, cutoff {pot.cutoff:.3f} Å), loaded in {t_load * 1e3:.1f} ms")
    print(f"structures: {structures or DEMO_FILE} ({len(frames)} frames), torch {torch.__version__}, float64\n")
    print(f"{'#':>3} {'name':28s} {'atoms':>6} {'E/atom (eV)':>14} {'max|F| (eV/Å)':>14} {'P (GPa)':>10} {'time (ms)':>10}")
    total_atoms, total_time = 0, 0.0
    for k, atoms in enumerate(frames):
        calc = physml.Calculator(pot, skin=0.0)
        atoms.calc = calc
        t = time.perf_counter()
        e = atoms.get_potential_energy()
        f = atoms.get_forces()
        p = -atoms.get_stress()[:3].mean() if atoms.pbc.all() else float("nan")
        dt = time.perf_counter() - t
        total_atoms += len(atoms)
        total_time += dt
        name = str(atoms.info.get("name", atoms.info.get("config_type", atoms.get_chemical_formula())))[:28]
        print(f"{k:3d} {name:28s} {len(atoms):6d} {e / len(atoms):14.6f} {np.abs(f).max():14.6f} {p * 160.21766208:10.3f} {dt * 1e3:10.2f}")
    print(f"\n{total_atoms} atoms in {total_time:.3f} s: {total_time / max(total_atoms, 1) * 1e6:.1f} µs/atom (energy+forces+stress, incl. neighbour lists)")
    return 0
