"""T_m of a potential by solid–liquid coexistence with physml.properties.melting (any
potential physml.load reads). Run by hand, in the background (minutes to hours):

    PHYSML_DATA_DIR=../shared/data OMP_NUM_THREADS=1 nice -n 10 python validation/reference/melting_physml.py \
        ../shared/data/potentials/Al99.eam.alloy Al fcc 4.05 1040 --size 8 8 16 --run-ps 15 --json validation/results/al99_tm_physml.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import physml  # noqa: E402
from physml.properties.crystal import relaxed_crystal  # noqa: E402
from physml.properties.eos import equation_of_state  # noqa: E402
from physml.properties.md import MDSettings  # noqa: E402
from physml.properties.melting import Coexistence, melting_temperature  # noqa: E402


def arguments() -> argparse.ArgumentParser:
    """The options shared with lammps_melting.py (same protocol, same parameters)."""
    p = argparse.ArgumentParser()
    p.add_argument("potential")
    p.add_argument("element")
    p.add_argument("lattice")
    p.add_argument("a_guess", type=float)
    p.add_argument("t_guess", type=float)
    p.add_argument("--size", type=int, nargs=3, default=[8, 8, 16])
    p.add_argument("--run-ps", type=float, default=15.0)
    p.add_argument("--window", type=float, nargs="+", default=[0.96, 0.98, 1.0, 1.02, 1.04])
    p.add_argument("--json", required=True)
    return p


def main() -> int:
    p = arguments()
    p.add_argument("--dt", type=float, default=2.0)
    a = p.parse_args()
    import torch

    torch.set_num_threads(1)
    kw = {"elements": [a.element]} if ".eam" in a.potential else {}
    calc = physml.Calculator(physml.load(a.potential, **kw))
    cr = relaxed_crystal(calc, a.element, a.lattice, a.a_guess)
    B = equation_of_state(cr)["B"].value
    s = Coexistence(size=tuple(a.size), run_ps=a.run_ps, window=tuple(a.window), md=MDSettings(dt=a.dt, bulk_modulus=B))
    t0 = time.time()
    r = melting_temperature(cr, a.t_guess, s)["T_m"]
    out = {"potential": a.potential, "settings": {"size": a.size, "run_ps": a.run_ps, "window": a.window, "dt": a.dt, "t_guess": a.t_guess,
           "prep_ps": s.prep_ps, "melt_ps": s.melt_ps, "cool_ps": s.cool_ps, "skip_ps": s.skip_ps}, "seconds": time.time() - t0, **r.to_json(), "data": r.data}
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(out, indent=1))
    print(f"T_m = {r.value:.1f} ± {r.error:.1f} K, converged {r.converged}; {out['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
