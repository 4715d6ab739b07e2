"""Assemble a multi-element potential from elemental ones: :func:`alloy`.

Classic alloy potentials reuse the elemental potentials and fit only the cross
interactions; :func:`alloy` makes that a guarantee for every physml potential. Components
of the elementals are matched by position (same term kind and configuration in every
elemental) and combined by kind:

* **physics-informed** providers (PINN-BOP, PINN-EAM, …) → :class:`InheritedPhysicsInformed`:
  the elemental networks and baselines, frozen, plus trainable cross baselines and cross
  networks that vanish in a pure element;
* **constant** providers (classic analytic potentials) → one table per parameter whose
  elemental entries (p[a], p[a][a], p[a][a][a]) are frozen and whose cross entries are
  trainable, started from a mixing rule;
* **tabulated EAM** (setfl files) → one eam/alloy or eam/fs table set with the elemental
  F_a, ρ_a, φ_aa and cross pairs φ_ab from ``eam_cross``: Johnson's rule
  φ_ab = ½ [ρ_b/ρ_a φ_aa + ρ_a/ρ_b φ_bb] (R. A. Johnson, Phys. Rev. B 39, 12554 (1989)), zero,
  or given tables; a trainable cross pair can be added with :func:`cross_pair`;
* **ZBL** → ZBL over all species (the universal screening is not fitted).

Mixing rule of the starting cross values (``mixing="mean"``): p[a][b] is the mean of the
two elements' own values, p[a][b][c] the mean over a, b and c of their own values (for log
prefactors such as the BOP A, B this is the geometric mean of the prefactors).

The alloy's metadata records its parents (species, model hash, file sha256 and path), the
repository's ``parents`` and the fit provenance use them.
"""

from __future__ import annotations

import copy
import hashlib
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch
from ase import Atoms

from physml.compose.freeze import frozen_hashes, unfreeze as _unfreeze
from physml.compose.inherited import InheritedPhysicsInformed
from physml.empirical.eam import TabulatedEAM
from physml.empirical.zbl import ZBL
from physml.ml.physics_informed import PhysicsInformed
from physml.parameters import ConstantPerSpecies, ParameterSpec, _tie_map
from physml.potential import Component, Potential
from physml.registry import term_class

PotentialSource = Potential | str | os.PathLike


def _load(src: PotentialSource) -> tuple[Potential, dict]:
    from physml.io import load
    from physml.io.model_file import model_hash

    if isinstance(src, Potential):
        pot, info = src, {"source": src.metadata.get("source", "")}
    else:
        path = Path(src)
        pot = load(path)
        info = {"source": str(path), "file_sha256": _path_sha256(path)}
    if len(pot.species) != 1:
        raise ValueError(f"{info['source'] or 'potential'}: an elemental potential has one species, this one has {pot.species}")
    info.update({"species": pot.species[0], "model_hash": model_hash(pot)})
    return pot, info


def elemental_species(path: str | os.PathLike) -> str:
    """The one species of an elemental potential file (read from ``model.json`` for physml
    models, by loading the file otherwise)."""
    from physml.io import load
    from physml.io.model_file import is_model, read_model_json

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    species = read_model_json(path)["species"] if is_model(path) else load(path).species
    if len(species) != 1:
        raise ValueError(f"{path}: an elemental potential has one species, this one has {species}")
    return species[0]


def _path_sha256(path: Path) -> str:
    """sha256 of a file, or of a model directory's files (sorted by name)."""
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _mixed(spec: ParameterSpec, own: Sequence[float], S: int) -> np.ndarray:
    """Full table of one parameter from each species' own value (``own[a]``)."""
    v = np.asarray(own, dtype=np.float64)
    if spec.indexing == "element":
        return v.copy()
    if spec.indexing == "pair":
        return 0.5 * (v[:, None] + v[None, :])
    return (v[:, None, None] + v[None, :, None] + v[None, None, :]) / 3.0


def _owned_free_mask(spec: ParameterSpec, S: int) -> torch.Tensor:
    """Free values (after ties) that hold an element's own parameter."""
    imap, nfree = _tie_map(spec, S)
    mask = torch.zeros(nfree, dtype=torch.bool)
    for a in range(S):
        col = {"element": 0, "pair": a, "triple": a * S + a}[spec.indexing]
        mask[imap[a, col]] = True
    return mask


def _combine_constant(term, elems: list[Component]) -> Component:
    S = term.n_species
    comp = Component(term)
    prov: ConstantPerSpecies = comp.provider  # type: ignore[assignment]
    own_values = [e.provider.values() for e in elems]
    values = {}
    for spec in prov.layout.specs:
        own = [float(v[spec.name].detach().reshape(-1)[0]) for v in own_values]
        values[spec.name] = _mixed(spec, own, S)
    prov.set_values(values)
    for spec in prov.layout.specs:
        prov.freeze_entries(spec.name, _owned_free_mask(spec, S))
    # the elemental entries must be the elementals' raw values bit for bit (no round trip
    # through the transform): copy them from the elementals' free tensors
    with torch.no_grad():
        for spec in prov.layout.specs:
            imap, _ = _tie_map(spec, S)
            fixed = getattr(prov, f"fixed_{spec.name}")
            for a, e in enumerate(elems):
                col = {"element": 0, "pair": a, "triple": a * S + a}[spec.indexing]
                fixed[imap[a, col]] = e.provider._free_values(spec.name)[0]
    return comp


def _combine_pinn(term, elems: list[Component], hidden, activation, out_scale, seed) -> Component:
    S = term.n_species
    provs: list[PhysicsInformed] = [copy.deepcopy(e.provider) for e in elems]  # type: ignore[misc]
    first = provs[0]
    desc = copy.deepcopy(first.descriptor)
    prov = InheritedPhysicsInformed(
        term.parameter_specs(), S, desc, provs,
        hidden=hidden if hidden is not None else first.hidden,
        activation=activation or first.activation,
        out_scale=first.out_scale if out_scale is None else out_scale, seed=seed,
    )
    with torch.no_grad():
        start = torch.zeros(S, prov.layout.size, dtype=torch.float64)
        for spec in prov.layout.specs:
            own = [float(p.p0[0, p.layout.slices[spec.name]][0]) if p.use_baseline else 0.0 for p in provs]
            start[:, prov.layout.slices[spec.name]] = torch.as_tensor(_mixed(spec, own, S)).reshape(S, -1)
        prov.p0.copy_(torch.where(prov.owned, torch.zeros_like(start), start))
    return Component(term, prov, name=elems[0].name)


def johnson_cross(z2r_a: np.ndarray, z2r_b: np.ndarray, rho_a: np.ndarray, rho_b: np.ndarray) -> np.ndarray:
    """r·φ_ab on the grid from Johnson's rule φ_ab = ½ [ρ_b/ρ_a φ_aa + ρ_a/ρ_b φ_bb]
    (0 where a density vanishes)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 0.5 * (rho_b / rho_a * z2r_a + rho_a / rho_b * z2r_b)
    return np.where((rho_a != 0) & (rho_b != 0), out, 0.0)


def _combine_tabulated(species: list[str], elems: list[Component], eam_cross) -> Component:
    terms: list[TabulatedEAM] = [e.term for e in elems]  # type: ignore[misc]
    t0 = terms[0]
    for t, s in zip(terms, species):
        grid, grid0 = (t.nrho, t.drho, t.nr, t.dr, t.cutoff, t.style), (t0.nrho, t0.drho, t0.nr, t0.dr, t0.cutoff, t0.style)
        if grid != grid0:
            raise ValueError(
                f"tabulated EAM of {s} has grid (nrho, drho, nr, dr, cutoff, style) = {grid}, {species[0]} has {grid0}: "
                "the elemental setfl files must share one grid (re-tabulate one of them)"
            )
    S = len(species)
    F = np.stack([t.functions_on_grid()["F"][0] for t in terms])
    z2r = np.zeros((S, S, t0.nr))
    fs = t0.style == "fs"
    rho = np.zeros((S, S, t0.nr))
    for a, t in enumerate(terms):
        z2r[a, a] = t.functions_on_grid()["z2r"][0, 0]
        rho[a, :] = t.functions_on_grid()["rho"][0, 0]  # the density a neighbour of species a contributes
    for a in range(S):
        for b in range(a + 1, S):
            key = (species[a], species[b])
            if isinstance(eam_cross, Mapping):
                given = eam_cross.get(key, eam_cross.get(key[::-1]))
                if given is None:
                    raise ValueError(f"eam_cross: no table for the pair {key[0]}-{key[1]}")
                cross = np.asarray(given, dtype=np.float64)
                if cross.shape != (t0.nr,):
                    raise ValueError(f"eam_cross[{key}]: r·φ needs {t0.nr} values on the grid, got {cross.shape}")
            elif eam_cross == "johnson":
                cross = johnson_cross(z2r[a, a], z2r[b, b], rho[a, a], rho[b, b])
            elif eam_cross == "zero":
                cross = np.zeros(t0.nr)
            else:
                raise ValueError(f"eam_cross must be 'johnson', 'zero' or a dict of tables, got {eam_cross!r}")
            z2r[a, b] = z2r[b, a] = cross
    if fs:
        raise ValueError("eam/fs elementals: the cross densities ρ_{a→b} are not defined by the elemental files; use eam/alloy files")
    term = TabulatedEAM(species, t0.nrho, t0.drho, t0.nr, t0.dr, t0.cutoff, "alloy", F=F, rho=rho[:, 0, :], z2r=z2r)
    return Component(term, name=elems[0].name)


def cross_pair(term, energy: str = "D") -> Component:
    """A cross-only pair component: the term's constant parameters with every elemental
    entry frozen and the energy scale ``energy`` of same-species pairs set to zero, so the
    component contributes nothing in a pure element (e.g. ``cross_pair(Morse([...]))``)."""
    comp = Component(term)
    prov: ConstantPerSpecies = comp.provider  # type: ignore[assignment]
    spec = prov.layout.spec(energy)
    if spec.indexing != "pair" or spec.transform != "identity":
        raise ValueError(f"cross_pair: {energy} must be an untransformed pair parameter")
    S = term.n_species
    table = np.full((S, S), spec.default)
    np.fill_diagonal(table, 0.0)
    prov.set_values({energy: table})
    for s in prov.layout.specs:
        prov.freeze_entries(s.name, _owned_free_mask(s, S))
    return comp


def alloy(
    elementals: Sequence[PotentialSource],
    cross: Sequence[Component] = (),
    hidden: Sequence[int] | None = None,
    activation: str | None = None,
    out_scale: float | None = None,
    eam_cross: str | Mapping = "johnson",
    unfreeze: Mapping[str, float] | None = None,
    seed: int = 0,
) -> Potential:
    """A multi-element potential inheriting elemental potentials (see the module docstring).

    Args:
        elementals: single-species potentials or files (physml models, setfl, .pinn, …),
            one per species, in the alloy's species order.
        cross: extra components acting only between species (see :func:`cross_pair`).
        hidden, activation, out_scale: cross networks of physics-informed components
            (default: those of the first elemental).
        eam_cross: cross pairs of tabulated EAM: ``"johnson"``, ``"zero"`` or
            ``{("A", "B"): r·φ_AB on the grid}``.
        unfreeze: ``{species: learning-rate factor}`` of inherited blocks to train too
            (explicit opt-out of the inheritance guarantee for those species).
        seed: initialisation of the cross networks.
    """
    loaded = [_load(e) for e in elementals]
    pots = [p for p, _ in loaded]
    species = [p.species[0] for p in pots]
    if len(set(species)) != len(species):
        raise ValueError(f"alloy: each species needs exactly one elemental potential, got {species}")
    n_comp = {len(p.components) for p in pots}
    if len(n_comp) != 1:
        raise ValueError(f"alloy: the elementals have different numbers of components {[len(p.components) for p in pots]}")
    comps = []
    for k in range(n_comp.pop()):
        elems = [p.components[k] for p in pots]
        kinds = {(e.term.kind, repr(sorted(e.term.config().items())) if not isinstance(e.term, (TabulatedEAM, ZBL)) else "", e.provider.kind) for e in elems}
        if len(kinds) != 1:
            desc = ", ".join(f"{s}: {e.term.kind} {e.term.config()} / {e.provider.kind}" for s, e in zip(species, elems))
            raise ValueError(f"alloy: component {k} differs between the elementals ({desc}); inheritance needs one functional form")
        e0 = elems[0]
        if isinstance(e0.term, TabulatedEAM):
            comps.append(_combine_tabulated(species, elems, eam_cross))
        elif isinstance(e0.term, ZBL):
            inner, outer = {e.term.inner for e in elems}, {e.term.outer for e in elems}
            if len(inner) != 1 or len(outer) != 1:
                raise ValueError("alloy: the elementals' ZBL switching ranges differ")
            comps.append(Component(ZBL(species, inner.pop(), outer.pop(), [e.term.Z[0] for e in elems]), name=e0.name))
        else:
            term = term_class(e0.term.kind).from_config(e0.term.config(), species)
            if e0.provider.kind == "physics_informed":
                comps.append(_combine_pinn(term, elems, hidden, activation, out_scale, seed + k))
            elif e0.provider.kind == "constant":
                comps.append(_combine_constant(term, elems))
            else:
                raise ValueError(f"alloy: cannot inherit a {e0.provider.kind!r} provider (component {k})")
    for c in cross:
        if list(c.term.species) != species:
            raise ValueError(f"alloy: cross component {c.name} has species {c.term.species}, the alloy {species}")
        comps.append(c)
    refs = [float(p.reference_energies[0]) for p in pots]
    parents = [info for _, info in loaded]
    pot = Potential(species, comps, reference_energies=refs, metadata={"alloy": {"parents": parents}, "parents": [i["model_hash"] for i in parents]})
    if unfreeze:
        _unfreeze(pot, dict(unfreeze))
    pot.metadata["alloy"]["unfrozen"] = dict(unfreeze or {})
    return pot


def check_inheritance(alloy_pot: Potential, elementals: Sequence[Potential], structures: Sequence[Atoms]) -> dict[str, float]:
    """Largest differences between the alloy and the elemental potentials on pure-element
    structures: ``energy`` (eV/atom) and ``forces`` (eV/Å)."""
    by_species = {p.species[0]: p for p in elementals}
    de = df = 0.0
    for atoms in structures:
        syms = set(atoms.get_chemical_symbols())
        if len(syms) != 1 or next(iter(syms)) not in by_species:
            raise ValueError(f"check_inheritance: {atoms.get_chemical_formula()} is not a structure of one elemental species")
        ref = by_species[next(iter(syms))].evaluate(atoms, stress=False)[0]
        got = alloy_pot.evaluate(atoms, stress=False)[0]
        de = max(de, abs(got["energy"] - ref["energy"]) / len(atoms))
        df = max(df, float(np.abs(got["forces"] - ref["forces"]).max()))
    return {"energy": de, "forces": df}


__all__ = ["alloy", "check_inheritance", "cross_pair", "elemental_species", "frozen_hashes", "johnson_cross"]
