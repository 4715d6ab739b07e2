"""Training and held-out test subsets of the W–Be SNAP-2019 data for the W, Be and W–Be fits.

    PHYSML_DATA_DIR=../shared/data python fits/wbe/select_data.py

Writes ``fits/{w,be,wbe}/data/{train,test}.extxyz`` and ``fits/wbe/data/all_{train,test}.extxyz``
(the union, for the W–Be fit with nothing frozen; not committed: derived from the GPL data set) and ``fits/wbe/data/selection.json`` (what was dropped and why). Selection:

* pure-W groups → ``w``, pure-Be groups → ``be``, groups with both elements → ``wbe``;
* frames flagged by the library's data check (:func:`physml.data.validation.check_consistency`,
  energy change contradicting the work of the forces) or listed in ``WBe_anomalies.csv``
  (energy/force contradictions, duplicates, contacts below 1.5 Å) are dropped;
* the ``Defect_*`` Be relaxation groups are left out (their energies are unreliable, see the
  data README) and ``WSurface_BeAdhesion`` is kept with its energies masked (forces only);
* per group at most ``TRAIN[g]`` training and ``TEST[g]`` test frames are drawn at random
  (seed 2019); the test frames of every group are disjoint from its training frames.
"""

from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from pathlib import Path

import ase.io
import numpy as np
from ase.calculators.singlepoint import SinglePointCalculator

from physml.data import load_dataset
from physml.data.validation import check_consistency

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("PHYSML_DATA_DIR", ROOT.parent.parent / "shared" / "data")) / "WBe"
SKIP_GROUPS = {"Defect_BCrowd", "Defect_BOct", "Defect_BSplit", "Defect_BTetra", "Defect_Crowd", "Defect_Oct", "Defect_Tet", "Defect_Vacancy"}
MASK_ENERGY = {"WSurface_BeAdhesion"}
# frames per group: (train, test); groups not listed: (40, 15)
SIZES = {
    "slice_sample": (150, 40), "gamma_surface": (120, 30), "EOS_Data": (60, 20), "surface": (40, 15),
    "vacancy": (14, 6), "gamma_surface_vacancy": (20, 8), "md_bulk": (6, 4),
    "BCC_ForceLib_W110": (3, 2), "BCC_ForceLib_W111": (2, 1), "BCC_ForceLib_WOct": (2, 1), "BCC_ForceLib_WTet": (2, 1),
    "EOS_BCC": (50, 15), "EOS_FCC": (60, 20), "EOS_HCP": (50, 15),
    "Elast_BCC_Shear": (80, 20), "Elast_BCC_Vol": (80, 20), "Elast_FCC_Shear": (60, 20), "Elast_FCC_Vol": (80, 20),
    "Elast_HCP_Shear": (60, 20), "Elast_HCP_Vol": (80, 20), "DFTMD_1000K": (25, 10), "DFTMD_300K": (25, 10),
    "001FreeSurf": (6, 3), "010FreeSurf": (6, 3), "100FreeSurf": (5, 3), "Liquids": (4, 3), "StackFaults": (3, 2),
    "DFT_MD_1000K": (40, 15), "DFT_MD_300K": (40, 15), "EOS": (200, 50),
    "ElasticDeform_Shear": (250, 50), "ElasticDeform_Vol": (300, 60), "WSurface_BeAdhesion": (12, 6),
}
DROP_CHECKS = {"energy_inconsistent_with_forces", "duplicate_of_frame", "min_distance_below_1.5A"}


def main() -> None:
    frames = ase.io.read(DATA / "WBe_fitsnap.extxyz", index=":")
    flagged: dict[str, str] = {}
    with open(DATA / "WBe_anomalies.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["check"] in DROP_CHECKS:
                flagged[row["source"]] = row["check"]
    # the library's own consistency check on the same frames
    ds = load_dataset(str(DATA / "WBe_fitsnap.extxyz"), min_distance=0.5)
    findings = check_consistency(ds)
    for f in findings:
        if f.kind == "energy_force_mismatch":
            flagged.setdefault(f.where.split("→")[-1].strip(), "library:energy_force_mismatch")
    by_group: dict[str, list[int]] = defaultdict(list)
    for k, a in enumerate(frames):
        by_group[a.info["config_type"]].append(k)
    rng = np.random.default_rng(2019)
    out: dict[str, dict[str, list]] = {n: {"train": [], "test": []} for n in ("w", "be", "wbe")}
    report = {"dropped": defaultdict(int), "library_findings": defaultdict(int), "selected": {}}
    for f in findings:
        report["library_findings"][f.kind] += 1
    for g, idx in sorted(by_group.items()):
        if g in SKIP_GROUPS:
            report["dropped"][f"{g} (group left out)"] += len(idx)
            continue
        keep = []
        for k in idx:
            src = frames[k].info["source"]
            if src in flagged:
                report["dropped"][flagged[src]] += 1
            else:
                keep.append(k)
        n_tr, n_te = SIZES.get(g, (40, 15))
        pick = rng.permutation(keep)[: n_tr + n_te].tolist()
        for part, ks in (("train", pick[:n_tr]), ("test", pick[n_tr:])):
            for k in ks:
                a = frames[k]
                elems = set(a.get_chemical_symbols())
                name = "wbe" if len(elems) == 2 else ("w" if elems == {"W"} else "be")
                if g in MASK_ENERGY:
                    a = a.copy()
                    a.calc = SinglePointCalculator(a, forces=frames[k].get_forces())
                    a.info["energy_masked"] = True
                out[name][part].append(a)
        report["selected"][g] = {"train": min(n_tr, len(pick)), "test": max(0, len(pick) - n_tr), "available": len(keep)}
    for name, parts in out.items():
        d = ROOT / name / "data"
        d.mkdir(parents=True, exist_ok=True)
        for part, frs in parts.items():
            ase.io.write(d / f"{part}.extxyz", frs, format="extxyz")
            report.setdefault("atoms", {})[f"{name}/{part}"] = int(sum(len(a) for a in frs))
        (d / ".gitignore").write_text("*\n")
    for part in ("train", "test"):  # everything, for the W–Be fit with nothing frozen
        frs = out["w"][part] + out["be"][part] + out["wbe"][part]
        ase.io.write(ROOT / "wbe" / "data" / f"all_{part}.extxyz", frs, format="extxyz")
    (ROOT / "wbe" / "data" / "selection.json").write_text(json.dumps(report, indent=1, default=dict))
    print(json.dumps(report["atoms"]), json.dumps(report["dropped"]), json.dumps(report["library_findings"]))


if __name__ == "__main__":
    main()
