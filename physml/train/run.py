"""``physml fit CONFIG [--out DIR] [--resume]``: a fit as one command, into a run directory.

The layout of the run directory is described in :mod:`physml.train.rundir`. A fit

1. validates the config (every problem reported with its key path) and seeds python,
   numpy and torch; deterministic torch algorithms are requested for the fit;
2. loads the data, splits it (stratified / random / hold-out groups), sets the reference
   energies (given, or least squares on the training split);
3. builds the potential from the model section (:mod:`physml.train.build`) and scales
   the descriptor inputs of physics-informed providers to unit RMS over the training
   atoms (:mod:`physml.train.scaling`);
4. trains the stages baseline → network → lbfgs (:class:`~physml.train.trainer.Trainer`),
   checkpointing after every epoch;
5. writes the model, per-group metrics on train / validation / test, plots and the log.

Under ``torchrun --nproc_per_node K -m physml.cli fit CONFIG`` the fit is data-parallel over
K processes (:mod:`physml.train.distributed`); only rank 0 writes the run directory, and
the result follows the single-process fit to round-off.

``--resume`` continues from ``checkpoint.pt``; the result is bit-identical to an
uninterrupted run (CPU). The data, model, loss and seed sections must be unchanged, the
epoch counts may grow. Without ``--resume`` an existing checkpoint is never overwritten.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Callable

import torch

from physml.data import fit_reference_energies, holdout_groups, load_dataset, random_split, stratified_split
from physml.evaluate import evaluate, table
from physml.io import save
from physml.train import rundir
from physml.train.build import build_potential, start_from
from physml.train.config import ConfigError, FitConfig, load_config
from physml.train.distributed import World, barrier, broadcast_object, current, init_from_env, launched, shutdown
from physml.train.loss import LossWeights
from physml.train.plots import learning_curve, parity_plots
from physml.train.scaling import fit_descriptor_scales
from physml.train.trainer import Trainer, seed_everything


def split_dataset(ds, cfg: FitConfig):
    """(train, validation, test) datasets of the config's split spec."""
    sp = cfg.data.split
    groups = [s.config_type for s in ds]
    if sp.kind == "holdout":
        keep, out = holdout_groups(groups, sp.holdout_groups)
        sub = ds[keep]
        fr = list(sp.fractions[:2]) if len(sp.fractions) >= 2 else [0.9, 0.1]
        tot = sum(fr)
        tr, va = stratified_split([groups[k] for k in keep], [f / tot for f in fr], seed=sp.seed)
        return sub[tr], sub[va], ds[out]
    fr = list(sp.fractions)
    parts = stratified_split(groups, fr, seed=sp.seed) if sp.kind == "stratified" else random_split(len(ds), fr, seed=sp.seed)
    parts += [[]] * (3 - len(parts))
    return ds[parts[0]], ds[parts[1]], ds[parts[2]]


def fit(config_path: str | os.PathLike, out: str | os.PathLike | None = None, resume: bool = False, progress: bool | None = None) -> Path:
    """``physml fit``: run the config at ``config_path``; returns the run directory."""
    cfg = load_config(config_path)
    run = Path(out or cfg.output)
    fit_config(cfg, run, resume=resume, progress=progress)
    return run


class _Log:
    def __init__(self, path: Path, echo_epochs: bool):
        self.fh = open(path, "a", encoding="utf-8")
        self.echo_epochs = echo_epochs

    def __call__(self, msg: str) -> None:
        self.fh.write(msg + "\n")
        self.fh.flush()
        if not msg.startswith('{"stage"'):
            print(msg, flush=True)
        elif self.echo_epochs:  # the log keeps the JSON record; the screen gets a short line
            rec = json.loads(msg)
            if "epoch" in rec and "train_loss" in rec:
                print(f"{rec['stage']} epoch {rec['epoch']}: train loss {rec['train_loss']:.4g}, validation loss {rec['val_loss']:.4g} ({rec.get('wall_s', 0):.0f} s)", flush=True)
            else:
                print(msg, flush=True)

    def close(self) -> None:
        self.fh.close()


class _NoLog:
    """The log of ranks other than 0 (only rank 0 writes the run directory)."""

    def __call__(self, msg: str) -> None:
        pass

    def close(self) -> None:
        pass


def _prepare_dir(cfg: FitConfig, run: Path, resume: bool) -> bool:
    """Checks the run directory; returns True if a checkpoint should be resumed."""
    ck = run / rundir.CHECKPOINT
    new = cfg.model_dump(mode="json")
    if not resume:
        if ck.exists():
            raise ValueError(f"{run} already holds a fit ({ck.name}); use --resume to continue it, or another --out")
        return False
    if not ck.exists():
        return False
    old_path = run / rundir.CONFIG
    if old_path.exists():
        old = json.loads(old_path.read_text())
        try:  # fill in defaults of keys added to the config schema since the checkpoint
            old = FitConfig.model_validate(old).model_dump(mode="json")
        except ValueError:
            pass
        changed = rundir.changed_sections(old, new)
        if changed:
            raise ConfigError(f"{run}: cannot resume, the config changed since the checkpoint at: {', '.join(changed)}")
    return True


def fit_config(
    cfg: FitConfig,
    run: str | os.PathLike,
    resume: bool = False,
    on_epoch: Callable[[int, float], None] | None = None,
    progress: bool | None = None,
) -> float:
    """Run a fit of a validated config into ``run``; returns the final validation loss
    (the training loss if there is no validation data). ``on_epoch(n, val_loss)`` is called
    after every epoch (``physml tune`` prunes through it)."""
    run = Path(run)
    owns_group = launched() and not current().active
    world = init_from_env("cpu")
    try:
        decision: tuple[bool, Exception | None] = (False, None)
        if world.is_main:
            try:
                run.mkdir(parents=True, exist_ok=True)
                decision = (_prepare_dir(cfg, run, resume), None)
            except (ValueError, OSError) as err:
                if not world.active:
                    raise
                decision = (False, err)
        do_resume, error = broadcast_object(world, decision)
        if error is not None:  # every rank stops with rank 0's error
            raise error
        show = (progress if progress is not None else sys.stderr.isatty()) and world.is_main
        log = _Log(run / rundir.LOG, echo_epochs=not show) if world.is_main else _NoLog()
        det = torch.are_deterministic_algorithms_enabled()
        torch.use_deterministic_algorithms(True, warn_only=True)
        try:
            return _fit(cfg, run, do_resume, resume, on_epoch, show, log, world)
        finally:
            torch.use_deterministic_algorithms(det)
            log.close()
    finally:
        if owns_group:
            shutdown()


def _fit(cfg: FitConfig, run: Path, do_resume: bool, resume: bool, on_epoch, show: bool, log, world: World) -> float:
    t0 = time.perf_counter()
    seed_everything(cfg.seed)
    if world.is_main:
        rundir.atomic_write_json(run / rundir.CONFIG, cfg.model_dump(mode="json"))
    log(f"physml fit: {run} (seed {cfg.seed}{', resuming' if do_resume else ''}" + (f"; {world.size} processes" if world.active else "") + ")")
    if resume and not do_resume:
        log("no checkpoint to resume from: starting a new fit")

    from physml.train.compare import load_data

    kw = dict(min_distance=cfg.data.min_distance, pressure_offset=cfg.data.pressure_offset)
    ds = load_data(cfg.data.train, **kw)
    train, val, test = split_dataset(ds, cfg)
    if cfg.data.test:
        test = load_data(cfg.data.test, **kw)
    log(f"data: {len(ds)} structures, groups {ds.groups}; train {len(train)}, validation {len(val)}, test {len(test)}")
    if cfg.data.pressure_offset:
        log(f"stresses corrected by the pressure offset {cfg.data.pressure_offset:+g} GPa (sigma - delta I)")
    if not len(train):
        raise ValueError(f"{cfg.data.train}: the training split is empty")
    missing = sorted(set(ds.species) - set(cfg.model.species))
    if missing:
        raise ValueError(f"{cfg.data.train}: element(s) {missing} are not in model.species {cfg.model.species}")
    for key in ("group_weights", "energy_group_weights"):
        for g in getattr(cfg.loss, key):
            if g not in ds.groups:
                close = difflib.get_close_matches(g, ds.groups, n=1)
                raise ConfigError(f"loss.{key}.{g}: no such config_type in the data" + (f"; did you mean {close[0]!r}?" if close else f"; groups: {ds.groups}"))

    if cfg.model.inherit:
        refs = None  # the inherited elementals' own reference energies (frozen), logged below
    elif cfg.data.reference_energies == "fit":
        ref = fit_reference_energies(train, list(cfg.model.species))
        refs = [ref.energies[s] for s in cfg.model.species]
        log(f"reference energies (least squares): {dict(zip(cfg.model.species, refs))}; residual {ref.rmse_per_atom:.4f} eV/atom")
    else:
        refs = [cfg.data.reference_energies[s] for s in cfg.model.species]
    pot = build_potential(cfg.model, refs, seed=cfg.seed)
    if cfg.model.inherit:
        inherited = dict(zip(cfg.model.species, pot.reference_energies.tolist()))
        given = cfg.data.reference_energies
        if given != "fit":
            differ = [s for s in cfg.model.species if abs(float(given[s]) - inherited[s]) > 1e-12]
            if differ:
                raise ConfigError(
                    f"data.reference_energies: an alloy inherits the reference energies of its elementals {inherited}; "
                    f"the config gives other values for {differ} (remove the key or use the inherited values)"
                )
        log(f"reference energies (inherited, frozen): {inherited}")
    if cfg.model.start_from and not do_resume:  # (a resumed fit has them from its checkpoint)
        try:
            started = start_from(pot, cfg.model.start_from)
        except (OSError, ValueError) as err:
            raise ConfigError(str(err)) from None
        log(f"parameters and descriptor scales from {started['path']} (model hash {started['model_hash'][:16]}…)")
    # models built from terms only: inherited providers keep their trained scales, and a
    # resumed fit restores the scales from its checkpoint
    if not do_resume and not cfg.model.inherit and not cfg.model.start_from:
        for k, sc in enumerate(fit_descriptor_scales(pot, train)):
            log(f"descriptor scales (1/RMS over the training atoms) of provider {k}: {[round(float(x), 4) for x in sc.flatten()]}")
    log(pot.describe())

    anchors = None
    if cfg.data.anchors:
        from physml.train.anchors import AnchorSet, read_anchors

        try:
            anchors = AnchorSet(pot, *read_anchors(cfg.data.anchors, list(cfg.model.species)))
        except (OSError, ValueError) as err:
            raise ConfigError(str(err)) from None
        log(anchors.describe())
    elastic = None
    if cfg.data.elastic_targets:
        from physml.train.elastic import ElasticPrior, ElasticTarget

        try:
            elastic = ElasticPrior(pot, [ElasticTarget(**t.model_dump()) for t in cfg.data.elastic_targets])
        except ValueError as err:
            raise ConfigError(str(err)) from None
        log(elastic.describe())
    o = cfg.optimizer
    lw = LossWeights(cfg.loss.energy, cfg.loss.forces, cfg.loss.stress, cfg.loss.perturbation, anchor=cfg.loss.anchor, group=dict(cfg.loss.group_weights), energy_group=dict(cfg.loss.energy_group_weights), elastic=cfg.loss.elastic)

    def report(rec: dict) -> None:
        if on_epoch is not None:
            on_epoch(len(trainer.history.epochs), rec["val_loss"])

    trainer = Trainer(
        pot, train, val, lw, batch_size=o.batch_size, learning_rate=o.learning_rate, weight_decay=o.weight_decay, l2=o.lbfgs_l2,
        gradient_clip=o.gradient_clip, seed=cfg.seed, checkpoint=run / rundir.CHECKPOINT, log=log, patience=o.patience,
        lr_factor=o.lr_factor, lr_patience=o.lr_patience, scheduler=o.scheduler, min_lr=o.min_lr,
        baseline_optimizer=o.baseline_optimizer, lbfgs_iterations=o.lbfgs_iterations, joint_baseline=o.joint_baseline,
        progress=show, on_epoch=report, world=world, anchors=anchors, elastic=elastic,
    )
    stages = [("baseline", o.baseline_epochs)]
    if any(c.provider.kind != "constant" for c in pot.components):
        stages += [("network", o.epochs), ("lbfgs", o.lbfgs_steps)]
    if do_resume:
        trainer.load_checkpoint(run / rundir.CHECKPOINT, epochs=dict(stages))
        log(f"resumed at stage {trainer.stage}, epoch {trainer.epoch}")
    trainer.fit(stages)
    final_val = trainer.validate()  # a collective under data parallelism: every rank calls it
    if not world.is_main:
        barrier(world)
        return final_val
    try:
        return _write_results(cfg, run, pot, trainer, stages, ds, train, val, test, final_val, t0, log)
    finally:
        barrier(world)


def _write_results(cfg, run, pot, trainer, stages, ds, train, val, test, final_val, t0, log) -> float:

    pot.metadata.update({
        "data": {"train": cfg.data.train, "test": cfg.data.test, "hash": ds.content_hash(), "n_train": len(train), "n_validation": len(val), "n_test": len(test)},
        "config": cfg.model_dump(mode="json"),
        "training": {"stages": [s for s, n in stages if n], "epochs": len(trainer.history.epochs), "best_val_loss": trainer.best_val if math.isfinite(trainer.best_val) else None},
    })
    save(pot, run / rundir.MODEL)
    metrics, preds = {}, {}
    for name, part in (("train", train), ("validation", val), ("test", test)):
        if len(part):
            metrics[name], info = evaluate(pot, part)
            preds[name] = (part, info["predictions"])
    rundir.atomic_write_json(run / rundir.METRICS_JSON, metrics)
    md = ["# Fit metrics", "", f"Run `{run}`: {len(trainer.history.epochs)} epochs over stages "
          f"{', '.join(f'{s} ({n})' for s, n in stages if n) or 'none'}; training {trainer.wall:.1f} s (all runs of this fit); "
          f"final validation loss {final_val:.4g}.", "",
          "Energies in meV/atom, forces in eV/Å, stresses in GPa; — marks a label missing from that group."]
    for name, m in metrics.items():
        md += ["", f"## {name}", "", table(m)]
    rundir.atomic_write_text(run / rundir.METRICS_MD, "\n".join(md) + "\n")
    learning_curve(trainer.history.epochs, run / "learning_curve.png")
    parity_plots({k: v for k, v in preds.items() if k != "validation"} or preds, run)
    shown = next((k for k in ("test", "validation", "train") if k in metrics), None)
    if shown is not None:
        log(f"\n{shown} metrics (energies meV/atom, forces eV/Å, stresses GPa):\n{table(metrics[shown])}\n")
    log(f"wrote {run} ({time.perf_counter() - t0:.1f} s in this run; training epochs {trainer.wall:.1f} s over all runs of this fit)")
    if math.isfinite(final_val):
        return final_val
    return float(trainer.history.epochs[-1]["train_loss"]) if trainer.history.epochs else float("nan")

