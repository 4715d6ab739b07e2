"""Stable property names, their units and the calculator group that computes them.

``compute(calc, material, names)`` runs the groups needed for ``names`` once each (a
group computes several properties: the equation of state gives a0, E_coh, B and B′) and
returns ``{name: Result}``. Names with a pattern (``dE_<lattice>``, ``nu_<point>``,
``E_sia_<kind>``, ``a_<T>K``; for compounds ``E_form_<label>``, ``V0_<label>``,
``a0_<label>``, ``B_<label>``) are resolved with :func:`spec`. In an alloy, ``X:name`` is
property ``name`` of the ground-state crystal of element X (one of ``Material.others``),
e.g. ``Be:C44``.

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
    (re.compile(r"E_form_(\w+)$"), "eV", "compounds", "formation energy per atom of a compound"),
    (re.compile(r"V0_(\w+)$"), "Å^3", "compounds", "equilibrium volume per atom of a compound"),
    (re.compile(r"a0_(\w+)$"), "Å", "compounds", "conventional lattice constant of a cubic compound"),
    (re.compile(r"B_(\w+)$"), "GPa", "compounds", "bulk modulus of a compound (Birch-Murnaghan)"),
]
COMPOUND_PREFIXES = ("E_form_", "V0_", "a0_", "B_")


def compound_label(name: str) -> str | None:
    """The compound label of a compound property name (``E_form_C15`` → ``C15``), else None."""
    if name in PROPERTIES or ":" in name:
        return None
    for pre in COMPOUND_PREFIXES:
        if name.startswith(pre) and spec(name).group == "compounds":
            return name[len(pre) :]
    return None


def spec(name: str) -> PropertySpec:
    """The spec of a property name; unknown names raise ``KeyError`` with suggestions."""
    element, sep, base = name.partition(":")
    if sep:
        if not element or ":" in base:
            raise KeyError(f"property {name!r}: expected ELEMENT:NAME, e.g. 'Be:C44'")
        s = spec(base)
        if s.group == "compounds":
            raise KeyError(f"property {name!r}: compound properties take no element prefix")
        return PropertySpec(name, s.unit, f"{element}:{s.group}", f"{s.description} ({element})")
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
    others: tuple["Material", ...] = ()  # alloys: ground states of the other elements
    compounds: dict[str, Any] = field(default_factory=dict)  # label -> physml.properties.compounds.Compound


@dataclass
class Context:
    calc: Calculator
    material: Material
    crystal: Crystal | None = None
    cache: dict[str, dict[str, Result]] = field(default_factory=dict)
    subs: dict[str, "Context"] = field(default_factory=dict)

    def sub(self, element: str) -> "Context":
        """The context of another element of an alloy (its ground-state crystal)."""
        if element == self.material.element:
            return self
        if element not in self.subs:
            m = next((o for o in self.material.others if o.element == element), None)
            if m is None:
                raise KeyError(f"element {element!r} is not one of the material's elements ({', '.join([self.material.element] + [o.element for o in self.material.others])})")
            self.subs[element] = Context(self.calc, m)
        return self.subs[element]

    def reference(self) -> Crystal:
        if self.crystal is None:
            m = self.material
            self.crystal = relaxed_crystal(self.calc, m.element, m.lattice, m.a0_guess, m.c_over_a)
        return self.crystal


def _md_settings(ctx: Context, p: dict):
    from physml.properties.md import MDSettings

    b = ctx.cache.get("eos", {}).get("B")
    return MDSettings(dt=p.pop("dt", 2.0), bulk_modulus=b.value if b else p.pop("bulk_modulus", 100.0), seed=p.pop("seed", 0))


def _compounds(ctx: Context, p: dict[str, Any], names: Sequence[str]) -> dict[str, Result]:
    from physml.properties.compounds import compound_eos

    labels = list(dict.fromkeys(lb for lb in (compound_label(n) for n in names) if lb))
    unknown = [lb for lb in labels if lb not in ctx.material.compounds]
    if unknown:
        raise KeyError(f"no compound {', '.join(map(repr, unknown))} in the material (has {', '.join(ctx.material.compounds) or 'none'})")
    mu = {ctx.material.element: ctx.reference().e_atom}
    mu.update({o.element: ctx.sub(o.element).reference().e_atom for o in ctx.material.others})
    out: dict[str, Result] = {}
    for lb in labels:
        out.update(compound_eos(ctx.calc, ctx.material.compounds[lb], mu, **p))
    return out


def _group(group: str, ctx: Context, p: dict[str, Any], names: Sequence[str]) -> dict[str, Result]:
    if group == "compounds":
        return _compounds(ctx, p, names)
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
    # B of each crystal's EOS sets its MD barostat: every EOS first
    order = ["eos"] + [g for g in groups if g.endswith(":eos")] + [g for g in groups if g != "eos" and not g.endswith(":eos")]
    out: dict[str, Result] = {}
    for g in order:
        if g not in groups and g != "eos":
            continue
        element, _, base = g.rpartition(":")
        gctx = ctx.sub(element) if element else ctx
        if base not in gctx.cache:
            p: dict[str, Any] = {}
            for n in groups.get(g, []):
                p.update(params.get(n, {}))
            if on_group:
                on_group(g)
            gctx.cache[base] = _group(base, gctx, dict(p), [n.rpartition(":")[2] for n in groups.get(g, [])])
        for n in groups.get(g, []):
            key = n.rpartition(":")[2]
            if key not in gctx.cache[base]:
                m = gctx.material
                raise KeyError(f"property {n!r} is not defined for a {m.lattice} {m.element} crystal (group {base} gives {', '.join(gctx.cache[base])})")
            out[n] = gctx.cache[base][key]
    return out
