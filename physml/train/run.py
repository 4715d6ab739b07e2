"""``physml fit CONFIG``: a fit as one command, written to a run directory.

RUN/
  config.resolved.json   the validated config with defaults filled in
  log.txt                one JSON line per epoch and stage messages
  checkpoint.pt          latest trainer state (``--resume`` continues from it)
  model/                 the fitted potential (physml model format)
  metrics.json, metrics.md   per-group MAE/RMSE on train / validation / test
  learning_curve.png, parity_energy.png, parity_forces.png
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch

from physml.data import fit_reference_energies, holdout_groups, load_dataset, random_split, stratified_split
from physml.evaluate import evaluate, table
from physml.io import save
from physml.train.build import build_potential
from physml.train.config import FitConfig, load_config
from physml.train.loss import LossWeights
from physml.train.trainer import Trainer


def _split(ds, cfg: FitConfig):
    sp = cfg.data.split
    groups = [s.config_type for s in ds]
    if sp.kind == "holdout":
        keep, out = holdout_groups(groups, sp.holdout_groups)
        sub = ds[keep]
        tr, va = stratified_split([groups[k] for k in keep], [0.9, 0.1], seed=sp.seed)
        return sub[tr], sub[va], ds[out]
    fr = list(sp.fractions)
    parts = stratified_split(groups, fr, seed=sp.seed) if sp.kind == "stratified" else random_split(len(ds), fr, seed=sp.seed)
    parts += [[]] * (3 - len(parts))
    return ds[parts[0]], ds[parts[1]], ds[parts[2]]


def fit(config_path: str | os.PathLike, out: str | os.PathLike | None = None, resume: bool = False) -> Path:
    cfg = load_config(config_path)
    run = Path(out or cfg.output)
    fit_config(cfg, run, resume=resume)
    return run


def fit_config(cfg: FitConfig, run: Path, resume: bool = False, on_epoch=None) -> float:
    """Run a fit of a validated config into ``run``; returns the final validation loss."""
    run.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    run.mkdir(parents=True, exist_ok=True)
    (run / "config.resolved.json").write_text(json.dumps(cfg.model_dump(), indent=2))
    logf = open(run / "log.txt", "a")

    def log(msg: str) -> None:
        logf.write(msg + "\n")
        logf.flush()
        print(msg, flush=True)

    ds = load_dataset(cfg.data.train, min_distance=cfg.data.min_distance)
    train, val, test = _split(ds, cfg)
    if cfg.data.test:
        test = load_dataset(cfg.data.test, min_distance=cfg.data.min_distance)
    if cfg.data.reference_energies == "fit":
        ref = fit_reference_energies(train, list(cfg.model.species))
        refs = [ref.energies[s] for s in cfg.model.species]
        log(f"reference energies (least squares): {dict(zip(cfg.model.species, refs))}; residual {ref.rmse_per_atom:.4f} eV/atom")
    else:
        refs = [cfg.data.reference_energies[s] for s in cfg.model.species]
    pot = build_potential(cfg.model, refs, seed=cfg.seed)
    lw = LossWeights(cfg.loss.energy, cfg.loss.forces, cfg.loss.stress, cfg.loss.perturbation, dict(cfg.loss.group_weights))
    o = cfg.optimizer
    def log_and_report(msg: str) -> None:
        log(msg)
        if on_epoch is not None:
            rec = json.loads(msg)
            if "epoch" in rec and "val_loss" in rec:
                on_epoch(len(trainer.history.epochs), rec["val_loss"])

    trainer = Trainer(pot, train, val, lw, o.batch_size, o.learning_rate, o.weight_decay, o.gradient_clip, cfg.seed, run / "checkpoint.pt", log_and_report, patience=o.patience)
    t0 = time.time()
    if resume and (run / "checkpoint.pt").exists():
        trainer.load_checkpoint(run / "checkpoint.pt", o.joint_baseline)
        log(f"resumed at stage {trainer.stage}, epoch {trainer.epoch}")
    stages = [("baseline", o.baseline_epochs), ("network", o.epochs)]
    has_network = any(c.provider.kind != "constant" for c in pot.components)
    for stage, epochs in stages:
        if stage == "network" and not has_network:
            continue
        if resume and trainer.stage == "network" and stage == "baseline":
            continue
        trainer.run(stage, epochs, joint_baseline=o.joint_baseline)
    pot.metadata.update({"data": {"train": cfg.data.train, "hash": ds.content_hash()}, "config": cfg.model_dump()})
    save(pot, run / "model")
    metrics = {}
    for name, part in (("train", train), ("validation", val), ("test", test)):
        if len(part):
            metrics[name], _ = evaluate(pot, part)
    (run / "metrics.json").write_text(json.dumps(metrics, indent=2))
    md = [f"# Metrics ({time.time() - t0:.0f} s)"]
    for name, m in metrics.items():
        md += ["", f"## {name}", "", table(m)]
    (run / "metrics.md").write_text("\n".join(md) + "\n")
    _plots(run, trainer, pot, test if len(test) else val)
    log(f"wrote {run}")
    logf.close()
    final_val = trainer.validate()
    return final_val if math.isfinite(final_val) else float(trainer.history.epochs[-1]["train_loss"]) if trainer.history.epochs else float("nan")


def _plots(run: Path, trainer: Trainer, pot, data) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = trainer.history.epochs
    if ep:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.semilogy([e["train_loss"] for e in ep], label="train")
        if any(np.isfinite(e["val_loss"]) for e in ep):
            ax.semilogy([e["val_loss"] for e in ep], label="validation")
        ax.set_xlabel("epoch (all stages)")
        ax.set_ylabel("loss")
        ax.legend()
        fig.tight_layout()
        fig.savefig(run / "learning_curve.png", dpi=120)
        plt.close(fig)
    if not len(data):
        return
    pred = pot.evaluate([s.atoms for s in data])
    e_ref = [s.energy / s.n_atoms for s in data if s.energy is not None]
    e_pre = [p["energy"] / s.n_atoms for p, s in zip(pred, data) if s.energy is not None]
    f_ref = np.concatenate([s.forces.ravel() for s in data if s.forces is not None] or [np.zeros(0)])
    f_pre = np.concatenate([p["forces"].ravel() for p, s in zip(pred, data) if s.forces is not None] or [np.zeros(0)])
    for name, x, y, unit in (("energy", e_ref, e_pre, "eV/atom"), ("forces", f_ref, f_pre, "eV/Å")):
        if len(x) == 0:
            continue
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.plot(x, y, ".", ms=3)
        lo, hi = min(np.min(x), np.min(y)), max(np.max(x), np.max(y))
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.5)
        ax.set_xlabel(f"DFT ({unit})")
        ax.set_ylabel(f"model ({unit})")
        fig.tight_layout()
        fig.savefig(run / f"parity_{name}.png", dpi=120)
        plt.close(fig)
