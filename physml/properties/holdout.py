"""Held-out-group error tables: how well a fit generalises to configuration groups it has
never seen (e.g. Ta fitted without its liquid, surface or generalised-stacking-fault groups).

For every model kind (one fit config each: physics-informed, pure neural, analytic) and
every held-out set of groups, the config is refitted with ``data.split.kind = "holdout"``
(:func:`physml.train.run.fit_config`; the held-out groups become the test split) into
``OUT/<kind>/without_<groups>/``, and the test errors per held-out group are tabulated next
to the in-distribution validation error. A finished run directory (``metrics.json``
present) is reused; an interrupted one is resumed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

from physml.validate import write_atomic


def _run_dir(out: Path, label: str, groups: Sequence[str]) -> Path:
    return out / label / ("without_" + "+".join(groups))


def holdout_fit(config: str | os.PathLike, groups: Sequence[str], run: Path, epochs: int | None = None) -> dict:
    """Fit ``config`` with ``groups`` held out into ``run``; returns its metrics.json.
    ``epochs`` caps every training stage's epoch count (a shortened demonstration)."""
    from physml.train.config import load_config
    from physml.train.run import fit_config

    if (run / "metrics.json").exists() and (run / "model").exists():
        return json.loads((run / "metrics.json").read_text())
    cfg = load_config(config)
    cfg = cfg.model_copy(deep=True)
    cfg.data.split.kind = "holdout"
    cfg.data.split.holdout_groups = list(groups)
    if epochs is not None:
        for k, v in cfg.optimizer.model_dump().items():
            if k.endswith("epochs") and isinstance(v, int) and v > epochs:
                setattr(cfg.optimizer, k, epochs)
    fit_config(cfg, run, resume=(run / "checkpoint.pt").exists(), progress=False)
    return json.loads((run / "metrics.json").read_text())


def holdout_table(configs: Sequence[str | os.PathLike], group_sets: Sequence[Sequence[str]], out: str | os.PathLike, labels: Sequence[str] | None = None, epochs: int | None = None) -> dict:
    """Run every (config, held-out set) fit and write ``holdout.md`` / ``holdout.json``.

    Returns ``{"results": {label: {set: {group: metrics}}}, "markdown": str}`` where the
    metrics are those of :func:`physml.evaluate.evaluate` (eV/atom, eV/Å, GPa)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    labels = list(labels) if labels else [Path(c).stem for c in configs]
    if len(labels) != len(configs):
        raise ValueError(f"{len(labels)} labels for {len(configs)} configs")
    res: dict[str, dict[str, dict]] = {}
    for lb, cfg in zip(labels, configs):
        for gs in group_sets:
            m = holdout_fit(cfg, gs, _run_dir(out, lb, gs), epochs=epochs)
            res.setdefault(lb, {})["+".join(gs)] = {"test": m.get("test", {}), "validation_all": m.get("validation", {}).get("all")}
    md = markdown(res, labels)
    write_atomic(out / "holdout.json", json.dumps(res, indent=2))
    write_atomic(out / "holdout.md", md)
    return {"results": res, "markdown": md}


def _f(x, scale, fmt):
    return "—" if x is None else fmt.format(x * scale)


def markdown(res: dict, labels: Sequence[str]) -> str:
    lines = ["# Held-out groups", "", "Each row: a model fitted without the held-out set, tested on each held-out group. "
             "E RMSE in meV/atom, F RMSE in eV/Å; `in-dist.` is the validation error of the same fit on the groups it was trained on.", ""]
    lines.append("| held out | group | n | " + " | ".join(f"{lb} E | {lb} F" for lb in labels) + " |")
    lines.append("|---|---|---|" + "---|---|" * len(labels))
    sets = list(dict.fromkeys(s for lb in labels for s in res.get(lb, {})))
    for s in sets:
        groups = list(dict.fromkeys(g for lb in labels for g in res.get(lb, {}).get(s, {}).get("test", {}) if g != "all"))
        for g in groups + ["in-dist."]:
            n, cells = None, []
            for lb in labels:
                r = res.get(lb, {}).get(s, {})
                m = r.get("validation_all") if g == "in-dist." else r.get("test", {}).get(g)
                m = m or {}
                n = n if n is not None else m.get("n")
                cells += [_f(m.get("energy_rmse"), 1e3, "{:.1f}"), _f(m.get("force_rmse"), 1, "{:.3f}")]
            lines.append(f"| {s} | {g} | {n if n is not None else ''} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
