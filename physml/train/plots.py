"""Learning curves and parity plots of a fit (matplotlib, Agg backend, atomic PNG writes)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from ase.units import GPa

from physml.train.rundir import atomic_savefig


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def learning_curve(epochs: Sequence[dict], path: str | Path) -> Path | None:
    """Training and validation loss against the epoch count over all stages (log scale);
    stage boundaries are marked."""
    if not epochs:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    x = np.arange(1, len(epochs) + 1)
    tr = np.array([e["train_loss"] for e in epochs], dtype=float)
    va = np.array([e["val_loss"] for e in epochs], dtype=float)
    ax.semilogy(x, tr, label="train")
    if np.isfinite(va).any():
        ax.semilogy(x, va, label="validation")
    for k in range(1, len(epochs)):
        if epochs[k]["stage"] != epochs[k - 1]["stage"]:
            ax.axvline(k + 0.5, color="0.6", lw=0.8, ls="--")
    stages = list(dict.fromkeys(e["stage"] for e in epochs))
    ax.set_xlabel(f"epoch (stages: {' → '.join(stages)})")
    ax.set_ylabel("loss")
    ax.legend()
    fig.tight_layout()
    out = atomic_savefig(fig, path)
    plt.close(fig)
    return out


def parity_data(dataset, predictions) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Reference and predicted energies (eV/atom), force components (eV/Å) and stress
    components (GPa, Voigt), labelled entries only."""
    e_ref, e_pre, f_ref, f_pre, s_ref, s_pre = [], [], [], [], [], []
    for s, p in zip(dataset, predictions):
        if s.energy is not None:
            e_ref.append(s.energy / s.n_atoms)
            e_pre.append(p["energy"] / s.n_atoms)
        if s.forces is not None:
            f_ref.append(np.ravel(s.forces))
            f_pre.append(np.ravel(p["forces"]))
        if s.stress is not None and "stress" in p and np.isfinite(p["stress"]).all():
            r = s.stress
            s_ref.append(np.array([r[0, 0], r[1, 1], r[2, 2], r[1, 2], r[0, 2], r[0, 1]]) / GPa)
            s_pre.append(np.asarray(p["stress"]) / GPa)

    def cat(xs):
        return np.concatenate([np.atleast_1d(x) for x in xs]) if xs else np.zeros(0)

    return {"energy": (np.array(e_ref), np.array(e_pre)), "forces": (cat(f_ref), cat(f_pre)), "stress": (cat(s_ref), cat(s_pre))}


UNITS = {"energy": "eV/atom", "forces": "eV/Å", "stress": "GPa"}


def parity_plots(sets: dict[str, tuple], run: str | Path) -> list[Path]:
    """One ``parity_<quantity>.png`` per labelled quantity; ``sets`` maps a split name to
    (dataset, predictions), each split drawn in its own colour."""
    plt = _plt()
    data = {name: parity_data(ds, pred) for name, (ds, pred) in sets.items() if len(ds)}
    written = []
    for q, unit in UNITS.items():
        pts = {name: d[q] for name, d in data.items() if len(d[q][0])}
        if not pts:
            continue
        fig, ax = plt.subplots(figsize=(4.2, 4.2))
        lo, hi = np.inf, -np.inf
        for name, (x, y) in pts.items():
            rmse = float(np.sqrt(np.mean((y - x) ** 2)))
            ax.plot(x, y, ".", ms=3, alpha=0.7, label=f"{name} (RMSE {rmse:.3g})")
            lo, hi = min(lo, x.min(), y.min()), max(hi, x.max(), y.max())
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.5)
        ax.set_xlabel(f"reference {q} ({unit})")
        ax.set_ylabel(f"model {q} ({unit})")
        ax.legend(fontsize=7)
        fig.tight_layout()
        written.append(atomic_savefig(fig, Path(run) / f"parity_{q}.png"))
        plt.close(fig)
    return written
