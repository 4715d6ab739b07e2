"""Per-group errors of a model on labelled data (``physml eval MODEL DATA``).

Energies are compared per atom (eV/atom), forces per component (eV/Å), stresses per
component (reported in GPa). Missing labels are skipped (the metric is ``None`` for a
group without that label). ``offset`` removes a constant per-atom energy difference first
(for comparing models whose energy zero differs from the data's): ``"mean"`` (or ``True``)
the mean of (E_model − E_DFT)/n over the structures, ``"median"`` its median, which a few
structures far outside a model's range (e.g. extreme compressions) cannot drag.

:func:`load_model` also accepts LAMMPS include files (``*.snap``), evaluated in LAMMPS by
:class:`physml.lammps.reference.LammpsReference`, and :func:`compare` scores several models
on one dataset, so every column of a comparison comes from the same metric code.
"""

from __future__ import annotations

import os
import time
from typing import Sequence

import numpy as np
from ase.units import GPa

from physml.data.structures import Dataset


def _stats(err: list[np.ndarray]) -> tuple[float | None, float | None]:
    if not err:
        return None, None
    e = np.concatenate([np.ravel(x) for x in err])
    return float(np.sqrt(np.mean(e**2))), float(np.mean(np.abs(e)))


def load_model(path: str | os.PathLike):
    """A physml model or published file (:func:`physml.io.load`), or a LAMMPS include file
    (``*.snap``) as a :class:`~physml.lammps.reference.LammpsReference`."""
    if str(path).endswith(".snap"):
        from physml.lammps.reference import LammpsReference

        return LammpsReference.from_include(path)
    from physml.io import load

    return load(path)


def evaluate(potential, dataset: Dataset, batch_size: int = 16, offset: bool | str = False) -> tuple[dict, dict]:
    """Returns ({group or "all": metrics}, info) with info = {"structures_per_s", "seconds",
    "energy_offset_eV_per_atom", "predictions" (one numpy dict per structure)}."""
    pred = []
    t0 = time.perf_counter()
    for start in range(0, len(dataset), batch_size):
        chunk = [s.atoms for s in dataset.items[start : start + batch_size]]
        pred += potential.evaluate(chunk, stress=True)
    dt = time.perf_counter() - t0
    shift = 0.0
    if offset not in (False, None, True, "mean", "median"):
        raise ValueError(f"offset must be False, True, 'mean' or 'median', got {offset!r}")
    if offset:
        d = [p["energy"] / s.n_atoms - s.energy / s.n_atoms for p, s in zip(pred, dataset) if s.energy is not None]
        shift = (float(np.median(d)) if offset == "median" else float(np.mean(d))) if d else 0.0
    groups: dict[str, dict[str, list]] = {}
    for p, s in zip(pred, dataset):
        for g in (s.config_type, "all"):
            acc = groups.setdefault(g, {"n": 0, "e": [], "f": [], "s": []})
            acc["n"] += 1
            if s.energy is not None:
                acc["e"].append(np.array([(p["energy"] - s.energy) / s.n_atoms - shift]))
            if s.forces is not None:
                acc["f"].append(p["forces"] - s.forces)
            if s.stress is not None and np.isfinite(p["stress"]).all():
                ref = s.stress
                v = np.array([ref[0, 0], ref[1, 1], ref[2, 2], ref[1, 2], ref[0, 2], ref[0, 1]])
                acc["s"].append((p["stress"] - v) / GPa)
    out = {}
    for g, acc in groups.items():
        er, ea = _stats(acc["e"])
        fr, fa = _stats(acc["f"])
        sr, _ = _stats(acc["s"])
        out[g] = {"n": acc["n"], "energy_rmse": er, "energy_mae": ea, "force_rmse": fr, "force_mae": fa, "stress_rmse": sr}
    empty = {"n": 0, "energy_rmse": None, "energy_mae": None, "force_rmse": None, "force_mae": None, "stress_rmse": None}
    all_ = out.pop("all", empty)
    out["all"] = all_
    info = {"structures_per_s": len(dataset) / dt if dt > 0 else float("inf"), "seconds": dt, "energy_offset_eV_per_atom": shift, "predictions": pred}
    return out, info


def table(metrics: dict) -> str:
    def f(x, scale=1.0, fmt="{:.3f}"):
        return "—" if x is None else fmt.format(x * scale)

    lines = ["| group | n | E RMSE (meV/atom) | E MAE (meV/atom) | F RMSE (eV/Å) | F MAE (eV/Å) | σ RMSE (GPa) |", "|---|---|---|---|---|---|---|"]
    for g, m in metrics.items():
        lines.append(f"| {g} | {m['n']} | {f(m['energy_rmse'], 1e3, '{:.2f}')} | {f(m['energy_mae'], 1e3, '{:.2f}')} | {f(m['force_rmse'])} | {f(m['force_mae'])} | {f(m['stress_rmse'], 1, '{:.2f}')} |")
    return "\n".join(lines)


def compare(models: dict, dataset: Dataset, offset: bool | str = False) -> tuple[dict[str, dict], dict[str, dict]]:
    """({name: metrics}, {name: info}) of :func:`evaluate` for every model on the same
    structures."""
    metrics, info = {}, {}
    for name, model in models.items():
        metrics[name], info[name] = evaluate(model, dataset, offset=offset)
    return metrics, info


def comparison_table(results: dict[str, dict], key: str, scale: float = 1.0, fmt: str = "{:.3f}") -> str:
    """A markdown table with one row per group (and "all") and one column per model of the
    metric ``key`` (e.g. ``"energy_rmse"`` with ``scale=1e3`` for meV/atom)."""
    names = list(results)
    groups: list[str] = []
    for metrics in results.values():
        groups += [g for g in metrics if g not in groups and g != "all"]
    groups = sorted(groups) + ["all"]
    lines = ["| group | n | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for g in groups:
        cells, n = [], None
        for name in names:
            m = results[name].get(g)
            n = n if n is not None else (m or {}).get("n")
            v = None if m is None else m.get(key)
            cells.append("—" if v is None else fmt.format(v * scale))
        lines.append(f"| {g} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
