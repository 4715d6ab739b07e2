"""``physml compare NAME=MODEL … [--config CFG] [--data DATA]``: models side by side.

Every model (a physml model, a published file, or a LAMMPS include file such as
``Ta06A.snap``, see :func:`physml.evaluate.load_model`) is scored by
:func:`physml.evaluate.evaluate` on the same structures, so all columns come from one code
path. The structures are a part of a fit config's data split (``--config fits/ta/pinn.toml
--split test``: exactly the test structures of that fit) or a dataset (``--data
mlearn-Mo:test``). Energies are compared after removing each model's own constant per-atom
offset (median by default, :func:`physml.evaluate.evaluate`), forces and stresses directly.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

from physml.evaluate import compare, comparison_table, load_model
from physml.train import rundir


def load_data(spec: str, pressure_offset: float = 0.0, **kwargs):
    """A data file, a named dataset, or ``NAME:SPLIT`` of a named dataset (``mlearn-Mo:test``);
    ``pressure_offset`` (GPa) corrects the stresses (:func:`physml.data.corrections.shift_pressure`)."""
    from physml.data import REGISTRY, load_dataset, shift_pressure

    name, _, split = str(spec).rpartition(":")
    if name in REGISTRY and split:
        return shift_pressure(load_dataset(name, split=split, **kwargs), pressure_offset)
    return shift_pressure(load_dataset(spec, **kwargs), pressure_offset)


def select_structures(data: str | None, config: str | os.PathLike | None, split: str = "test"):
    """The structures to compare on: a part of a config's split, or a dataset."""
    if config is None:
        if data is None:
            raise ValueError("physml compare needs --data or --config")
        from physml.data import REGISTRY

        return load_data(f"{data}:{split}" if data in REGISTRY and ":" not in data else data)
    from physml.train.config import load_config
    from physml.train.run import split_dataset

    cfg = load_config(config)
    kw = dict(min_distance=cfg.data.min_distance, pressure_offset=cfg.data.pressure_offset)
    if split == "test" and cfg.data.test and data is None:
        return load_data(cfg.data.test, **kw)
    ds = load_data(data or cfg.data.train, **kw)
    parts = dict(zip(("train", "validation", "test"), split_dataset(ds, cfg)))
    if split not in parts:
        raise ValueError(f"--split must be one of {sorted(parts)} with --config, got {split!r}")
    return parts[split]


def parse_models(specs: Sequence[str]) -> dict:
    models = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep:
            name, path = Path(spec).stem or spec, spec
        if name in models:
            raise ValueError(f"model name {name!r} given twice")
        models[name] = load_model(path)
    return models


def run_compare(models: Sequence[str], data: str | None = None, config: str | None = None, split: str = "test", offset: str | None = "median", json_out: bool = False, out: str | None = None) -> str:
    """The comparison as markdown (or JSON); also written to ``out`` if given."""
    ds = select_structures(data, config, split)
    pots = parse_models(models)
    metrics, info = compare(pots, ds, offset=offset or False)
    if json_out:
        text = json.dumps({"metrics": metrics, "energy_offset_eV_per_atom": {k: v["energy_offset_eV_per_atom"] for k, v in info.items()}}, indent=2)
    else:
        n_atoms = sum(s.n_atoms for s in ds)
        off = ", ".join(f"{k} {1e3 * v['energy_offset_eV_per_atom']:+.1f}" for k, v in info.items())
        text = "\n".join([
            f"{len(ds)} structures ({n_atoms} atoms)" + (f"; {offset} per-atom energy offset removed per model (meV/atom): {off}" if offset else ""),
            "", "Energy RMSE (meV/atom)", "", comparison_table(metrics, "energy_rmse", 1e3, "{:.2f}"),
            "", "Force RMSE (eV/Å)", "", comparison_table(metrics, "force_rmse", 1.0, "{:.3f}"),
            "", "Stress RMSE (GPa)", "", comparison_table(metrics, "stress_rmse", 1.0, "{:.2f}"),
        ])
    if out:
        rundir.atomic_write_text(out, text + "\n")
    return text
