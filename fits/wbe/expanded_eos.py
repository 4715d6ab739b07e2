"""E(V) of the W, Be and W–Be fits from compression to strongly expanded cells.

    PHYSML_DATA_DIR=../shared/data python fits/wbe/expanded_eos.py [LABEL=MODEL ...]

Elements: bcc W and hcp Be (c/a = 1.568, that of the DFT ``EOS_HCP`` cells) homogeneously
scaled over 0.75–3 V0, evaluated with the elemental fits (``fits/w/model``,
``fits/be/model``), the W–Be alloy and the published SNAP, next to

* the DFT equation-of-state points of the data (``EOS_Data`` bcc cells for W, which span
  only 0.94–1.06 V0; ``EOS_HCP`` for Be, 0.77–2.0 V0), and
* beyond the data, the universal binding-energy relation of Rose, Smith, Guinea and
  Ferrante, Phys. Rev. B 29, 2963 (1984), fixed by the DFT equilibrium alone:

      E(V) = −E_c (1 + a*) e^{−a*},   a* = (r/r0 − 1) / √(E_c / (9 B0 V0)),   r ∝ V^{1/3},

  with V0, B0 and E_c = −E0 from a Birch–Murnaghan fit of the DFT points within ±8 % of
  the minimum (energies on the data's scale, on which a free atom is 0, see fits/w/README.md).

Compounds: every DFT frame of the six ``EOS`` prototypes (B2, C14, C15, C36, D2b, L12;
frames listed in ``WBe_anomalies.csv`` marked) next to the W–Be alloys on the same frames.

Writes ``fits/wbe/expanded_eos.json`` and ``fits/wbe/expanded_eos.png``. Extra models are
added as ``LABEL=PATH`` (elemental models or W–Be alloys).
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from pathlib import Path

import ase.io
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from ase.build import bulk
from ase.eos import EquationOfState

from physml.evaluate import load_model

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("PHYSML_DATA_DIR", ROOT.parent.parent / "shared" / "data"))
SNAP = DATA / "potentials" / "WBe_Wood_PRB2019.snap"
BE_C_OVER_A = 1.568
SCALES = np.linspace(0.75, 3.0, 46)  # V / V0
REPORT_AT = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
_COLOURS: dict[str, str] = {}


def colour(label: str) -> str:
    """One colour per model label in every panel."""
    return _COLOURS.setdefault(label, f"C{len(_COLOURS)}")


def crystal(element: str, v_atom: float):
    if element == "W":
        return bulk("W", "bcc", a=(2.0 * v_atom) ** (1.0 / 3.0), cubic=True)
    a = (4.0 * v_atom / (np.sqrt(3.0) * BE_C_OVER_A)) ** (1.0 / 3.0)
    return bulk("Be", "hcp", a=a, c=BE_C_OVER_A * a)


def rose(v: np.ndarray, e0: float, v0: float, b0: float) -> np.ndarray:
    """Rose's universal binding curve through (V0, E0) with bulk modulus B0 (eV/Å³)."""
    ec = -e0
    astar = ((v / v0) ** (1.0 / 3.0) - 1.0) / np.sqrt(ec / (9.0 * b0 * v0))
    return -ec * (1.0 + astar) * np.exp(-astar)


def dft_points(frames, group: str, pick) -> tuple[np.ndarray, np.ndarray]:
    sel = [a for a in frames if a.info["config_type"] == group and pick(a)]
    v = np.array([a.get_volume() / len(a) for a in sel])
    e = np.array([a.get_potential_energy() / len(a) for a in sel])
    o = np.argsort(v)
    return v[o], e[o]


def equilibrium(v: np.ndarray, e: np.ndarray) -> tuple[float, float, float]:
    near = np.abs(v / v[np.argmin(e)] - 1.0) < 0.08
    v0, e0, b0 = EquationOfState(v[near], e[near], eos="birchmurnaghan").fit()
    return float(e0), float(v0), float(b0)


def per_atom(model, structures) -> np.ndarray:
    return np.array([r["energy"] / len(a) for a, r in zip(structures, model.evaluate(structures, stress=False))])


def main(argv: list[str]) -> None:
    extra = dict(a.split("=", 1) for a in argv)
    frames = ase.io.read(DATA / "WBe" / "WBe_fitsnap.extxyz", index=":")
    flagged = set()
    with open(DATA / "WBe" / "WBe_anomalies.csv", newline="") as fh:
        flagged = {row["source"] for row in csv.DictReader(fh)}
    snap = load_model(SNAP)
    alloys = {"W-Be PINN (inherited)": ROOT / "wbe" / "model", "W-Be PINN (nothing frozen)": ROOT / "wbe" / "unfrozen" / "model"}
    alloys = {k: load_model(v) for k, v in alloys.items() if Path(v).exists()}
    extras = {k: load_model(v) for k, v in extra.items()}
    alloys |= {k: m for k, m in extras.items() if len(m.species) == 2}
    out: dict = {"elements": {}, "compounds": {}}
    fig, axes = plt.subplots(2, 4, figsize=(17, 8))
    for ax, element, group, pick in (
        (axes[0, 0], "W", "EOS_Data", lambda a: "BCCEOS" in a.info["source"]),
        (axes[0, 1], "Be", "EOS_HCP", lambda a: True),
    ):
        v_dft, e_dft = dft_points(frames, group, pick)
        e0, v0, b0 = equilibrium(v_dft, e_dft)
        vols = SCALES * v0
        cells = [crystal(element, v) for v in vols]
        models = {f"{element} PINN (elemental)": load_model(ROOT / element.lower() / "model"), "SNAP (published)": snap}
        models |= {k: m for k, m in extras.items() if m.species == [element]}
        models |= alloys
        curves = {k: per_atom(m, cells) for k, m in models.items()}
        uber = rose(vols, e0, v0, b0)
        rec = {
            "dft": {"V": v_dft.tolist(), "E": e_dft.tolist(), "V_range_over_V0": [float(v_dft.min() / v0), float(v_dft.max() / v0)]},
            "equilibrium": {"E0_eV": e0, "V0_A3": v0, "B0_GPa": b0 * 160.21766},
            "V_over_V0": SCALES.tolist(), "rose": uber.tolist(), "curves": {k: c.tolist() for k, c in curves.items()},
            "at": {f"{s:g}": {"rose": float(np.interp(s, SCALES, uber)), **{k: float(np.interp(s, SCALES, c)) for k, c in curves.items()}} for s in REPORT_AT},
        }
        on_dft = {k: per_atom(m, [crystal(element, v) for v in v_dft]) for k, m in models.items()}
        rec["rmse_on_dft_points_meV"] = {k: float(1e3 * np.sqrt(np.mean((c - e_dft) ** 2))) for k, c in on_dft.items()}
        out["elements"][element] = rec
        ax.plot(v_dft / v0, e_dft, "ko", ms=3, label=f"DFT {group}")
        ax.plot(SCALES, uber, "k--", lw=1, label="Rose UBER (DFT E0, V0, B0)")
        for k, c in curves.items():
            ax.plot(SCALES, c, lw=1.2, color=colour(k), label=k)
        ax.axhline(0.0, color="grey", lw=0.5)
        ax.set(title=f"{'bcc W' if element == 'W' else 'hcp Be'}", xlabel="V / V0", ylabel="E (eV/atom)")
        ax.legend(fontsize=6)
    eos = [a for a in frames if a.info["config_type"] == "EOS"]
    protos: dict[str, list] = {}
    for a in eos:
        protos.setdefault(re.search(r"EOS/(.*)_\d+\.json", a.info["source"]).group(1).replace("EOS_", ""), []).append(a)
    for ax, (name, fr) in zip(axes.flat[2:], sorted(protos.items())):
        fr.sort(key=lambda a: a.get_volume() / len(a))
        v = np.array([a.get_volume() / len(a) for a in fr])
        e = np.array([a.get_potential_energy() / len(a) for a in fr])
        bad = np.array([a.info["source"] in flagged for a in fr])
        rec = {"formula": fr[0].get_chemical_formula(), "V": v.tolist(), "E_dft": e.tolist(), "flagged": bad.tolist(), "models": {}}
        ax.plot(v[~bad], e[~bad], "ko", ms=2.5, label="DFT")
        ax.plot(v[bad], e[bad], "x", color="grey", ms=3, label="DFT, flagged (dropped)")
        for k, m in {"SNAP (published)": snap, **alloys}.items():
            c = per_atom(m, fr)
            rec["models"][k] = c.tolist()
            ax.plot(v, c, lw=1.2, color=colour(k), label=k)
        out["compounds"][name] = rec
        ax.set(title=f"{name} ({rec['formula']})", xlabel="V (Å³/atom)", ylabel="E (eV/atom)", ylim=(min(e.min(), -7) - 0.5, 4.0))
        ax.axhline(0.0, color="grey", lw=0.5)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(ROOT / "wbe" / "expanded_eos.png", dpi=110)
    (ROOT / "wbe" / "expanded_eos.json").write_text(json.dumps(out, indent=1))
    for element, rec in out["elements"].items():
        names = list(rec["curves"])
        print(f"\n{element}: E (eV/atom) at V/V0 (DFT points span {rec['dft']['V_range_over_V0'][0]:.2f}–{rec['dft']['V_range_over_V0'][1]:.2f} V0; E0 {rec['equilibrium']['E0_eV']:.3f} eV, V0 {rec['equilibrium']['V0_A3']:.2f} Å³, B0 {rec['equilibrium']['B0_GPa']:.0f} GPa)\n")
        print("| V/V0 | Rose UBER | " + " | ".join(names) + " |")
        print("|---|---|" + "---|" * len(names))
        for s, row in rec["at"].items():
            print(f"| {s} | {row['rose']:.3f} | " + " | ".join(f"{row[k]:.3f}" for k in names) + " |")
        print("\nRMSE on the DFT EOS points (meV/atom): " + ", ".join(f"{k} {v:.1f}" for k, v in rec["rmse_on_dft_points_meV"].items()))


if __name__ == "__main__":
    main(sys.argv[1:])
