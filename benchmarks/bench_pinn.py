"""Benchmark: energy+forces of fcc Al with the PINN Al_2020 potential, the pure neural
potential with the same descriptors and network size, and the classic BOP (constant
parameters = the Al_2020 baseline p0). Run by hand (not a test):

    PHYSML_DATA_DIR=../shared/data python benchmarks/bench_pinn.py --sizes 4000 32000

One core (torch threads = 1), one subprocess per case (peak RSS = that case). Time per
energy+forces call with a prebuilt neighbour list (best of ``--repeat`` calls after one
warm-up call); the list build is timed separately. Both wall-clock and process CPU time are
reported: on a shared machine the CPU time is the more faithful number. The C++ kernels
(physml/ext.py) are used unless ``PHYSML_NO_EXT=1``; ``--chunk`` overrides the potential's
chunk size (centre atoms per chunk).

``--kernels`` times the C++ operators alone (``torch.ops.physml.*``) on a fixed 2,048-atom fcc
Al cell with the Al_2020 descriptors and per-atom BOP parameters (p0 with 1 % noise): CPU
time per atom, best of ``--repeat`` calls (``pinn_bop_positions``: energy, dE/dp and dE/dx
scattered to the positions, the forces path of the PINN at a fixed cell).

``--interleaved`` evaluates the PINN and the pure NN in one process on the same cell and
neighbour list, alternating their calls (which comes first alternates from round to round):
the ratio of the best CPU time of each over ``--repeat`` rounds, and the median and quartiles
of the per-round ratios (two adjacent calls see the same load of a shared machine, so the
median is the steadiest number).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def build(kind: str, pinn_file: str):
    import physml
    from physml.empirical import PinnBOP
    from physml.ml import PhysicsInformed, SiteEnergy
    from physml.potential import Component, Potential

    pinn = physml.load(pinn_file)
    if kind == "pinn":
        return pinn
    prov = pinn.components[0].provider
    if kind == "bop":
        t = PinnBOP(["Al"], cutoff=pinn.components[0].term.rc, smoothing=pinn.components[0].term.hc)
        pot = Potential(["Al"], [Component(t)])
        vals = dict(zip(["A", "alpha", "B", "beta", "h", "sigma", "a", "lambda"], prov.p0[0].tolist()))
        pot.components[0].provider.set_values(vals)
        return pot
    if kind == "nn":
        t = SiteEnergy(["Al"])
        nn = PhysicsInformed(t.parameter_specs(), 1, prov.descriptor, hidden=prov.hidden, activation=prov.activation, seed=0)
        return Potential(["Al"], [Component(t, nn)])
    raise ValueError(kind)


def case(kind: str, n_atoms: int, pinn_file: str, chunk: int | None = None, repeat: int = 2) -> dict:
    import torch
    from ase.build import bulk

    from physml.neighbors import neighbor_list

    torch.set_num_threads(1)
    n = round((n_atoms / 4) ** (1 / 3))
    a = bulk("Al", "fcc", a=4.04, cubic=True) * (n, n, n)
    a.rattle(0.02, seed=1)
    pot = build(kind, pinn_file)
    if chunk is not None:
        pot.chunk_atoms = chunk
    b = pot.batch(a)
    t0 = time.perf_counter()
    nl = neighbor_list(b, pot.cutoff)
    t_nl = time.perf_counter() - t0
    out = pot(b, nlist=nl, stress=False)  # warm-up (builds the C++ kernels if needed)
    dt = cpu = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = pot(b, nlist=nl, stress=False)
        dt, cpu = min(dt, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    assert torch.isfinite(out["forces"]).all()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    from physml import ext

    return {
        "kind": kind, "n_atoms": len(a), "s_per_call": dt, "cpu_s_per_call": cpu, "us_per_atom": dt / len(a) * 1e6,
        "cpu_us_per_atom": cpu / len(a) * 1e6, "atoms_steps_per_s": len(a) / dt, "neighbor_list_s": t_nl,
        "peak_MiB": peak, "chunk_atoms": pot.chunk_atoms, "kernels": ext.available(),
    }


def interleaved(n_atoms: int, pinn_file: str, repeat: int) -> dict:
    """Best CPU µs/atom of the PINN and the pure NN, calls alternating in one process."""
    import torch
    from ase.build import bulk

    from physml.neighbors import neighbor_list

    torch.set_num_threads(1)
    n = round((n_atoms / 4) ** (1 / 3))
    a = bulk("Al", "fcc", a=4.04, cubic=True) * (n, n, n)
    a.rattle(0.02, seed=1)
    pots = {kind: build(kind, pinn_file) for kind in ("pinn", "nn")}
    b = pots["pinn"].batch(a)
    nl = neighbor_list(b, max(p.cutoff for p in pots.values()))
    for p in pots.values():
        p(b, nlist=nl, stress=False)  # warm-up
    best = dict.fromkeys(pots, float("inf"))
    ratios = []  # per round: PINN / NN of adjacent calls (order alternating)
    for r in range(repeat):
        t = {}
        for kind in (("pinn", "nn") if r % 2 == 0 else ("nn", "pinn")):
            c0 = time.process_time()
            pots[kind](b, nlist=nl, stress=False)
            t[kind] = time.process_time() - c0
            best[kind] = min(best[kind], t[kind])
        ratios.append(t["pinn"] / t["nn"])
    us = {kind: t / len(a) * 1e6 for kind, t in best.items()}
    q = sorted(ratios)
    return {
        "n_atoms": len(a), "pinn_cpu_us_per_atom": us["pinn"], "nn_cpu_us_per_atom": us["nn"], "ratio": best["pinn"] / best["nn"],
        "round_ratio_median": q[len(q) // 2], "round_ratio_q1": q[len(q) // 4], "round_ratio_q3": q[(3 * len(q)) // 4],
    }


def kernels(repeat: int, pinn_file: str) -> dict:
    """CPU µs/atom of the descriptor and bond-order operators on a fixed cell."""
    import torch
    from ase.build import bulk

    import physml
    from physml import ext
    from physml.neighbors import Graph, neighbor_list

    torch.set_num_threads(1)
    if not ext.load():
        raise SystemExit(f"C++ kernels unavailable: {ext.error()}")
    pot = physml.load(pinn_file)
    term, prov = pot.components[0].term, pot.components[0].provider
    d = prov.descriptor
    a = bulk("Al", "fcc", a=4.04, cubic=True) * (8, 8, 8)
    a.rattle(0.02, seed=1)
    g = Graph.build(pot.batch(a), neighbor_list(pot.batch(a), term.cutoff), 1)
    pr = g.pairs(term.cutoff)
    v, i, j, sp, N = pr.vectors.detach().contiguous(), pr.i, pr.j, g.species, len(a)
    gen = torch.Generator().manual_seed(0)
    p0 = prov.p0.detach().expand(N, -1)
    params = (p0 * (1.0 + 0.01 * torch.randn(p0.shape, generator=gen, dtype=p0.dtype))).contiguous()
    hyper = (d.orders, d.centres, d.width, d.cutoff, d.smoothing)
    ops = torch.ops.physml
    gdesc, A = ops.gl_descriptor(v, i, j, sp, N, 1, *hyper)
    grad_g = torch.randn(gdesc.shape, generator=gen, dtype=gdesc.dtype)
    cases = {
        "gl_descriptor": lambda: ops.gl_descriptor(v, i, j, sp, N, 1, *hyper),
        "gl_descriptor_backward": lambda: ops.gl_descriptor_backward(grad_g, A, v, i, j, sp, 1, *hyper),
        "pinn_bop energy": lambda: ops.pinn_bop(v, i, j, sp, params, 1, term.rc, term.hc, False, False),
        "pinn_bop energy+dE/dr+dE/dp": lambda: ops.pinn_bop(v, i, j, sp, params, 1, term.rc, term.hc, True, True),
        "pinn_bop_positions (dE/dx)": lambda: ops.pinn_bop_positions(v, i, j, sp, params, 1, term.rc, term.hc, True),
    }
    out = {"n_atoms": N, "pairs_per_atom": len(i) / N, "cutoff": term.cutoff}
    for name, fn in cases.items():
        fn()
        best = float("inf")
        for _ in range(repeat):
            c0 = time.process_time()
            fn()
            best = min(best, time.process_time() - c0)
        out[name] = best / N * 1e6
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[4000, 32000])
    ap.add_argument("--kinds", nargs="+", default=["pinn", "nn", "bop"])
    ap.add_argument("--chunk", type=int, help="centre atoms per chunk (default: the potential's)")
    ap.add_argument("--repeat", type=int, default=2, help="timed calls per case (best is reported)")
    ap.add_argument("--case", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--kernels", action="store_true", help="time the C++ operators alone on a fixed cell")
    ap.add_argument("--interleaved", action="store_true", help="PINN and pure NN alternating in one process (CPU time ratio)")
    ap.add_argument("--json")
    args = ap.parse_args()
    pinn_file = str(Path(os.environ.get("PHYSML_DATA_DIR", "../shared/data")) / "pinn" / "Al_2020.pinn")
    if args.kernels:
        res = kernels(args.repeat, pinn_file)
        print(f"{res['n_atoms']} atoms, {res['pairs_per_atom']:.1f} pairs/atom within {res['cutoff']:g} Å (CPU µs/atom):")
        for name, t in res.items():
            if name not in ("n_atoms", "pairs_per_atom", "cutoff"):
                print(f"  {name:28s} {t:7.2f}")
        if args.json:
            Path(args.json).write_text(json.dumps(res, indent=2))
        return
    if args.interleaved:
        res = [interleaved(n, pinn_file, args.repeat) for n in args.sizes]
        for d in res:
            print(f"N={d['n_atoms']:6d}  PINN {d['pinn_cpu_us_per_atom']:7.1f}  pure NN {d['nn_cpu_us_per_atom']:7.1f} CPU µs/atom  "
                  f"PINN / pure-NN = {d['ratio']:.3f} (best of each); per round: median {d['round_ratio_median']:.3f}, "
                  f"quartiles {d['round_ratio_q1']:.3f}–{d['round_ratio_q3']:.3f}", flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(res, indent=2))
        return
    if args.case:
        print(json.dumps(case(args.case[0], int(args.case[1]), pinn_file, args.chunk, args.repeat)))
        return
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    res = []
    for n in args.sizes:
        for kind in args.kinds:
            cmd = [sys.executable, __file__, "--case", kind, str(n), "--repeat", str(args.repeat)]
            if args.chunk is not None:
                cmd += ["--chunk", str(args.chunk)]
            r = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if r.returncode:
                print(f"{kind} {n}: failed\n{r.stderr[-2000:]}", flush=True)
                continue
            d = json.loads(r.stdout.strip().splitlines()[-1])
            res.append(d)
            print(
                f"{kind:5s} N={d['n_atoms']:6d} {d['us_per_atom']:8.1f} µs/atom wall {d['cpu_us_per_atom']:8.1f} µs/atom CPU  "
                f"{d['atoms_steps_per_s']:8.0f} atom·steps/s  list {d['neighbor_list_s']:.2f} s  peak {d['peak_MiB']:.0f} MiB  "
                f"chunk {d['chunk_atoms']}  kernels {'C++' if d['kernels'] else 'torch'}",
                flush=True,
            )
    by = {(d["kind"], d["n_atoms"]): d for d in res}
    for n in sorted({d["n_atoms"] for d in res}):
        if ("pinn", n) in by and ("nn", n) in by:
            p, q = by[("pinn", n)], by[("nn", n)]
            print(f"N={n}: PINN / pure-NN time = {p['s_per_call'] / q['s_per_call']:.2f} (wall), {p['cpu_s_per_call'] / q['cpu_s_per_call']:.2f} (CPU)")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
