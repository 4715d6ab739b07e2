"""``physml validate MODEL [MODEL ...] --suite FILE [--quick] --out DIR``: property suites.

A suite file (TOML, one per material, in ``validation/``) names the material and lists
properties with their reference values, sources and tolerances::

    [material]
    name = "Al"; species = ["Al"]; lattice = "fcc"; a0_guess = 4.05; T_m_guess = 930.0

    [[property]]
    name = "C44"              # a stable name of physml.properties (see PROPERTIES)
    reference = 31.6          # optional; needs source and a tolerance
    unit = "GPa"              # must be the property's unit
    source = "experiment, 0 K (Mishin et al., PRB 59, 3393 (1999))"
    tolerance = 0.05          # relative; or tol_abs = … in the property's unit
    quick = true              # run in --quick mode
    params = {}               # keyword arguments of the calculator
    quick_params = {}         # overrides in --quick mode

    [extrapolation]           # optional beyond-the-data scans
    scans = ["volume", "dimer", "trimer", "hot_md"]
    quick_scans = ["volume", "dimer"]

Alloys (``validation/wbe.toml``) list the ground states of their other elements and their
compounds; ``X:name`` is property ``name`` of element X's crystal, ``E_form_<label>``,
``V0_<label>``, ``a0_<label>`` (cubic), ``B_<label>`` those of a compound, whose structure
is the lowest-energy frame of a series in ``material.dft_data``::

    [[element]]
    symbol = "Be"; lattice = "hcp"; a0_guess = 2.27; c_over_a = 1.57

    [[compound]]
    label = "C15"; group = "EOS"; source = "EOS_C15_"; cubic_atoms = 24

Every model is run through the same calculators; the report puts them side by side.
Output in DIR: ``report.md`` (property, reference, model, error, pass/fail), ``report.json``
(schema below) and plots (EOS, γ-lines, phonons, RDF, coexistence interface positions,
scans). ``report.json``::

    {"suite": {"path", "material", "quick"},
     "reference": {name: {"value", "unit", "source", "tolerance", "tol_abs"}},
     "models": {label: {"path", "seconds", "group_seconds",
                        "properties": {name: {"value", "unit", "converged", "error"?,
                                              "checks", "notes", "pass"}},
                        "scans": {scan: {"passed", "checks"}}}}}

A property passes when |model − reference| ≤ tol_abs, or ≤ tolerance·|reference|
(lists: every element); ``pass`` is null without a reference. Files are written
atomically after every model, so an interrupted run keeps the finished models.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import time
import tomllib
from pathlib import Path
from typing import Any, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from physml.properties.registry import Context, Material, compound_label, compute, spec
from physml.properties.result import Result


class SuiteError(ValueError):
    """A malformed suite file; the message names the file and the entry."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MaterialSpec(_Strict):
    name: str
    species: list[str]
    lattice: str
    a0_guess: float
    c_over_a: float | None = None
    T_m_guess: float | None = None
    dft_data: str | None = None


class ElementSpec(_Strict):
    symbol: str
    lattice: str
    a0_guess: float
    c_over_a: float | None = None
    T_m_guess: float | None = None


class CompoundSpec(_Strict):
    label: str = Field(pattern=r"^\w+$")
    group: str
    source: str = ""
    cubic_atoms: int | None = Field(default=None, gt=0)


class PropertyEntry(_Strict):
    name: str
    reference: float | list[float] | None = None
    unit: str | None = None
    source: str | None = None
    tolerance: float | None = None
    tol_abs: float | None = None
    quick: bool = False
    params: dict[str, Any] = Field(default_factory=dict)
    quick_params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _reference_needs_source(self):
        if self.reference is not None:
            if not (self.source and self.source.strip()):
                raise ValueError(f"property {self.name!r}: a reference value needs its source (source = \"…\")")
            if self.tolerance is None and self.tol_abs is None:
                raise ValueError(f"property {self.name!r}: a reference value needs a tolerance (tolerance = relative, or tol_abs)")
        return self


class Extrapolation(_Strict):
    scans: list[str] = Field(default_factory=list)
    quick_scans: list[str] = Field(default_factory=list)
    hot_factor: float = 2.0
    dft_groups: list[str] = Field(default_factory=list)  # groups of material.dft_data to score (energy offset: median)


class Suite(_Strict):
    material: MaterialSpec
    element: list[ElementSpec] = Field(default_factory=list)
    compound: list[CompoundSpec] = Field(default_factory=list)
    property: list[PropertyEntry] = Field(default_factory=list)
    extrapolation: Extrapolation = Field(default_factory=Extrapolation)
    path: str = ""

    def entries(self, quick: bool) -> list[PropertyEntry]:
        return [p for p in self.property if p.quick or not quick]

    def params(self, quick: bool) -> dict[str, dict[str, Any]]:
        return {p.name: {**p.params, **(p.quick_params if quick else {})} for p in self.property}

    def to_material(self) -> Material:
        from physml.properties.compounds import Compound, lowest_energy_frame, read_series

        m = self.material
        others = tuple(Material(e.symbol, e.lattice, e.a0_guess, e.c_over_a, e.T_m_guess) for e in self.element)
        compounds = {}
        for c in self.compound:
            path = dft_data_path(m.dft_data or "")
            compounds[c.label] = Compound(c.label, lambda path=path, c=c: lowest_energy_frame(read_series(path, c.group, c.source)), c.cubic_atoms)
        return Material(m.species[0], m.lattice, m.a0_guess, m.c_over_a, m.T_m_guess, others=others, compounds=compounds)


def dft_data_path(name: str) -> Path:
    """A named dataset's file (``physml.data.REGISTRY``, under PHYSML_DATA_DIR) or a path."""
    from physml.data import REGISTRY, resolve

    return resolve(name) if name in REGISTRY else Path(name)


SCANS = ("volume", "dimer", "trimer", "hot_md")


def load_suite(path: str | os.PathLike) -> Suite:
    """Read and check a suite file; every problem is reported with the file and entry."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such suite file") from None
    except tomllib.TOMLDecodeError as err:
        raise SuiteError(f"{path}: not valid TOML: {err}") from None
    try:
        suite = Suite(**raw, path=str(path))
    except ValidationError as err:
        msgs = []
        for e in err.errors():
            loc = ".".join(str(x) for x in e["loc"])
            if e["type"] == "extra_forbidden":
                parent = e["loc"][:-1]
                allowed = _fields_at(parent)
                close = difflib.get_close_matches(str(e["loc"][-1]), allowed, n=1)
                msgs.append(f"{loc}: unknown key" + (f"; did you mean {close[0]!r}?" if close else ""))
            else:
                msgs.append(f"{loc}: {e['msg'].removeprefix('Value error, ')}")
        raise SuiteError(f"{path}: " + "; ".join(msgs)) from None
    problems = []
    seen = set()
    elements = {e.symbol for e in suite.element}
    labels = {c.label for c in suite.compound}
    for k, e in enumerate(suite.element):
        if e.symbol not in suite.material.species[1:]:
            problems.append(f"element[{k}] ({e.symbol}): not one of material.species after the first ({', '.join(suite.material.species[1:]) or 'none'})")
    if suite.compound and not suite.material.dft_data:
        problems.append("compound: the compound structures are read from material.dft_data, which is not set")
    if len(labels) != len(suite.compound):
        problems.append("compound: labels must differ")
    for k, p in enumerate(suite.property):
        where = f"property[{k}] ({p.name})"
        try:
            s = spec(p.name)
        except KeyError as err:
            problems.append(f"{where}: {err.args[0]}")
            continue
        prefix = p.name.partition(":")[0] if ":" in p.name else None
        if prefix is not None and prefix not in elements:
            problems.append(f"{where}: element {prefix!r} has no [[element]] entry (has {', '.join(sorted(elements)) or 'none'})")
        lb = compound_label(p.name)
        if lb is not None and lb not in labels:
            problems.append(f"{where}: no [[compound]] with label {lb!r} (has {', '.join(sorted(labels)) or 'none'})")
        if p.unit is not None and p.unit != s.unit:
            problems.append(f"{where}: unit {p.unit!r} but {p.name} is reported in {s.unit!r}")
        if p.name in seen:
            problems.append(f"{where}: listed twice")
        seen.add(p.name)
    for s in suite.extrapolation.scans + suite.extrapolation.quick_scans:
        if s not in SCANS:
            problems.append(f"extrapolation.scans: unknown scan {s!r}; known: {', '.join(SCANS)}")
    from physml.properties.crystal import LATTICES

    for where, lat in [("material.lattice", suite.material.lattice)] + [(f"element[{k}].lattice", e.lattice) for k, e in enumerate(suite.element)]:
        if lat not in LATTICES:
            problems.append(f"{where}: unknown lattice {lat!r}; known: {', '.join(LATTICES)}")
    if problems:
        raise SuiteError(f"{path}: " + "; ".join(problems))
    return suite


def _fields_at(loc: tuple) -> list[str]:
    model: type[BaseModel] = Suite
    for part in loc:
        if isinstance(part, int):
            continue
        ann = model.model_fields[part].annotation
        sub = getattr(ann, "__args__", (ann,))[0] if hasattr(ann, "__args__") else ann
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            model = sub
    return [f for f in model.model_fields if f != "path"]


def judge(entry: PropertyEntry, value: Any) -> tuple[float | None, bool | None]:
    """(error, pass) of a value against the entry's reference; the error is relative when
    the entry has a relative tolerance, else absolute (lists: the worst element)."""
    if entry.reference is None or value is None:
        return None, None
    ref = entry.reference if isinstance(entry.reference, list) else [entry.reference]
    val = value if isinstance(value, list) else [value]
    if len(ref) != len(val):
        return None, False
    if any(not (isinstance(v, (int, float)) and math.isfinite(v)) for v in val):
        return None, False
    d = [abs(v - r) for v, r in zip(val, ref)]
    ok = all((entry.tol_abs is not None and x <= entry.tol_abs) or (entry.tolerance is not None and x <= entry.tolerance * abs(r)) for x, r in zip(d, ref))
    if entry.tolerance is not None:
        err = max((v - r) / abs(r) if r else math.inf for v, r in zip(val, ref)) if len(val) == 1 else max(x / abs(r) for x, r in zip(d, ref))
    else:
        err = (val[0] - ref[0]) if len(val) == 1 else max(d)
    return float(err), bool(ok)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _calculator(model: Any, species: Sequence[str]):
    """An ASE calculator for a model path, a physml Potential, or a calculator itself;
    multi-element setfl files are read for the suite's species only."""
    from ase.calculators.calculator import BaseCalculator

    if isinstance(model, BaseCalculator):
        return model
    import physml

    if isinstance(model, physml.Potential):
        return physml.Calculator(model)
    name = str(model).lower()
    kwargs = {"elements": list(species)} if name.endswith((".eam.alloy", ".eam.fs")) else {}
    return physml.Calculator(physml.load(model, **kwargs))


def run_model(model: Any, suite: Suite, quick: bool = False, progress: bool = True) -> dict:
    """Compute the suite's properties (and scans) for one model; returns its JSON record
    together with the results' plot data under ``"_data"``."""
    calc = _calculator(model, suite.material.species)
    material = suite.to_material()
    ctx = Context(calc, material)
    entries = suite.entries(quick)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    last = [t0, None]

    def on_group(g: str) -> None:
        now = time.perf_counter()
        if last[1] is not None:
            times[last[1]] = now - last[0]
        last[0], last[1] = now, g
        if progress:
            print(f"  {g} …", flush=True)

    results: dict[str, Result] = compute(calc, material, [e.name for e in entries], suite.params(quick), ctx=ctx, on_group=on_group)
    if last[1] is not None:
        times[last[1]] = time.perf_counter() - last[0]
    props = {}
    for e in entries:
        r = results[e.name]
        rec = r.to_json()
        rec["error_vs_reference"], rec["pass"] = judge(e, rec["value"])
        props[e.name] = rec
    scans_rec, scans_data = {}, {}
    names = suite.extrapolation.quick_scans if quick else suite.extrapolation.scans
    if names:
        from physml.properties.scans import run_scans

        if progress:
            print("  scans …", flush=True)
        ts = time.perf_counter()
        sc = run_scans(ctx.reference(), names, t_m=material.T_m_guess, hot_factor=suite.extrapolation.hot_factor)
        times["scans"] = time.perf_counter() - ts
        for k, v in sc.items():
            scans_rec[k] = {"passed": all(c.passed for c in v["checks"]), "checks": [c.to_json() for c in v["checks"]]}
            scans_data[k] = {kk: vv for kk, vv in v.items() if kk != "checks"}
    dft = {}
    if suite.extrapolation.dft_groups and not quick:
        dft = dft_errors(calc, suite)
    return {"path": str(model) if not hasattr(model, "calculate") else type(model).__name__, "dft_errors": dft, "seconds": time.perf_counter() - t0, "group_seconds": times, "properties": props, "scans": scans_rec, "_data": {"results": {k: v.data for k, v in results.items()}, "scans": scans_data}}


def dft_errors(calc: Any, suite: Suite) -> dict:
    """Per-group errors (:func:`physml.evaluate.evaluate`, median per-atom energy offset
    removed, since a published potential's energy zero is not the DFT one) on the
    ``extrapolation.dft_groups`` of ``material.dft_data``; only for physml potentials."""
    pot = getattr(calc, "potential", None)
    if pot is None or not suite.material.dft_data:
        return {}
    from physml.data import load_dataset
    from physml.evaluate import evaluate

    ds = load_dataset(suite.material.dft_data).filter(groups=suite.extrapolation.dft_groups)
    metrics, info = evaluate(pot, ds, offset="median")
    metrics["offset_eV_per_atom"] = info["energy_offset_eV_per_atom"]
    return metrics


def validate(models: Sequence[Any], suite_path: str | os.PathLike, out: str | os.PathLike, quick: bool = False, labels: Sequence[str] | None = None, progress: bool = True, skip: Sequence[str] = (), overrides: dict[str, dict] | None = None) -> dict:
    """Run a suite for several models and write ``report.md``, ``report.json`` and plots
    into ``out``; returns the report dict. ``skip`` leaves properties out; ``overrides``
    replaces calculator parameters per property (both are recorded in the report)."""
    suite = load_suite(suite_path)
    names = {p.name for p in suite.property}
    for n in list(skip) + list(overrides or {}):
        if n not in names:
            raise ValueError(f"{suite_path}: no property {n!r} in the suite (has {', '.join(sorted(names))})")
    suite.property = [p for p in suite.property if p.name not in set(skip)]
    for p in suite.property:
        if overrides and p.name in overrides:
            (p.quick_params if quick else p.params).update(overrides[p.name])
    labels = list(labels) if labels else [_label(m) for m in models]
    if len(labels) != len(models):
        raise ValueError(f"{len(labels)} labels for {len(models)} models")
    if len(set(labels)) != len(labels):
        raise ValueError(f"model labels must differ: {labels}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "suite": {"path": str(suite_path), "material": suite.material.model_dump(), "quick": bool(quick), "skipped": list(skip), "overrides": dict(overrides or {})},
        "reference": {p.name: {"value": p.reference, "unit": spec(p.name).unit, "source": p.source, "tolerance": p.tolerance, "tol_abs": p.tol_abs} for p in suite.entries(quick)},
        "models": {},
    }
    data: dict[str, dict] = {}
    for label, m in zip(labels, models):
        if progress:
            print(f"{label}: {m}", flush=True)
        rec = run_model(m, suite, quick=quick, progress=progress)
        data[label] = rec.pop("_data")
        report["models"][label] = rec
        write_atomic(out / "report.json", json.dumps(report, indent=2, ensure_ascii=False))
        write_atomic(out / "report.md", markdown(report))
    from physml.properties.plots import plot_all

    report["plots"] = plot_all(data, out)
    write_atomic(out / "report.json", json.dumps(report, indent=2, ensure_ascii=False))
    write_atomic(out / "report.md", markdown(report))
    return report


def _label(m: Any) -> str:
    p = Path(str(m))
    return p.name if p.name else str(m)


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.0f}"
    return str(v)


def markdown(report: dict) -> str:
    """The report as a Markdown table (one column block per model)."""
    s = report["suite"]
    labels = list(report["models"])
    lines = [f"# Validation: {s['material']['name']} ({Path(s['path']).name}{', quick' if s['quick'] else ''})", ""]
    if s.get("skipped"):
        lines += [f"Not computed in this run: {', '.join(s['skipped'])}.", ""]
    if s.get("overrides"):
        lines += ["Parameters changed for this run: " + "; ".join(f"{k} {json.dumps(v)}" for k, v in s["overrides"].items()) + ".", ""]
    for lb, m in report["models"].items():
        lines.append(f"- **{lb}**: `{m['path']}` ({m['seconds']:.0f} s)")
    lines += ["", "Error: relative (%) where the tolerance is relative, else absolute in the property's unit. "
              "✗* / ✓*: the calculator reports the value as unconverged (see report.json checks).", ""]
    head = "| property | unit | reference | " + " | ".join(f"{lb} | error | pass" for lb in labels) + " |"
    lines += [head, "|" + "---|" * (3 + 3 * len(labels))]
    for name, ref in report["reference"].items():
        row = [name, ref["unit"] or "", _fmt(ref["value"])]
        for lb in labels:
            p = report["models"][lb]["properties"].get(name)
            if p is None:
                row += ["—", "", ""]
                continue
            err = p.get("error_vs_reference")
            if err is None:
                e = ""
            elif ref["tolerance"] is not None:
                e = f"{100 * err:+.1f}%"
            else:
                e = f"{err:+.3g}"
            verdict = {True: "✓", False: "✗", None: ""}[p["pass"]] + ("" if p["converged"] else "*")
            val = _fmt(p["value"]) + (f" ± {p['error']:.2g}" if p.get("error") is not None and not isinstance(p["value"], list) else "")
            row += [val, e, verdict]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "## Sources", ""]
    for name, ref in report["reference"].items():
        if ref["source"]:
            lines.append(f"- {name}: {ref['source']}")
    scans = {k for m in report["models"].values() for k in m["scans"]}
    if scans:
        lines += ["", "## Beyond the data (sanity scans)", "", "| scan | check | " + " | ".join(labels) + " |", "|" + "---|" * (2 + len(labels))]
        for sc in sorted(scans):
            names = []
            for m in report["models"].values():
                for c in m["scans"].get(sc, {}).get("checks", []):
                    if c["name"] not in names:
                        names.append(c["name"])
            for cn in names:
                row = [sc, cn]
                for lb in labels:
                    c = next((c for c in report["models"][lb]["scans"].get(sc, {}).get("checks", []) if c["name"] == cn), None)
                    row.append("—" if c is None else ("pass" if c["passed"] else "**fail**") + (f" ({c['measure']:.3g})" if c["measure"] is not None else ""))
                lines.append("| " + " | ".join(row) + " |")
    dft = {lb: m.get("dft_errors") for lb, m in report["models"].items() if m.get("dft_errors")}
    if dft:
        groups = sorted({g for d in dft.values() for g in d if g not in ("all", "offset_eV_per_atom")}) + ["all"]
        lines += ["", "## Errors on DFT data of the same kind", "", "E RMSE (meV/atom, median offset removed) / F RMSE (eV/Å).", "",
                  "| group | n | " + " | ".join(f"{lb} E | {lb} F" for lb in dft) + " |", "|---|---|" + "---|---|" * len(dft)]
        for g in groups:
            cells, n = [], ""
            for lb, d in dft.items():
                m = d.get(g) or {}
                n = m.get("n", n)
                cells += ["—" if m.get("energy_rmse") is None else f"{1e3 * m['energy_rmse']:.1f}", "—" if m.get("force_rmse") is None else f"{m['force_rmse']:.3f}"]
            lines.append(f"| {g} | {n} | " + " | ".join(cells) + " |")
    notes: dict[tuple[str, str], list[str]] = {}  # (model, note text) -> properties sharing it
    for lb in labels:
        for n, p in report["models"][lb]["properties"].items():
            for text in p.get("notes", []):
                notes.setdefault((lb, text), []).append(n)
    if notes:
        lines += ["", "## Notes", ""]
        for (lb, text), names in notes.items():
            lines.append(f"- {lb} / {', '.join(names)}: {text}")
    if report.get("plots"):
        lines += ["", "## Plots", ""] + [f"![{Path(p).stem}]({p})" for p in report["plots"]]
    return "\n".join(lines) + "\n"


def add_arguments(p) -> None:
    """The ``physml validate`` options (kept here so that cli.py stays a table of commands)."""
    p.add_argument("models", nargs="*", metavar="MODEL", help="models to validate side by side (anything physml.load accepts)")
    p.add_argument("--suite", help="suite file, e.g. validation/ta.toml")
    p.add_argument("--quick", action="store_true", help="only the suite's quick properties and scans, with their quick_params")
    p.add_argument("--out", required=True, help="output directory (report.md, report.json, plots)")
    p.add_argument("--compare-labels", nargs="+", metavar="LABEL", help="one label per model for the report columns")
    p.add_argument("--skip", nargs="+", default=[], metavar="NAME", help="leave these properties out of this run")
    p.add_argument("--params", nargs="+", default=[], metavar="NAME=JSON", help='override calculator parameters, e.g. T_m=\'{"size": [4, 4, 8], "run_ps": 5}\'')
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1: faster for the small cells of a suite)")
    p.add_argument("--holdout", nargs="+", metavar="CONFIG", help="fit configs (one per model kind) to refit with groups held out")
    p.add_argument("--groups", nargs="+", metavar="G[,G2]", help="held-out group sets for --holdout (comma-separated groups are held out together)")
    p.add_argument("--holdout-epochs", type=int, nargs="+", metavar="N", help="cap the epochs of the --holdout fits (a shortened run): one N for every config, or one per config in --holdout order")
    p.add_argument("--holdout-lbfgs-steps", type=int, nargs="+", metavar="N", help="cap the final L-BFGS steps of the --holdout fits (one N for all or one per config)")


def main_validate(args) -> int:
    import torch

    torch.set_num_threads(max(1, args.threads))
    if args.holdout:
        from physml.properties.holdout import holdout_table

        if not args.groups:
            raise ValueError("--holdout needs --groups")
        sets = [g.split(",") for g in args.groups]
        def one_or_each(caps):
            return caps[0] if caps and len(caps) == 1 else caps

        res = holdout_table(args.holdout, sets, args.out, labels=args.compare_labels, epochs=one_or_each(args.holdout_epochs),
                            lbfgs_steps=one_or_each(args.holdout_lbfgs_steps))
        print(f"wrote {Path(args.out) / 'holdout.md'}")
        print(res["markdown"])
        if not args.models:
            return 0
    if not args.models:
        raise ValueError("give at least one MODEL (or --holdout CONFIG … --groups …)")
    if not args.suite:
        raise ValueError("--suite is required with MODEL")
    t0 = time.perf_counter()
    overrides = {}
    for item in args.params:
        name, sep, js = item.partition("=")
        try:
            overrides[name] = json.loads(js)
        except json.JSONDecodeError as err:
            raise ValueError(f"--params {item!r}: expected NAME=JSON ({err})") from None
        if not sep or not isinstance(overrides[name], dict):
            raise ValueError(f"--params {item!r}: expected NAME={{...}}")
    report = validate(args.models, args.suite, args.out, quick=args.quick, labels=args.compare_labels, skip=args.skip, overrides=overrides)
    print(f"wrote {Path(args.out) / 'report.md'} and report.json ({time.perf_counter() - t0:.0f} s)")
    bad = [(lb, n) for lb, m in report["models"].items() for n, p in m["properties"].items() if p["pass"] is False]
    print(f"{sum(p['pass'] is True for m in report['models'].values() for p in m['properties'].values())} passed, {len(bad)} failed")
    return 0
