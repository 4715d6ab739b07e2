"""Largest LAMMPS − physml deviations of every export route on the verification structures
(perturbed crystal, vacancy, surface, hot liquid), with 1 and 2 MPI ranks: the numbers
behind the README's verification table. The models are those of the tests.

    PHYSML_DATA_DIR=../shared/data python benchmarks/bench_lammps_agreement.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.test_export_native import NATIVE  # noqa: E402
from tests.test_lammps_plugin import MODELS  # noqa: E402

from physml.export.lammps import export_lammps  # noqa: E402
from physml.export.tabulation import equilibrium_fcc  # noqa: E402
from physml.lammps.plugin import build_plugin  # noqa: E402
from physml.lammps.runner import run_lammps  # noqa: E402
from physml.lammps.structures import verification_set  # noqa: E402

DATA = Path(os.environ.get("PHYSML_DATA_DIR", "../shared/data"))


def deviations(pot, structs, cmds, files, preamble=(), site=True):
    ref = pot.evaluate(structs)
    worst = {}
    for nprocs in (1, 2):
        e = f = s = 0.0
        for at, m, r in zip(structs, ref, run_lammps(structs, pot.species, cmds, files=files, nprocs=nprocs, preamble=preamble)):
            e = max(e, abs(m["energy"] - r.energy) / len(at), np.abs(m["energies"] - r.energies).max() if site else 0.0)
            f = max(f, np.abs(m["forces"] - r.forces).max())
            if np.isfinite(r.stress).all():
                s = max(s, np.abs(m["stress"] - r.stress).max())
        worst[nprocs] = (e, f, s)
    return worst


def main() -> None:
    rows = []
    plugin = build_plugin()
    for name, (build, lattice, a, types) in MODELS.items():
        pot = build(DATA)
        structs = list(verification_set(pot.species, lattice, a).values())
        with tempfile.TemporaryDirectory() as d:
            res = export_lammps(pot, d, route="plugin")
            cmds = [c for c in res.pair_commands if not c.startswith("plugin load")]
            rows.append(("plugin", name, deviations(pot, structs, cmds, res.files, [f"plugin load {plugin}"])))
        print(rows[-1], flush=True)
    for name, (build, exact) in NATIVE.items():
        pot = build(DATA)
        if name == "tersoff_SiC":
            structs = list(verification_set(pot.species, "diamond", 4.36).values())
        else:
            a = equilibrium_fcc(pot) if not name.startswith(("setfl", "eam")) else 3.6
            structs = list(verification_set(pot.species, "fcc", a).values())
        with tempfile.TemporaryDirectory() as d:
            res = export_lammps(pot, d, route="native")
            rows.append(("native", name, deviations(pot, structs, res.pair_commands, res.files, site=name != "tersoff_SiC")))
        print(rows[-1], res.notes, flush=True)
    print("\n| route | model | 1 rank: eV/atom, eV/Å, eV/Å³ | 2 ranks: eV/atom, eV/Å, eV/Å³ |")
    print("|---|---|---|---|")
    for route, name, w in rows:
        print(f"| {route} | {name} | " + " | ".join(", ".join(f"{x:.1e}" for x in w[k]) for k in (1, 2)) + " |")


if __name__ == "__main__":
    main()
