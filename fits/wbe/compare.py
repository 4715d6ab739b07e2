"""Per-group test errors of the W, Be and W–Be PINN fits next to the published W–Be SNAP.

    PHYSML_DATA_DIR=../shared/data python fits/wbe/compare.py [MODEL=PATH ...]

Every model is scored by :func:`physml.evaluate.evaluate` on the held-out structures that
``fits/wbe/select_data.py`` wrote (``fits/{w,be,wbe}/data/test.extxyz``); the published
``WBe_Wood_PRB2019.snap`` (SNAP + ZBL, LAMMPS) through
:class:`physml.lammps.reference.LammpsReference`. Energy errors are given after removing
each model's median per-atom offset on the structures compared (as ``physml compare`` does;
SNAP's energy zero differs from the DFT one by ≈ 50 meV/atom in W), in the JSON also as
they are and after a least-squares offset per species (:func:`species_offset_rmse`). Results: ``fits/wbe/comparison.json`` and the tables printed as markdown. The
default models are the committed ``fits/*/model``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from physml.data import load_dataset
from physml.evaluate import compare, comparison_table, load_model

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("PHYSML_DATA_DIR", ROOT.parent.parent / "shared" / "data"))
SNAP = DATA / "potentials" / "WBe_Wood_PRB2019.snap"


def species_offset_rmse(dataset, predictions) -> dict:
    """Energy RMSE per group (eV/atom) after removing a least-squares energy offset per
    species, E_pred − E_DFT ≈ Σ_s n_s c_s over the structures compared: the fairest
    reading for a potential whose per-element energy zero differs from the DFT one."""
    species = sorted({s for st in dataset for s in st.symbols})
    rows = [(st, p) for st, p in zip(dataset, predictions) if st.energy is not None]
    A = np.array([[st.symbols.count(s) for s in species] for st, _ in rows], dtype=float)
    d = np.array([p["energy"] - st.energy for st, p in rows])
    c, *_ = np.linalg.lstsq(A, d, rcond=None)
    err = (d - A @ c) / A.sum(axis=1)
    groups: dict[str, list[float]] = {}
    for (st, _), e in zip(rows, err):
        groups.setdefault(st.config_type, []).append(e)
        groups.setdefault("all", []).append(e)
    return {"offsets_eV": dict(zip(species, c.tolist())), "rmse": {g: float(np.sqrt(np.mean(np.square(v)))) for g, v in groups.items()}}


def main(argv: list[str]) -> None:
    models = dict(a.split("=", 1) for a in argv) or {
        "W-Be PINN (inherited)": str(ROOT / "wbe" / "model"),
        "W-Be PINN (nothing frozen)": str(ROOT / "wbe" / "unfrozen" / "model"),
    }
    models = {k: v for k, v in models.items() if Path(v).exists()}
    loaded = {"SNAP (published)": load_model(SNAP)} | {k: load_model(v) for k, v in models.items()}
    elemental = {"w": ROOT / "w" / "model", "be": ROOT / "be" / "model"}
    out = {}
    for part in ("wbe", "w", "be"):
        test = load_dataset(str(ROOT / part / "data" / "test.extxyz"))
        these = dict(loaded)
        if part in elemental and elemental[part].exists():
            these[f"{part.upper() if part == 'w' else 'Be'} PINN (elemental)"] = load_model(elemental[part])
        metrics, info = compare(these, test, offset="median")
        raw, rinfo = compare(these, test, offset=False)
        per_species = {k: species_offset_rmse(test, v["predictions"]) for k, v in rinfo.items()}
        out[part] = {"median_offset": metrics, "offsets_eV_per_atom": {k: v["energy_offset_eV_per_atom"] for k, v in info.items()}, "no_offset": raw, "species_offsets": per_species}
        print(f"energy_rmse after per-species offsets (meV/atom)\n\n{json.dumps({k: {g: round(1e3 * e, 1) for g, e in v['rmse'].items()} for k, v in per_species.items()})}\n")
        print(f"\n### {part} test structures\n")
        for key, scale, unit in (("energy_rmse", 1e3, "meV/atom"), ("force_rmse", 1.0, "eV/Å")):
            print(f"{key} ({unit})\n")
            print(comparison_table(metrics, key, scale=scale, fmt="{:.1f}" if scale > 1 else "{:.3f}") + "\n")
    (ROOT / "wbe" / "comparison.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
