"""Speed of exported potentials in LAMMPS (µs per atom per MD step) next to physml's own.

For each model: fcc Al (or the model's lattice) of about N atoms, NVE MD in LAMMPS for a few
steps after a setup run; the wall time of the timed run ("Loop time") divided by steps and
atoms, with 1 and 2 MPI ranks (domain decomposition). physml's Python-side time is one
energy+forces call on the same cell with a prebuilt neighbour list.

    python benchmarks/bench_lammps.py --cases eam_native eam_plugin pinn_plugin --atoms 32000 --ranks 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from ase.build import bulk

import physml
from physml.export.lammps import export_lammps
from physml.lammps.plugin import build_plugin
from physml.lammps.runner import run_md
from physml.neighbors import neighbor_list

DATA = Path(os.environ.get("PHYSML_DATA_DIR", "../shared/data"))


def pure_nn():
    """Pure neural network on the Al_2020 descriptors and network size (40-16-16-1)."""
    from physml.ml import PhysicsInformed, SiteEnergy
    from physml.potential import Component, Potential

    al = physml.load(DATA / "pinn" / "Al_2020.pinn")
    desc = al.components[0].provider.descriptor
    term = SiteEnergy(["Al"], default=-3.36)
    prov = PhysicsInformed(term.parameter_specs(), 1, desc, hidden=(16, 16), out_scale=0.01, seed=0)
    return Potential(["Al"], [Component(term, prov)])


CASES = {
    # name: (model builder, route, lattice constant)
    "eam_native": (lambda: physml.load(DATA / "potentials" / "Al99.eam.alloy"), "native", 4.05),
    "eam_plugin": (lambda: physml.load(DATA / "potentials" / "Al99.eam.alloy"), "plugin", 4.05),
    "pinn_plugin": (lambda: physml.load(DATA / "pinn" / "Al_2020.pinn"), "plugin", 4.04),
    "nn_plugin": (pure_nn, "plugin", 4.04),
}


def crystal(n_atoms: int, a: float):
    reps = max(1, round((n_atoms / 4) ** (1 / 3)))
    at = bulk("Al", "fcc", a=a, cubic=True) * (reps, reps, reps)
    at.rattle(0.02, seed=0)
    return at


def run_lammps_md(atoms, species, pair_commands, files, steps: int, nprocs: int, preamble=()) -> tuple[float, float]:
    """Wall seconds of `run steps` (after a 2-step setup run) and LAMMPS' CPU use of the
    run (fraction of the wall time the ranks were on a CPU; < 1 on a busy machine)."""
    md = ["velocity all create 300 12345 mom yes rot yes", "fix 1 all nve", "timestep 0.001", "thermo 1000", "run 2", f"run {steps}"]
    out = run_md(atoms, species, pair_commands, md, files=files, nprocs=nprocs, preamble=preamble)
    loops = re.findall(r"Loop time of ([0-9.eE+-]+) on \d+ procs for (\d+) steps", out)
    cpu = re.findall(r"([0-9.]+)% CPU use with", out)
    sec, n = loops[-1]
    assert int(n) == steps
    return float(sec), float(cpu[-1]) / 100.0


def physml_call(pot, atoms) -> tuple[float, float]:
    """Wall and CPU seconds of one energy+forces call with a prebuilt neighbour list."""
    torch.set_num_threads(1)
    batch = pot.batch(atoms)
    nl = neighbor_list(batch, pot.cutoff, full=pot.needs_full_list)
    pot(batch, nl, forces=True, stress=False)  # warm-up
    t, c = time.perf_counter(), time.process_time()
    pot(batch, nl, forces=True, stress=False)
    return time.perf_counter() - t, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", nargs="+", default=list(CASES))
    ap.add_argument("--atoms", type=int, default=32000)
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=0, help="MD steps (default: about 20 s of work per case)")
    ap.add_argument("--physml", action="store_true", help="also time physml's Python-side call")
    ap.add_argument("--no-lammps", action="store_true", help="only physml's Python-side call")
    args = ap.parse_args()
    plugin = None
    rows = []
    for name in args.cases:
        build, route, a = CASES[name]
        pot = build()
        atoms = crystal(args.atoms, a)
        with tempfile.TemporaryDirectory() as out:
            res = export_lammps(pot, out, route=route)
            pre = []
            cmds = list(res.pair_commands)
            if route == "plugin":
                plugin = plugin or build_plugin()
                pre = [f"plugin load {plugin}"]
                cmds = [c for c in cmds if not c.startswith("plugin load")]
            row = {"case": name, "atoms": len(atoms)}
            steps = args.steps
            for nprocs in [] if args.no_lammps else args.ranks:
                if not steps:  # calibrate on one step
                    t1, _ = run_lammps_md(atoms, pot.species, cmds, res.files, 1, nprocs, pre)
                    steps = int(max(2, min(500, 20.0 / max(t1, 1e-6))))
                sec, cpu = run_lammps_md(atoms, pot.species, cmds, res.files, steps, nprocs, pre)
                row[f"lammps_{nprocs}rank_us_per_atom_step"] = 1e6 * sec / (steps * len(atoms))
                row[f"lammps_{nprocs}rank_cpu_use"] = cpu
                row["steps"] = steps
                print(json.dumps(row), flush=True)
        if args.physml or args.no_lammps:
            wall, cpu = physml_call(pot, atoms)
            row["physml_us_per_atom_call"] = 1e6 * wall / len(atoms)
            row["physml_cpu_us_per_atom_call"] = 1e6 * cpu / len(atoms)
        if not args.no_lammps and 1 in args.ranks and 2 in args.ranks:
            row["speedup_1_to_2"] = row["lammps_1rank_us_per_atom_step"] / row["lammps_2rank_us_per_atom_step"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| case | atoms | LAMMPS 1 rank (µs/atom-step, CPU use) | LAMMPS 2 ranks | speed-up | physml Python (µs/atom-call, wall / CPU) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['atoms']} | {r.get('lammps_1rank_us_per_atom_step', np.nan):.3g} ({r.get('lammps_1rank_cpu_use', np.nan):.0%}) | "
              f"{r.get('lammps_2rank_us_per_atom_step', np.nan):.3g} ({r.get('lammps_2rank_cpu_use', np.nan):.0%}) | {r.get('speedup_1_to_2', np.nan):.2f} | "
              f"{r.get('physml_us_per_atom_call', np.nan):.3g} / {r.get('physml_cpu_us_per_atom_call', np.nan):.3g} |")


if __name__ == "__main__":
    main()
