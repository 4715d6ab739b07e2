"""Ordered compounds of several elements: volume, lattice constant, bulk modulus and
formation energy.

A compound is given by one structure (e.g. the lowest-energy frame of a DFT E(V) series);
its E(V) is followed by isotropic scaling at fixed cell shape and fractional coordinates
(the protocol of the DFT E(V) series such structures come from, so that model and DFT are
compared on the same footing; internal coordinates and c/a are not relaxed): V0 (Å³/atom)
and E0 (eV/atom) at its minimum, B (GPa) from the third-order Birch–Murnaghan form
(``ase.eos``) fitted over ±``span`` around it. The formation energy per atom is

    ΔH_f = E0 − Σ_s x_s μ_s,

with x_s the atomic fraction of element s and μ_s the energy per atom of its ground-state
crystal under the same model (:func:`~physml.properties.crystal.relaxed_crystal`). For cubic
compounds the conventional lattice constant is a0 = (Z V0)^(1/3), Z atoms per conventional
cell. Checks: the minimum lies inside the searched volumes and the fit's V0 agrees with
it; for B also a small fit residual and the same B from half the volume span.

:func:`read_series` reads such series from an extended-XYZ file by group and source tag,
and :func:`series_eos` fits them in the same way (the DFT side of a comparison).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.calculators.singlepoint import SinglePointCalculator
from ase.units import GPa

from physml.properties.eos import _bm_energy
from physml.properties.eos import _bm_fit as _bm
from physml.properties.result import Check, Result, check_within


@dataclass
class Compound:
    """A compound: its ``label`` (property names ``E_form_<label>`` …), a structure (or a
    function returning it, read on first use) and, for cubic compounds, the number of atoms
    of the conventional cell."""

    label: str
    atoms: Atoms | Callable[[], Atoms]
    cubic_atoms: int | None = None

    def structure(self) -> Atoms:
        if callable(self.atoms):
            self.atoms = self.atoms()
        return self.atoms.copy()


def _header_value(header: str, key: str) -> str | None:
    m = re.search(rf'(?:^|\s){key}=(?:"([^"]*)"|(\S+))', header)
    return None if m is None else (m.group(1) if m.group(1) is not None else m.group(2))


@lru_cache(maxsize=8)
def _read_series_cached(path: str, group: str, source: str) -> tuple[Atoms, ...]:
    frames = []
    with open(path, encoding="utf-8") as f:
        k = 0
        while True:
            first = f.readline()
            if not first.strip():
                break
            try:
                n = int(first)
            except ValueError:
                raise ValueError(f"{path}: frame {k} does not start with an atom count ({first.strip()[:40]!r})") from None
            header = f.readline()
            body = [f.readline() for _ in range(n)]
            if _header_value(header, "config_type") == group and source in (_header_value(header, "source") or ""):
                import ase.io

                frames.append(ase.io.read(io.StringIO(first + header + "".join(body)), format="extxyz"))
            k += 1
    return tuple(frames)


def read_series(path: str | Path, group: str, source: str = "") -> list[Atoms]:
    """The frames of ``group`` (``config_type``) whose ``source`` contains ``source``, read
    from an extended-XYZ file. Only the headers of the other frames are looked at (reading
    every frame of a large data set with ``ase.io.read`` costs a minute; the series are a
    few hundred small cells)."""
    frames = _read_series_cached(str(path), group, source)
    if not frames:
        raise ValueError(f"{path}: no frames of group {group!r} with source containing {source!r}")
    out = []
    for a in frames:  # copies (the cache stays intact) that keep the stored energy
        b = a.copy()
        b.calc = SinglePointCalculator(b, energy=a.get_potential_energy())
        out.append(b)
    return out


def lowest_energy_frame(frames: Sequence[Atoms]) -> Atoms:
    """The frame with the lowest energy per atom (its stored energy)."""
    e = [a.get_potential_energy() / len(a) for a in frames]
    best = frames[int(np.argmin(e))].copy()
    best.calc = None
    return best


def fractions(atoms: Atoms) -> dict[str, float]:
    c = Counter(atoms.get_chemical_symbols())
    return {s: n / len(atoms) for s, n in c.items()}


def formation_energy(e_atom: float, atoms: Atoms, mu: dict[str, float]) -> float:
    """ΔH_f = E/N − Σ_s x_s μ_s (eV/atom)."""
    missing = sorted(set(fractions(atoms)) - set(mu))
    if missing:
        raise ValueError(f"no ground-state energy for {', '.join(missing)} (formation energy of {atoms.get_chemical_formula()})")
    return e_atom - sum(x * mu[s] for s, x in fractions(atoms).items())


def series_eos(frames: Sequence[Atoms], window: float = 0.1) -> dict[str, float]:
    """Birch–Murnaghan fit of a stored E(V) series over the frames within ±``window`` (relative)
    of the volume of its lowest-energy frame: V0 (Å³/atom), E0 (eV/atom), B (GPa), B′, and
    the number of points used."""
    v = np.array([a.get_volume() / len(a) for a in frames])
    e = np.array([a.get_potential_energy() / len(a) for a in frames])
    vmin = v[int(np.argmin(e))]
    use = np.abs(v / vmin - 1) <= window
    if use.sum() < 5:
        raise ValueError(f"only {int(use.sum())} frames within ±{window:g} of the minimum volume (need 5)")
    v0, e0, b, bp = _bm(v[use], e[use])
    return {"V0": v0, "E0": e0, "B": b / GPa, "Bp": bp, "n": int(use.sum())}


def _scaled(ref: Atoms, v_atom: float) -> Atoms:
    at = ref.copy()
    at.set_cell(ref.cell.array * (v_atom * len(ref) / ref.get_volume()) ** (1.0 / 3.0), scale_atoms=True)
    return at


def compound_eos(calc: Calculator, compound: Compound, mu: dict[str, float], span: float = 0.01, n: int = 11, b_tol: float = 0.02, v_tol: float = 1e-3) -> dict[str, Result]:
    """``V0_<label>``, ``E_form_<label>``, ``B_<label>`` and, for cubic compounds,
    ``a0_<label>`` of one compound under ``calc``; ``mu``: ground-state energy per atom of
    each element under the same calculator.

    V0 and E0 are the minimum of E(V) along the scaling (Brent's method, zero pressure at the
    structure's shape); B comes from the Birch–Murnaghan fit over ±``span`` of V0 (a narrow
    range: tabulated and neural potentials need not follow a Birch–Murnaghan curve over
    wider ones), whose own V0 must agree with the minimum within ``v_tol``."""
    from scipy.optimize import minimize_scalar

    ref = compound.structure()
    ref.calc = None
    v_ref = ref.get_volume() / len(ref)

    def energy(v_atom: float) -> float:
        at = _scaled(ref, v_atom)
        at.calc = calc
        return float(at.get_potential_energy()) / len(at)

    r = minimize_scalar(energy, bounds=(0.75 * v_ref, 1.35 * v_ref), method="bounded", options={"xatol": 1e-8 * v_ref})
    v0, e0 = float(r.x), float(r.fun)
    vols = v0 * (1.0 + np.linspace(-span, span, n))
    ens = np.array([energy(v) for v in vols])
    v_fit, e_fit, b, bp = _bm(vols, ens)
    _, _, b_half, _ = _bm(vols[n // 4 : n - n // 4], ens[n // 4 : n - n // 4])
    resid = float(np.sqrt(np.mean((ens - _bm_energy(vols, v_fit, e_fit, b, bp)) ** 2)))
    checks = [
        Check("minimum inside the searched volumes (0.75-1.35 of the structure's)", bool(0.751 * v_ref < v0 < 1.349 * v_ref)),
        check_within("V0 of the Birch-Murnaghan fit vs the minimum", v_fit, v0, rel=v_tol),
    ]
    b_checks = checks + [
        Check("Birch-Murnaghan fit residual (eV/atom)", resid < 1e-5, resid, 1e-5),
        check_within(f"B with half the volume span (±{span / 2:.3g})", b_half, b, rel=b_tol),
    ]
    lab = compound.label
    formula = ref.get_chemical_formula(mode="metal")
    note = [f"{lab} ({formula}, {len(ref)} atoms): isotropic scaling at the reference structure's shape and fractional coordinates (not relaxed); V0, E0 at the minimum, B from a Birch-Murnaghan fit of {n} volumes over ±{span * 100:g}% of V0"]
    e_form = formation_energy(e0, ref, mu)
    data = {"volume": vols.tolist(), "energy": ens.tolist(), "fit": {"V0": v_fit, "E0": e_fit, "B": b / GPa, "Bp": bp}, "mu": dict(mu)}
    out = {
        f"V0_{lab}": Result(v0, "Å^3", checks, notes=note, data=data),
        f"E_form_{lab}": Result(e_form, "eV", checks, notes=note + ["E_form = E0 - sum_s x_s mu_s, mu_s: ground-state energy per atom of element s under the same model: " + ", ".join(f"{s} {m:.4f} eV" for s, m in mu.items())]),
        f"B_{lab}": Result(b / GPa, "GPa", b_checks, notes=note),
    }
    if compound.cubic_atoms:
        out[f"a0_{lab}"] = Result((compound.cubic_atoms * v0) ** (1.0 / 3.0), "Å", checks, notes=note + [f"a0 = ({compound.cubic_atoms} V0)^(1/3), conventional cubic cell"])
    return out
