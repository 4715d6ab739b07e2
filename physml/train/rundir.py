"""Run-directory helpers: atomic file writes and the layout of a fit's output.

RUN/
  config.resolved.json       the validated config with every default filled in
  log.txt                    stage messages and one JSON line per epoch
  checkpoint.pt              latest trainer state (``physml fit --resume`` continues from it)
  model/                     the fitted potential (physml model format: JSON + safetensors)
  metrics.json, metrics.md   per-group MAE/RMSE on train / validation / test
  learning_curve.png, parity_energy.png, parity_forces.png, parity_stress.png

Every file is written to a temporary sibling and renamed into place, so an interrupted run
never leaves a half-written model, checkpoint, metrics file or plot behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

CONFIG = "config.resolved.json"
CHECKPOINT = "checkpoint.pt"
LOG = "log.txt"
MODEL = "model"
METRICS_JSON = "metrics.json"
METRICS_MD = "metrics.md"

# sections that must not change when a run is resumed (epoch counts may grow)
FROZEN_SECTIONS = ("data", "model", "loss", "seed")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode())


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, allow_nan=False, default=_jsonable) + "\n")


def _jsonable(x):
    if hasattr(x, "tolist"):
        return x.tolist()
    raise TypeError(f"{type(x).__name__} is not JSON serialisable")


def atomic_savefig(fig, path: str | os.PathLike, dpi: int = 120) -> Path:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return atomic_write_bytes(path, buf.getvalue())


def changed_sections(old: dict, new: dict) -> list[str]:
    """Dotted paths under :data:`FROZEN_SECTIONS` whose values differ between two configs."""
    out: list[str] = []

    def walk(a, b, path):
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b)):
                walk(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for k, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{path}[{k}]")
        elif a != b:
            out.append(path)

    for sec in FROZEN_SECTIONS:
        walk(old.get(sec), new.get(sec), sec)
    return out
