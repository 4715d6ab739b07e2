"""Staged trainer with seeded batch order, checkpoints and exact resume.

Stages (run in this order by :meth:`Trainer.fit`; each may be skipped with 0 epochs):

* ``"baseline"`` — only the baseline parameters (constant providers' values, physics-
  informed p0) are trained, with Adam (mini-batches) or full-batch L-BFGS
  (``baseline_optimizer="lbfgs"``; one "epoch" is one L-BFGS step of ``lbfgs_iterations``
  iterations);
* ``"network"`` — the network weights with AdamW (and p0 too if ``joint_baseline``);
  decoupled weight decay acts on weight matrices only;
* ``"lbfgs"`` — optional full-batch L-BFGS refinement of the same parameters as
  ``"network"``, with the L2 weight penalty added to the loss.

Frozen tensors (``requires_grad=False``) never enter an optimiser, so neither gradients nor
weight decay touch them (the alloy inheritance relies on this). Mini-batches and their
neighbour lists are built once. The batch order of epoch e is a permutation drawn from a
private ``torch.Generator`` seeded with (seed, stage, e), so a run resumed from a checkpoint
(model, optimiser, scheduler, early-stopping and RNG states, stage and epoch) replays
exactly what an uninterrupted run does: the final weights are bit-identical on CPU.

Data parallelism (:mod:`physml.train.distributed`): in a process group of K processes each
global mini-batch is split into K parts, every process evaluates its part's share of the
loss, and the gradients (and logged loss components) are summed over the processes before
clipping and the optimiser step, so the run follows the single-process one to round-off.
Only rank 0 writes checkpoints and logs.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from physml.data.labels import LabelledBatch
from physml.data.structures import Dataset
from physml.neighbors import neighbor_list
from physml.potential import Potential
from physml.train.distributed import World, all_reduce_sum, broadcast_module, current
from physml.train.loss import LossWeights, loss_normalisers, loss_terms

STAGES = ("baseline", "network", "lbfgs")
_STAGE_OFFSET = {"baseline": 0, "network": 50_000_000, "lbfgs": 90_000_000}
_COMPONENTS = ("energy", "forces", "stress", "perturbation", "anchor", "elastic")
# the priors' places in [total, *components]
_PRIOR_INDEX = {name: 1 + _COMPONENTS.index(name) for name in ("anchor", "elastic")}


def baseline_parameters(pot: Potential) -> list[torch.nn.Parameter]:
    """Trainable baseline tensors: constant providers' values and physics-informed p0."""
    out = []
    for c in pot.components:
        if c.provider.kind == "constant":
            out += [p for p in c.provider.parameters() if p.requires_grad]
        elif isinstance(getattr(c.provider, "p0", None), torch.nn.Parameter) and c.provider.p0.requires_grad:
            out.append(c.provider.p0)
    return out


def network_parameters(pot: Potential) -> list[torch.nn.Parameter]:
    """Every other trainable tensor (network weights and biases, trainable scales, …)."""
    base = {id(p) for p in baseline_parameters(pot)}
    return [p for p in pot.parameters() if p.requires_grad and id(p) not in base]


def _lr_groups(params: list, weight_decay: float, lr: float) -> list[dict]:
    """Optimiser parameter groups by learning-rate factor: a tensor's ``lr_scale``
    attribute (set when an inherited block is explicitly unfrozen) multiplies the learning
    rate of the Adam stages; L-BFGS has a single step length and ignores it."""
    by_scale: dict[float, list] = {}
    for p in params:
        by_scale.setdefault(float(getattr(p, "lr_scale", 1.0)), []).append(p)
    return [{"params": ps, "weight_decay": weight_decay, "lr": lr * k} for k, ps in by_scale.items() if ps]


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (the trainer's batch order has its own generator)."""
    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    torch.manual_seed(seed)


def _rng_state() -> dict:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)), "pos": int(pos), "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "python": random.getstate(),
    }


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    n = state.get("numpy")
    if n is not None:
        np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    py = state.get("python")
    if py is not None:
        random.setstate((py[0], tuple(py[1]), py[2]))


@dataclass
class History:
    epochs: list[dict] = field(default_factory=list)


@dataclass
class _Part:
    """This process's part of one global mini-batch (``batch`` None when the part is empty)."""

    batch: LabelledBatch | None
    nlist: object
    n_structures: int  # of the global batch
    normalisers: dict | None  # of the global batch (data parallelism only)


class Trainer:
    """Fits a :class:`~physml.potential.Potential` to labelled data.

    Args:
        potential: the model (trained in place).
        train, validation: datasets (validation may be None or empty: then the training
            loss drives the scheduler and early stopping is off).
        weights: loss weights.
        batch_size: structures per mini-batch (Adam stages).
        l2: λ_w of the L2 weight penalty of the L-BFGS stages (default: ``weight_decay``;
            AdamW's decoupled decay and an L2 penalty are different scales).
        learning_rate, weight_decay, gradient_clip: Adam(W) settings (clip on the global
            gradient norm; None or 0 disables).
        seed: batch-order seed.
        checkpoint: file written atomically after every epoch.
        log: receives one JSON line per epoch and stage messages.
        patience: early stopping after this many epochs without a better validation loss
            (0: off); the best-validation model is restored at the end of the stage.
        scheduler: ``"plateau"`` (ReduceLROnPlateau with ``lr_factor``/``lr_patience``),
            ``"cosine"`` (cosine annealing to ``min_lr`` over the stage) or ``"none"``.
        baseline_optimizer: ``"adam"`` or ``"lbfgs"`` for the baseline stage.
        lbfgs_iterations: iterations per L-BFGS step ("epoch").
        joint_baseline: train p0 together with the network in the network stages.
        progress: tqdm progress bars (None: only when stderr is a terminal).
        on_epoch: called with each epoch's record after its checkpoint is written.
        world: the process group (default: the initialised one, else a single process).
        anchors: an :class:`~physml.train.anchors.AnchorSet` whose penalty enters every
            batch's loss with ``weights.anchor``.
        elastic: an :class:`~physml.train.elastic.ElasticPrior` whose penalty enters every
            batch's loss with ``weights.elastic``.
    """

    def __init__(
        self,
        potential: Potential,
        train: Dataset,
        validation: Dataset | None,
        weights: LossWeights,
        batch_size: int = 8,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        l2: float | None = None,
        gradient_clip: float | None = 10.0,
        seed: int = 0,
        checkpoint: str | os.PathLike | None = None,
        log: Callable[[str], None] | None = None,
        patience: int = 0,
        lr_factor: float = 0.5,
        lr_patience: int = 10,
        scheduler: str = "plateau",
        min_lr: float = 0.0,
        baseline_optimizer: str = "adam",
        lbfgs_iterations: int = 20,
        joint_baseline: bool = False,
        progress: bool | None = None,
        on_epoch: Callable[[dict], None] | None = None,
        world: World | None = None,
        anchors=None,
        elastic=None,
    ):
        if scheduler not in ("plateau", "cosine", "none"):
            raise ValueError(f"scheduler must be 'plateau', 'cosine' or 'none', got {scheduler!r}")
        if baseline_optimizer not in ("adam", "lbfgs"):
            raise ValueError(f"baseline_optimizer must be 'adam' or 'lbfgs', got {baseline_optimizer!r}")
        self.pot = potential
        self.anchors = anchors
        self.elastic = elastic
        self.world = world if world is not None else current()
        broadcast_module(self.world, potential)  # identical start on every process
        self.weights = weights
        self.seed = int(seed)
        self.lr = float(learning_rate)
        self.weight_decay = float(weight_decay)
        self.l2 = self.weight_decay if l2 is None else float(l2)
        self.clip = gradient_clip
        self.checkpoint = Path(checkpoint) if checkpoint else None
        self.log = log or (lambda s: None)
        self.on_epoch = on_epoch
        self.patience = int(patience)
        self.lr_factor, self.lr_patience = float(lr_factor), int(lr_patience)
        self.scheduler_kind, self.min_lr = scheduler, float(min_lr)
        self.baseline_optimizer = baseline_optimizer
        self.lbfgs_iterations = int(lbfgs_iterations)
        self.joint_baseline = bool(joint_baseline)
        self.progress = progress
        groups = sorted(set(train.groups) | set(validation.groups if validation is not None else []))
        self.train_batches = self._batches(train, batch_size, groups)
        self.val_batches = self._batches(validation, batch_size, groups) if validation is not None and len(validation) else []
        self.n_train = len(train)
        self.history = History()
        self.best_val = float("inf")
        self.best_state: dict | None = None
        self.bad_epochs = 0
        self.stopped = False
        self.scheduler = None
        self.stage = "baseline"
        self.epoch = 0
        self.optimizer: torch.optim.Optimizer | None = None
        self.resumed = False
        self.lbfgs_ref = 0.0  # the loss that normalises the L-BFGS objective (0: not set yet)
        self.wall = 0.0  # seconds spent in training epochs, summed over resumed runs

    # ------------------------------------------------------------------ set-up
    def _batches(self, ds: Dataset, size: int, groups) -> list[_Part]:
        """This process's parts of the labelled mini-batches with their neighbour lists
        (built once; geometry is fixed)."""
        out = []
        full = self.pot.needs_full_list
        kw = dict(dtype=self.pot.dtype, device=self.pot.device)
        for start in range(0, len(ds), size):
            idx = list(range(start, min(len(ds), start + size)))
            nz = None
            if self.world.active:
                nz = loss_normalisers(LabelledBatch.from_dataset(ds[idx], self.pot.species, groups, **kw), self.weights)
                idx = [idx[k] for k in self.world.part(len(idx))]
            b = LabelledBatch.from_dataset(ds[idx], self.pot.species, groups, **kw) if idx else None
            nl = neighbor_list(b, self.pot.cutoff, full=full) if b is not None else None
            out.append(_Part(b, nl, min(len(ds), start + size) - start, nz))
        return out

    def _uses_lbfgs(self, stage: str) -> bool:
        return stage == "lbfgs" or (stage == "baseline" and self.baseline_optimizer == "lbfgs")

    def _stage_parameters(self, stage: str) -> list[torch.nn.Parameter]:
        if stage == "baseline":
            return baseline_parameters(self.pot)
        params = network_parameters(self.pot)
        if self.joint_baseline:
            params = params + baseline_parameters(self.pot)
        return params

    def _decayed(self, stage: str) -> list[torch.nn.Parameter]:
        if stage == "baseline":
            return []
        return [p for p in network_parameters(self.pot) if p.dim() >= 2]

    def _make_optimizer(self, stage: str) -> torch.optim.Optimizer | None:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}; stages: {STAGES}")
        params = self._stage_parameters(stage)
        if not params:
            return None
        if self._uses_lbfgs(stage):
            return torch.optim.LBFGS(params, lr=1.0, max_iter=self.lbfgs_iterations, history_size=20, line_search_fn="strong_wolfe")
        if stage == "baseline":
            return torch.optim.Adam(_lr_groups(params, 0.0, self.lr), lr=self.lr)
        decayed = {id(p) for p in self._decayed(stage)}
        groups = _lr_groups([p for p in params if id(p) in decayed], self.weight_decay, self.lr)
        groups += _lr_groups([p for p in params if id(p) not in decayed], 0.0, self.lr)
        return torch.optim.AdamW(groups, lr=self.lr)

    def _make_scheduler(self, stage: str, epochs: int):
        if self.optimizer is None or self._uses_lbfgs(stage) or self.scheduler_kind == "none":
            return None
        if self.scheduler_kind == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=max(int(epochs), 1), eta_min=self.min_lr)
        return torch.optim.lr_scheduler.ReduceLROnPlateau(self.optimizer, factor=self.lr_factor, patience=self.lr_patience, min_lr=self.min_lr)

    # ------------------------------------------------------------------ losses
    def _loss(self, part: _Part, create_graph: bool, stage: str | None = None, anchors: bool = True) -> dict[str, torch.Tensor] | None:
        """This process's share of the loss of one global batch (None for an empty part);
        ``anchors=False`` leaves the prior penalties (anchors, elastic targets) out (added
        once by the caller)."""
        if part.batch is None:
            return None
        w = self.weights
        pred = self.pot(part.batch, nlist=part.nlist, forces=w.forces > 0, stress=w.stress > 0, create_graph=create_graph)
        return loss_terms(pred, part.batch, w, self.pot, normalisers=part.normalisers,
                           anchors=self.anchors if anchors else None, elastic=self.elastic if anchors else None)

    def _prior_penalties(self) -> list[tuple[str, float, torch.Tensor]]:
        """(component, weight, penalty) of the priors in use — the anchor penalty R_a and the
        elastic-constant prior R_C — at the current parameters. A full-data objective
        (validation, L-BFGS) adds them once instead of once per batch: every batch's share
        would be the same number."""
        out = []
        for name, prior, w in (("anchor", self.anchors, self.weights.anchor), ("elastic", self.elastic, self.weights.elastic)):
            if prior is not None and w:
                out.append((name, float(w), prior.penalty()))
        return out

    @staticmethod
    def _values(t: dict | None) -> list[float]:
        """[total, *components] of a loss dict as floats (zeros for an empty part)."""
        if t is None:
            return [0.0] * (1 + len(_COMPONENTS))
        return [float(t["total"].detach())] + [float(t[c].detach()) for c in _COMPONENTS]

    def validate(self, components: bool = False):
        """Mean validation loss per structure (NaN without validation data); with
        ``components=True`` also the mean of each loss component."""
        if not self.val_batches:
            return (float("nan"), {}) if components else float("nan")
        acc = [0.0] * (1 + len(_COMPONENTS))
        n = 0
        for part in self.val_batches:
            vals = self._values(self._loss(part, create_graph=False, anchors=False))
            acc = [a + v * part.n_structures for a, v in zip(acc, vals)]
            n += part.n_structures
        if self.world.is_main:  # the priors once (on rank 0; acc is summed over the processes)
            with torch.no_grad():
                priors = self._prior_penalties()
            for name, w, pa in priors:
                acc[0] += w * float(pa) * n
                acc[_PRIOR_INDEX[name]] += float(pa) * n
        acc = all_reduce_sum(self.world, [], acc)
        comp = {k: v / n for k, v in zip(_COMPONENTS, acc[1:])}
        return (acc[0] / n, comp) if components else acc[0] / n

    def _adam_epoch(self, stage: str, params) -> tuple[float, dict]:
        gen = torch.Generator().manual_seed(self.seed * 100003 + self.epoch + _STAGE_OFFSET[stage])
        order = torch.randperm(len(self.train_batches), generator=gen).tolist()
        create = self.weights.forces > 0 or self.weights.stress > 0
        acc = [0.0] * (1 + len(_COMPONENTS))
        n = 0
        for k in order:
            part = self.train_batches[k]
            self.optimizer.zero_grad(set_to_none=True)
            t = self._loss(part, create_graph=create, stage=stage)
            if t is not None:
                t["total"].backward()
            vals = all_reduce_sum(self.world, params, self._values(t)) if self.world.active else self._values(t)
            if self.clip:
                torch.nn.utils.clip_grad_norm_(params, self.clip)
            self.optimizer.step()
            acc = [a + v * part.n_structures for a, v in zip(acc, vals)]
            n += part.n_structures
        return acc[0] / max(n, 1), {c: v / max(n, 1) for c, v in zip(_COMPONENTS, acc[1:])}

    def _lbfgs_closure(self, stage: str, scale: float, last: dict):
        """The full-batch objective for L-BFGS: the training loss (plus the L2 weight
        penalty) times ``scale``; the unscaled components are stored in ``last``."""
        create = self.weights.forces > 0 or self.weights.stress > 0
        params = [p for g in self.optimizer.param_groups for p in g["params"]]

        def closure():
            self.optimizer.zero_grad(set_to_none=True)
            total = None
            acc = [0.0] * (1 + len(_COMPONENTS))
            for part in self.train_batches:
                t = self._loss(part, create_graph=create, stage=stage, anchors=False)
                f = part.n_structures / self.n_train
                acc = [a + v * f for a, v in zip(acc, self._values(t))]
                if t is None:
                    continue
                (t["total"] * (f * scale)).backward()
                v = t["total"].detach() * (f * scale)
                total = v if total is None else total + v
            decayed = self._decayed(stage)
            if self.l2 and decayed and self.world.is_main:
                # the L2 weight penalty λ_w Σ w², once per evaluation (on rank 0 only)
                l2 = self.l2 * sum((q * q).sum() for q in decayed)
                (l2 * scale).backward()
                acc[0] += float(l2.detach())
                total = l2.detach() * scale if total is None else total + l2.detach() * scale
            for name, w, pa in self._prior_penalties() if self.world.is_main else []:
                wa = w * pa  # the priors, also once per evaluation (rank 0)
                (wa * scale).backward()
                acc[0] += float(wa.detach())
                acc[_PRIOR_INDEX[name]] += float(pa.detach())
                total = wa.detach() * scale if total is None else total + wa.detach() * scale
            if self.world.active:
                acc = all_reduce_sum(self.world, params, acc)
                total = torch.tensor(acc[0] * scale, dtype=self.pot.dtype, device=self.pot.device)
            last.clear()
            last.update(zip(("total",) + _COMPONENTS, acc))
            return total

        return closure

    def _lbfgs_epoch(self, stage: str) -> tuple[float, dict]:
        """One L-BFGS step (``lbfgs_iterations`` iterations) on the full training set.

        torch's L-BFGS stops on *absolute* tolerances (|Δloss| < 1e-9, g·d > −1e-9), which a
        fitting loss of order 1e-4 meets long before it has converged: the history then
        holds a tiny step, every later step ends after one evaluation and the stage stalls.
        The objective is therefore divided by ``lbfgs_ref``, the power of two just below the
        stage's initial loss (kept in the checkpoint), which makes those tolerances
        relative. A step that does not
        lower the loss restarts L-BFGS with an empty history; a step from an empty
        history that does not lower it ends the stage (converged)."""
        last: dict = {}
        if not self.lbfgs_ref:
            self._lbfgs_closure(stage, 1.0, last)()
            self.optimizer.zero_grad(set_to_none=True)
            # a power of two: the scaling is exact in floating point (no added round-off)
            self.lbfgs_ref = 2.0 ** math.floor(math.log2(max(float(last["total"]), 1e-300)))
        scale = 1.0 / self.lbfgs_ref
        closure = self._lbfgs_closure(stage, scale, last)
        fresh = not self.optimizer.state
        start = self.optimizer.step(closure)
        start = float(start) / scale if start is not None else float("inf")
        final_scaled = closure()  # the loss at the new parameters (what the next step starts from)
        final = float(final_scaled) / scale if final_scaled is not None else float(last["total"])
        self.optimizer.zero_grad(set_to_none=True)
        if not final < start:
            if fresh:
                self.stopped = True
                self.log(json.dumps({"stage": stage, "lbfgs": f"converged at step {self.epoch + 1} (no decrease from an empty history)", "loss": final}))
            else:
                self.optimizer = self._make_optimizer(stage)
                self.log(json.dumps({"stage": stage, "lbfgs": f"step {self.epoch + 1} did not lower the loss: restarted with an empty history"}))
        return final, {c: last[c] for c in _COMPONENTS}

    # ------------------------------------------------------------------ training
    def run(self, stage: str, epochs: int, joint_baseline: bool | None = None) -> History:
        """Train ``stage`` up to ``epochs`` epochs (continuing a resumed stage)."""
        if joint_baseline is not None:
            self.joint_baseline = bool(joint_baseline)
        if self.optimizer is None or self.stage != stage:
            self.stage = stage
            self.optimizer = self._make_optimizer(stage)
            self.scheduler = self._make_scheduler(stage, epochs)
            self.epoch = 0
            self.lbfgs_ref = 0.0
            self.best_val, self.best_state, self.bad_epochs, self.stopped = float("inf"), None, 0, False
        if self.optimizer is None:
            self.log(f"stage {stage}: nothing to train")
            return self.history
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        bar = None
        if self.epoch < epochs and not self.stopped:
            show = (self.progress if self.progress is not None else sys.stderr.isatty()) and self.world.is_main
            if show:
                from tqdm import tqdm

                bar = tqdm(total=epochs, initial=self.epoch, desc=stage, leave=False, file=sys.stderr)
        while self.epoch < epochs and not self.stopped:
            t_epoch = time.perf_counter()
            if self._uses_lbfgs(stage):
                train_loss, comp = self._lbfgs_epoch(stage)
            else:
                train_loss, comp = self._adam_epoch(stage, params)
            self.epoch += 1
            val, vcomp = self.validate(components=True)
            monitor = val if math.isfinite(val) else train_loss
            if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                self.scheduler.step(monitor)
            elif self.scheduler is not None:
                self.scheduler.step()
            self.wall += time.perf_counter() - t_epoch
            rec = {"stage": stage, "epoch": self.epoch, "train_loss": train_loss, "val_loss": val, "lr": self.optimizer.param_groups[0]["lr"], "wall_s": round(self.wall, 3)}
            rec.update({f"train_{k}": v for k, v in comp.items()})
            rec.update({f"val_{k}": v for k, v in vcomp.items()})
            self.history.epochs.append(rec)
            self.log(json.dumps(rec))
            if math.isfinite(val):
                if val < self.best_val:
                    self.best_val, self.bad_epochs = val, 0
                    self.best_state = {k: v.detach().clone() for k, v in self.pot.state_dict().items()}
                else:
                    self.bad_epochs += 1
                    self.stopped = self.patience > 0 and self.bad_epochs >= self.patience
            if not math.isfinite(train_loss):
                self.stopped = True
                self.log(json.dumps({"stage": stage, "error": f"non-finite training loss at epoch {self.epoch}"}))
            if self.stopped and math.isfinite(train_loss):
                self.log(json.dumps({"stage": stage, "early_stop": self.epoch, "best_val_loss": self.best_val}))
            if self.checkpoint is not None and self.world.is_main:
                self.save_checkpoint(self.checkpoint)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{train_loss:.3g}", val=f"{val:.3g}")
            if self.on_epoch is not None:
                self.on_epoch(rec)
        if bar is not None:
            bar.close()
        if self.best_state is not None and self.patience > 0:
            self.pot.load_state_dict(self.best_state)  # keep the best validation model
        return self.history

    def fit(self, stages: Sequence[tuple[str, int]]) -> History:
        """Run ``[(stage, epochs), …]`` in order; a resumed trainer skips the stages
        before its checkpoint's stage and continues that one."""
        names = [s for s, _ in stages]
        start = names.index(self.stage) if self.resumed and self.stage in names else 0
        for stage, epochs in stages[start:]:
            if epochs > 0 or stage == self.stage:
                self.run(stage, epochs)
        return self.history

    # ------------------------------------------------------------- checkpoints
    def save_checkpoint(self, path: str | os.PathLike) -> None:
        """Everything needed to continue exactly (written atomically)."""
        path = Path(path)
        state = {
            "format": "physml-checkpoint-1",
            "model": self.pot.state_dict(),
            "optimizer": self.optimizer.state_dict() if self.optimizer else None,
            "scheduler": self.scheduler.state_dict() if self.scheduler else None,
            "best_val": self.best_val,
            "bad_epochs": self.bad_epochs,
            "stopped": self.stopped,
            "best_state": self.best_state,
            "stage": self.stage,
            "epoch": self.epoch,
            "joint_baseline": self.joint_baseline,
            "history": self.history.epochs,
            "wall": self.wall,
            "lbfgs_ref": self.lbfgs_ref,
            "rng": _rng_state(),
        }
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        torch.save(state, tmp)
        os.replace(tmp, path)

    def load_checkpoint(self, path: str | os.PathLike, joint_baseline: bool | None = None, epochs: int | dict[str, int] | None = None) -> None:
        """Restore a checkpoint written by :meth:`save_checkpoint` (``weights_only`` load).

        ``epochs`` (an int, or stage → epochs) is the length of the checkpoint's stage in
        the current run; a cosine schedule is stretched to it."""
        state = torch.load(Path(path), weights_only=True)
        self.pot.load_state_dict(state["model"])
        self.resumed = True
        self.joint_baseline = bool(state.get("joint_baseline", False) if joint_baseline is None else joint_baseline)
        self.stage = state["stage"]
        self.optimizer = self._make_optimizer(self.stage)
        # the scheduler is created before the optimiser state is loaded: creating some
        # schedulers resets the learning rate, loading the optimiser state restores it
        n = epochs.get(self.stage) if isinstance(epochs, dict) else epochs
        self.scheduler = self._make_scheduler(self.stage, n or 1)
        if state["optimizer"] is not None and self.optimizer is not None:
            self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scheduler") is not None and self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
            sch = self.scheduler
            if n and isinstance(sch, torch.optim.lr_scheduler.CosineAnnealingLR) and sch.T_max != max(int(n), 1):
                # a stage of another length: put the learning rate on the closed-form cosine of
                # the new length (the scheduler's recursive update continues from the current lr)
                sch.T_max = max(int(n), 1)
                t = min(sch.last_epoch, sch.T_max)
                for g, base in zip(self.optimizer.param_groups, sch.base_lrs):
                    g["lr"] = sch.eta_min + (base - sch.eta_min) * (1 + math.cos(math.pi * t / sch.T_max)) / 2
                sch._last_lr = [g["lr"] for g in self.optimizer.param_groups]
        self.epoch = int(state["epoch"])
        self.history.epochs = list(state["history"])
        self.wall = float(state.get("wall", 0.0))
        self.lbfgs_ref = float(state.get("lbfgs_ref", 0.0))
        self.best_val = float(state.get("best_val", float("inf")))
        self.bad_epochs = int(state.get("bad_epochs", 0))
        self.stopped = bool(state.get("stopped", False))
        self.best_state = state.get("best_state")
        if "rng" in state:
            _set_rng_state(state["rng"])
        elif "torch_rng" in state:
            _set_rng_state({"torch": state["torch_rng"]})
