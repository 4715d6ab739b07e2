"""Write the anchor structures of the Ta PINN fits (``data.anchors``, :mod:`physml.train.anchors`):
point defects that the SNAP-2015 Ta data do not contain, whose atoms the fit holds at the
network perturbation of the perfect bcc crystal, so that the bond-order term with the bulk's
parameters — not an extrapolation of the network — decides their energies.

* ``reference``: the 2-atom cubic bcc cell at a0 = 3.32 Å (the DFT data's equilibrium);
* a single vacancy in a 4×4×4 supercell (127 atoms);
* first- and second-neighbour divacancies in the same supercell (126 atoms each);
* the single vacancy again at ±1 % lattice strain (the data's Elastic_BCC range).

Positions are the unrelaxed lattice sites (a bcc vacancy relaxes by ~0.05 Å). No energies or
forces are written: anchors carry no labels. Usage::

    python fits/ta/anchors.py [--out fits/ta/anchors.extxyz]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import ase.io
import numpy as np
from ase.build import bulk

A0 = 3.32


def _supercell(a: float, n: int = 4):
    return bulk("Ta", "bcc", a=a, cubic=True) * (n, n, n)


def structures() -> list:
    ref = bulk("Ta", "bcc", a=A0, cubic=True)
    ref.info["config_type"] = "reference"
    out = [ref]
    cell = _supercell(A0)
    d = cell.get_distances(0, range(len(cell)), mic=True)
    first = int(np.flatnonzero(np.isclose(d, A0 * np.sqrt(3) / 2, atol=1e-6))[0])
    second = int(np.flatnonzero(np.isclose(d, A0, atol=1e-6))[0])
    vac = cell.copy()
    del vac[0]
    vac.info["config_type"] = "vacancy"
    out.append(vac)
    for name, other in (("divacancy_1nn", first), ("divacancy_2nn", second)):
        s = cell.copy()
        del s[[0, other]]
        s.info["config_type"] = name
        out.append(s)
    for f in (0.99, 1.01):
        s = _supercell(A0 * f)
        del s[0]
        s.info["config_type"] = f"vacancy_strain_{f:.2f}"
        out.append(s)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(Path(__file__).with_name("anchors.extxyz")))
    args = ap.parse_args()
    frames = structures()
    tmp = Path(args.out).with_suffix(".tmp.extxyz")
    ase.io.write(tmp, frames, format="extxyz")
    tmp.replace(args.out)  # atomically: a failed write leaves the previous file
    print(f"wrote {args.out}: " + ", ".join(f"{a.info['config_type']} ({len(a)} atoms)" for a in frames))


if __name__ == "__main__":
    main()
