"""Validated fit configuration (pydantic v2, unknown keys are errors with a suggestion).

A config file (TOML, JSON, or YAML when PyYAML is installed) has the sections ``data``,
``model``, ``loss``, ``optimizer``, ``seed``, ``output`` (and ``tune``). Errors name the file
and the key path, and a misspelt key gets a "did you mean" suggestion from the names allowed
at that level, e.g. ``model.terms[0].provider_config.hiden: unknown key; did you mean
'hidden'?``. The free-form parts of the model section (a term's ``config``, a provider's
``provider_config`` and its ``descriptor``, ``initial`` parameter values) are checked
against the registered classes' constructor signatures and parameter names, so terms
added to :mod:`physml.registry` are validated without changes here.
"""

from __future__ import annotations

from typing import Annotated

import difflib
import inspect
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


class ElasticTargetConfig(_Strict):
    """One crystal of the elastic-constant prior (:mod:`physml.train.elastic`): a monatomic
    cubic lattice of ``element`` at lattice constant ``a`` (Å) and the C11, C12, C44 (GPa) it
    should have (any subset), each within ``tolerance`` (GPa); central differences with
    strain ``strain`` in a ``repeat``³ conventional cell."""

    element: str
    lattice: Literal["bcc", "fcc", "sc"]
    a: float = Field(gt=0, allow_inf_nan=False)
    C11: float | None = Field(None, allow_inf_nan=False)
    C12: float | None = Field(None, allow_inf_nan=False)
    C44: float | None = Field(None, allow_inf_nan=False)
    tolerance: float = Field(10.0, gt=0, allow_inf_nan=False)
    strain: float = Field(0.01, gt=0, le=0.05, allow_inf_nan=False)
    repeat: int = Field(1, ge=1, le=10)


class DataConfig(_Strict):
    """``pressure_offset`` (GPa): the isotropic (Pulay-like) stress error of the DFT data,
    the amount by which −tr(σ)/3 lies below −dE/dV; every stress label of the train,
    validation and test data becomes σ − δ·I (:func:`physml.data.corrections.shift_pressure`).
    ``anchors``: a file of unlabelled anchor structures (:mod:`physml.train.anchors`; used
    with ``loss.anchor``). ``elastic_targets``: crystals and the elastic constants they
    should have (:class:`ElasticTargetConfig`; used with ``loss.elastic``)."""

    train: str
    test: str | None = None
    split: SplitConfig = Field(default_factory=SplitConfig)
    reference_energies: dict[str, float] | Literal["fit"] = "fit"
    min_distance: float = 0.5
    pressure_offset: float = Field(0.0, allow_inf_nan=False)
    anchors: str | None = None
    elastic_targets: list[ElasticTargetConfig] = Field(default_factory=list)


class TermConfig(_Strict):
    kind: str
    config: dict[str, Any] = Field(default_factory=dict)
    provider: Literal["constant", "physics_informed"] = "constant"
    provider_config: dict[str, Any] = Field(default_factory=dict)
    initial: dict[str, Any] = Field(default_factory=dict)


class ModelConfig(_Strict):
    """``terms`` build a potential from scratch. ``inherit`` (paths of elemental potentials,
    one per species) builds an alloy with :func:`physml.alloy` instead: the elemental blocks
    are frozen, ``alloy`` holds the options of the cross part (``hidden``, ``activation``,
    ``out_scale``, ``eam_cross``) and ``unfreeze`` (species → learning-rate factor) makes
    chosen inherited blocks trainable, explicitly.

    ``start_from`` (path of a physml model with the same terms, network shapes and species)
    starts the fit from that model's parameters, descriptor scales included, instead of
    ``initial`` and a random network: fine-tuning a fitted model with another loss or data.
    The config's reference energies must equal the model's."""

    species: list[str]
    terms: list[TermConfig] = Field(default_factory=list)
    inherit: list[str] = Field(default_factory=list)
    alloy: dict[str, Any] = Field(default_factory=dict)
    unfreeze: dict[str, float] = Field(default_factory=dict)
    start_from: str | None = None


class LossConfig(_Strict):
    energy: float = 1.0
    forces: float = 1.0
    stress: float = 0.0
    perturbation: float = 0.0
    anchor: float = Field(0.0, ge=0, allow_inf_nan=False)
    elastic: float = Field(0.0, ge=0, allow_inf_nan=False)  # weight of data.elastic_targets
    group_weights: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(default_factory=dict)
    # config_type -> factor of its energy term only (forces and stresses keep group_weights)
    energy_group_weights: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(default_factory=dict)


class OptimizerConfig(_Strict):
    """Stages: ``baseline_epochs`` of the baseline parameters (Adam, or L-BFGS steps with
    ``baseline_optimizer = "lbfgs"``), then ``epochs`` of AdamW on the networks, then
    ``lbfgs_steps`` full-batch L-BFGS steps (each ``lbfgs_iterations`` iterations)."""

    baseline_epochs: int = Field(0, ge=0)
    baseline_optimizer: Literal["adam", "lbfgs"] = "adam"
    epochs: int = Field(100, ge=0)
    batch_size: int = Field(8, ge=1)
    learning_rate: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    gradient_clip: float | None = 10.0
    scheduler: Literal["plateau", "cosine", "none"] = "plateau"
    lr_factor: float = Field(0.5, gt=0, lt=1)
    lr_patience: int = Field(10, ge=0)
    min_lr: float = Field(0.0, ge=0)
    lbfgs_steps: int = Field(0, ge=0)
    lbfgs_iterations: int = Field(20, ge=1)
    lbfgs_l2: float | None = Field(None, ge=0)  # λ_w of the L-BFGS stages' L2 penalty (None: weight_decay)
    patience: int = Field(50, ge=0)
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


def _path(loc) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def unknown_key(path: str, key: str, allowed) -> str:
    """``path.key: unknown key; did you mean '…'?`` (or the list of allowed keys)."""
    allowed = sorted(allowed)
    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed) or '(none)'}"
    return f"{path}.{key}: unknown key{hint}" if path else f"{key}: unknown key{hint}"


def _signature_keys(fn, skip: set[str]) -> tuple[set[str], set[str], bool]:
    """(allowed, required, accepts **kwargs) of a constructor, without ``skip``."""
    allowed, required, var_kw = set(), set(), False
    for name, p in inspect.signature(fn).parameters.items():
        if name in skip or p.kind is p.VAR_POSITIONAL:
            continue
        if p.kind is p.VAR_KEYWORD:
            var_kw = True
            continue
        allowed.add(name)
        if p.default is p.empty:
            required.add(name)
    return allowed, required, var_kw


def _check_keys(path: str, given: dict, fn, skip: set[str], extra: set[str] = frozenset()) -> list[str]:
    allowed, required, var_kw = _signature_keys(fn, skip)
    allowed |= set(extra)
    msgs = []
    if not var_kw:
        msgs += [unknown_key(path, k, allowed) for k in given if k not in allowed]
    msgs += [f"{path}.{k}: required key missing" for k in sorted(required) if k not in given]
    return msgs


def check_model(model: "ModelConfig", root: str = "model") -> list[str]:
    """Problems in the free-form parts of the model section (empty list: fine)."""
    from ase.data import chemical_symbols

    from physml.empirical.base import Term
    from physml.ml.descriptors import DESCRIPTORS
    from physml.ml.physics_informed import PhysicsInformed
    from physml.registry import TERMS, term_class

    msgs = []
    for k, sym in enumerate(model.species):
        if sym not in chemical_symbols[1:]:
            close = difflib.get_close_matches(sym, chemical_symbols[1:], n=1)
            msgs.append(f"{root}.species[{k}]: {sym!r} is not an element symbol" + (f"; did you mean {close[0]!r}?" if close else ""))
    if len(set(model.species)) != len(model.species):
        msgs.append(f"{root}.species: duplicate species in {model.species}")
    if msgs:
        return msgs
    if model.inherit or model.alloy or model.unfreeze:
        if model.start_from is not None:
            return [f"{root}.start_from: an alloy starts from its inherited elementals; remove {root}.start_from"]
        return _check_inherit(model, root)
    if model.start_from is not None and not Path(model.start_from).exists():
        msgs.append(f"{root}.start_from: {model.start_from}: no such model file or directory")
    if not model.terms:
        return [f"{root}.terms: required (or inherit elemental potentials with {root}.inherit)"]
    for t, tc in enumerate(model.terms):
        where = f"{root}.terms[{t}]"
        try:
            cls = term_class(tc.kind)
        except ValueError:
            close = difflib.get_close_matches(tc.kind, list(TERMS), n=1)
            msgs.append(f"{where}.kind: unknown term kind {tc.kind!r}" + (f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(TERMS))}"))
            continue
        if getattr(cls.from_config, "__func__", None) is Term.from_config.__func__:
            bad = _check_keys(f"{where}.config", tc.config, cls.__init__, {"self", "species"})
            msgs += bad
            if bad:
                continue
        try:
            term = cls.from_config(dict(tc.config), list(model.species))
        except Exception as err:  # the term's own validation (ranges, families, …)
            msgs.append(f"{where}.config: {err}")
            continue
        names = [s.name for s in term.parameter_specs()]
        msgs += [unknown_key(f"{where}.initial", key, names) for key in tc.initial if key not in names]
        if tc.provider == "constant":
            if tc.provider_config:
                msgs.append(f"{where}.provider_config: only used with provider = 'physics_informed'")
            continue
        pc = dict(tc.provider_config)
        msgs += _check_keys(f"{where}.provider_config", pc, PhysicsInformed.__init__, {"self", "specs", "n_species", "seed"})
        msgs += _check_scales(f"{where}.provider_config.perturbation_scale", pc.get("perturbation_scale"), names)
        desc = pc.get("descriptor")
        if isinstance(desc, dict):
            dwhere = f"{where}.provider_config.descriptor"
            kind = desc.get("kind")
            if kind not in DESCRIPTORS:
                close = difflib.get_close_matches(str(kind), list(DESCRIPTORS), n=1)
                msgs.append(f"{dwhere}.kind: unknown descriptor kind {kind!r}" + (f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(DESCRIPTORS))}"))
            else:
                msgs += _check_keys(dwhere, {k: v for k, v in desc.items() if k != "kind"}, DESCRIPTORS[kind].__init__, {"self"})
        elif desc is not None:
            msgs.append(f"{where}.provider_config.descriptor: must be a table with a 'kind'")
    return msgs


def _check_scales(path: str, scales: Any, names: list[str]) -> list[str]:
    """Problems of a provider's ``perturbation_scale`` table (parameter name → s_k > 0)."""
    if scales is None:
        return []
    if not isinstance(scales, dict):
        return [f"{path}: must be a table of parameter name = scale, got {type(scales).__name__}"]
    msgs = [unknown_key(path, k, names) for k in scales if k not in names]
    for k, v in scales.items():
        if k in names and not (isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < float("inf")):
            msgs.append(f"{path}.{k}: must be a positive number, got {v!r}")
    return msgs


def _check_inherit(model: "ModelConfig", root: str) -> list[str]:
    """Problems of an alloy model section (``inherit``, ``alloy``, ``unfreeze``)."""
    from physml.compose.alloy import alloy, elemental_species

    if not model.inherit:
        return [f"{root}.inherit: required when {root}.alloy or {root}.unfreeze is given"]
    msgs = []
    if model.terms:
        msgs.append(f"{root}.terms: an alloy takes its terms from the inherited potentials; remove {root}.terms")
    found: dict[str, int] = {}
    for k, path in enumerate(model.inherit):
        try:
            sym = elemental_species(path)
        except (OSError, ValueError) as err:
            msgs.append(f"{root}.inherit[{k}]: {err}")
            continue
        if sym in found:
            msgs.append(f"{root}.inherit[{k}]: a second potential for {sym} (first: inherit[{found[sym]}])")
        found[sym] = k
    if not msgs and sorted(found) != sorted(model.species):
        msgs.append(f"{root}.inherit: the inherited species {sorted(found)} differ from {root}.species {model.species}")
    msgs += _check_keys(f"{root}.alloy", model.alloy, alloy, {"elementals", "cross", "unfreeze", "seed"})
    msgs += [unknown_key(f"{root}.unfreeze", s, model.species) for s in model.unfreeze if s not in model.species]
    msgs += [f"{root}.unfreeze.{s}: the learning-rate factor must be positive, got {f}" for s, f in model.unfreeze.items() if not f > 0]
    return msgs


def _check_sections(cfg: FitConfig) -> list[str]:
    msgs = check_model(cfg.model)
    ref = cfg.data.reference_energies
    if isinstance(ref, dict):
        msgs += [unknown_key("data.reference_energies", k, cfg.model.species) for k in ref if k not in cfg.model.species]
        msgs += [f"data.reference_energies.{s}: required key missing (one energy per species)" for s in cfg.model.species if s not in ref]
    sp = cfg.data.split
    if sp.kind != "holdout" and (not sp.fractions or any(f < 0 for f in sp.fractions) or abs(sum(sp.fractions) - 1) > 1e-9):
        msgs.append(f"data.split.fractions: must be non-negative and sum to 1, got {sp.fractions}")
    if sp.kind == "holdout" and not sp.holdout_groups:
        msgs.append("data.split.holdout_groups: needed for kind = 'holdout'")
    if cfg.loss.anchor > 0 and not cfg.data.anchors:
        msgs.append("loss.anchor: needs the anchor structures (data.anchors)")
    if cfg.data.anchors and not cfg.loss.anchor > 0:
        msgs.append("data.anchors: unused without a positive loss.anchor weight")
    if cfg.data.anchors and not Path(cfg.data.anchors).exists():
        msgs.append(f"data.anchors: {cfg.data.anchors}: no such file")
    if cfg.loss.elastic > 0 and not cfg.data.elastic_targets:
        msgs.append("loss.elastic: needs the target crystals (data.elastic_targets)")
    if cfg.data.elastic_targets and not cfg.loss.elastic > 0:
        msgs.append("data.elastic_targets: unused without a positive loss.elastic weight")
    for k, t in enumerate(cfg.data.elastic_targets):
        if t.element not in cfg.model.species:
            msgs.append(f"data.elastic_targets[{k}].element: {t.element!r} is not in model.species {list(cfg.model.species)}")
        if t.C11 is None and t.C12 is None and t.C44 is None:
            msgs.append(f"data.elastic_targets[{k}]: give at least one of C11, C12, C44")
    return msgs


def validate_config(data: dict, source: str = "<config>") -> FitConfig:
    """A :class:`FitConfig` from a parsed config, or :class:`ConfigError` listing every problem."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: invalid configuration\n  the top level must be a table of sections, got {type(data).__name__}")
    try:
        cfg = FitConfig.model_validate(data)
    except ValidationError as err:
        msgs = []
        for e in err.errors():
            loc = tuple(e["loc"])
            if e["type"] == "extra_forbidden":
                msgs.append(unknown_key(_path(loc[:-1]), str(loc[-1]), _fields_at(FitConfig, loc)))
            else:
                msgs.append(f"{_path(loc)}: {e['msg']}")
        raise ConfigError(f"{source}: invalid configuration\n  " + "\n  ".join(msgs)) from None
    msgs = _check_sections(cfg)
    if msgs:
        raise ConfigError(f"{source}: invalid configuration\n  " + "\n  ".join(msgs))
    return cfg


def read_config_file(path: str | Path) -> dict:
    """Parse a TOML (default), JSON (``.json``) or YAML (``.yaml``/``.yml``) config."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such config file")
    text = path.read_text()
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            return json.loads(text)
        if suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise ConfigError(f"{path}: YAML configs need PyYAML (pip install pyyaml); TOML needs nothing extra") from None
            try:
                return yaml.safe_load(text)
            except yaml.YAMLError as err:
                raise ConfigError(f"{path}: cannot be parsed ({err})") from None
        return tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"{path}: cannot be parsed ({err})") from None


def load_config(path: str | Path) -> FitConfig:
    return validate_config(read_config_file(path), str(path))
