"""physml.properties against LAMMPS on the same EAM potentials (table for validation/README.md).

    PHYSML_DATA_DIR=../shared/data OMP_NUM_THREADS=1 python validation/reference/compare_lammps.py [--json OUT]

For each potential the LAMMPS values come from ``lammps_properties.reference`` (structures
built and relaxed by LAMMPS) and the physml values from ``physml.properties`` with the
same supercell size for the vacancy (the only size-dependent quantity here).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import physml  # noqa: E402
from lammps_properties import reference  # noqa: E402
from physml.properties import Material, compute  # noqa: E402

POTENTIALS = [
    ("Al99.eam.alloy", "Al", "fcc", 4.05),
    ("CuTa.eam.alloy", "Ta", "bcc", 3.30),
    ("W_zhou.eam.alloy", "W", "bcc", 3.16),
]
NAMES = ["a0", "E_coh", "B", "C11", "C12", "C44", "E_vac_f", "gamma_surf_100", "gamma_surf_110", "gamma_surf_111", "gamma_isf"]
TOL = {"a0": 1e-3, "E_coh": 1e-3, "E_vac_f": 1e-3, "gamma_surf_100": 1e-3, "gamma_surf_110": 1e-3, "gamma_surf_111": 1e-3, "gamma_isf": 1e-3, "B": 1e-2, "C11": 1e-2, "C12": 1e-2, "C44": 1e-2}


def compare(path: Path, element: str, lattice: str, a: float) -> list[dict]:
    ref = reference(str(path), element, lattice, a)
    calc = physml.Calculator(physml.load(path, elements=[element]))
    names = [n for n in NAMES if n in ref]
    n = int(ref["vacancy_size"])
    params = {"E_vac_f": {"sizes": [n]}, "gamma_isf": {"thickness": 24.0}}
    res = compute(calc, Material(element, lattice, a), names, params)
    rows = []
    for k in names:
        d = abs(res[k].value - ref[k]) / abs(ref[k])
        rows.append({"potential": path.name, "property": k, "unit": res[k].unit, "physml": res[k].value, "lammps": ref[k], "rel_diff": d, "tolerance": TOL[k], "ok": d <= TOL[k]})
    return rows


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--json")
    a = p.parse_args()
    data = Path(os.environ.get("PHYSML_DATA_DIR", "../shared/data")) / "potentials"
    rows = []
    for f, el, lat, a0 in POTENTIALS:
        rows += compare(data / f, el, lat, a0)
    print("| potential | property | unit | physml | LAMMPS | rel. diff | tolerance |\n|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['potential']} | {r['property']} | {r['unit']} | {r['physml']:.6g} | {r['lammps']:.6g} | {r['rel_diff']:.1e} | {r['tolerance']:g}{'' if r['ok'] else ' **exceeded**'} |")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
