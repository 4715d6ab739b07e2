"""The ``physml`` command line (subcommands are added as the library grows)."""

from __future__ import annotations

import argparse
import sys


def _info(args) -> int:
    from physml.io import load

    pot = load(args.model)
    print(f"model: {args.model}")
    print(pot.describe())
    return 0


def _demo(args) -> int:
    from physml.demo import run

    return run(args.potential, args.structures)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="physml", description="physics-informed interatomic potentials")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("info", help="species, terms, parameter counts and cutoffs of a model")
    s.add_argument("model")
    s.set_defaults(func=_info)
    s = sub.add_parser("demo", help="main job: evaluate an EAM potential on the shipped demo structures")
    s.add_argument("--potential", help="potential file (default $PHYSML_DATA_DIR/potentials/Al99.eam.alloy)")
    s.add_argument("--structures", help="structure file (default: the shipped demo set)")
    s.set_defaults(func=_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError) as err:
        print(f"physml {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
