"""Independent check of the SNAP evaluator used by ``compare.py`` on mixed W–Be structures.

    PHYSML_DATA_DIR=../shared/data python fits/wbe/verify_snap.py

``compare.py`` scores the published ``WBe_Wood_PRB2019.snap`` (``hybrid/overlay zbl 4 4.8
snap``, ``pair_coeff * * snap … W Be``) through :class:`physml.lammps.reference.LammpsReference`
(an ``lmp`` executable run on data files written by physml). Here the same include is also
evaluated through ASE's ``LAMMPSlib`` (the LAMMPS Python library, ASE's own data transfer
and unit handling), once with the include's type order (W = 1, Be = 2) and once with the
types swapped (W = 2, Be = 1), on a few held-out structures of every mixed group:

* evaluator vs LAMMPSlib, same types: must agree to round-off (same LAMMPS, other path in);
* the swapped mapping must be far off the DFT forces (it is the wrong mapping), so the
  agreement above is not an accident of a mapping-insensitive structure;
* the element order of the include is read from its files: the ``snapcoeff`` blocks are
  W then Be, the ZBL ``pair_coeff 1 1 zbl 74 74`` puts W (Z = 74) on type 1.

Writes ``fits/wbe/snap_check.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import ase.io
import numpy as np

from physml.lammps.reference import LammpsReference
from physml.lammps.runner import lammps_env

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("PHYSML_DATA_DIR", ROOT.parent.parent / "shared" / "data"))
SNAP = DATA / "potentials" / "WBe_Wood_PRB2019.snap"
PER_GROUP = 3

LAMMPSLIB = """
import json, os, sys
import ase.io
from ase.calculators.lammpslib import LAMMPSlib
frames = ase.io.read(sys.argv[1], index=":")
types = json.loads(sys.argv[3])
os.chdir(sys.argv[2])
out = []
for a in frames:
    a.calc = LAMMPSlib(lmpcmds=["include WBe_Wood_PRB2019.snap"], atom_types=types, log_file=None,
                       lammps_header=["units metal", "atom_style atomic", "atom_modify map array sort 0 0"])
    out.append({"energy": a.get_potential_energy(), "forces": a.get_forces().tolist()})
print(json.dumps(out))
"""


def lammpslib(frames, types: dict[str, int]) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        ase.io.write(Path(tmp) / "s.extxyz", frames)
        r = subprocess.run(
            [sys.executable, "-c", LAMMPSLIB, str(Path(tmp) / "s.extxyz"), str(SNAP.parent), json.dumps(types)],
            capture_output=True, text=True, env=lammps_env(), timeout=1800,
        )
    if r.returncode:
        raise RuntimeError(f"LAMMPSlib failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def rms(x) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


def main() -> None:
    test = ase.io.read(ROOT / "wbe" / "data" / "test.extxyz", index=":")
    groups = sorted({a.info["config_type"] for a in test})
    frames = [a for g in groups for a in [b for b in test if b.info["config_type"] == g][:PER_GROUP]]
    ref = LammpsReference.from_include(SNAP)
    mine = ref.evaluate(frames, stress=False)
    same = lammpslib(frames, {"W": 1, "Be": 2})
    swapped = lammpslib(frames, {"W": 2, "Be": 1})
    rows = []
    for a, m, s, w in zip(frames, mine, same, swapped):
        f_dft = a.get_forces()
        rows.append({
            "group": a.info["config_type"], "source": a.info["source"], "atoms": len(a), "formula": a.get_chemical_formula(),
            "evaluator_vs_lammpslib": {"energy_eV": abs(m["energy"] - s["energy"]), "forces_max_eV_per_A": float(np.abs(m["forces"] - np.array(s["forces"])).max())},
            "force_rmse_vs_dft": {"evaluator": rms(m["forces"] - f_dft), "lammpslib_W1_Be2": rms(np.array(s["forces"]) - f_dft), "lammpslib_swapped_W2_Be1": rms(np.array(w["forces"]) - f_dft)},
            "dft_force_rms": rms(f_dft),
        })
    out = {
        "include": str(SNAP.name), "species_order_from_include": ref.species, "structures": rows,
        "max_energy_difference_eV": max(r["evaluator_vs_lammpslib"]["energy_eV"] for r in rows),
        "max_force_difference_eV_per_A": max(r["evaluator_vs_lammpslib"]["forces_max_eV_per_A"] for r in rows),
    }
    (ROOT / "wbe" / "snap_check.json").write_text(json.dumps(out, indent=1))
    print(f"species order read from the include: {ref.species}")
    print("| group | atoms | ΔE evaluator−LAMMPSlib (eV) | max ΔF (eV/Å) | F RMSE vs DFT: evaluator | LAMMPSlib W=1,Be=2 | LAMMPSlib swapped | DFT force RMS |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        d, f = r["evaluator_vs_lammpslib"], r["force_rmse_vs_dft"]
        print(f"| {r['group']} | {r['atoms']} | {d['energy_eV']:.1e} | {d['forces_max_eV_per_A']:.1e} | {f['evaluator']:.3f} | {f['lammpslib_W1_Be2']:.3f} | {f['lammpslib_swapped_W2_Be1']:.3f} | {r['dft_force_rms']:.3f} |")


if __name__ == "__main__":
    main()
