"""Energy conservation of exported potentials in LAMMPS: 10 ps NVE (velocity Verlet, 1 fs).

A hot fcc Al crystal (velocities for 2T, equilibrating near T by equipartition) runs NVE in
LAMMPS with each route; the total energy is sampled every 10 steps. Reported: the drift (slope
of a linear fit of E_total per atom, meV/atom/ps), the largest deviation from the initial
total energy (meV/atom) and the mean temperature.

    python benchmarks/bench_lammps_nve.py --cases eam_native table_native eam_plugin pinn_plugin --ps 10
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from ase.build import bulk

import physml
from physml.export.lammps import export_lammps
from physml.lammps.plugin import build_plugin
from physml.lammps.runner import run_md

DATA = Path(os.environ.get("PHYSML_DATA_DIR", "../shared/data"))


def eam_with_morse():
    """Al99 EAM plus a weak Morse pair term: route native writes eam/alloy + pair_style table."""
    from physml.empirical import Morse
    from physml.potential import Component, Potential

    base = physml.load(DATA / "potentials" / "Al99.eam.alloy")
    m = Component(Morse(["Al"], cutoff=6.0))
    m.provider.set_values({"D": 0.01, "r0": 2.9, "alpha": 1.3})
    return Potential(["Al"], [base.components[0], m])


CASES = {
    "eam_native": (lambda: physml.load(DATA / "potentials" / "Al99.eam.alloy"), "native", 4.05),
    "table_native": (eam_with_morse, "native", 4.05),
    "eam_plugin": (lambda: physml.load(DATA / "potentials" / "Al99.eam.alloy"), "plugin", 4.05),
    "pinn_plugin": (lambda: physml.load(DATA / "pinn" / "Al_2020.pinn"), "plugin", 4.04),
}


def nve(atoms, species, pair_commands, files, steps: int, temperature: float, nprocs: int, preamble=()) -> np.ndarray:
    """(step, etotal, temp) every 10 steps of an NVE run."""
    md = [
        f"velocity all create {2 * temperature} 4928459 mom yes rot yes dist gaussian", "fix 1 all nve", "timestep 0.001",
        "thermo_style custom step etotal temp", "thermo_modify format float %.15g", "thermo 10", f"run {steps}",
    ]
    rows = []
    for line in run_md(atoms, species, pair_commands, md, files=files, nprocs=nprocs, preamble=preamble).splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].isdigit():
            rows.append([float(x) for x in parts])
    return np.array(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", nargs="+", default=list(CASES))
    ap.add_argument("--ps", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=4, help="cubic fcc cells per edge (4: 256 atoms)")
    ap.add_argument("--temperature", type=float, default=600.0)
    ap.add_argument("--ranks", type=int, default=1)
    args = ap.parse_args()
    steps = int(round(args.ps * 1000))
    out = []
    for name in args.cases:
        build, route, a = CASES[name]
        pot = build()
        atoms = bulk("Al", "fcc", a=a, cubic=True) * ((args.repeat,) * 3)
        with tempfile.TemporaryDirectory() as d:
            res = export_lammps(pot, d, route=route)
            cmds, pre = list(res.pair_commands), []
            if route == "plugin":
                pre = [f"plugin load {build_plugin()}"]
                cmds = [c for c in cmds if not c.startswith("plugin load")]
            data = nve(atoms, pot.species, cmds, res.files, steps, args.temperature, args.ranks, pre)
        t_ps = data[:, 0] / 1000.0
        e = data[:, 1] / len(atoms) * 1000.0  # meV/atom
        slope = float(np.polyfit(t_ps, e, 1)[0])
        row = {
            "case": name, "atoms": len(atoms), "ps": args.ps, "drift_meV_per_atom_per_ps": slope,
            "max_dev_meV_per_atom": float(np.abs(e - e[0]).max()), "mean_T": float(data[len(data) // 5 :, 2].mean()),
            "notes": res.notes,
        }
        out.append(row)
        print(json.dumps(row), flush=True)
    print("\n| case | atoms | ps | drift (meV/atom/ps) | max |E−E0| (meV/atom) | mean T (K) |")
    print("|---|---|---|---|---|---|")
    for r in out:
        print(f"| {r['case']} | {r['atoms']} | {r['ps']:g} | {r['drift_meV_per_atom_per_ps']:.2e} | {r['max_dev_meV_per_atom']:.3f} | {r['mean_T']:.0f} |")


if __name__ == "__main__":
    main()
