"""The inheritance guarantee of the W–Be fit, measured on the data.

    PHYSML_DATA_DIR=../shared/data python fits/wbe/check_inheritance.py

On every pure-W and every pure-Be structure of the W–Be SNAP-2019 data, the W–Be alloy is
compared with the elemental potential of that element, energies (eV/atom) and forces
(eV/Å) in float64, twice: for the alloy as assembled (``physml.alloy`` of the two elemental
models, before alloy training) and for the trained alloy ``fits/wbe/model``. The frozen
tensors of the trained alloy are compared with the elemental models' tensors by sha256.
Writes ``fits/wbe/inheritance.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import ase.io
import numpy as np

import physml
from physml.compose.freeze import tensor_hash

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("PHYSML_DATA_DIR", ROOT.parent.parent / "shared" / "data")) / "WBe" / "WBe_fitsnap.extxyz"


def largest_differences(a, b, frames, batch: int = 32) -> dict[str, float]:
    de = df = 0.0
    for k in range(0, len(frames), batch):
        chunk = frames[k : k + batch]
        for f, x, y in zip(chunk, a.evaluate(chunk, stress=False), b.evaluate(chunk, stress=False)):
            de = max(de, abs(x["energy"] - y["energy"]) / len(f))
            df = max(df, float(np.abs(x["forces"] - y["forces"]).max()))
    return {"energy_eV_per_atom": de, "forces_eV_per_A": df}


def main() -> None:
    W, Be = physml.load(ROOT / "w" / "model"), physml.load(ROOT / "be" / "model")
    untrained = physml.alloy([ROOT / "w" / "model", ROOT / "be" / "model"], hidden=[12, 12])
    trained = physml.load(ROOT / "wbe" / "model")
    frames = ase.io.read(DATA, index=":")
    pure = {s: [f for f in frames if set(f.get_chemical_symbols()) == {s}] for s in ("W", "Be")}
    out: dict = {"structures": {s: len(v) for s, v in pure.items()}, "atoms": {s: int(sum(len(f) for f in v)) for s, v in pure.items()}}
    for name, pot in (("before_training", untrained), ("after_training", trained)):
        out[name] = {s: largest_differences(pot, ref, pure[s]) for s, ref in (("W", W), ("Be", Be))}
        print(name, json.dumps(out[name]))
    # frozen tensors: the trained alloy's inherited blocks against the elemental files
    prov = trained.components[0].provider
    same = {}
    for a, ref in enumerate((W, Be)):
        mine = prov.elementals[a].state_dict()
        theirs = ref.components[0].provider.state_dict()
        same[ref.species[0]] = all(tensor_hash(mine[k]) == tensor_hash(theirs[k]) for k in theirs) and set(mine) == set(theirs)
    same["reference_energies"] = trained.reference_energies.tolist() == [float(W.reference_energies[0]), float(Be.reference_energies[0])]
    out["frozen_blocks_bit_identical"] = same
    out["frozen_species"] = [trained.species[a] for a in prov.frozen]
    print(json.dumps(same))
    (ROOT / "wbe" / "inheritance.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
