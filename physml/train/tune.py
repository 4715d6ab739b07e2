"""``physml tune CONFIG``: hyperparameter search with optuna.

The search space is declared in the config's ``[tune]`` section (dotted config paths with
float / int / categorical ranges). Each trial fits with the sampled values into
``RUN/trials/NNNN`` and reports its validation loss every epoch, so the pruner can stop
hopeless trials early. Storage: SQLite in the run directory by default
(``sqlite:///RUN/study.db``); ``--storage postgresql://…`` lets several worker processes (or
machines) share one study (run ``physml tune`` once per worker). Studies are loaded if they
exist, so an interrupted study resumes. The best trial's model is exported to ``RUN/best``.
The storage is standard optuna storage: ``optuna-dashboard <storage>`` (the ``dashboard``
extra) shows the study live, trials, parameters and the per-epoch validation losses
(tests/test_tune.py reads them through the dashboard's own web API).
"""

from __future__ import annotations

import copy
import json
import math
import shutil
import time
from pathlib import Path

import optuna

from physml.train.config import FitConfig, load_config, validate_config


def _set(d: dict, path: str, value) -> None:
    parts = path.split(".")
    cur = d
    for p in parts[:-1]:
        cur = cur[int(p)] if isinstance(cur, list) else cur.setdefault(p, {})
    last = parts[-1]
    if isinstance(cur, list):
        cur[int(last)] = value
    else:
        cur[last] = value


def tune(config_path: str, out: str | None = None, storage: str | None = None, n_trials: int | None = None) -> Path:
    cfg = load_config(config_path)
    if cfg.tune is None or not cfg.tune.space:
        raise ValueError(f"{config_path}: no [tune] section with a search space")
    run = Path(out or cfg.output)
    run.mkdir(parents=True, exist_ok=True)
    storage = storage or f"sqlite:///{(run / 'study.db').resolve()}"
    pruner = optuna.pruners.MedianPruner(n_warmup_steps=2) if cfg.tune.pruner == "median" else optuna.pruners.NopPruner()
    study = None
    for attempt in range(10):
        # several workers may create the schema/study at the same moment: retry on the race
        try:
            study = optuna.create_study(
                study_name=cfg.tune.study_name, storage=storage, load_if_exists=True, direction=cfg.tune.direction,
                sampler=optuna.samplers.TPESampler(seed=cfg.seed), pruner=pruner,
            )
            break
        except Exception as err:  # sqlalchemy IntegrityError / optuna DuplicatedStudyError
            if attempt == 9 or "duplicate" not in str(err).lower() and "exists" not in str(err).lower():
                raise
            time.sleep(0.5 + 0.5 * attempt)
    base = cfg.model_dump()
    base.pop("tune", None)

    def objective(trial: optuna.Trial) -> float:
        d = copy.deepcopy(base)
        for sp in cfg.tune.space:
            if sp.type == "float":
                v = trial.suggest_float(sp.path, sp.low, sp.high, log=sp.log)
            elif sp.type == "int":
                v = trial.suggest_int(sp.path, int(sp.low), int(sp.high), log=sp.log)
            else:
                idx = trial.suggest_categorical(sp.path, list(range(len(sp.choices))))
                v = sp.choices[idx]
            _set(d, sp.path, v)
        tdir = run / "trials" / f"{trial.number:04d}"
        d["output"] = str(tdir)
        tcfg = validate_config(d, f"{config_path} (trial {trial.number})")
        from physml.train.run import fit_config

        def report(epoch: int, val: float) -> None:
            if math.isfinite(val):
                trial.report(val, epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned()

        val = fit_config(tcfg, tdir, on_epoch=report)
        trial.set_user_attr("run", str(tdir))
        return val

    todo = n_trials if n_trials is not None else cfg.tune.n_trials
    study.optimize(objective, n_trials=todo)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if done:
        best = study.best_trial
        src = Path(best.user_attrs["run"]) / "model"
        if src.exists():
            if (run / "best").exists():
                shutil.rmtree(run / "best")
            shutil.copytree(src, run / "best")
        (run / "best_trial.json").write_text(json.dumps({"number": best.number, "value": best.value, "params": best.params}, indent=2))
    return run
