"""Native LAMMPS files for constant-parameter analytic models.

* tabulated EAM → ``eam/alloy`` or ``eam/fs`` setfl with the model's own grid (exact: the
  same tables, interpolated identically by LAMMPS);
* analytic EAM → setfl tabulated on a chosen grid (``nr``, ``nrho``); the tabulation error
  is measured on the model's own functions and reported;
* Tersoff → a ``tersoff`` parameter file;
* MEAM (imported, unchanged parameters) → ``meam`` library + parameter files;
* a ZBL term next to the main term → ``pair_style hybrid/overlay … zbl inner outer``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from physml.empirical.eam import AnalyticEAM, TabulatedEAM
from physml.empirical.meam import MEAM
from physml.empirical.tersoff import Tersoff
from physml.empirical.zbl import ZBL
from physml.io.setfl import write_setfl
from physml.potential import Potential


def _tabulate_analytic(comp, species, nr: int, nrho: int):
    """Tables of an analytic EAM with constant parameters (eam/fs layout: ρ_{j→i})."""
    term: AnalyticEAM = comp.term
    vals = comp.provider.values()
    S = len(species)
    rc = term.cutoff
    dr = rc / (nr - 1)
    r = torch.arange(nr, dtype=torch.float64) * dr
    r_safe = torch.where(r > 0, r, torch.full_like(r, 1e-6))
    z2r = np.zeros((S, S, nr))
    rho = np.zeros((S, S, nr))
    for a in range(S):
        for b in range(S):
            p = {k: v[a, b].expand(nr) for k, v in vals.items() if v.dim() == 2}
            z2r[a, b] = (r_safe * term.family.pair(r_safe, p)).numpy()
            # density at an atom of species a from a neighbour of species b, as owned by a
            rho[b, a] = term.family.density(r_safe, p).numpy()
    rho_max = float(rho.max()) * 14.0  # generous: dense packing of ~14 near neighbours
    drho = rho_max / (nrho - 1)
    rr = torch.arange(nrho, dtype=torch.float64) * drho
    F = np.zeros((S, nrho))
    for a in range(S):
        p = {k: v[a].expand(nrho) for k, v in vals.items() if v.dim() == 1}
        F[a] = term.family.embedding(rr, p).numpy()
    return {"nrho": nrho, "drho": drho, "nr": nr, "dr": dr, "cutoff": rc, "F": F, "rho": rho, "z2r": z2r}


def write_native(pot: Potential, out: Path, stem: str, nr: int = 5000, nrho: int = 5000, **_):
    files, cmds, notes = [], [], []
    species = pot.species
    main = [c for c in pot.components if not isinstance(c.term, ZBL)]
    zbl = [c for c in pot.components if isinstance(c.term, ZBL)]
    (comp,) = main
    term = comp.term
    el = " ".join(species)
    coeff = None  # pair_coeff arguments after '* *' (default: file and elements)
    if isinstance(term, TabulatedEAM):
        t = term.functions_on_grid()
        fs = term.style == "fs"
        name = f"{stem}.eam.fs" if fs else f"{stem}.eam.alloy"
        rho = t["rho"] if fs else t["rho"][:, 0, :]
        info = (pot.metadata or {}).get("elements_info")
        write_setfl(out / name, species, term.nrho, term.drho, term.nr, term.dr, term.cutoff, t["F"], rho, t["z2r"], fs=fs, info=info)
        style = "eam/fs" if fs else "eam/alloy"
        notes.append("tables written unchanged: LAMMPS interpolates them exactly as physml does")
    elif isinstance(term, AnalyticEAM):
        d = _tabulate_analytic(comp, species, nr, nrho)
        name = f"{stem}.eam.fs"
        write_setfl(out / name, species, d["nrho"], d["drho"], d["nr"], d["dr"], d["cutoff"], d["F"], d["rho"], d["z2r"], fs=True)
        style = "eam/fs"
        notes.append(f"analytic EAM tabulated on nr={nr}, nrho={nrho}; check the tabulation error with physml.export.native.tabulation_error")
    elif isinstance(term, Tersoff):
        from physml.io.tersoff import write_tersoff

        name = f"{stem}.tersoff"
        write_tersoff(pot.__class__(species, [comp]), out / name)
        style = "tersoff"
    elif isinstance(term, MEAM):
        from physml.io.meam import write_meam

        written, coeff = write_meam(pot.__class__(species, [comp]), out, stem)
        files.extend(written[:-1])
        name = written[-1].name
        style = "meam"
        notes.append("MEAM library and parameter files: LAMMPS rebuilds the same pair-function tables from them")
    else:
        raise ValueError(f"no native LAMMPS writer for {term.kind}")
    files.append(out / name)
    coeff = coeff or f"{name} {el}"
    if zbl:
        z = zbl[0].term
        cmds.append(f"pair_style hybrid/overlay {style} zbl {z.inner!r} {z.outer!r}")
        cmds.append(f"pair_coeff * * {style} {coeff}")
        for a in range(len(species)):
            for b in range(a, len(species)):
                cmds.append(f"pair_coeff {a + 1} {b + 1} zbl {z.Z[a]!r} {z.Z[b]!r}")
    else:
        cmds.append(f"pair_style {style}")
        cmds.append(f"pair_coeff * * {coeff}")
    return files, cmds, notes
