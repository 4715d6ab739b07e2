"""Route ``plugin``: any physml potential as a TorchScript file for the physml LAMMPS pair
style (``pair_style physml``, built from ``physml/lammps/plugin_src`` by ``physml build-lammps-plugin``).

Why TorchScript (and not ``torch.export``/AOTInductor):

* the model's shapes are data-dependent on every call (pairs per atom, screening triplets,
  padding to the largest neighbour count); TorchScript runs the same code for any shape,
  while an exported graph needs every such size declared as an unbacked symbol;
* the pair style differentiates the model in C++ (``torch::autograd::grad``): one forward
  model gives the site energies, the forces on local *and ghost* atoms and the virial.
  AOTInductor artifacts are inference-only, so the backward pass would have to be traced
  into the artifact, and compiling it takes minutes per model and a compiler at export
  time, where scripting takes about a second;
* custom C++ operators registered with ``TORCH_LIBRARY`` are callable from TorchScript.

``torch.jit`` is deprecated upstream (still shipped with libtorch 2.13); the scripted
modules (:mod:`physml.export.scripted`) are plain typed torch code, so moving to
``torch.export`` later means re-exporting the same modules with dynamic-size hints.

:func:`evaluate_exported` runs an exported file from Python with the same inputs and the
same differentiation as the pair style; the tests use it to check the export itself.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from ase import Atoms

from physml.potential import Potential


def export_torchscript(potential: Potential, path: str | os.PathLike, kernels: bool | None = None) -> Path:
    """Script ``potential`` and write it to ``path`` atomically. ``kernels``: call physml's
    C++ kernels (default: where the model has a use for them and they are available)."""
    from physml.export.scripted import script_potential

    path = Path(path)
    module = script_potential(potential, kernels=kernels)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pt")
    os.close(fd)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.jit.save(module, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_exported(path: str | os.PathLike) -> torch.jit.ScriptModule:
    """Load an exported model in this Python process (physml's C++ kernels are loaded
    first, since a model may call them)."""
    from physml import ext

    ext.available()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(str(path), map_location="cpu")


def local_pairs(atoms: Atoms, species: Sequence[str], cutoff: float):
    """The pair style's inputs for one structure: (vectors, centre, species_centre,
    species_neighbour) with periodic images as explicit pair vectors."""
    from physml.neighbors import neighbor_list
    from physml.system import Batch

    batch = Batch.from_atoms(atoms, list(species))
    nl = neighbor_list(batch, cutoff)
    pos = batch.positions
    vec = pos[nl.j] - pos[nl.i] + nl.shifts @ batch.cell[0]
    return vec, nl.i, batch.species, batch.species[nl.j], nl.j


def evaluate_exported(module, structures: Atoms | Sequence[Atoms]) -> list[dict]:
    """Energies, site energies, forces, stress (Voigt, ASE sign, eV/Å³) and per-atom virials
    of an exported model from its ``energy_and_gradient`` (w.r.t. the pair vectors), as the
    pair style computes them.

    ``virials`` (n, 6; xx, yy, zz, xy, xz, yz as LAMMPS orders them; eV) is the pair style's
    per-atom virial W_i = −½ Σ_{pairs c–j with c = i or j = i} sym(r_cj ⊗ ∂E/∂r_cj) (half
    of each pair to either end, periodic images to their atom); Σ_i W_i = −σ V."""
    structs = [structures] if isinstance(structures, Atoms) else list(structures)
    out = []
    for atoms in structs:
        vec, centre, sp_c, sp_n, j = local_pairs(atoms, list(module.species), float(module.cutoff))
        e, g = module.energy_and_gradient(vec, centre, sp_c, sp_n)
        n = len(atoms)
        f = torch.zeros(n, 3, dtype=vec.dtype).index_add(0, centre, g).index_add(0, j, -g)
        W = vec.t() @ g
        W = 0.5 * (W + W.t()).numpy()
        pv = vec[:, :, None] * g[:, None, :]
        pv = -0.25 * (pv + pv.transpose(1, 2))  # half of −sym(r ⊗ g) to each end
        Wi = torch.zeros(n, 3, 3, dtype=vec.dtype).index_add(0, centre, pv).index_add(0, j, pv)
        Wi = Wi[:, [0, 1, 2, 0, 0, 1], [0, 1, 2, 1, 2, 2]]
        vol = abs(np.linalg.det(atoms.cell.array)) if atoms.pbc.all() else 0.0
        s = W / vol if vol > 1e-12 else np.full((3, 3), np.nan)
        out.append({
            "energy": float(e.sum()),
            "energies": e.numpy(),
            "forces": f.numpy(),
            "stress": np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]]),
            "virials": Wi.numpy(),
        })
    return out
