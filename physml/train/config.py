"""Validated fit configuration (pydantic v2, unknown keys are errors with a suggestion).

A config file (TOML or JSON) has the sections ``data``, ``model``, ``loss``, ``optimizer``,
``seed`` and ``output``. Errors name the key path and the file, and a misspelt key gets a
"did you mean" suggestion from the allowed names at that level.
"""

from __future__ import annotations

import difflib
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SplitConfig(_Strict):
    kind: Literal["random", "stratified", "holdout"] = "stratified"
    fractions: list[float] = Field(default_factory=lambda: [0.8, 0.1, 0.1])
    holdout_groups: list[str] = Field(default_factory=list)
    seed: int = 0


class DataConfig(_Strict):
    train: str
    test: str | None = None
    split: SplitConfig = Field(default_factory=SplitConfig)
    reference_energies: dict[str, float] | Literal["fit"] = "fit"
    min_distance: float = 0.5


class TermConfig(_Strict):
    kind: str
    config: dict[str, Any] = Field(default_factory=dict)
    provider: Literal["constant", "physics_informed"] = "constant"
    provider_config: dict[str, Any] = Field(default_factory=dict)
    initial: dict[str, Any] = Field(default_factory=dict)


class ModelConfig(_Strict):
    species: list[str]
    terms: list[TermConfig]
    inherit: list[str] = Field(default_factory=list)


class LossConfig(_Strict):
    energy: float = 1.0
    forces: float = 1.0
    stress: float = 0.0
    perturbation: float = 0.0
    group_weights: dict[str, float] = Field(default_factory=dict)


class OptimizerConfig(_Strict):
    baseline_epochs: int = 0
    epochs: int = 100
    batch_size: int = 8
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    gradient_clip: float | None = 10.0
    lbfgs_steps: int = 0
    patience: int = 50
    joint_baseline: bool = False


class ParamSpace(_Strict):
    """One tuned hyperparameter: ``path`` is a dotted key into the config (list indices as
    numbers, e.g. ``model.terms.0.provider_config.hidden``)."""

    path: str
    type: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: list[Any] | None = None


class TuneConfig(_Strict):
    space: list[ParamSpace] = Field(default_factory=list)
    n_trials: int = 20
    direction: Literal["minimize"] = "minimize"
    pruner: Literal["median", "none"] = "median"
    study_name: str = "physml"


class FitConfig(_Strict):
    data: DataConfig
    model: ModelConfig
    loss: LossConfig = Field(default_factory=LossConfig)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    seed: int = 0
    output: str = "runs/fit"
    tune: TuneConfig | None = None


class ConfigError(ValueError):
    pass


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    cur: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        f = cur.model_fields.get(part) if hasattr(cur, "model_fields") else None
        if f is None:
            return []
        ann = f.annotation
        args = getattr(ann, "__args__", None)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            cur = ann
        elif args:
            sub = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            if not sub:
                return []
            cur = sub[0]
        else:
            return []
    return list(cur.model_fields) if hasattr(cur, "model_fields") else []


def validate_config(data: dict, source: str = "<config>") -> FitConfig:
    try:
        return FitConfig.model_validate(data)
    except ValidationError as err:
        msgs = []
        for e in err.errors():
            loc = tuple(e["loc"])
            path = ".".join(str(p) for p in loc)
            if e["type"] == "extra_forbidden":
                allowed = _fields_at(FitConfig, loc)
                close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}"
                msgs.append(f"{path}: unknown key{hint}")
            else:
                msgs.append(f"{path}: {e['msg']}")
        raise ConfigError(f"{source}: invalid configuration\n  " + "\n  ".join(msgs)) from None


def load_config(path: str | Path) -> FitConfig:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such config file")
    text = path.read_text()
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"{path}: cannot be parsed ({err})") from None
    return validate_config(data, str(path))
