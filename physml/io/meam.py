"""LAMMPS ``pair_style meam`` files: the element library and the parameter file.

LAMMPS reads them as ``pair_coeff * * library.meam El_1 … El_n params.meam T_1 … T_m``:
the library entries El_1 … El_n (the first entry of each name counts) are elements 1 … n
of the parameter file's indices, and T_1 … T_m map atom types to them (a parameter file
``NULL`` keeps every default). physml reads the same pair and builds a :class:`MEAM`
term whose species are the chemical elements of T_1 … T_m (from each entry's atomic
number):

    physml.load("Ni.meam", library="library.meam", elements=["Ni"])
    physml.load("AlSiMgCuFe.meam", library="library.meam",
                elements=["AlS", "SiS", "MgS", "CuS", "FeS"], types=["AlS", "MgS"])
    physml.load("library.meam", elements=["Ni"])          # library alone, defaults

Library format: ``#`` comments; each entry has 19 words, possibly over several lines
(quotes around names are dropped): elt lat z ielement atwt alpha b0 b1 b2 b3 alat esub
asub t0 t1 t2 t3 rozero ibar. Parameter file: one ``keyword = value`` or
``keyword(i[,j[,k]]) = value`` per line (1-based element indices), ``#`` comments.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Sequence

from ase.data import chemical_symbols

from physml.empirical.meam import IBAR_VALUES, LATTICES, LIBRARY_FIELDS, MEAM
from physml.potential import Component, Potential

#: keyword → number of element indices (LAMMPS ``pair_style meam`` parameter file)
KEYWORDS: dict[str, int] = {
    "Ec": 2, "alpha": 2, "rho0": 1, "delta": 2, "lattce": 2, "attrac": 2, "repuls": 2, "nn2": 2,
    "Cmin": 3, "Cmax": 3, "rc": 0, "delr": 0, "augt1": 0, "gsmooth_factor": 0, "re": 2,
    "ialloy": 0, "mixture_ref_t": 0, "erose_form": 0, "zbl": 2, "emb_lin_neg": 0, "bkgd_dyn": 0,
    "theta": 2,
}
_INT_FIELDS = ("ielement", "ibar")
_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([^)]*)\))?\s*=\s*(.*?)\s*$")


class MeamFormatError(ValueError):
    pass


def _lines(path: Path) -> list[str]:
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise MeamFormatError(f"{path}: not a text file") from None
    return text.replace("\r\n", "\n").split("\n")


def is_library(path: str | os.PathLike) -> bool:
    """True if the file looks like a MEAM library (entries), False for a parameter file
    (``keyword = value`` lines; also an empty one)."""
    for line in _lines(Path(path)):
        body = line.split("#", 1)[0].strip()
        if body:
            first = re.split(r"[^A-Za-z0-9_]", body, maxsplit=1)[0]
            return "=" not in body and first not in KEYWORDS
    return False


def read_library(path: str | os.PathLike) -> dict[str, dict]:
    """All entries of a MEAM library, first occurrence of each name (as LAMMPS).

    Values stay strings until :func:`parse_entry` checks the entries that are used."""
    path = Path(path)
    words: list[tuple[str, int]] = []
    for ln, line in enumerate(_lines(path), start=1):
        body = line.split("#", 1)[0].replace("'", " ").replace('"', " ")
        words.extend((w, ln) for w in body.split())
    n = len(LIBRARY_FIELDS) + 1
    if len(words) % n:
        start = words[len(words) - len(words) % n][1]
        raise MeamFormatError(f"{path}:{start}: incomplete library entry ({len(words) % n} of {n} words before the end of the file)")
    out: dict[str, dict] = {}
    for k in range(0, len(words), n):
        chunk = words[k : k + n]
        name = chunk[0][0]
        if name in out:
            continue
        entry = {"name": name, "_line": chunk[0][1], "_path": str(path)}
        entry.update({f: w for f, (w, _) in zip(LIBRARY_FIELDS, chunk[1:])})
        out[name] = entry
    return out


def parse_entry(raw: dict) -> dict:
    """Numbers and checks of one library entry (LAMMPS' checks, with the place named)."""
    where = f"{raw['_path']}:{raw['_line']}: library entry {raw['name']!r}"
    e: dict = {"name": raw["name"]}
    lat = raw["lattice"]
    if lat not in LATTICES or not LATTICES[lat].single:
        single = sorted(k for k, v in LATTICES.items() if v.single)
        raise MeamFormatError(f"{where}: unknown element lattice {lat!r}; known: {', '.join(single)}")
    e["lattice"] = lat
    for f in LIBRARY_FIELDS[1:]:
        w = raw[f]
        try:
            e[f] = int(w) if f in _INT_FIELDS else float(w)
        except ValueError:
            raise MeamFormatError(f"{where}: {f} = {w!r} is not {'an integer' if f in _INT_FIELDS else 'a number'}") from None
    if abs(e["z"] / LATTICES[lat].Z - 1.0) >= 1e-20:
        raise MeamFormatError(f"{where}: z = {e['z']:g} does not match the {lat} lattice (Z = {LATTICES[lat].Z})")
    if abs(e["t0"] - 1.0) >= 1e-20:
        raise MeamFormatError(f"{where}: t0 = {e['t0']:g} is not supported (must be 1, as in LAMMPS)")
    if e["ibar"] not in IBAR_VALUES:
        raise MeamFormatError(f"{where}: ibar = {e['ibar']} is not supported (LAMMPS accepts {IBAR_VALUES})")
    if not 0 < e["ielement"] < len(chemical_symbols):
        raise MeamFormatError(f"{where}: ielement = {e['ielement']} is not an atomic number")
    return e


def read_parameters(path: str | os.PathLike, n_elements: int) -> list[list]:
    """Settings of a parameter file as ``[keyword, [0-based indices], value]`` in file order."""
    path = Path(path)
    out: list[list] = []
    for ln, line in enumerate(_lines(path), start=1):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        m = _LINE.match(body)
        if not m:
            raise MeamFormatError(f"{path}:{ln}: expected 'keyword = value' or 'keyword(i,j) = value', got {body!r}")
        key, idx_text, value_text = m.group(1), m.group(2), m.group(3).strip().strip("'\"").strip()
        if key not in KEYWORDS:
            raise MeamFormatError(f"{path}:{ln}: unknown keyword {key!r}; known: {', '.join(KEYWORDS)}")
        idx_words = [w for w in re.split(r"[\s,]+", idx_text or "") if w]
        if len(idx_words) != KEYWORDS[key]:
            raise MeamFormatError(f"{path}:{ln}: {key} takes {KEYWORDS[key]} element indices, got {len(idx_words)}")
        try:
            idx = [int(w) - 1 for w in idx_words]
        except ValueError:
            raise MeamFormatError(f"{path}:{ln}: element indices {idx_text!r} are not integers") from None
        bad = [i + 1 for i in idx if not 0 <= i < n_elements]
        if bad:
            raise MeamFormatError(f"{path}:{ln}: element index {bad[0]} out of range 1..{n_elements} (elements= names {n_elements})")
        if key == "lattce":
            if value_text not in LATTICES:
                raise MeamFormatError(f"{path}:{ln}: unknown lattice {value_text!r}; known: {', '.join(LATTICES)}")
            value: object = value_text
        else:
            try:
                value = float(value_text)
            except ValueError:
                raise MeamFormatError(f"{path}:{ln}: {key} = {value_text!r} is not a number") from None
        if key == "mixture_ref_t" and value != 0:
            raise MeamFormatError(f"{path}:{ln}: mixture_ref_t = 1 (the superseded mixing rule for t) is not supported")
        out.append([key, idx, value])
    return out


def _find_library(param: Path) -> Path:
    cands = sorted(p for p in param.parent.glob("*.meam") if p.resolve() != param.resolve() and is_library(p))
    if len(cands) == 1:
        return cands[0]
    if not cands:
        raise MeamFormatError(f"{param}: a MEAM parameter file needs its library: pass library='…/library.meam' (no library file next to it)")
    raise MeamFormatError(f"{param}: several MEAM library files next to it ({', '.join(p.name for p in cands)}): pass library= to choose one")


def load_meam(
    path: str | os.PathLike,
    library: str | os.PathLike | None = None,
    elements: Sequence[str] | None = None,
    types: Sequence[str] | None = None,
    parameter_file: str | os.PathLike | None = None,
) -> Potential:
    """Import a MEAM potential (LAMMPS ``pair_style meam``).

    Args:
        path: the parameter file (``X.meam``), or the library file itself.
        library: library file; default: the only library ``*.meam`` next to ``path``.
        elements: library entry names, in the parameter file's index order (LAMMPS'
            first element list). Required.
        types: entries that become the potential's species (LAMMPS' second list);
            default ``elements``. Species are their chemical elements.
        parameter_file: with ``path`` a library: the parameter file (default none, as
            LAMMPS ``NULL``).
    """
    path = Path(path)
    if is_library(path):
        if library is not None and Path(library).resolve() != path.resolve():
            raise MeamFormatError(f"{path} is a MEAM library file; library= {library} is a second one (pass the parameter file as path or parameter_file=)")
        lib, param = path, (Path(parameter_file) if parameter_file is not None else None)
    else:
        if parameter_file is not None:
            raise MeamFormatError(f"{path} is a MEAM parameter file; parameter_file= is for loading a library file")
        param = path
        lib = Path(library) if library is not None else _find_library(path)
    for p in (lib, param):
        if p is not None and not p.exists():
            raise FileNotFoundError(f"{p}: no such file")
    if param is not None and is_library(param):
        raise MeamFormatError(f"{param}: expected a MEAM parameter file (keyword = value lines), found library entries")
    entries_raw = read_library(lib)
    if not elements:
        raise MeamFormatError(
            f"{param or lib}: elements= is missing: the library entries to use, in the parameter file's index order "
            f"(LAMMPS: pair_coeff * * {lib.name} EL1 EL2 … {param.name if param else 'NULL'} …); {lib.name} has: {', '.join(entries_raw)}"
        )
    elements = list(elements)
    missing = [e for e in elements if e not in entries_raw]
    if missing:
        raise MeamFormatError(f"{lib}: no library entry named {', '.join(missing)}; it has: {', '.join(entries_raw)}")
    if len(set(elements)) != len(elements):
        raise MeamFormatError(f"elements= names an entry twice: {elements}")
    entries = [parse_entry(entries_raw[e]) for e in elements]
    settings = read_parameters(param, len(entries)) if param is not None else []
    types = list(types) if types else list(elements)
    unknown = [t for t in types if t not in elements]
    if unknown:
        raise MeamFormatError(f"types= {unknown} are not among elements= {elements}")
    species = [chemical_symbols[entries[elements.index(t)]["ielement"]] for t in types]
    if len(set(species)) != len(species):
        raise MeamFormatError(f"types= {types} give the chemical elements {species}: each element may appear once")
    try:
        term = MEAM(species, {"entries": entries, "settings": settings, "types": types})
    except ValueError as err:
        raise MeamFormatError(f"{param or lib}: {err}") from None
    pot = Potential(species, [Component(term)], metadata={"source": str(param or lib), "library": str(lib), "format": "meam"})
    pot.components[0].provider.set_values(term.default_values())
    return pot


def _fmt(v) -> str:
    if isinstance(v, str):
        return f"'{v}'"
    if isinstance(v, int):
        return str(v)
    return repr(float(v))


def write_meam(potential: Potential, out_dir: str | os.PathLike, stem: str) -> tuple[list[Path], str]:
    """Write the library and parameter files of a constant-parameter MEAM potential.

    Returns the two paths and the ``pair_coeff`` arguments after ``* *``. Refused if the
    parameters differ from those implied by the source files: LAMMPS recomputes φ from
    the file values, so changed values could not reproduce the model."""
    import numpy as np

    (comp,) = [c for c in potential.components if isinstance(c.term, MEAM)]
    term: MEAM = comp.term
    if comp.provider.kind != "constant":
        raise ValueError("a MEAM term with per-atom (physics-informed) parameters has no LAMMPS file form")
    vals = {k: v.detach().cpu().numpy() for k, v in comp.provider.values().items()}
    for name, ref in term.default_values().items():
        if not np.allclose(vals[name], ref, rtol=1e-14, atol=0.0):
            raise ValueError(f"MEAM parameter {name} differs from the source files; LAMMPS would recompute φ from changed values, so the native route cannot reproduce this model")
    out = Path(out_dir)
    src = term.source
    lib_lines = ["# MEAM library written by physml", "# elt lat z ielement atwt / alpha b0 b1 b2 b3 alat esub asub / t0 t1 t2 t3 rozero ibar"]
    for e in src["entries"]:
        w = [_fmt(e[f]) if f not in ("lattice",) else f"'{e[f]}'" for f in LIBRARY_FIELDS]
        lib_lines.append(f"'{e['name']}' " + " ".join(w[:4]))
        lib_lines.append(" ".join(w[4:12]))
        lib_lines.append(" ".join(w[12:]))
    par_lines = ["# MEAM parameters written by physml", f"# elements: {' '.join(e['name'] for e in src['entries'])}"]
    for key, idx, value in src["settings"]:
        ind = f"({','.join(str(k + 1) for k in idx)})" if idx else ""
        par_lines.append(f"{key}{ind} = {_fmt(value)}")
    files = []
    for name, lines in ((f"{stem}.library.meam", lib_lines), (f"{stem}.meam", par_lines)):
        p = out / name
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text("\n".join(lines) + "\n")
        os.replace(tmp, p)
        files.append(p)
    names = " ".join(e["name"] for e in src["entries"])
    return files, f"{files[0].name} {names} {files[1].name} {' '.join(src['types'])}"
