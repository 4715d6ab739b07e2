"""Report bcc lattice constant, cohesive energy and C11/C12/C44 of a potential (default:
the published PINN Ta_2020 file). Run by hand:

    PHYSML_DATA_DIR=../shared/data python benchmarks/pinn_ta_properties.py [FILE]

a0 and E_coh from a Birch–Murnaghan fit of E(V) (ase.eos); the elastic constants from
central finite differences of the stress under ±0.5 % strains of the cubic cell (two-atom
bcc cell: no internal relaxation by symmetry). The free atom is the energy zero of PINN.
"""

import os
import sys

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.eos import EquationOfState
from ase.units import GPa

import physml


def properties(pot, element="Ta", a_guess=3.30):
    calc = physml.Calculator(pot)
    e_free = pot.evaluate(Atoms(element, positions=[[0, 0, 0]]), stress=False)[0]["energy"]
    vols, ens = [], []
    for s in np.linspace(0.97, 1.03, 13):
        at = bulk(element, "bcc", a=a_guess * s, cubic=True)
        at.calc = calc
        vols.append(at.get_volume())
        ens.append(at.get_potential_energy())
    v0, e0, B = EquationOfState(vols, ens, eos="birchmurnaghan").fit()
    a0 = v0 ** (1 / 3)  # two-atom cubic cell: V = a³
    at = bulk(element, "bcc", a=a0, cubic=True)
    at.calc = calc
    C = np.zeros((6, 6))
    d = 0.005
    for k in range(6):
        sig = []
        for sgn in (-1, 1):
            eps = np.zeros(6)
            eps[k] = sgn * d
            e = np.array([[eps[0], eps[5] / 2, eps[4] / 2], [eps[5] / 2, eps[1], eps[3] / 2], [eps[4] / 2, eps[3] / 2, eps[2]]])
            x = at.copy()
            x.calc = calc
            x.set_cell(at.cell.array @ (np.eye(3) + e), scale_atoms=True)
            sig.append(x.get_stress())
        C[:, k] = (sig[1] - sig[0]) / (2 * d)
    C /= GPa
    return {
        "a0 (Å)": a0, "E_coh (eV/atom)": -(e0 / 2 - e_free), "B (GPa)": B / GPa,
        "C11 (GPa)": (C[0, 0] + C[1, 1] + C[2, 2]) / 3, "C12 (GPa)": (C[0, 1] + C[0, 2] + C[1, 2]) / 3,
        "C44 (GPa)": (C[3, 3] + C[4, 4] + C[5, 5]) / 3,
    }


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.environ.get("PHYSML_DATA_DIR", "../shared/data"), "pinn", "Ta_2020.pinn")
    res = properties(physml.load(path))
    print(f"{path}")
    for k, v in res.items():
        print(f"  {k:16s} {v:10.4f}")
