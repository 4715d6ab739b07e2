"""One table row per fitted Ta model: test errors next to the physical checks the training
RMSE cannot see (vacancy formation energy, elastic constants).

For every run directory (``metrics.json`` + ``model/``) or model path given, prints the test
energy / force / stress RMSE over all test structures and on the near-equilibrium bulk
groups, then a0, C11, C12, C44 and the vacancy formation energy (relaxed at fixed cell
in a 4×4×4 supercell, 127 atoms, and unrelaxed) from :mod:`physml.properties`, the
calculators of ``physml validate``. ``--validation`` adds the validation errors of a run
(``v…`` columns: all validation structures, the bulk groups together, Displaced_BCC and
Displaced_FCC), the split that recipes are chosen on. Usage::

    PHYSML_DATA_DIR=../shared/data python fits/ta/candidates.py runs/ta/pinn runs/ta/nn [--validation] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from ase.build import bulk

import physml
from physml.properties import Material, compute

BULK = ("Displaced_A15", "Displaced_BCC", "Displaced_FCC", "Elastic_BCC", "Elastic_FCC")


def unrelaxed_vacancy(calc, a0: float, n: int = 4) -> float:
    """E(N−1) − (N−1) ε₀ of an n×n×n bcc supercell with one atom removed, no relaxation."""
    at = bulk("Ta", "bcc", a=a0, cubic=True) * (n, n, n)
    at.calc = calc
    e0 = at.get_potential_energy() / len(at)
    del at[0]
    at.calc = calc
    return float(at.get_potential_energy() - len(at) * e0)


def check(path: Path, validation: bool = False) -> dict:
    model = path / "model" if (path / "model").exists() else path
    row: dict = {"run": str(path)}
    metrics = path / "metrics.json"
    if metrics.exists() and validation:
        val = json.loads(metrics.read_text()).get("validation", {})
        allv = val.get("all", {})
        row.update({"vE_all": 1e3 * allv.get("energy_rmse", float("nan")), "vF_all": allv.get("force_rmse"), "vS_all": allv.get("stress_rmse")})
        bulk = [val[g] for g in BULK if g in val]
        if bulk:  # the energy RMSE over all validation structures of the bulk groups
            row["vE_bulk"] = 1e3 * (sum(g["n"] * g["energy_rmse"] ** 2 for g in bulk) / sum(g["n"] for g in bulk)) ** 0.5
        for g in ("Displaced_BCC", "Displaced_FCC"):
            if g in val:
                row[f"vE_{g}"] = 1e3 * val[g]["energy_rmse"]
    if metrics.exists():
        test = json.loads(metrics.read_text()).get("test", {})
        allm = test.get("all", {})
        row.update({"E_all": 1e3 * allm.get("energy_rmse", float("nan")), "F_all": allm.get("force_rmse"), "S_all": allm.get("stress_rmse")})
        for g in BULK:
            if g in test:
                row[f"E_{g}"] = 1e3 * test[g]["energy_rmse"]
        for g in ("Displaced_FCC", "Surface", "Liquid"):
            if g in test:
                row[f"F_{g}"] = test[g]["force_rmse"]
    calc = physml.Calculator(physml.load(model))
    res = compute(calc, Material("Ta", "bcc", a0_guess=3.31), ["a0", "C11", "C12", "C44", "E_vac_f"], params={"E_vac_f": {"sizes": [4]}})
    row.update({k: float(v.value) for k, v in res.items()})
    row["E_vac_unrelaxed"] = unrelaxed_vacancy(calc, row["a0"])
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--validation", action="store_true", help="also the validation errors (v… columns: all, bulk groups, Displaced_BCC/FCC), the split that selects recipes")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = [check(p, args.validation) for p in args.runs]
    keys = list(dict.fromkeys(k for r in rows for k in r if k != "run"))
    print("| run | " + " | ".join(keys) + " |")
    print("|---|" + "---|" * len(keys))
    for r in rows:
        cells = []
        for k in keys:
            v = r.get(k)
            cells.append("—" if v is None else (f"{v:.3f}" if k.startswith(("F_", "vF_", "a0", "E_vac")) else f"{v:.1f}" if k.startswith(("C", "S_", "vS_")) else f"{v:.2f}"))
        print(f"| {r['run']} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
