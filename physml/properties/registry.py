"""Stable property names, their units and the calculator group that computes them.

``compute(calc, material, names)`` runs the groups needed for ``names`` once each (a
group computes several properties: the equation of state gives a0, E_coh, B and B′) and
returns ``{name: Result}``. Names with a pattern (``dE_<lattice>``, ``nu_<point>``,
``E_sia_<kind>``, ``a_<T>K``) are resolved with :func:`spec`.

Units: Å, eV (per atom for E_coh and dE_*, per defect otherwise), GPa, J/m² for surfaces,
mJ/m² for faults, K, THz, 1e-6/K, 1e-9 m²/s.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ase.calculators.calculator import Calculator

from physml.properties.crystal import LATTICES, Crystal, relaxed_crystal
from physml.properties.result import Result


@dataclass(frozen=True)
class PropertySpec:
    name: str
    unit: str
    group: str
    description: str


_FIXED = [
    ("a0", "Å", "eos", "zero-pressure lattice constant (Birch-Murnaghan V0)"),
    ("c_over_a", "", "eos", "hcp c/a at zero pressure"),
    ("E_coh", "eV", "eos", "cohesive energy per atom, E(free atom) - E0"),
    ("B", "GPa", "eos", "bulk modulus (Birch-Murnaghan)"),
    ("Bp", "", "eos", "pressure derivative of the bulk modulus"),
    ("V0", "Å^3", "eos", "equilibrium volume per atom"),
    ("C11", "GPa", "elastic", "elastic constant"),
    ("C12", "GPa", "elastic", "elastic constant"),
    ("C13", "GPa", "elastic", "elastic constant (hexagonal)"),
    ("C33", "GPa", "elastic", "elastic constant (hexagonal)"),
    ("C44", "GPa", "elastic", "elastic constant"),
    ("B_elastic", "GPa", "elastic", "Voigt bulk modulus from C_ij"),
    ("E_vac_f", "eV", "vacancy", "relaxed vacancy formation energy"),
    ("E_vac_m", "eV", "migration", "vacancy migration barrier (climbing-image NEB)"),
    ("E_sia_f", "eV", "interstitials", "lowest self-interstitial formation energy"),
    ("gamma_surf_100", "J/m^2", "surf_100", "relaxed (100) surface energy"),
    ("gamma_surf_110", "J/m^2", "surf_110", "relaxed (110) surface energy"),
    ("gamma_surf_111", "J/m^2", "surf_111", "relaxed (111) surface energy"),
    ("gamma_surf_0001", "J/m^2", "surf_0001", "relaxed hcp basal surface energy"),
    ("gamma_isf", "mJ/m^2", "faults", "fcc intrinsic stacking fault energy"),
    ("gamma_usf", "mJ/m^2", "faults", "fcc unstable stacking fault energy (111)[11-2]"),
    ("gamma_usf_110", "mJ/m^2", "faults", "bcc unstable fault energy (110)[111]"),
    ("gamma_usf_112", "mJ/m^2", "faults", "bcc unstable fault energy (112)[111]"),
    ("alpha", "1e-6/K", "thermal", "linear thermal expansion coefficient at 300 K (NPT MD)"),
    ("D_liquid", "1e-9 m^2/s", "liquid", "self-diffusion coefficient of the liquid"),
    ("rdf_peak", "Å", "liquid", "first maximum of the liquid's g(r)"),
    ("rho_liquid", "1/Å^3", "liquid", "number density of the liquid"),
    ("T_m", "K", "melting", "melting temperature by solid-liquid coexistence"),
]
PROPERTIES: dict[str, PropertySpec] = {n: PropertySpec(n, u, g, d) for n, u, g, d in _FIXED}
_PATTERNS = [
    (re.compile(r"dE_(%s)$" % "|".join(LATTICES)), "eV", "structures", "energy per atom relative to the ground-state lattice"),
    (re.compile(r"nu_([A-Z])$"), "THz", "phonons", "phonon frequencies at a high-symmetry point"),
    (re.compile(r"E_sia_(100|110|111|oct|tet|crowdion)$"), "eV", "interstitials", "self-interstitial formation energy"),
    (re.compile(r"a_(\d+)K$"), "Å", "thermal", "lattice constant at temperature (NPT MD)"),
]


def spec(name: str) -> PropertySpec:
    """The spec of a property name; unknown names raise ``KeyError`` with suggestions."""
    if name in PROPERTIES:
        return PROPERTIES[name]
    for rx, unit, group, desc in _PATTERNS:
        if rx.match(name):
            return PropertySpec(name, unit, group, desc)
    close = difflib.get_close_matches(name, list(PROPERTIES) + ["dE_fcc", "nu_X", "E_sia_110", "a_300K"], n=2)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise KeyError(f"unknown property {name!r}{hint} (known: {', '.join(PROPERTIES)}, dE_<lattice>, nu_<point>, E_sia_<kind>, a_<T>K)")


@dataclass
class Material:
    """What the calculators need to know about the material."""

    element: str
    lattice: str
    a0_guess: float
    c_over_a: float | None = None
    T_m_guess: float | None = None


@dataclass
class Context:
    calc: Calculator
    material: Material
    crystal: Crystal | None = None
    cache: dict[str, dict[str, Result]] = field(default_factory=dict)

    def reference(self) -> Crystal:
        if self.crystal is None:
            m = self.material
            self.crystal = relaxed_crystal(self.calc, m.element, m.lattice, m.a0_guess, m.c_over_a)
        return self.crystal


def _md_settings(ctx: Context, p: dict):
    from physml.properties.md import MDSettings

    b = ctx.cache.get("eos", {}).get("B")
    return MDSettings(dt=p.pop("dt", 2.0), bulk_modulus=b.value if b else p.pop("bulk_modulus", 100.0), seed=p.pop("seed", 0))


def _group(group: str, ctx: Context, p: dict[str, Any], names: Sequence[str]) -> dict[str, Result]:
    cr = ctx.reference()
    if group == "eos":
        from physml.properties.eos import equation_of_state

        return equation_of_state(cr, **p)
    if group == "elastic":
        from physml.properties.elastic import elastic_constants

        return elastic_constants(cr, **p)
    if group == "structures":
        from physml.properties.eos import structure_energies

        lats = tuple(n[3:] for n in names if n.startswith("dE_"))
        return structure_energies(ctx.calc, cr, lats or tuple(LATTICES), **p)
    if group == "phonons":
        from physml.properties.phonons import phonons

        return phonons(cr, **p)
    if group == "vacancy":
        from physml.properties.defects import vacancy_formation

        return {"E_vac_f": vacancy_formation(cr, **p)}
    if group == "migration":
        from physml.properties.defects import vacancy_migration

        return {"E_vac_m": vacancy_migration(cr, **p)}
    if group == "interstitials":
        from physml.properties.defects import interstitial_formation

        kinds = [n[6:] for n in names if n.startswith("E_sia_") and n != "E_sia_f"]
        return interstitial_formation(cr, kinds=kinds or None, **p)
    if group.startswith("surf_"):
        from physml.properties.surfaces import surface_energy

        m = group[5:]
        res = surface_energy(cr, tuple(int(c) for c in m), **p)
        return {f"gamma_surf_{m}": res}
    if group == "faults":
        from physml.properties.faults import stacking_faults

        return stacking_faults(cr, **p)
    if group == "thermal":
        from physml.properties.md import thermal_expansion

        md = _md_settings(ctx, p)
        temps = sorted({float(n[2:-1]) for n in names if n.startswith("a_")} | set(p.pop("temperatures", (100.0, 300.0, 500.0))))
        return thermal_expansion(cr, temperatures=temps, md=md, **p)
    if group == "liquid":
        from physml.properties.md import liquid_properties

        md = _md_settings(ctx, p)
        T = p.pop("T", None) or (1.1 * ctx.material.T_m_guess if ctx.material.T_m_guess else None)
        if T is None:
            raise ValueError("liquid properties need params.T or material.T_m_guess")
        return liquid_properties(cr, T, md=md, **p)
    if group == "melting":
        from physml.properties.melting import Coexistence, melting_temperature

        md = _md_settings(ctx, p)
        t_guess = p.pop("t_guess", None) or ctx.material.T_m_guess
        if t_guess is None:
            raise ValueError("T_m needs params.t_guess or material.T_m_guess")
        if "size" in p:
            p["size"] = tuple(p["size"])
        return melting_temperature(cr, t_guess, Coexistence(md=md, **p))
    raise KeyError(f"no calculator group {group!r}")


def compute(calc: Calculator, material: Material, names: Sequence[str], params: dict[str, dict[str, Any]] | None = None, ctx: Context | None = None, on_group: Callable[[str], None] | None = None) -> dict[str, Result]:
    """Compute the properties ``names`` of ``material`` with the ASE calculator ``calc``.

    Args:
        params: keyword arguments per property name, passed to its group's calculator (the
            parameters of all names in one group are merged).
        ctx: reuse a context (reference crystal and computed groups) between calls.
        on_group: called with the group name before each group runs (progress).
    """
    params = params or {}
    ctx = ctx or Context(calc, material)
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(spec(n).group, []).append(n)
    order = ["eos"] + [g for g in groups if g != "eos"]  # B of the EOS sets the MD barostat
    out: dict[str, Result] = {}
    for g in order:
        if g not in groups and g != "eos":
            continue
        if g not in ctx.cache:
            p: dict[str, Any] = {}
            for n in groups.get(g, []):
                p.update(params.get(n, {}))
            if on_group:
                on_group(g)
            ctx.cache[g] = _group(g, ctx, dict(p), groups.get(g, []))
        for n in groups.get(g, []):
            if n not in ctx.cache[g]:
                raise KeyError(f"property {n!r} is not defined for a {material.lattice} {material.element} crystal (group {g} gives {', '.join(ctx.cache[g])})")
            out[n] = ctx.cache[g][n]
    return out
