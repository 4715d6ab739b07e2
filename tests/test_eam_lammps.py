"""Imported setfl EAM potentials against LAMMPS pair_style eam/alloy and eam/fs.

Targets (float64): energy ≤ 1e-9 eV/atom, forces ≤ 1e-6 eV/Å, stress ≤ 1e-8 eV/Å³ on
perturbed and strained crystals (triclinic and 1-atom cells), a vacancy, a surface slab
and a hot expanded cell, with random alloy arrangements for the binaries.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.data import atomic_numbers

import physml


def structures(elements, lattice, a0, seed=0):
    rng = np.random.default_rng(seed)
    base = bulk(elements[0], lattice, a=a0, cubic=True) * (3, 3, 3)
    if len(elements) > 1:
        base.numbers[rng.random(len(base)) < 0.4] = atomic_numbers[elements[1]]
    out = {}
    p = base.copy()
    p.rattle(0.1, seed=seed + 1)
    out["perturbed"] = p
    t = base.copy()
    t.set_cell(base.cell.array @ np.array([[1.02, 0.04, -0.03], [0.01, 0.98, 0.05], [0.0, 0.02, 1.01]]), scale_atoms=True)
    t.rattle(0.05, seed=seed + 2)
    out["triclinic_strained"] = t
    one = bulk(elements[-1], lattice, a=a0)
    one.set_cell(one.cell.array @ np.array([[1.01, 0.02, 0.0], [0.0, 0.99, 0.01], [0.0, 0.0, 1.0]]), scale_atoms=True)
    out["one_atom_cell"] = one
    v = base.copy()
    del v[5]
    v.rattle(0.03, seed=seed + 3)
    out["vacancy"] = v
    s = base.copy()
    s.center(vacuum=6.0, axis=2)
    s.rattle(0.05, seed=seed + 4)
    out["surface_slab"] = s
    h = base.copy()
    h.set_cell(base.cell * 1.08, scale_atoms=True)
    h.rattle(0.3, seed=seed + 5)
    out["hot_expanded"] = h
    return out


CASES = [
    ("Al99.eam.alloy", ["Al"], "fcc", 4.05),
    ("CuTa.eam.alloy", ["Cu", "Ta"], "fcc", 3.70),
    ("CuNi.eam.alloy", ["Cu", "Ni"], "fcc", 3.58),
    ("Fe_mm.eam.fs", ["Fe"], "bcc", 2.86),
    ("Al_mm.eam.fs", ["Al"], "fcc", 4.05),
]


@pytest.mark.parametrize("fname,elements,lattice,a0", CASES)
def test_setfl_matches_lammps(fname, elements, lattice, a0, potentials_dir, lammps):
    path = potentials_dir / fname
    pot = physml.load(path, elements=elements)
    structs = structures(elements, lattice, a0)
    style = "eam/fs" if fname.endswith(".fs") else "eam/alloy"
    ref = lammps.run_lammps(list(structs.values()), elements, [f"pair_style {style}", f"pair_coeff * * {fname} {' '.join(elements)}"], files=[path])
    res = pot.evaluate(list(structs.values()))
    for (name, at), m, r in zip(structs.items(), res, ref):
        de = abs(m["energy"] - r.energy) / len(at)
        df = np.abs(m["forces"] - r.forces).max()
        ds = np.abs(m["stress"] - r.stress).max()
        dei = np.abs(m["energies"] - r.energies).max()
        assert de <= 1e-9, f"{fname} {name}: energy differs by {de:.3e} eV/atom"
        assert df <= 1e-6, f"{fname} {name}: forces differ by {df:.3e} eV/Å"
        assert ds <= 1e-8, f"{fname} {name}: stress differs by {ds:.3e} eV/Å³"
        assert dei <= 1e-8, f"{fname} {name}: per-atom energies differ by {dei:.3e} eV"


def test_setfl_half_list_equals_full_list(potentials_dir):
    """The tabulated EAM accepts half lists (fast path); both give the same numbers."""
    import torch

    from physml.neighbors import neighbor_list

    pot = physml.load(potentials_dir / "CuNi.eam.alloy")
    at = structures(["Cu", "Ni"], "fcc", 3.58)["perturbed"]
    b = pot.batch(at)
    full = pot(b, nlist=neighbor_list(b, pot.cutoff, full=True))
    half = pot(b, nlist=neighbor_list(b, pot.cutoff, full=False))
    assert torch.allclose(full["energies"], half["energies"], atol=1e-12, rtol=0)
    assert torch.allclose(full["forces"], half["forces"], atol=1e-12, rtol=0)
    assert torch.allclose(full["stress"], half["stress"], atol=1e-14, rtol=0)


def test_fused_and_autograd_paths_agree(potentials_dir):
    """Inference uses a fused analytic-gradient kernel; training graphs use autograd."""
    import torch

    pot = physml.load(potentials_dir / "CuTa.eam.alloy")
    at = structures(["Cu", "Ta"], "fcc", 3.7)["hot_expanded"]
    b = pot.batch(at)
    fast = pot(b)
    slow = pot(b, create_graph=True)
    assert torch.allclose(fast["forces"], slow["forces"].detach(), atol=1e-11, rtol=0)
    assert torch.allclose(fast["stress"], slow["stress"].detach(), atol=1e-13, rtol=0)
    # the training path is twice differentiable (force loss)
    loss = (slow["forces"] ** 2).sum() + (slow["stress"] ** 2).sum()
    assert loss.requires_grad
    loss.backward()  # raises if any part of the graph is not twice differentiable


def test_setfl_errors(tmp_path, potentials_dir):
    src = (potentials_dir / "Al99.eam.alloy").read_text().splitlines()
    bad = src[:4] + ["10000 abc 10000 0.0006 6.28"] + src[5:]
    (tmp_path / "bad.eam.alloy").write_text("\n".join(bad))
    with pytest.raises(ValueError, match=r"bad.eam.alloy:5"):
        physml.load(tmp_path / "bad.eam.alloy")
    (tmp_path / "short.eam.alloy").write_text("\n".join(src[:200]))
    with pytest.raises(ValueError, match="file ends at line"):
        physml.load(tmp_path / "short.eam.alloy")
    with pytest.raises(ValueError, match="element Cu not in"):
        physml.load(potentials_dir / "Al99.eam.alloy", elements=["Cu"])


def test_setfl_write_read_round_trip(tmp_path, potentials_dir):
    from physml.io.setfl import read_setfl, write_setfl

    d = read_setfl(potentials_dir / "CuTa.eam.alloy")
    write_setfl(tmp_path / "x.eam.alloy", d["elements"], d["nrho"], d["drho"], d["nr"], d["dr"], d["cutoff"], d["F"], d["rho"], d["z2r"], info=d["info"])
    e = read_setfl(tmp_path / "x.eam.alloy")
    for k in ("F", "rho", "z2r"):
        np.testing.assert_array_equal(d[k], e[k])
