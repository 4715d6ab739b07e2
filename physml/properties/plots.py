"""Plots of a validation run (matplotlib, Agg): one figure per kind with every model."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _save(fig, out: Path, name: str, made: list[str]) -> None:
    fig.tight_layout()
    fig.savefig(out / name, dpi=110)
    plt.close(fig)
    made.append(name)


def plot_all(data: dict[str, dict], out: Path) -> list[str]:
    """``data``: {label: {"results": {name: Result.data}, "scans": {scan: data}}}.
    Returns the file names written into ``out``."""
    made: list[str] = []
    res = {lb: d["results"] for lb, d in data.items()}

    eos = {lb: r["a0"] for lb, r in res.items() if r.get("a0", {}).get("volume")}
    if eos:
        fig, ax = plt.subplots(figsize=(5, 4))
        for lb, d in eos.items():
            ax.plot(d["volume"], d["energy"], "o-", ms=3, label=lb)
        ax.set(xlabel="V (Å³/atom)", ylabel="E (eV/atom)", title="equation of state")
        ax.legend()
        _save(fig, out, "eos.png", made)

    lines = {}
    for lb, r in res.items():
        for n, d in r.items():
            if d.get("gamma") and d.get("plane"):
                lines.setdefault(d["plane"], {})[lb] = d
    if lines:
        fig, axes = plt.subplots(1, len(lines), figsize=(5 * len(lines), 4), squeeze=False)
        for ax, (pl, per) in zip(axes[0], sorted(lines.items())):
            for lb, d in per.items():
                ax.plot(d["u"], d["gamma"], "o-", ms=3, label=lb)
            ax.set(xlabel="displacement / line length", ylabel="γ (mJ/m²)", title=f"γ-line ({pl})")
            ax.legend()
        _save(fig, out, "gamma_lines.png", made)

    ph = {lb: next(d for n, d in r.items() if n.startswith("nu_") and d.get("frequency")) for lb, r in res.items() if any(n.startswith("nu_") and d.get("frequency") for n, d in r.items())}
    if ph:
        import numpy as np

        fig, ax = plt.subplots(figsize=(6, 4))
        for k, (lb, d) in enumerate(ph.items()):
            f = np.asarray(d["frequency"])
            ax.plot(d["distance"], f, color=f"C{k}", lw=1)
            ax.plot([], [], color=f"C{k}", label=lb)
        ax.set(xlabel="q path " + "-".join(next(iter(ph.values()))["labels"]), ylabel="ν (THz)", title="phonons")
        ax.legend()
        _save(fig, out, "phonons.png", made)

    rdf = {lb: r["D_liquid"] for lb, r in res.items() if r.get("D_liquid", {}).get("g")}
    if rdf:
        fig, ax = plt.subplots(figsize=(5, 4))
        for lb, d in rdf.items():
            ax.plot(d["r"], d["g"], label=f"{lb} ({d['T']:.0f} K)")
        ax.set(xlabel="r (Å)", ylabel="g(r)", title="liquid RDF")
        ax.legend()
        _save(fig, out, "rdf.png", made)

    coex = {lb: r["T_m"] for lb, r in res.items() if r.get("T_m", {}).get("runs")}
    if coex:
        fig, axes = plt.subplots(1, len(coex), figsize=(5 * len(coex), 4), squeeze=False)
        for ax, (lb, d) in zip(axes[0], coex.items()):
            for run in d["runs"]:
                ax.plot(run["t"], run["interface"], label=f"{run['T']:.0f} K")
            ax.set(xlabel="t (ps)", ylabel="solid half-thickness (Å)", title=f"coexistence: {lb}")
            ax.legend(fontsize=7)
        _save(fig, out, "coexistence.png", made)

    scans: dict[str, dict] = {}
    for lb, d in data.items():
        for sc, v in d.get("scans", {}).items():
            scans.setdefault(sc, {})[lb] = v
    if scans:
        fig, axes = plt.subplots(1, len(scans), figsize=(4.5 * len(scans), 4), squeeze=False)
        for ax, (sc, per) in zip(axes[0], sorted(scans.items())):
            for lb, v in per.items():
                ax.plot(v["x"], v["energy"], label=lb)
            ax.set(xlabel=next(iter(per.values()))["xlabel"], ylabel="E (eV, rel.)", title=sc)
            if sc in ("dimer", "trimer_equilateral", "trimer_linear"):
                ax.set_ylim(-8, 15)
            ax.legend(fontsize=7)
        _save(fig, out, "scans.png", made)
    return made
