"""Generate the shipped demo structures (our own; no labels): ``python make_demo.py``.

fcc Al cells (perfect, rattled, strained/triclinic), a vacancy, a (111) surface slab,
a hot expanded cell and 1- and 2-atom cells, for the README's main job.
"""

from pathlib import Path

import ase.io
import numpy as np
from ase.build import bulk, fcc111


def structures():
    out = []

    def add(atoms, name):
        atoms.info = {"name": name, "config_type": name.split("_")[0]}
        out.append(atoms)

    a0 = 4.05
    add(bulk("Al", "fcc", a=a0), "primitive_1atom")
    two = bulk("Al", "fcc", a=a0, cubic=True)[:2]
    add(two, "cell_2atoms")
    add(bulk("Al", "fcc", a=a0, cubic=True) * (3, 3, 3), "perfect_108")
    for k, amp in enumerate((0.05, 0.1, 0.2)):
        r = bulk("Al", "fcc", a=a0, cubic=True) * (3, 3, 3)
        r.rattle(amp, seed=k)
        add(r, f"rattled_{amp}")
    s = bulk("Al", "fcc", a=a0, cubic=True) * (3, 3, 3)
    s.set_cell(s.cell.array @ np.array([[1.02, 0.03, 0.0], [0.0, 0.99, 0.02], [0.01, 0.0, 1.0]]), scale_atoms=True)
    add(s, "strained_triclinic")
    v = bulk("Al", "fcc", a=a0, cubic=True) * (4, 4, 4)
    del v[0]
    add(v, "vacancy_255")
    slab = fcc111("Al", size=(3, 3, 6), a=a0, vacuum=8.0, periodic=True)
    add(slab, "surface111_54")
    hot = bulk("Al", "fcc", a=a0 * 1.03, cubic=True) * (3, 3, 3)
    hot.rattle(0.3, seed=7)
    add(hot, "hot_expanded")
    big = bulk("Al", "fcc", a=a0, cubic=True) * (8, 8, 8)
    big.rattle(0.05, seed=11)
    add(big, "rattled_2048")
    return out


if __name__ == "__main__":
    path = Path(__file__).with_name("al_demo.extxyz")
    ase.io.write(path, structures(), format="extxyz")
    print(f"wrote {path}")
