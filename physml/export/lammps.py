"""Export a physml potential for LAMMPS: potential file(s) plus an include snippet.

``export_lammps(potential, out_dir, route=None)`` writes the files of one route and
``physml.lmp``, a snippet meant to be included after ``read_data``::

    # species: Al
    # route: native; cutoff 6.287 Å; physml 0.1.0; model sha256 …
    pair_style eam/alloy
    pair_coeff * * Al.eam.alloy Al
    mass 1 26.9815385

Routes:

* ``native`` — analytic models with constant parameters as LAMMPS' own pair styles:
  tabulated/analytic EAM → ``eam/alloy`` (or ``eam/fs``) setfl, Tersoff → ``tersoff``,
  imported MEAM → ``meam`` library + parameter files, pair terms → ``table``, ZBL → ``zbl``,
  several of them → ``hybrid/overlay`` (:mod:`physml.export.native`); tabulated grids are
  chosen by the measured tabulation error (:mod:`physml.export.tabulation`).
* ``pinn`` — PINN bond-order models → the ``.pinn`` file of the authors' ``pair_style pinn``.
* ``plugin`` — any physml model → a TorchScript model for the physml LAMMPS plugin
  (``plugin load``, ``pair_style physml``; :mod:`physml.export.torchscript`).

Without ``route`` the native route is chosen when it can represent the model (exactly, or
tabulated within the tolerance), then ``pinn`` for a single PINN bond-order term, else
``plugin``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from physml import __version__
from physml.io.model_file import model_hash
from physml.potential import Potential
from physml.species import SpeciesMap

ROUTES = ("native", "pinn", "plugin")


@dataclass
class ExportResult:
    route: str
    files: list[Path]
    snippet: Path
    pair_commands: list[str]
    notes: list[str] = field(default_factory=list)


def _constant(pot: Potential) -> bool:
    return all(c.provider.kind == "constant" for c in pot.components)


def _kinds(pot: Potential) -> list[str]:
    return [c.term.kind for c in pot.components]


MAIN_KINDS = ("eam_tabulated", "eam", "tersoff", "meam")  # one LAMMPS many-body style each
PAIR_KINDS = ("morse",)  # pair terms, written together as one pair_style table


def native_supported(pot: Potential) -> tuple[bool, str]:
    """Whether the native route can represent ``pot`` (and why not)."""
    if not _constant(pot):
        return False, "per-atom (physics-informed) parameters have no native LAMMPS pair style"
    kinds = _kinds(pot)
    other = [k for k in kinds if k not in MAIN_KINDS + PAIR_KINDS + ("zbl",)]
    if other:
        return False, f"no native LAMMPS writer for term {other[0]!r}"
    main = [k for k in kinds if k in MAIN_KINDS]
    if len(main) > 1 or kinds.count("zbl") > 1:
        return False, f"native route needs at most one many-body term and one ZBL term (+ pair terms), got {kinds}"
    if any(float(e) != 0.0 for e in pot.reference_energies.tolist()) and not (main and main[0].startswith("eam")):
        return False, "non-zero reference energies have no native form except inside an EAM embedding function"
    return True, ""


def choose_route(pot: Potential) -> str:
    ok, _ = native_supported(pot)
    if ok:
        return "native"
    if _kinds(pot) == ["pinn_bop"]:
        return "pinn"
    return "plugin"


def _snippet(pot: Potential, route: str, pair_commands: list[str], notes: list[str]) -> str:
    smap = SpeciesMap(pot.species)
    lines = [
        f"# species: {' '.join(pot.species)}",
        f"# route: {route}; cutoff {pot.cutoff:.6g} Å; physml {__version__}",
        f"# model sha256: {model_hash(pot)}",
        "# include this file after read_data (LAMMPS atom types 1..n = species above, units metal)",
    ]
    lines += [f"# {n}" for n in notes]
    lines += pair_commands
    lines += [f"mass {k + 1} {m!r}" for k, m in enumerate(smap.masses())]
    return "\n".join(lines) + "\n"


def export_lammps(
    pot: Potential,
    out_dir: str | os.PathLike,
    route: str | None = None,
    name: str | None = None,
    **options,
) -> ExportResult:
    """Write the LAMMPS files of ``route`` and ``physml.lmp`` into ``out_dir``.

    Options (native EAM): ``nrho``, ``drho``, ``nr``, ``dr`` grid of the setfl tables;
    (plugin): ``kernels`` True/False to force physml's C++ kernels on or off.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    route = route or choose_route(pot)
    if route not in ROUTES:
        raise ValueError(f"unknown route {route!r}; choose one of {ROUTES}")
    stem = name or "".join(pot.species)
    species = " ".join(pot.species)
    notes: list[str] = []
    if route == "native":
        ok, why = native_supported(pot)
        if not ok:
            raise ValueError(f"route native: {why}; use --route plugin")
        from physml.export.native import write_native

        files, cmds, notes = write_native(pot, out, stem, **options)
    elif route == "pinn":
        if _kinds(pot) != ["pinn_bop"]:
            raise ValueError(f"route pinn needs a single PINN bond-order term, got {_kinds(pot)}")
        from physml.io.pinn_file import write_pinn

        f = out / f"{stem}.pinn"
        write_pinn(pot, f)
        files = [f]
        cmds = ["pair_style pinn", f"pair_coeff * * {f.name} {species}"]
        notes = ["pair_style pinn is the authors' USER-PINN package (not part of LAMMPS releases); requires newton on"]
    else:
        from physml.export.torchscript import export_torchscript
        from physml.lammps.plugin import built_plugin

        f = out / f"{stem}.pt"
        export_torchscript(pot, f, kernels=options.get("kernels"))
        files = [f]
        so = built_plugin()
        load = f"plugin load {so}" if so else "# plugin load /path/to/physmlplugin.so   (build it with: physml build-lammps-plugin)"
        cmds = [load, "pair_style physml", f"pair_coeff * * {f.name} {species}"]
        notes = ["TorchScript model for pair_style physml (physml LAMMPS plugin); requires newton on (the default) and units metal"]
    snippet = out / "physml.lmp"
    tmp = snippet.with_suffix(".lmp.tmp")
    tmp.write_text(_snippet(pot, route, cmds, notes))
    os.replace(tmp, snippet)
    return ExportResult(route=route, files=files, snippet=snippet, pair_commands=[c for c in cmds if not c.startswith("#")], notes=notes)
