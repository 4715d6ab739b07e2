"""Two-stage trainer with seeded batch order, checkpoints and exact resume.

Stage "baseline": only the baseline parameters (constant providers' values, physics-informed
p0) are trained; stage "network": the network weights (and, if ``joint_baseline``, p0 too).
Frozen tensors (``requires_grad=False``) never enter an optimiser. Mini-batches are formed
once (neighbour lists precomputed); their order in epoch e is a permutation drawn from
``torch.Generator().manual_seed(seed·100003 + e)``, so a run resumed from a checkpoint
replays exactly the batches an uninterrupted run would see.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from physml.data.labels import LabelledBatch
from physml.data.structures import Dataset
from physml.neighbors import neighbor_list
from physml.potential import Potential
from physml.train.loss import LossWeights, loss_terms


def baseline_parameters(pot: Potential) -> list[torch.nn.Parameter]:
    out = []
    for c in pot.components:
        if c.provider.kind == "constant":
            out += [p for p in c.provider.parameters() if p.requires_grad]
        elif hasattr(c.provider, "p0") and c.provider.p0.requires_grad:
            out.append(c.provider.p0)
    return out


def network_parameters(pot: Potential) -> list[torch.nn.Parameter]:
    base = {id(p) for p in baseline_parameters(pot)}
    return [p for p in pot.parameters() if p.requires_grad and id(p) not in base]


@dataclass
class History:
    epochs: list[dict] = field(default_factory=list)


class Trainer:
    def __init__(
        self,
        potential: Potential,
        train: Dataset,
        validation: Dataset | None,
        weights: LossWeights,
        batch_size: int = 8,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        gradient_clip: float | None = 10.0,
        seed: int = 0,
        checkpoint: str | os.PathLike | None = None,
        log: Callable[[str], None] | None = None,
        patience: int = 0,
        lr_factor: float = 0.5,
        lr_patience: int = 10,
    ):
        self.pot = potential
        self.weights = weights
        self.seed = int(seed)
        self.lr = learning_rate
        self.weight_decay = weight_decay
        self.clip = gradient_clip
        self.checkpoint = Path(checkpoint) if checkpoint else None
        self.log = log or (lambda s: None)
        groups = sorted(set(train.groups) | set(validation.groups if validation is not None else []))
        self.train_batches = self._batches(train, batch_size, groups)
        self.val_batches = self._batches(validation, batch_size, groups) if validation is not None and len(validation) else []
        self.patience = int(patience)  # early stopping on the validation loss (0: off)
        self.lr_factor, self.lr_patience = float(lr_factor), int(lr_patience)
        self.history = History()
        self.best_val = float("inf")
        self.best_state: dict | None = None
        self.bad_epochs = 0
        self.scheduler = None
        self.stage = "baseline"
        self.epoch = 0
        self.optimizer: torch.optim.Optimizer | None = None

    def _batches(self, ds: Dataset, size: int, groups) -> list[tuple[LabelledBatch, object]]:
        out = []
        for start in range(0, len(ds), size):
            b = LabelledBatch.from_dataset(ds[list(range(start, min(len(ds), start + size)))], self.pot.species, groups, dtype=self.pot.dtype, device=self.pot.device)
            out.append((b, neighbor_list(b, self.pot.cutoff)))
        return out

    def _make_optimizer(self, stage: str, joint_baseline: bool) -> torch.optim.Optimizer:
        if stage == "baseline":
            params = baseline_parameters(self.pot)
            return torch.optim.Adam([{"params": params, "weight_decay": 0.0}], lr=self.lr)
        params = network_parameters(self.pot)
        decay = [p for p in params if p.dim() >= 2]
        nodecay = [p for p in params if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": self.weight_decay}, {"params": nodecay, "weight_decay": 0.0}]
        if joint_baseline:
            groups.append({"params": baseline_parameters(self.pot), "weight_decay": 0.0})
        return torch.optim.AdamW([g for g in groups if g["params"]], lr=self.lr)

    def _loss(self, b, nl, create_graph: bool):
        pred = self.pot(b, nlist=nl, forces=self.weights.forces > 0, stress=self.weights.stress > 0, create_graph=create_graph)
        return loss_terms(pred, b, self.weights, self.pot)

    def validate(self) -> float:
        if not self.val_batches:
            return float("nan")
        tot, n = 0.0, 0
        for b, nl in self.val_batches:
            t = self._loss(b, nl, create_graph=False)
            tot += float(t["total"].detach()) * b.n_structures
            n += b.n_structures
        return tot / n

    def run(self, stage: str, epochs: int, joint_baseline: bool = False) -> History:
        if self.optimizer is None or self.stage != stage:
            self.stage = stage
            self.optimizer = self._make_optimizer(stage, joint_baseline)
            self.epoch = 0
            self.best_val, self.best_state, self.bad_epochs = float("inf"), None, 0
        if self.scheduler is None or self.scheduler.optimizer is not self.optimizer:
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(self.optimizer, factor=self.lr_factor, patience=self.lr_patience)
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        if not params:
            self.log(f"stage {stage}: nothing to train")
            return self.history
        while self.epoch < epochs:
            gen = torch.Generator().manual_seed(self.seed * 100003 + self.epoch + (0 if stage == "baseline" else 50_000_000))
            order = torch.randperm(len(self.train_batches), generator=gen).tolist()
            total, n = 0.0, 0
            for k in order:
                b, nl = self.train_batches[k]
                self.optimizer.zero_grad(set_to_none=True)
                t = self._loss(b, nl, create_graph=self.weights.forces > 0 or self.weights.stress > 0)
                t["total"].backward()
                if self.clip:
                    torch.nn.utils.clip_grad_norm_(params, self.clip)
                self.optimizer.step()
                total += float(t["total"].detach()) * b.n_structures
                n += b.n_structures
            self.epoch += 1
            val = self.validate()
            monitor = val if math.isfinite(val) else total / max(n, 1)
            self.scheduler.step(monitor)
            rec = {"stage": stage, "epoch": self.epoch, "train_loss": total / max(n, 1), "val_loss": val, "lr": self.optimizer.param_groups[0]["lr"]}
            self.history.epochs.append(rec)
            self.log(json.dumps(rec))
            stop = False
            if math.isfinite(val):
                if val < self.best_val:
                    self.best_val, self.bad_epochs = val, 0
                    self.best_state = {k: v.detach().clone() for k, v in self.pot.state_dict().items()}
                else:
                    self.bad_epochs += 1
                    stop = self.patience > 0 and self.bad_epochs >= self.patience
            if self.checkpoint is not None:
                self.save_checkpoint(self.checkpoint)
            if stop:
                self.log(json.dumps({"stage": stage, "early_stop": self.epoch, "best_val_loss": self.best_val}))
                break
        if self.best_state is not None and self.patience > 0:
            self.pot.load_state_dict(self.best_state)  # keep the best validation model
        return self.history

    # ------------------------------------------------------------- checkpoints
    def save_checkpoint(self, path: Path) -> None:
        state = {
            "model": self.pot.state_dict(),
            "optimizer": self.optimizer.state_dict() if self.optimizer else None,
            "scheduler": self.scheduler.state_dict() if self.scheduler else None,
            "best_val": self.best_val,
            "bad_epochs": self.bad_epochs,
            "best_state": self.best_state,
            "stage": self.stage,
            "epoch": self.epoch,
            "history": self.history.epochs,
            "torch_rng": torch.get_rng_state(),
        }
        tmp = path.with_name(path.name + ".tmp")
        torch.save(state, tmp)
        os.replace(tmp, path)

    def load_checkpoint(self, path: Path, joint_baseline: bool = False) -> None:
        state = torch.load(path, weights_only=True)
        self.pot.load_state_dict(state["model"])
        self.stage = state["stage"]
        self.optimizer = self._make_optimizer(self.stage, joint_baseline)
        if state["optimizer"] is not None:
            self.optimizer.load_state_dict(state["optimizer"])
        self.epoch = int(state["epoch"])
        self.history.epochs = list(state["history"])
        self.best_val = float(state.get("best_val", float("inf")))
        self.bad_epochs = int(state.get("bad_epochs", 0))
        self.best_state = state.get("best_state")
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(self.optimizer, factor=self.lr_factor, patience=self.lr_patience)
        if state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
