"""Labelled datasets for fitting: reading, validation, splits, references, batching.

>>> from physml.data import load_dataset
>>> ta = load_dataset("Ta-SNAP-2015")               # a named public dataset
>>> mine = load_dataset("my_frames.extxyz")          # any ase.io-readable file
"""

from __future__ import annotations

import os
from pathlib import Path

from physml.data.corrections import shift_pressure
from physml.data.labels import LabelledBatch, iterate_batches
from physml.data.references import fit_reference_energies, subtract_reference
from physml.data.registry import REGISTRY, load_named, resolve
from physml.data.splits import holdout_groups, random_split, stratified_split
from physml.data.structures import Dataset, LabelledStructure, read_dataset
from physml.data.validation import DataError, check_consistency


def load_dataset(name_or_path: str | os.PathLike, split: str | None = None, **kwargs) -> Dataset:
    """A named dataset (``"Ta-SNAP-2015"``, ``"mlearn-Mo"`` with ``split="train"``, …) or a file."""
    key = str(name_or_path)
    if key in REGISTRY:
        ds = REGISTRY[key]
        split = split or ("all" if "all" in ds.files else "train")
        return load_named(key, split, **kwargs)
    return read_dataset(Path(name_or_path), **kwargs)


__all__ = [
    "DataError", "Dataset", "LabelledBatch", "LabelledStructure", "REGISTRY", "check_consistency",
    "fit_reference_energies", "holdout_groups", "iterate_batches", "load_dataset", "random_split",
    "read_dataset", "resolve", "shift_pressure", "stratified_split", "subtract_reference",
]
