"""LAMMPS setfl files (``pair_style eam/alloy`` and ``eam/fs``): read and write.

Format (LAMMPS documentation, ``pair_style eam``):

    lines 1-3   comments
    line 4      N  El_1 … El_N
    line 5      Nrho  drho  Nr  dr  cutoff
    per element: a line "Z mass a_lat lattice", then F(ρ) (Nrho values), then
                 alloy: ρ(r) (Nr values);  fs: ρ_{el,1}(r) … ρ_{el,N}(r) (N·Nr values)
    then r·φ(r) for every pair i ≥ j (lower triangle, row by row), Nr values each.

Values may be spread over lines arbitrarily. In an ``eam/fs`` file the k-th density
function in element j's section is the density an atom of element j contributes at an
atom of element k (LAMMPS ``type2rhor[jtype][itype]``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from physml.empirical.eam import TabulatedEAM
from physml.potential import Component, Potential


class SetflError(ValueError):
    pass


def _floats(path: Path, lines: list[str], start: int, count: int) -> tuple[np.ndarray, int]:
    """Read ``count`` numbers starting at line index ``start``; return them and the next line."""
    out: list[float] = []
    k = start
    while len(out) < count:
        if k >= len(lines):
            raise SetflError(f"{path}: file ends at line {k} while reading {count} values ({len(out)} read)")
        for tok in lines[k].split():
            try:
                out.append(float(tok))
            except ValueError:
                raise SetflError(f"{path}:{k + 1}: expected a number, got {tok!r}") from None
        k += 1
    if len(out) > count:
        raise SetflError(f"{path}:{k}: {len(out) - count} extra values on the last line of a table")
    return np.asarray(out), k


def read_setfl(path: str | os.PathLike, fs: bool | None = None) -> dict:
    """Parse a setfl file into a dict of header values and tables."""
    path = Path(path)
    if fs is None:
        fs = path.name.lower().endswith(".fs")
    lines = path.read_text().replace("\r\n", "\n").split("\n")
    if len(lines) < 6:
        raise SetflError(f"{path}: too short for a setfl file ({len(lines)} lines)")
    head = lines[3].split()
    try:
        n = int(head[0])
    except (IndexError, ValueError):
        raise SetflError(f"{path}:4: expected 'N El_1 … El_N'") from None
    elements = head[1 : 1 + n]
    if len(elements) != n:
        raise SetflError(f"{path}:4: declares {n} elements but names {len(elements)}")
    g = lines[4].split()
    try:
        nrho, drho, nr, dr, cut = int(g[0]), float(g[1]), int(g[2]), float(g[3]), float(g[4])
    except (IndexError, ValueError):
        raise SetflError(f"{path}:5: expected 'Nrho drho Nr dr cutoff'") from None
    if min(nrho, nr) < 5 or drho <= 0 or dr <= 0 or cut <= 0:
        raise SetflError(f"{path}:5: invalid grid Nrho={nrho} drho={drho} Nr={nr} dr={dr} cutoff={cut}")
    k = 5
    F = np.zeros((n, nrho))
    rho = np.zeros((n, n, nr)) if fs else np.zeros((n, nr))
    info = []
    for e in range(n):
        h = lines[k].split() if k < len(lines) else []
        if len(h) < 2:
            raise SetflError(f"{path}:{k + 1}: expected 'Z mass a_lat lattice' for element {elements[e]}")
        info.append({"Z": int(float(h[0])), "mass": float(h[1]), "a": float(h[2]) if len(h) > 2 else 0.0, "lattice": h[3] if len(h) > 3 else ""})
        k += 1
        F[e], k = _floats(path, lines, k, nrho)
        if fs:
            vals, k = _floats(path, lines, k, n * nr)
            rho[e] = vals.reshape(n, nr)
        else:
            rho[e], k = _floats(path, lines, k, nr)
    z2r = np.zeros((n, n, nr))
    for a in range(n):
        for b in range(a + 1):
            z2r[a, b], k = _floats(path, lines, k, nr)
            z2r[b, a] = z2r[a, b]
    for e, d in zip(elements, info):
        if not np.isfinite(F).all() or not np.isfinite(rho).all() or not np.isfinite(z2r).all():
            raise SetflError(f"{path}: non-finite values in the tables")
    return {"elements": elements, "nrho": nrho, "drho": drho, "nr": nr, "dr": dr, "cutoff": cut, "F": F, "rho": rho, "z2r": z2r, "info": info, "fs": fs, "comments": lines[:3]}


def load_setfl(path: str | os.PathLike, elements: Sequence[str] | None = None, style: str | None = None) -> Potential:
    """``physml.load`` importer for ``*.eam.alloy`` / ``*.eam.fs``.

    Args:
        elements: subset/order of the file's elements (default: all, in file order).
        style: ``"alloy"`` or ``"fs"`` (default from the file name).
    """
    path = Path(path)
    fs = (style == "fs") if style else path.name.lower().endswith(".fs")
    d = read_setfl(path, fs=fs)
    file_el = d["elements"]
    elements = list(elements) if elements else list(file_el)
    for e in elements:
        if e not in file_el:
            raise SetflError(f"{path}: element {e} not in the file's elements {file_el}")
    idx = [file_el.index(e) for e in elements]
    F = d["F"][idx]
    z2r = d["z2r"][np.ix_(idx, idx)]
    rho = d["rho"][np.ix_(idx, idx)] if fs else d["rho"][idx]
    term = TabulatedEAM(elements, d["nrho"], d["drho"], d["nr"], d["dr"], d["cutoff"], "fs" if fs else "alloy", F=F, rho=rho, z2r=z2r)
    meta = {"source": str(path), "format": "setfl", "comments": d["comments"], "elements_info": [d["info"][k] for k in idx]}
    return Potential(elements, [Component(term)], metadata=meta)


def write_setfl(
    path: str | os.PathLike,
    elements: Sequence[str],
    nrho: int,
    drho: float,
    nr: int,
    dr: float,
    cutoff: float,
    F: np.ndarray,
    rho: np.ndarray,
    z2r: np.ndarray,
    fs: bool = False,
    info: Sequence[dict] | None = None,
    comments: Sequence[str] = ("written by physml", "", ""),
) -> Path:
    """Write a setfl file (atomically). ``rho`` is (S, nr) for alloy, (S_j, S_i, nr) for fs."""
    from ase.data import atomic_masses, atomic_numbers

    path = Path(path)
    S = len(elements)
    out = [str(c) for c in list(comments)[:3]] + [""] * (3 - len(list(comments)[:3]))
    out.append(f"{S} " + " ".join(elements))
    out.append(f"{nrho} {drho!r} {nr} {dr!r} {cutoff!r}")

    def block(v):
        v = np.asarray(v, dtype=np.float64).ravel()
        return [" ".join(f"{x:.16e}" for x in v[k : k + 5]) for k in range(0, len(v), 5)]

    for a, el in enumerate(elements):
        inf = (info[a] if info else None) or {}
        z = inf.get("Z", atomic_numbers[el])
        m = inf.get("mass", float(atomic_masses[atomic_numbers[el]]))
        out.append(f"{z} {m!r} {inf.get('a', 0.0)!r} {inf.get('lattice', 'none') or 'none'}")
        out += block(F[a])
        if fs:
            out += block(rho[a])
        else:
            out += block(rho[a])
    for a in range(S):
        for b in range(a + 1):
            out += block(z2r[a, b])
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(out) + "\n")
    os.replace(tmp, path)
    return path
