"""Reference values of a LAMMPS potential computed by LAMMPS itself, for checking the
property calculators of physml.properties. Run by hand:

    python validation/reference/lammps_properties.py POTENTIAL ELEMENT LATTICE A_GUESS [--pair-style eam/alloy] [--json OUT]

Every structure is built by LAMMPS (``lattice``/``create_atoms``, oriented lattices for
slabs and faults) and relaxed by LAMMPS' minimiser, independently of the physml builders:

| quantity | LAMMPS protocol |
|---|---|
| a0, E_coh | 4×4×4 cubic cells, ``fix box/relax iso 0`` + CG ``minimize 0 1e-12``, twice; E_coh = E(free atom) − E/N |
| C11, C12, C44, B | ±``strain`` (1e-3) of the relaxed cell (``change_box … remap``, triclinic box for shears), atoms minimised, C_ij = −Δp_i / (2 ε_j); B = (C11 + 2 C12)/3 |
| E_vac_f | n×n×n cells at a0, one atom deleted, atoms minimised at fixed box; E_f = E(N−1) − (N−1) E/N |
| γ(100), γ(110), γ(111) | oriented slab (≥ ``slab`` Å thick, vacuum 20 Å, periodic), atoms minimised; γ = (E − N ε₀)/(2A) |
| γ_isf (fcc) | (111) slab, x = [11-2]; upper half displaced by ±a/√6 along x (the lower of the two), atoms minimised along z only (``fix setforce 0 0 NULL``); γ = (E_fault − E_0)/A |
| compound (:func:`relaxed_volume`) | a structure given as ASE atoms, ``fix box/relax iso 0`` + CG, twice: V0 and E0 per atom |
| any defect (:func:`relaxed_energy`) | a structure given as ASE atoms (``read_data``), atoms minimised at fixed box, chosen atoms held (``fix setforce 0 0 0``): interstitial formation energies, and the vacancy-jump saddle (jumping atom held at the midpoint, the rest relaxed: a saddle by inversion symmetry) |
| a(T) (:func:`npt_lattice`) | ``fix nve`` + ``temp/berendsen`` + ``press/berendsen aniso 0``, velocities at 2T, equilibration, then block averages of the lattice constant (``fix ave/time``) |
| liquid (:func:`liquid`) | the same thermostat/barostat: melted at ``melt_T``, equilibrated at T; ``compute msd`` (D = slope/6) and ``compute rdf`` averaged over the last frames |
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from typing import Sequence

import ase.io
import numpy as np
from ase import Atoms
from ase.data import atomic_masses, atomic_numbers

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from physml.lammps.runner import lammps_env, lmp_executable  # noqa: E402

EV_A2_TO_J_M2 = 16.021766339999996
BAR_TO_GPA = 1e-4

# surface orientations (x, y, z) and the repeat length along each axis in units of a
ORIENT = {
    "100": ("1 0 0", "0 1 0", "0 0 1"),
    "110": ("0 0 1", "1 -1 0", "1 1 0"),
    "111": ("1 -1 0", "1 1 -2", "1 1 1"),
    "isf": ("1 1 -2", "-1 1 0", "1 1 1"),
}
PERIOD = {
    "fcc": {"1 0 0": 1.0, "0 1 0": 1.0, "0 0 1": 1.0, "1 -1 0": 1 / math.sqrt(2), "-1 1 0": 1 / math.sqrt(2), "1 1 0": 1 / math.sqrt(2), "1 1 -2": math.sqrt(6) / 2, "1 1 1": math.sqrt(3)},
    "bcc": {"1 0 0": 1.0, "0 1 0": 1.0, "0 0 1": 1.0, "1 -1 0": math.sqrt(2), "-1 1 0": math.sqrt(2), "1 1 0": math.sqrt(2), "1 1 -2": math.sqrt(6), "1 1 1": math.sqrt(3) / 2},
}
MIN = "min_style cg\nminimize 0 1e-12 20000 200000"


class Lammps:
    """Runs LAMMPS input snippets and returns the values they ``print`` as ``RESULT name value``."""

    def __init__(self, potential: str, element: str | Sequence[str], pair_style: str = "eam/alloy"):
        self.potential = Path(potential).resolve()
        self.elements = [element] if isinstance(element, str) else list(element)
        self.element = self.elements[0]
        self.pair = f"pair_style {pair_style}\npair_coeff * * {self.potential.name} {' '.join(self.elements)}"
        self.mass = float(atomic_masses[atomic_numbers[self.element]])

    def header(self, boundary: str = "p p p") -> str:
        return f"units metal\natom_style atomic\natom_modify map array\nboundary {boundary}\n"

    def setup(self) -> str:
        masses = "".join(f"mass {k} {atomic_masses[atomic_numbers[el]]}\n" for k, el in enumerate(self.elements, 1))
        return f"{masses}{self.pair}\nneighbor 1.0 bin\nthermo_modify format float %.17g\n"

    def run(self, body: str) -> dict[str, float]:
        return self.run_with_files(body)[0]

    def run_with_files(self, body: str, files: Sequence[str] = (), atoms: Atoms | None = None) -> tuple[dict[str, float], dict[str, str]]:
        """Run ``body``; also return the text of the output ``files`` it wrote. ``atoms``
        is written to ``structure.data`` (``read_data structure.data`` in ``body``)."""
        tmp = Path(tempfile.mkdtemp(prefix="physml-lmpref-"))
        try:
            shutil.copy(self.potential, tmp / self.potential.name)
            if atoms is not None:
                ase.io.write(tmp / "structure.data", atoms, format="lammps-data", specorder=self.elements)
            (tmp / "in.lmp").write_text("log log.lammps\n" + body + "\n")
            r = subprocess.run([lmp_executable(), "-in", "in.lmp", "-screen", "none", "-nocite"], cwd=tmp, capture_output=True, text=True, env=lammps_env(), timeout=3600)
            log = (tmp / "log.lammps").read_text() if (tmp / "log.lammps").exists() else r.stdout
            if r.returncode != 0:
                raise RuntimeError(f"LAMMPS failed (exit {r.returncode}):\n{log[-3000:]}\n{r.stderr[-2000:]}")
            out = {}
            for line in log.splitlines():
                if line.startswith("RESULT "):
                    _, k, v = line.split()
                    out[k] = float(v)
            return out, {f: (tmp / f).read_text() for f in files}
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def bulk_block(lmp: Lammps, lattice: str, a: float, n: int, triclinic: bool = False) -> str:
    reg = f"region box prism 0 {n} 0 {n} 0 {n} 0 0 0" if triclinic else f"region box block 0 {n} 0 {n} 0 {n}"
    return lmp.header() + f"lattice {lattice} {a!r}\n{reg}\ncreate_box 1 box\ncreate_atoms 1 box\n" + lmp.setup()


def equilibrium(lmp: Lammps, lattice: str, a_guess: float) -> dict[str, float]:
    n = 4
    body = bulk_block(lmp, lattice, a_guess, n) + "\n".join([
        "fix br all box/relax iso 0.0 vmax 0.001", MIN, "unfix br", "fix br all box/relax iso 0.0 vmax 0.0001", MIN, "unfix br", "run 0",
        f'print "RESULT a0 $(lx/{n}:%.17g)"', 'print "RESULT e_atom $(pe/atoms:%.17g)"', 'print "RESULT press $(press:%.17g)"',
        "clear", lmp.header("f f f"), "region big block -20 20 -20 20 -20 20 units box", "create_box 1 big", "create_atoms 1 single 0 0 0 units box",
        lmp.setup(), "run 0", 'print "RESULT e_free $(pe:%.17g)"',
    ])
    r = lmp.run(body)
    r["E_coh"] = r["e_free"] - r["e_atom"]
    return r


def elastic(lmp: Lammps, lattice: str, a0: float, strain: float = 1e-3) -> dict[str, float]:
    """C_ij (GPa) by central differences of the pressure tensor under ±strain."""
    n = 2
    parts = []
    # Voigt d: (change_box keyword, length variable); shears change tilt by strain × the perpendicular length
    defs = {1: ("x", "lx"), 2: ("y", "ly"), 3: ("z", "lz"), 4: ("yz", "lz"), 5: ("xz", "lz"), 6: ("xy", "ly")}
    for d, (kw, length) in defs.items():
        for sgn, tag in ((1, "p"), (-1, "m")):
            parts += [
                "clear", bulk_block(lmp, lattice, a0, n, triclinic=True),
                f"variable L equal {length}", f"variable dl equal {sgn * strain!r}*${{L}}",
                f"change_box all {kw} delta {'0 ' if kw in ('x', 'y', 'z') else ''}${{dl}} remap units box", MIN, "run 0",
            ] + [f'print "RESULT p{d}{tag}_{c} $({p}:%.17g)"' for c, p in enumerate(("pxx", "pyy", "pzz", "pyz", "pxz", "pxy"), 1)]
    r = lmp.run("\n".join(parts))
    C = [[-(r[f"p{j}p_{i}"] - r[f"p{j}m_{i}"]) / (2 * strain) * BAR_TO_GPA for j in range(1, 7)] for i in range(1, 7)]
    c11 = (C[0][0] + C[1][1] + C[2][2]) / 3
    c12 = (C[0][1] + C[0][2] + C[1][2] + C[1][0] + C[2][0] + C[2][1]) / 6
    c44 = (C[3][3] + C[4][4] + C[5][5]) / 3
    return {"C11": c11, "C12": c12, "C44": c44, "B": (c11 + 2 * c12) / 3}


def vacancy(lmp: Lammps, lattice: str, a0: float, e_atom: float, n: int) -> float:
    body = bulk_block(lmp, lattice, a0, n) + "\n".join([
        f"variable c equal {n * a0 / 2!r}",  # nearest site to a point just off the centre: one atom for odd and even n
        "variable d atom sqrt((x-v_c-0.011)^2+(y-v_c-0.017)^2+(z-v_c-0.023)^2)",
        "compute dmin all reduce min v_d", "run 0", "variable dm equal c_dmin",
        "variable dmv equal ${dm}+1e-6", "variable sel atom v_d<${dmv}", "group cen variable sel",
        "variable one equal count(cen)", 'print "RESULT n_removed ${one}"',
        "delete_atoms group cen compress no", MIN, "run 0", 'print "RESULT e_vac $(pe:%.17g)"', 'print "RESULT n $(atoms)"',
    ])
    r = lmp.run(body)
    if r["n_removed"] != 1:
        raise RuntimeError(f"vacancy: {r['n_removed']} atoms at the centre")
    return r["e_vac"] - r["n"] * e_atom


def _oriented(lmp: Lammps, lattice: str, a0: float, which: str, inplane: float, thickness: float) -> tuple[str, list[int]]:
    ox, oy, oz = ORIENT[which]
    px, py, pz = (PERIOD[lattice][v] * a0 for v in (ox, oy, oz))
    nx, ny = max(1, math.ceil(inplane / px)), max(1, math.ceil(inplane / py))
    nz = max(2, math.ceil(thickness / pz))
    nz += nz % 2  # an even number of periods: the middle of the slab lies between two layers
    lx, ly, lz = nx * px, ny * py, nz * pz
    s = lmp.header() + "\n".join([
        f"lattice {lattice} {a0!r} orient x {ox} orient y {oy} orient z {oz} origin 0.001 0.001 0.001",
        f"region box block 0 {lx!r} 0 {ly!r} 0 {lz!r} units box", "create_box 1 box", "create_atoms 1 box",
        f"change_box all z final 0 {lz + 20.0!r} units box",
    ]) + "\n" + lmp.setup()
    return s, [nx, ny, nz]


def surface(lmp: Lammps, lattice: str, a0: float, e_atom: float, miller: str, thickness: float = 24.0) -> float:
    s, _ = _oriented(lmp, lattice, a0, miller, 10.0, thickness)
    r = lmp.run(s + "\n".join([MIN, "run 0", 'print "RESULT e $(pe:%.17g)"', 'print "RESULT n $(atoms)"', 'print "RESULT area $(lx*ly:%.17g)"']))
    return (r["e"] - r["n"] * e_atom) / (2 * r["area"]) * EV_A2_TO_J_M2


def isf(lmp: Lammps, a0: float, thickness: float = 36.0) -> float:
    """Relaxed intrinsic stacking fault energy (mJ/m²) of fcc."""
    s, _ = _oriented(lmp, "fcc", a0, "isf", 10.0, thickness)
    bp = a0 / math.sqrt(6)
    body = s + "\n".join([
        "fix fz all setforce 0.0 0.0 NULL", MIN, "run 0", 'print "RESULT e0 $(pe:%.17g)"', 'print "RESULT area $(lx*ly:%.17g)"',
        "variable zc equal (bound(all,zmin)+bound(all,zmax))/2", "variable zcut equal ${zc}", "region up block INF INF INF INF ${zcut} INF units box", "group up region up",
        "write_restart base.restart",
    ])
    for tag, sgn in (("p", 1), ("m", -1)):
        body += "\n" + "\n".join([
            "clear", "read_restart base.restart", lmp.setup(), "region up block INF INF INF INF ${zcut} INF units box", "group up region up",
            f"displace_atoms up move {sgn * bp!r} 0 0 units box", "fix fz all setforce 0.0 0.0 NULL", MIN, "run 0", f'print "RESULT e{tag} $(pe:%.17g)"',
        ])
    r = lmp.run(body)
    return (min(r["ep"], r["em"]) - r["e0"]) / r["area"] * EV_A2_TO_J_M2 * 1000


def relaxed_energy(lmp: Lammps, atoms: Atoms, hold: Sequence[int] = ()) -> float:
    """Energy (eV) of ``atoms`` (orthogonal periodic cell) after CG minimisation of the atom
    positions at fixed box, the atoms ``hold`` (0-based) kept in place."""
    body = lmp.header() + "read_data structure.data\n" + lmp.setup()
    if hold:
        body += f"group hold id {' '.join(str(i + 1) for i in hold)}\nfix hold hold setforce 0.0 0.0 0.0\n"
    r = lmp.run_with_files(body + "\n".join([MIN, "run 0", 'print "RESULT e $(pe:%.17g)"']), atoms=atoms)[0]
    return r["e"]


def relaxed_volume(lmp: Lammps, atoms: Atoms) -> dict[str, float]:
    """Zero-pressure volume and energy per atom of ``atoms`` (any composition) after
    ``fix box/relax iso 0`` + CG minimisation, twice (as :func:`equilibrium`)."""
    body = lmp.header() + "read_data structure.data\n" + lmp.setup() + "\n".join([
        "fix br all box/relax iso 0.0 vmax 0.001", MIN, "unfix br", "fix br all box/relax iso 0.0 vmax 0.0001", MIN, "unfix br", "run 0",
        'print "RESULT v_atom $(vol/atoms:%.17g)"', 'print "RESULT e_atom $(pe/atoms:%.17g)"', 'print "RESULT press $(press:%.17g)"',
    ])
    return lmp.run_with_files(body, atoms=atoms)[0]


def _berendsen(T: float, B: float, taut_fs: float, taup_fs: float) -> str:
    return f"fix tb all temp/berendsen {T} {T} {taut_fs / 1000}\nfix pb all press/berendsen aniso 0 0 {taup_fs / 1000} modulus {B * 1e4}"


def _steps(ps: float, dt_fs: float) -> int:
    return max(1, int(round(ps * 1000.0 / dt_fs)))


def npt_lattice(lmp: Lammps, lattice: str, a0: float, n: int, T: float, B: float, equil_ps: float, run_ps: float, dt: float = 2.0, taut: float = 100.0, taup: float = 1000.0, seed: int = 0, blocks: int = 5) -> tuple[float, float]:
    """Mean cubic lattice constant (Å) at T and P = 0 (Berendsen, as physml.properties.md),
    and its standard error from ``blocks`` block averages; sampled every 10 steps."""
    nb = _steps(run_ps, dt) // blocks // 10 * 10
    lines = [bulk_block(lmp, lattice, a0, n), f"timestep {dt / 1000}", f"velocity all create {2 * T} {seed + 4711} mom yes rot no dist gaussian",
             "fix int all nve", _berendsen(T, B, taut, taup), f"run {_steps(equil_ps, dt)}", f"variable a equal (vol/atoms*{LATTICE_ATOMS[lattice]})^(1/3)"]
    for k in range(blocks):
        lines += ["reset_timestep 0", f"fix av all ave/time 10 {nb // 10} {nb} v_a", f"run {nb}", f'print "RESULT a{k} $(f_av:%.17g)"', "unfix av"]
    r = lmp.run("\n".join(lines))
    a = np.array([r[f"a{k}"] for k in range(blocks)])
    return float(a.mean()), float(a.std(ddof=1) / np.sqrt(blocks))


def liquid(lmp: Lammps, lattice: str, a0: float, n: int, T: float, B: float, melt_T: float, melt_ps: float, equil_ps: float, run_ps: float, dt: float = 2.0, taut: float = 100.0, taup: float = 1000.0, seed: int = 0, r_max: float = 8.0, nbins: int = 200, every: int = 25) -> dict:
    """The liquid at T (melted at ``melt_T`` first): D (Å²/ps) from a straight-line fit of the
    MSD of ``compute msd`` after the first tenth of the run, and the g(r) of ``compute rdf``
    averaged over the last 10 frames (``every`` steps apart) with its first maximum located
    as physml.properties.md does (:func:`~physml.properties.md.first_peak`)."""
    steps = _steps(run_ps, dt) // every * every
    lines = [bulk_block(lmp, lattice, a0, n), f"comm_modify cutoff {r_max + 2.0}", f"timestep {dt / 1000}",
             f"velocity all create {2 * melt_T} {seed + 4711} mom yes rot no dist gaussian", "fix int all nve",
             _berendsen(melt_T, B, taut, taup), f"run {_steps(melt_ps, dt)}", "unfix tb", "unfix pb",
             _berendsen(T, B, taut, taup), f"run {_steps(equil_ps, dt)}", "reset_timestep 0", "compute msd all msd", f"fix m all ave/time {every} 1 {every} c_msd[4] file msd.txt",
             f"compute g all rdf {nbins} cutoff {r_max}", f"fix g all ave/time {every} 10 {10 * every} c_g[*] mode vector file rdf.txt", f"run {steps}"]
    files = lmp.run_with_files("\n".join(lines), files=("msd.txt", "rdf.txt"))[1]
    m = np.loadtxt(files["msd.txt"].splitlines(), comments="#")
    t = (m[:, 0] - m[0, 0]) * dt / 1000.0
    msd = m[:, 1]
    skip = max(2, len(t) // 10)
    D = float(np.polyfit(t[skip:], msd[skip:], 1)[0] / 6.0)
    blocks = [b for b in files["rdf.txt"].split("\n") if b and not b.startswith("#")]
    rows = np.array([[float(x) for x in b.split()] for b in blocks[-nbins:]])  # the last block: index r g(r) coord
    r, g = rows[:, 1], rows[:, 2]
    from physml.properties.md import first_peak

    return {"D": D, "rdf_peak": first_peak(r, g), "r": r.tolist(), "g": g.tolist(), "t": t.tolist(), "msd": msd.tolist()}


LATTICE_ATOMS = {"fcc": 4, "bcc": 2}


def reference(potential: str, element: str, lattice: str, a_guess: float, pair_style: str = "eam/alloy", vacancy_size: int | None = None, surfaces=("100", "110", "111")) -> dict[str, float]:
    lmp = Lammps(potential, element, pair_style)
    eq = equilibrium(lmp, lattice, a_guess)
    out = {"a0": eq["a0"], "E_coh": eq["E_coh"], "e_atom": eq["e_atom"]}
    out.update(elastic(lmp, lattice, eq["a0"]))
    n = vacancy_size or {"fcc": 4, "bcc": 5}[lattice]
    out["E_vac_f"] = vacancy(lmp, lattice, eq["a0"], eq["e_atom"], n)
    out["vacancy_size"] = n
    for m in surfaces:
        out[f"gamma_surf_{m}"] = surface(lmp, lattice, eq["a0"], eq["e_atom"], m)
    if lattice == "fcc":
        out["gamma_isf"] = isf(lmp, eq["a0"])
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("potential")
    p.add_argument("element")
    p.add_argument("lattice", choices=["fcc", "bcc"])
    p.add_argument("a_guess", type=float)
    p.add_argument("--pair-style", default="eam/alloy")
    p.add_argument("--json", help="write the values to this file")
    a = p.parse_args()
    r = reference(a.potential, a.element, a.lattice, a.a_guess, a.pair_style)
    for k, v in r.items():
        print(f"{k:16s} {v:.10g}")
    if a.json:
        Path(a.json).write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
