"""Reading and writing potentials: ``physml.load`` picks the importer by file name.

| path | importer |
|---|---|
| directory with ``model.json``, ``*.physml``, ``*.zip`` | physml model format |
| ``*.eam.alloy``, ``*.eam.fs``, ``*.eam`` (setfl) | tabulated EAM (LAMMPS interpolation) |
| ``*.tersoff`` | Tersoff (LAMMPS ``pair_style tersoff``) |
| ``*.pinn`` | PINN bond-order (the authors' LAMMPS ``pair_style pinn``) |
| ``*.meam`` (with its parameter file) | MEAM library + parameter files |
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from physml.io.model_file import is_model, load_model, save
from physml.potential import Potential

_IMPORTERS: dict[str, str] = {
    ".eam.alloy": "physml.io.setfl:load_setfl",
    ".eam.fs": "physml.io.setfl:load_setfl",
    ".tersoff": "physml.io.tersoff:load_tersoff",
    ".pinn": "physml.io.pinn_file:load_pinn",
    ".meam": "physml.io.meam:load_meam",
}


def _importer(path: Path):
    name = path.name.lower()
    for suffix, target in sorted(_IMPORTERS.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(suffix):
            mod, _, fn = target.partition(":")
            import importlib

            return getattr(importlib.import_module(mod), fn)
    return None


def load(path: str | os.PathLike, dtype: torch.dtype = torch.float64, **kwargs) -> Potential:
    """Load a potential: a physml model, or a published file chosen by its extension.

    Args:
        path: model directory/zip, or a LAMMPS/PINN potential file.
        dtype: floating-point precision of the returned potential (default float64).
        kwargs: passed to the importer (e.g. ``elements=`` for multi-element files,
            ``parameter_file=`` for MEAM).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if is_model(path):
        return load_model(path).to(dtype)
    imp = _importer(path)
    if imp is None:
        raise ValueError(
            f"{path}: cannot tell the format from the name; known: physml model directories, "
            + ", ".join(sorted(_IMPORTERS))
        )
    return imp(path, **kwargs).to(dtype)


__all__ = ["load", "save"]
