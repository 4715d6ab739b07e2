"""Reusable physics checks that every potential must pass.

forces = −∇E and stress = (1/V)∂E/∂ε by central finite differences, invariance under
rotation, translation and permutation, continuity at the cutoff, batching consistency.
Each check raises AssertionError with the measured numbers.
"""

from __future__ import annotations

import numpy as np
import torch
from ase import Atoms
from scipy.spatial.transform import Rotation

from physml.potential import Potential


def _eval(pot: Potential, atoms: Atoms, stress: bool = False):
    return pot.evaluate(atoms, forces=True, stress=stress)[0]


def energy(pot: Potential, atoms: Atoms) -> float:
    return pot.evaluate(atoms, forces=False, stress=False)[0]["energy"]


def check_forces_fd(pot: Potential, atoms: Atoms, h: float = 1e-4, rtol: float = 1e-6, atol: float = 1e-8, n_atoms: int | None = 6):
    """Central differences of the energy (4th order) against autograd forces."""
    res = _eval(pot, atoms)
    f = res["forces"]
    idx = range(len(atoms)) if n_atoms is None else np.linspace(0, len(atoms) - 1, min(n_atoms, len(atoms))).astype(int)
    fd = np.zeros((len(idx), 3))
    for a_k, a in enumerate(idx):
        for c in range(3):
            vals = []
            for s in (-2, -1, 1, 2):
                b = atoms.copy()
                b.positions[a, c] += s * h
                vals.append(energy(pot, b))
            fd[a_k, c] = -(vals[0] - 8 * vals[1] + 8 * vals[2] - vals[3]) / (12 * h)
    err = np.abs(fd - f[list(idx)]).max()
    scale = max(np.abs(f).max(), 1e-12)
    assert err <= atol + rtol * scale, f"FD forces differ by {err:.3e} (scale {scale:.3e})"
    return err


def check_stress_fd(pot: Potential, atoms: Atoms, h: float = 1e-5, rtol: float = 1e-6, atol: float = 1e-9):
    """(1/V) ∂E/∂ε_ab by central differences of symmetric strains against autograd stress."""
    res = _eval(pot, atoms, stress=True)
    s = res["stress"]
    V = atoms.get_volume()
    cell0 = atoms.get_cell().array
    fd = np.zeros(6)
    pairs = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]
    for k, (a, b) in enumerate(pairs):
        vals = []
        for sgn in (-2, -1, 1, 2):
            eps = np.zeros((3, 3))
            eps[a, b] += 0.5 * sgn * h
            eps[b, a] += 0.5 * sgn * h
            x = atoms.copy()
            x.set_cell(cell0 @ (np.eye(3) + eps), scale_atoms=True)
            vals.append(energy(pot, x))
        d = (vals[0] - 8 * vals[1] + 8 * vals[2] - vals[3]) / (12 * h)
        fd[k] = d / V
    err = np.abs(fd - s).max()
    scale = max(np.abs(s).max(), 1e-12)
    assert err <= atol + rtol * scale, f"FD stress differs by {err:.3e} (scale {scale:.3e}): {fd} vs {s}"
    return err


def check_invariances(pot: Potential, atoms: Atoms, tol: float = 1e-9, seed: int = 0):
    """Rotation (cell and positions), translation and permutation invariance/equivariance."""
    ref = _eval(pot, atoms, stress=atoms.pbc.all())
    rng = np.random.default_rng(seed)
    n = len(atoms)
    # translation
    t = atoms.copy()
    t.positions += rng.normal(size=3)
    r = _eval(pot, t)
    assert abs(r["energy"] - ref["energy"]) <= tol * max(1, n), "translation changes the energy"
    assert np.abs(r["forces"] - ref["forces"]).max() <= tol * 10, "translation changes the forces"
    # rotation
    R = Rotation.random(random_state=int(seed)).as_matrix()
    rot = atoms.copy()
    rot.set_cell(atoms.get_cell().array @ R.T, scale_atoms=False)
    rot.positions = atoms.positions @ R.T
    r = _eval(pot, rot, stress=atoms.pbc.all())
    assert abs(r["energy"] - ref["energy"]) <= tol * max(1, n), f"rotation changes the energy by {r['energy'] - ref['energy']}"
    assert np.abs(r["forces"] - ref["forces"] @ R.T).max() <= tol * 10, "forces do not rotate with the structure"
    if atoms.pbc.all():
        def full(v):
            return np.array([[v[0], v[5], v[4]], [v[5], v[1], v[3]], [v[4], v[3], v[2]]])

        assert np.abs(full(r["stress"]) - R @ full(ref["stress"]) @ R.T).max() <= tol, "stress does not rotate"
    # permutation
    perm = rng.permutation(n)
    p = atoms[perm]
    r = _eval(pot, p)
    assert abs(r["energy"] - ref["energy"]) <= tol * max(1, n), "permutation changes the energy"
    assert np.abs(r["forces"] - ref["forces"][perm]).max() <= tol * 10, "forces do not follow the permutation"
    assert np.abs(r["energies"] - ref["energies"][perm]).max() <= tol * 10, "site energies do not follow the permutation"


def check_cutoff_smoothness(pot: Potential, symbols: tuple[str, str], cutoff: float, delta: float = 1e-6, tol: float = 1e-8):
    """Energy and forces of a dimer are continuous (→ 0 change) across ``cutoff``."""
    def dimer(r):
        a = Atoms(symbols=list(symbols), positions=[[0, 0, 0], [r, 0, 0]], cell=[40, 40, 40], pbc=False)
        return _eval(pot, a)

    lo, hi = dimer(cutoff - delta), dimer(cutoff + delta)
    de = abs(lo["energy"] - hi["energy"])
    df = np.abs(lo["forces"] - hi["forces"]).max()
    assert de <= tol and df <= tol * 100, f"discontinuity at the cutoff {cutoff}: dE={de:.3e}, dF={df:.3e}"
    return de, df


def check_batch_consistency(pot: Potential, structures: list[Atoms], tol: float = 1e-10):
    """A batch of structures gives exactly the per-structure results."""
    together = pot.evaluate(structures, stress=False)
    for k, s in enumerate(structures):
        alone = _eval(pot, s)
        assert abs(together[k]["energy"] - alone["energy"]) <= tol * max(1, len(s))
        assert np.abs(together[k]["forces"] - alone["forces"]).max() <= tol * 10


def strained_alloy(symbols: tuple[str, ...], a: float, n: int = 2, seed: int = 0, rattle: float = 0.08, fraction: float = 0.4) -> Atoms:
    """A rattled, sheared fcc supercell; with two symbols a random fraction is the second."""
    from ase.build import bulk
    from ase.data import atomic_numbers

    at = bulk(symbols[0], "fcc", a=a, cubic=True) * (n, n, n)
    if len(symbols) > 1:
        rng = np.random.default_rng(seed)
        at.numbers[rng.random(len(at)) < fraction] = atomic_numbers[symbols[1]]
    at.rattle(rattle, seed=seed)
    at.set_cell(at.cell.array @ np.array([[1.0, 0.02, -0.01], [0.015, 0.99, 0.0], [0.0, 0.03, 1.01]]), scale_atoms=True)
    return at
