"""The coexistence protocol of physml.properties.melting run in LAMMPS (cross-check of T_m).

    OMP_NUM_THREADS=1 nice -n 10 python validation/reference/lammps_melting.py \
        ../shared/data/potentials/Al99.eam.alloy Al fcc 4.05 1040 --size 8 8 16 --run-ps 15 --json validation/results/al99_tm_lammps.json

The same steps and parameters as :class:`physml.properties.melting.Coexistence`, with
LAMMPS doing the dynamics: ``fix nve`` + ``fix temp/berendsen`` (τ_T = 0.1 ps) + ``fix
press/berendsen aniso 0`` (τ_P = 1 ps, modulus = B) for the solid equilibration and the
runs at each T; ``fix langevin`` (damping 0.1 ps) on the upper half, with the lower half
held, for melting at 3 t_guess and cooling back to t_guess. Snapshots of every run are read
back and analysed by the same code as physml's own runs (order parameter, threshold,
interface velocity, T_m fit), so any difference comes from the dynamics alone. The lattice
constant is LAMMPS' own zero-pressure value (box/relax).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ase.io
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lammps_properties import Lammps, elastic, equilibrium  # noqa: E402
from physml.lammps.runner import lammps_env, lmp_executable  # noqa: E402
from physml.properties.melting import Coexistence, estimate_tm, interface_velocity  # noqa: E402
from physml.properties.order import order_parameter  # noqa: E402


def _steps(ps: float, dt: float) -> int:
    return max(1, int(round(ps * 1000.0 / dt)))


def run(potential: str, element: str, lattice: str, a_guess: float, t_guess: float, s: Coexistence, pair_style: str = "eam/alloy", workdir: Path | None = None) -> dict:
    lmp = Lammps(potential, element, pair_style)
    eq = equilibrium(lmp, lattice, a_guess)
    B = elastic(lmp, lattice, eq["a0"])["B"]
    nx, ny, nz = s.size
    dt = s.md.dt / 1000.0  # ps
    temps = list(s.temperatures or [t_guess * f for f in s.window])
    berendsen = lambda T: f"fix tb all temp/berendsen {T} {T} {s.md.taut / 1000}\nfix pb all press/berendsen aniso 0 0 {s.md.taup / 1000} modulus {B * 1e4}"  # noqa: E731
    every = _steps(s.sample_ps, s.md.dt)
    lines = [
        lmp.header(), f"lattice {lattice} {eq['a0']!r}", f"region box block 0 {nx} 0 {ny} 0 {nz}", "create_box 1 box", "create_atoms 1 box", lmp.setup(),
        f"timestep {dt}", f"velocity all create {2 * t_guess} {s.md.seed + 12345} mom yes rot no dist gaussian",
        "fix int all nve", berendsen(t_guess), f"run {_steps(s.prep_ps, s.md.dt)}", "unfix tb", "unfix pb", "unfix int",
        "variable zh equal (zlo+zhi)/2", "variable zhalf equal ${zh}", "region low block INF INF INF INF INF ${zhalf} units box",
        "group lower region low", "group upper subtract all lower", "velocity lower set 0 0 0", "fix int upper nve",
        f"fix lang upper langevin {s.melt_factor * t_guess} {s.melt_factor * t_guess} 0.1 {s.md.seed + 777}", f"run {_steps(s.melt_ps, s.md.dt)}", "unfix lang",
        f"fix lang upper langevin {t_guess} {t_guess} 0.1 {s.md.seed + 778}", f"run {_steps(s.cool_ps, s.md.dt)}", "unfix lang", "unfix int",
        f"velocity lower create {t_guess} {s.md.seed + 999} mom no rot no dist gaussian",
        "write_dump all custom start.dump id type x y z modify sort id", "write_restart start.restart",
    ]
    for k, T in enumerate(temps):
        lines += [
            "clear", "read_restart start.restart", lmp.setup(), f"timestep {dt}", f"velocity all scale {T}",
            "fix int all nve", berendsen(T), f"dump d all custom {every} run{k}.dump id type x y z", "dump_modify d sort id",
            f"run {_steps(s.run_ps, s.md.dt)}", "undump d",
        ]
    tmp = Path(tempfile.mkdtemp(prefix="physml-lmpmelt-", dir=workdir))
    shutil.copy(lmp.potential, tmp / lmp.potential.name)
    (tmp / "in.lmp").write_text("log log.lammps\n" + "\n".join(lines) + "\n")
    t0 = time.time()
    r = subprocess.run([lmp_executable(), "-in", "in.lmp", "-screen", "none", "-nocite"], cwd=tmp, capture_output=True, text=True, env=lammps_env())
    if r.returncode != 0:
        raise RuntimeError(f"LAMMPS failed in {tmp}:\n{(tmp / 'log.lammps').read_text()[-3000:]}")
    md_seconds = time.time() - t0
    n_cell = {"fcc": 4, "bcc": 2}[lattice]
    start = ase.io.read(tmp / "start.dump", format="lammps-dump-text")
    psi = order_parameter(start, start.cell.lengths()[0] / nx, lattice)
    lower = start.get_scaled_positions()[:, 2] < 0.5
    thr = float(0.5 * (np.median(psi[lower]) + np.median(psi[~lower])))
    runs = []
    for k, T in enumerate(temps):
        frames = ase.io.read(tmp / f"run{k}.dump", index=":", format="lammps-dump-text")
        ns, a, area = [], [], []
        for f in frames:
            ak = f.cell.lengths()[0] / nx
            ns.append(int((order_parameter(f, ak, lattice) > thr).sum()))
            a.append(ak)
            area.append(float(np.linalg.norm(np.cross(f.cell[0], f.cell[1]))))
        t = np.arange(len(frames)) * every * dt
        runs.append(interface_velocity(T, t, np.array(ns, float), np.array(a), np.array(area), len(start), n_cell, s.skip_ps))
    tm, tm_err, checks = estimate_tm(runs, s.rel_tol)
    shutil.rmtree(tmp, ignore_errors=True)
    return {"T_m": tm, "error": tm_err, "converged": all(c.passed for c in checks), "checks": [c.to_json() for c in checks], "md_seconds": md_seconds, "a0": eq["a0"], "B": B,
            "threshold": thr, "natoms": len(start), "runs": runs}


def main() -> int:
    from melting_physml import arguments

    p = arguments()
    p.add_argument("--temperatures", type=float, nargs="+")
    a = p.parse_args()
    s = Coexistence(size=tuple(a.size), run_ps=a.run_ps, window=tuple(a.window), temperatures=a.temperatures)
    out = run(a.potential, a.element, a.lattice, a.a_guess, a.t_guess, s)
    out["settings"] = {"size": a.size, "run_ps": a.run_ps, "window": a.window, "t_guess": a.t_guess, "dt": s.md.dt, "prep_ps": s.prep_ps, "melt_ps": s.melt_ps, "cool_ps": s.cool_ps, "skip_ps": s.skip_ps}
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(out, indent=1))
    print(f"T_m = {out['T_m']:.1f} ± {out['error']:.1f} K; velocities " + ", ".join(f"{r['T']:.0f}: {r['v']:+.3f}" for r in out["runs"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
