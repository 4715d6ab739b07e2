"""Held-out-group error tables: how well a fit generalises to configuration groups it has
never seen (e.g. Ta fitted without its liquid, surface or generalised-stacking-fault groups).

For every model kind (one fit config each: physics-informed, pure neural, analytic) and
every held-out set of groups, the config is refitted with ``data.split.kind = "holdout"``
(:func:`physml.train.run.fit_config`; the held-out groups become the test split) into
``OUT/<kind>/without_<groups>/``, and the test errors per held-out group are tabulated next
to the in-distribution validation error. A finished run directory (``metrics.json``
present) is reused and an interrupted one resumed, but only if it was made with the same
effective config (``config.resolved.json``: the config after the hold-out split and the epoch
cap): a run of another recipe or budget is refused with the keys that differ, so one table
never mixes fits of different recipes. Calls with more configs (or more sets) reuse the
finished fits of earlier calls, which is how columns fitted at different times are combined
into one table.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

from physml.validate import write_atomic


def _run_dir(out: Path, label: str, groups: Sequence[str]) -> Path:
    return out / label / ("without_" + "+".join(groups))


class HoldoutError(ValueError):
    """A held-out run directory that cannot be reused for the requested fit."""


def holdout_config(config: str | os.PathLike, groups: Sequence[str], epochs: int | None = None, lbfgs_steps: int | None = None):
    """The fit config of ``config`` with ``groups`` held out (``data.split.kind = "holdout"``),
    every training stage's epoch count (the keys ending in ``epochs``) capped at ``epochs`` and
    the final L-BFGS refinement (``lbfgs_steps``, each ``lbfgs_iterations`` full-batch
    iterations, i.e. ~25 epochs' worth of evaluations) capped at ``lbfgs_steps``."""
    from physml.train.config import load_config

    cfg = load_config(config).model_copy(deep=True)
    cfg.data.split.kind = "holdout"
    cfg.data.split.holdout_groups = list(groups)
    if epochs is not None:
        for k, v in cfg.optimizer.model_dump().items():
            if k.endswith("epochs") and isinstance(v, int) and v > epochs:
                setattr(cfg.optimizer, k, epochs)
    if lbfgs_steps is not None and cfg.optimizer.lbfgs_steps > lbfgs_steps:
        cfg.optimizer.lbfgs_steps = lbfgs_steps
    return cfg


def config_differences(old: dict, new: dict) -> list[str]:
    """Dotted keys (one level below the sections) whose values differ between two resolved
    configs; ``output`` (the config's default run directory) is not part of a recipe."""
    out = []
    for sec in sorted((set(old) | set(new)) - {"output"}):
        a, b = old.get(sec), new.get(sec)
        if isinstance(a, dict) and isinstance(b, dict):
            out += [f"{sec}.{k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        elif a != b:
            out.append(sec)
    return out


def _check_reusable(cfg, run: Path) -> None:
    """Refuses a run directory whose recorded config is not ``cfg``."""
    from physml.train.config import FitConfig
    from physml.train.rundir import CONFIG

    path = run / CONFIG
    if not path.exists():
        if (run / "metrics.json").exists() or (run / "checkpoint.pt").exists():
            raise HoldoutError(f"{run}: holds a fit without {CONFIG}; remove the directory or choose another --out")
        return
    old = json.loads(path.read_text())
    try:  # fill in defaults of keys added to the config schema since that run
        old = FitConfig.model_validate(old).model_dump(mode="json")
    except ValueError:
        pass
    diff = config_differences(old, cfg.model_dump(mode="json"))
    if diff:
        raise HoldoutError(f"{run}: was fitted with a different config ({', '.join(diff)} {'differs' if len(diff) == 1 else 'differ'} from this recipe and epoch cap); "
                           "remove the directory or choose another --out")


def holdout_fit(config: str | os.PathLike, groups: Sequence[str], run: Path, epochs: int | None = None, lbfgs_steps: int | None = None) -> dict:
    """Fit ``config`` with ``groups`` held out into ``run``; returns its metrics.json.
    ``epochs`` and ``lbfgs_steps`` cap the training stages (a shortened run). An existing run
    directory of the same effective config is reused (finished) or resumed (interrupted);
    one of another config raises :class:`HoldoutError`."""
    from physml.train.run import fit_config

    cfg = holdout_config(config, groups, epochs, lbfgs_steps)
    _check_reusable(cfg, run)
    if (run / "metrics.json").exists() and (run / "model").exists():
        return json.loads((run / "metrics.json").read_text())
    fit_config(cfg, run, resume=(run / "checkpoint.pt").exists(), progress=False)
    return json.loads((run / "metrics.json").read_text())


def holdout_table(configs: Sequence[str | os.PathLike], group_sets: Sequence[Sequence[str]], out: str | os.PathLike, labels: Sequence[str] | None = None, epochs: int | None | Sequence[int | None] = None,
                  lbfgs_steps: int | None | Sequence[int | None] = None) -> dict:
    """Run every (config, held-out set) fit and write ``holdout.md`` / ``holdout.json``.

    ``epochs`` / ``lbfgs_steps``: one cap for every config, or one per config (``None``:
    uncapped). Returns ``{"results": {label: {set: {"test": {group: metrics},
    "validation_all", "config", "epochs_cap", "lbfgs_steps_cap"}}}, "markdown": str}`` where the metrics are those of
    :func:`physml.evaluate.evaluate` (eV/atom, eV/Å, GPa)."""
    out = Path(out)
    labels = list(labels) if labels else [Path(c).stem for c in configs]
    if len(labels) != len(configs):
        raise ValueError(f"{len(labels)} labels for {len(configs)} configs")
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must be distinct: {labels}")
    caps = _per_config(epochs, len(configs), "epoch caps")
    lcaps = _per_config(lbfgs_steps, len(configs), "L-BFGS step caps")
    for lb, cfg, cap, lcap in zip(labels, configs, caps, lcaps):  # every run directory checked before any fit starts
        for gs in group_sets:
            _check_reusable(holdout_config(cfg, gs, cap, lcap), _run_dir(out, lb, gs))
    out.mkdir(parents=True, exist_ok=True)
    res: dict[str, dict[str, dict]] = {}
    for lb, cfg, cap, lcap in zip(labels, configs, caps, lcaps):
        for gs in group_sets:
            m = holdout_fit(cfg, gs, _run_dir(out, lb, gs), epochs=cap, lbfgs_steps=lcap)
            res.setdefault(lb, {})["+".join(gs)] = {"test": m.get("test", {}), "validation_all": m.get("validation", {}).get("all"),
                                                    "config": str(cfg), "epochs_cap": cap, "lbfgs_steps_cap": lcap}
    md = markdown(res, labels)
    write_atomic(out / "holdout.json", json.dumps(res, indent=2))
    write_atomic(out / "holdout.md", md)
    return {"results": res, "markdown": md}


def _per_config(cap: int | None | Sequence[int | None], n: int, what: str) -> list[int | None]:
    caps = list(cap) if isinstance(cap, (list, tuple)) else [cap] * n
    if len(caps) != n:
        raise ValueError(f"{len(caps)} {what} for {n} configs (give one for all or one per config)")
    return caps


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
    fits = []
    for lb in labels:
        r = next(iter(res.get(lb, {}).values()), {})
        if "config" in r:
            cap, lcap = r.get("epochs_cap"), r.get("lbfgs_steps_cap")
            fits.append(f"{lb}: `{r['config']}`" + (f", epochs capped at {cap}" if cap is not None else ", full epoch counts")
                        + (f", L-BFGS steps capped at {lcap}" if lcap is not None else ""))
    if fits:
        lines += ["", "Fits: " + "; ".join(fits) + "."]
    return "\n".join(lines) + "\n"
