"""DFT reference values of validation/wbe.toml from the W–Be training data itself.

    PHYSML_DATA_DIR=../shared/data python validation/reference/wbe_dft.py [--json validation/results/wbe_dft.json]

Every E(V) series of the data (``EOS`` group: the W–Be compounds; ``EOS_Data`` BCCEOS:
bcc W; ``EOS_HCP``: hcp Be) is a structure scaled isotropically at fixed shape and
fractional coordinates. Each is fitted with the Birch–Murnaghan form over the frames within
±10 % (hcp Be: ±25 %, see ``ELEMENTS``) of the volume of its lowest-energy frame (:func:`physml.properties.compounds.series_eos`)
→ V0, E0, B; formation energies ΔH_f = E0 − Σ x_s μ_s with μ_W, μ_Be the E0 of the bcc W
and hcp Be series; lattice constants a0 = (Z V0)^(1/3) of the cubic compounds and, for the
elements, a0 of bcc W (Z = 2) and of hcp Be at the series' c/a. The model side of the suite
computes the same quantities with the same protocol (:func:`~physml.properties.compounds.compound_eos`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from physml.properties.compounds import formation_energy, lowest_energy_frame, read_series, series_eos  # noqa: E402
from physml.validate import dft_data_path, load_suite  # noqa: E402

SUITE = Path(__file__).resolve().parents[1] / "wbe.toml"
# element: (group, source tag, fit window). The hcp Be series scatters by 10-20 meV/atom
# from frame to frame (see the data README, "Anomalies"): over ±10 % its fit gives
# B = 35 GPa, over ±20-40 % a stable 125-131 GPa (experiment: 130 GPa), hence ±25 %.
ELEMENTS = {"W": ("EOS_Data", "BCCEOS", 0.1), "Be": ("EOS_HCP", "", 0.25)}


def reference_values(data: str | os.PathLike, compounds: list[tuple[str, str, str, int | None]], window: float = 0.1) -> dict:
    out: dict = {"elements": {}, "compounds": {}, "window": window}
    mu = {}
    for el, (group, source, el_window) in ELEMENTS.items():
        frames = read_series(data, group, source)
        fit = series_eos(frames, el_window)
        ref = lowest_energy_frame(frames)
        if el == "W":
            a0 = (2 * fit["V0"]) ** (1 / 3)
            extra = {"a0": a0}
        else:
            c_over_a = float(ref.cell.lengths()[2] / ref.cell.lengths()[0])  # orthohexagonal 4-atom cell: a, √3 a, c
            a0 = (4 * fit["V0"] / (math.sqrt(3) * c_over_a)) ** (1 / 3)
            extra = {"a0": a0, "c_over_a": c_over_a}
        mu[el] = fit["E0"]
        out["elements"][el] = {**fit, **extra, "group": group, "source": source, "frames": len(frames), "window": el_window}
    for label, group, source, cubic in compounds:
        frames = read_series(data, group, source)
        fit = series_eos(frames, window)
        ref = lowest_energy_frame(frames)
        rec = {**fit, "E_form": formation_energy(fit["E0"], ref, mu), "formula": ref.get_chemical_formula(mode="metal"), "atoms": len(ref), "frames": len(frames)}
        if cubic:
            rec["a0"] = (cubic * fit["V0"]) ** (1 / 3)
        out["compounds"][label] = rec
    out["mu"] = mu
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--json", help="write the values here")
    a = p.parse_args()
    suite = load_suite(SUITE)
    data = dft_data_path(suite.material.dft_data or "")
    res = reference_values(data, [(c.label, c.group, c.source, c.cubic_atoms) for c in suite.compound])
    print("| | formula | V0 (Å³/atom) | a0 (Å) | B (GPa) | E_form (eV/atom) | points |")
    print("|---|---|---|---|---|---|---|")
    for el, r in res["elements"].items():
        print(f"| {el} | {el} | {r['V0']:.3f} | {r['a0']:.4f} | {r['B']:.1f} | 0 | {r['n']} |")
    for lb, r in res["compounds"].items():
        print(f"| {lb} | {r['formula']} | {r['V0']:.3f} | {r.get('a0', float('nan')):.4f} | {r['B']:.1f} | {r['E_form']:+.4f} | {r['n']} |")
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
