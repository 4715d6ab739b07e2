"""Recompute T_m of recorded coexistence runs (JSON of melting_physml.py or lammps_melting.py)
with the current :func:`physml.properties.melting.estimate_tm`, without rerunning MD:

    python validation/reference/reanalyse_tm.py validation/results/al99_tm_*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from physml.properties.melting import estimate_tm  # noqa: E402


def main() -> int:
    for f in sys.argv[1:]:
        r = json.loads(Path(f).read_text())
        runs = r["runs"] if "runs" in r else r["data"]["runs"]
        n = r.get("natoms") or r["data"]["natoms"]
        tm, err, checks = estimate_tm(runs)
        s = r["settings"]
        print(f"{Path(f).name}: T_m = {tm:.0f} ± {err:.0f} K ({n} atoms, {s['run_ps']:g} ps per T), converged {all(c.passed for c in checks)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
