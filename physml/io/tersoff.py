"""LAMMPS ``pair_style tersoff`` parameter files: read and write.

Each entry has 17 words: e1 e2 e3 m γ λ3 c d cosθ0(h) n β λ2 B R D λ1 A; text after '#'
is ignored and an entry may span lines (LAMMPS reads word by word). Every (e1, e2, e3)
triple of the chosen elements must be present.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import torch

from physml.empirical.tersoff import PAIR_NAMES, TRIPLE_NAMES, Tersoff
from physml.potential import Component, Potential

FIELDS = ("m", "gamma", "lam3", "c", "d", "h", "n", "beta", "lam2", "B", "R", "D", "lam1", "A")


class TersoffFormatError(ValueError):
    pass


def read_tersoff(path: str | os.PathLike) -> dict[tuple[str, str, str], dict[str, float]]:
    path = Path(path)
    words: list[tuple[str, int]] = []
    for ln, line in enumerate(path.read_text().replace("\r\n", "\n").split("\n"), start=1):
        for w in line.split("#", 1)[0].split():
            words.append((w, ln))
    if len(words) % 17:
        raise TersoffFormatError(f"{path}: {len(words)} words is not a multiple of 17 (an entry is incomplete near line {words[-1][1] if words else 0})")
    entries = {}
    for k in range(0, len(words), 17):
        chunk = words[k : k + 17]
        key = tuple(w for w, _ in chunk[:3])
        vals = {}
        for name, (w, ln) in zip(FIELDS, chunk[3:]):
            try:
                vals[name] = float(w)
            except ValueError:
                raise TersoffFormatError(f"{path}:{ln}: entry {' '.join(key)}: {name} = {w!r} is not a number") from None
        if vals["m"] not in (1.0, 3.0):
            raise TersoffFormatError(f"{path}:{chunk[3][1]}: entry {' '.join(key)}: m must be 1 or 3, got {vals['m']}")
        bad = [n for n in ("c", "d", "n", "beta", "lam2", "B", "R", "D", "lam1", "A", "gamma") if vals[n] < 0]
        if bad or vals["D"] > vals["R"]:
            what = f"negative {', '.join(bad)}" if bad else "D > R"
            raise TersoffFormatError(f"{path}:{chunk[0][1]}: entry {' '.join(key)}: invalid parameters ({what}; the same checks as LAMMPS)")
        entries[key] = vals
    return entries


def load_tersoff(path: str | os.PathLike, elements: Sequence[str] | None = None) -> Potential:
    path = Path(path)
    entries = read_tersoff(path)
    if elements is None:
        seen: list[str] = []
        for key in entries:
            for e in key:
                if e not in seen:
                    seen.append(e)
        elements = seen
    elements = list(elements)
    S = len(elements)
    tables = {name: torch.zeros(S, S, S, dtype=torch.float64) for name in FIELDS}
    for a, ea in enumerate(elements):
        for b, eb in enumerate(elements):
            for c, ec in enumerate(elements):
                if (ea, eb, ec) not in entries:
                    raise TersoffFormatError(f"{path}: no entry for the element triple {ea} {eb} {ec}")
                for name, v in entries[(ea, eb, ec)].items():
                    tables[name][a, b, c] = v
    term = Tersoff(elements, tables["R"], tables["D"], tables["m"])
    pot = Potential(elements, [Component(term)], metadata={"source": str(path), "format": "tersoff"})
    idx = torch.arange(S)
    values = {n: tables[n][:, idx, idx] for n in PAIR_NAMES}  # two-body from (i, j, j)
    values.update({n: tables[n] for n in TRIPLE_NAMES})
    pot.components[0].provider.set_values(values)
    return pot


def write_tersoff(potential: Potential, path: str | os.PathLike) -> Path:
    """Write a constant-parameter Tersoff potential as a LAMMPS parameter file."""
    (comp,) = potential.components
    term = comp.term
    if not isinstance(term, Tersoff) or comp.provider.kind != "constant":
        raise ValueError("write_tersoff needs a single Tersoff term with constant parameters")
    v = comp.provider.values()
    el = potential.species
    lines = ["# Tersoff parameters written by physml", "# e1 e2 e3 m gamma lam3 c d costheta0 n beta lam2 B R D lam1 A"]
    for a, ea in enumerate(el):
        for b, eb in enumerate(el):
            for c, ec in enumerate(el):
                two = {n: float(v[n][a, b]) for n in PAIR_NAMES}
                three = {n: float(v[n][a, b, c]) for n in TRIPLE_NAMES}
                row = {**two, **three, "m": float(term.m[a, b, c]), "R": float(term.R[a, b, c]), "D": float(term.D[a, b, c])}
                lines.append(f"{ea} {eb} {ec} " + " ".join(repr(row[f]) for f in FIELDS))
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)
    return path
