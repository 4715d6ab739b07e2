"""Native LAMMPS files for constant-parameter analytic models.

* tabulated EAM → ``eam/alloy`` or ``eam/fs`` setfl with the model's own grid (exact: the
  same tables, interpolated identically by LAMMPS);
* analytic EAM → setfl tabulated on a chosen grid (``nr``, ``nrho``); the tabulation error
  is measured on the model's own functions and reported;
* Tersoff → a ``tersoff`` parameter file;
* MEAM (imported, unchanged parameters) → ``meam`` library + parameter files;
* pair terms (Morse) → one ``pair_style table`` file (:mod:`physml.export.table`);
* a ZBL term → ``zbl inner outer``;
* several of these → ``pair_style hybrid/overlay``.

Reference energies E_ref are added to the EAM embedding function (F → F + E_ref is exact);
other native styles cannot hold them. Tabulated grids (analytic EAM, pair tables) are the
smallest whose *measured* tabulation error (:mod:`physml.export.tabulation`) is within
``tol`` (default 1e-5 eV/atom), unless given; the error is reported in the notes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from physml.empirical.eam import AnalyticEAM, TabulatedEAM
from physml.empirical.meam import MEAM
from physml.empirical.tersoff import Tersoff
from physml.empirical.zbl import ZBL
from physml.io.setfl import write_setfl
from physml.potential import Component, Potential


def _tabulate_analytic(comp, species, nr: int, nrho: int):
    """Tables of an analytic EAM with constant parameters (eam/fs layout: ρ_{j→i}). The pair
    table of a–b holds the energy of one a–b pair, ½ r [φ(r; p_a[b]) + φ(r; p_b[a])]."""
    term: AnalyticEAM = comp.term
    vals = {k: v.detach() for k, v in comp.provider.values().items()}
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
            z2r[a, b] += 0.5 * (r_safe * term.family.pair(r_safe, p)).numpy()
            z2r[b, a] += 0.5 * (r_safe * term.family.pair(r_safe, p)).numpy()
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


def _analytic_grid(comp, species, nr, nrho, tol: float, notes: list[str]):
    """Tables of an analytic EAM on the given grid, or on the smallest grid (nr = nrho)
    whose measured tabulation error is ≤ ``tol`` eV/atom."""
    from physml.export.tabulation import compare, probe_structures, refine

    probes = None

    def measure(n_r: int, n_rho: int):
        d = _tabulate_analytic(comp, species, n_r, n_rho)
        tab = TabulatedEAM(species, d["nrho"], d["drho"], d["nr"], d["dr"], d["cutoff"], "fs", F=d["F"], rho=d["rho"], z2r=d["z2r"])
        return d, compare(ref.evaluate(probes), Potential(species, [Component(tab)]).evaluate(probes), probes)

    ref = Potential(species, [comp])
    probes = probe_structures(ref)
    if nr is None and nrho is None:
        n, err = refine(lambda n: measure(n, n)[1], 1000, tol, 64000)
        nr = nrho = n
    d, err = measure(nr or 5000, nrho or 5000)
    notes.append(f"analytic EAM tabulated on nr={d['nr']}, nrho={d['nrho']}: measured tabulation error {err.describe()}")
    return d


def _main_style(comp, pot: Potential, out: Path, stem: str, nr, nrho, tol: float, notes: list[str]):
    """(style with arguments, pair_coeff arguments after '* *' or None, files) of the one
    many-body term; reference energies go into an EAM embedding function."""
    files = []
    species = pot.species
    el = " ".join(species)
    term = comp.term
    ref = pot.reference_energies.detach().cpu().numpy()
    coeff = None  # pair_coeff arguments after '* *' (default: file and elements)
    if isinstance(term, TabulatedEAM):
        t = term.functions_on_grid()
        fs = term.style == "fs"
        name = f"{stem}.eam.fs" if fs else f"{stem}.eam.alloy"
        rho = t["rho"] if fs else t["rho"][:, 0, :]
        info = (pot.metadata or {}).get("elements_info")
        F = t["F"] + ref[:, None]
        write_setfl(out / name, species, term.nrho, term.drho, term.nr, term.dr, term.cutoff, F, rho, t["z2r"], fs=fs, info=info)
        style = "eam/fs" if fs else "eam/alloy"
        notes.append("tables written unchanged: LAMMPS interpolates them exactly as physml does")
    elif isinstance(term, AnalyticEAM):
        d = _analytic_grid(comp, species, nr, nrho, tol, notes)
        name = f"{stem}.eam.fs"
        write_setfl(out / name, species, d["nrho"], d["drho"], d["nr"], d["dr"], d["cutoff"], d["F"] + ref[:, None], d["rho"], d["z2r"], fs=True)
        style = "eam/fs"
    elif isinstance(term, Tersoff):
        from physml.io.tersoff import write_tersoff

        name = f"{stem}.tersoff"
        with torch.no_grad():
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
    return style, coeff or f"{name} {el}", files


def _pair_table(comps, species, out: Path, stem: str, n, r_inner: float, tol: float, notes: list[str]):
    """The pair terms as one pair_style table file; N chosen by the measured error."""
    from physml.export.table import table_results, tabulate, write_table
    from physml.export.tabulation import compare, probe_structures, refine

    cutoff = max(float(c.term.cutoff) for c in comps)
    ref = Potential(species, list(comps))
    probes = probe_structures(ref)
    truth = ref.evaluate(probes, stress=False)

    def measure(k: int):
        return compare(truth, table_results(tabulate(comps, species, cutoff, k, r_inner), probes), probes)

    if n is None:
        n, err = refine(measure, 2000, tol, 1 << 18)
    else:
        err = measure(n)
    table = tabulate(comps, species, cutoff, n, r_inner)
    path = write_table(table, out / f"{stem}.table")
    notes.append(f"pair terms tabulated on N={n} points in r² ({r_inner:g}–{cutoff:g} Å): measured tabulation error {err.describe()}")
    return table, path


def write_native(pot: Potential, out: Path, stem: str, nr: int | None = None, nrho: int | None = None, tol: float = 1e-5, table_n: int | None = None, r_inner: float = 0.5, **_):
    """Files and pair commands of the native route (see the module docstring).

    Args:
        nr, nrho: setfl grid of an analytic EAM (default: chosen by the measured error).
        tol: tolerated tabulation error, eV/atom, when a grid is chosen.
        table_n, r_inner: points and inner cutoff (Å) of the pair table.
    """
    from physml.export.lammps import PAIR_KINDS
    from physml.export.table import pair_commands

    files, notes = [], []
    species = pot.species
    main = [c for c in pot.components if not isinstance(c.term, ZBL) and c.term.kind not in PAIR_KINDS]
    pairs = [c for c in pot.components if c.term.kind in PAIR_KINDS]
    zbl = [c for c in pot.components if isinstance(c.term, ZBL)]
    # (style with its arguments, pair_coeff lines given the style-name prefix of hybrid styles)
    styles: list[tuple[str, Callable[[str], list[str]]]] = []
    if main:
        style, coeff, written = _main_style(main[0], pot, out, stem, nr, nrho, tol, notes)
        files += written
        styles.append((style, lambda pre, coeff=coeff: [f"pair_coeff * * {pre}{coeff}"]))
    if pairs:
        table, path = _pair_table(pairs, species, out, stem, table_n, r_inner, tol, notes)
        files.append(path)
        styles.append((f"table linear {len(table.rsq)}", lambda pre: pair_commands(table, path.name, pre.strip())))
    if zbl:
        z = zbl[0].term
        S = len(species)
        styles.append((f"zbl {z.inner!r} {z.outer!r}", lambda pre: [f"pair_coeff {a + 1} {b + 1} {pre}{z.Z[a]!r} {z.Z[b]!r}" for a in range(S) for b in range(a, S)]))
    if len(styles) == 1:
        cmds = [f"pair_style {styles[0][0]}"] + styles[0][1]("")
    else:
        cmds = ["pair_style hybrid/overlay " + " ".join(s for s, _ in styles)]
        for style, lines in styles:
            cmds += lines(style.split()[0] + " ")
    return files, cmds, notes
