"""A/B timing of two versions of the PINN bond-order kernel (``physml/csrc/pinn_kernels.cpp``),
run by hand (not a test):

    PHYSML_DATA_DIR=../shared/data python benchmarks/ab_pinn_kernels.py HEAD~1 HEAD
    PHYSML_DATA_DIR=../shared/data python benchmarks/ab_pinn_kernels.py HEAD WORKTREE
    PHYSML_DATA_DIR=../shared/data python benchmarks/ab_pinn_kernels.py HEAD HEAD --b-cflags=-mavx512f

Why: on a shared VM the speed drifts by up to 30 % within minutes, so two versions timed in
separate processes (``bench_pinn.py --kernels``) cannot resolve changes of a few per cent.
Here both versions are compiled into one C++ program (namespaces ``physml_A`` and
``physml_B``, the kernel flags of ``physml.ext.kernel_cflags``) and ``PinnBOPKernel::energy``
with positions gradient and dE/dp is timed on the same atoms, alternating every 64 atoms
(the order flipped from one chunk to the next). Each round gives one CPU-time ratio B/A.

The program is run twice, the second time with the versions' places swapped, and once with
A against itself: the swapped pair separates the true ratio from the bias of the place in the
binary (code alignment, which buffers are warm): with r1 = (B/A)·bias and r2 = (A/B)·bias,
B/A = sqrt(r1/r2) and bias = sqrt(r1 r2). The A/A control shows how large such effects of
the layout are (they differ from one build to the next, by up to ±5 % on the AMD EPYC VMs):
a B/A within a few per cent of 1 is not a resolved difference. The outputs of the two
versions (energies, a gradient and a dE/dp component per atom) are compared: a version that
computes something else is reported.

Input: the 2,048-atom rattled fcc Al cell of ``bench_pinn.py --kernels`` with the Al_2020
parameters p0 times (1 + 1 % noise) per atom. A version is a git revision (its
``physml/csrc/pinn_kernels.{cpp,h}``) or ``WORKTREE`` (the files as they are);
``--a-cflags`` / ``--b-cflags`` add compiler flags to one version's object (the same code
with another instruction set, say; write ``--b-cflags=-mavx512f``, with ``=``, since a lone
value beginning with ``-`` would be read as an option).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = ("pinn_kernels.cpp", "pinn_kernels.h")

DRIVER = r"""
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>
#define physml physml_A
#include "A/pinn_kernels.h"
#undef physml
#define physml physml_B
#include "B/pinn_kernels.h"
#undef physml

struct Data {
    int64_t N = 0, E = 0, P = 0;
    double rc = 0, hc = 0;
    std::vector<int64_t> start;
    std::vector<double> v, p;
    std::vector<int> type;
};

static double cpu() {
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

// CPU seconds for atoms [a0, a1); per atom: E_i, a gradient and a dE/dp component into out
template <class K>
double run(const K& k, typename K::Buffers& B, const Data& d, std::vector<double>& out, int64_t a0, int64_t a1,
           std::vector<double>& g, std::vector<double>& dp) {
    const double t0 = cpu();
    for (int64_t a = a0; a < a1; ++a) {
        const int64_t lo = d.start[a], n = d.start[a + 1] - lo;
        const double e = k.energy(static_cast<int>(n), d.v.data() + lo, d.v.data() + d.E + lo,
                                  d.v.data() + 2 * d.E + lo, d.type.data() + lo, d.p.data() + a * d.P, g.data(),
                                  g.data() + n, g.data() + 2 * n, dp.data(), B);
        out[3 * a] = e;
        out[3 * a + 1] = g[0] + g[n + 1] + g[2 * n + 2];
        out[3 * a + 2] = dp[d.P - 1];
    }
    return cpu() - t0;
}

int main(int argc, char** argv) {
    if (argc < 3) return 2;
    FILE* f = std::fopen(argv[1], "rb");
    if (!f) return 2;
    Data d;
    int64_t h[3];
    double rh[2];
    bool ok = std::fread(h, 8, 3, f) == 3 && std::fread(rh, 8, 2, f) == 2;
    d.N = h[0], d.E = h[1], d.P = h[2], d.rc = rh[0], d.hc = rh[1];
    d.start.resize(d.N + 1);
    d.v.resize(3 * d.E);
    d.p.resize(d.N * d.P);
    ok = ok && std::fread(d.start.data(), 8, d.N + 1, f) == static_cast<size_t>(d.N + 1) &&
         std::fread(d.v.data(), 8, 3 * d.E, f) == static_cast<size_t>(3 * d.E) &&
         std::fread(d.p.data(), 8, d.N * d.P, f) == static_cast<size_t>(d.N * d.P);
    std::fclose(f);
    if (!ok) return 3;
    d.type.assign(d.E, 0);
    int64_t max_n = 0;
    for (int64_t a = 0; a < d.N; ++a) max_n = std::max(max_n, d.start[a + 1] - d.start[a]);
    std::vector<double> g(3 * max_n + 3), dp(d.P);
    physml_A::PinnBOPKernel ka(1, d.rc, d.hc);
    physml_B::PinnBOPKernel kb(1, d.rc, d.hc);
    physml_A::PinnBOPKernel::Buffers BA;
    physml_B::PinnBOPKernel::Buffers BB;
    std::vector<double> oa(3 * d.N), ob(3 * d.N);
    const int rounds = std::atoi(argv[2]);
    constexpr int64_t kChunk = 64;
    for (int r = 0; r < rounds; ++r) {
        double ta = 0, tb = 0;
        for (int64_t a0 = 0; a0 < d.N; a0 += kChunk) {
            const int64_t a1 = std::min(d.N, a0 + kChunk);
            if ((a0 / kChunk + r) & 1) {
                ta += run(ka, BA, d, oa, a0, a1, g, dp);
                tb += run(kb, BB, d, ob, a0, a1, g, dp);
            } else {
                tb += run(kb, BB, d, ob, a0, a1, g, dp);
                ta += run(ka, BA, d, oa, a0, a1, g, dp);
            }
        }
        std::printf("round %.9e %.9e\n", ta, tb);
    }
    double diff = 0, scale = 0;
    for (int64_t c = 0; c < 3 * d.N; ++c) {
        diff = std::max(diff, std::fabs(oa[c] - ob[c]));
        scale = std::max(scale, std::fabs(oa[c]));
    }
    std::printf("diff %.3e %.3e\n", diff, scale);
    return 0;
}
"""


def source(rev: str, name: str) -> str:
    if rev == "WORKTREE":
        return (ROOT / "physml" / "csrc" / name).read_text()
    out = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:physml/csrc/{name}"], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"cannot read physml/csrc/{name} at {rev!r}: {out.stderr.strip()}")
    return out.stdout


def write_data(path: Path, pinn_file: str) -> int:
    import numpy as np
    import torch
    from ase.build import bulk

    import physml
    from physml.neighbors import Graph, neighbor_list

    pot = physml.load(pinn_file)
    term, prov = pot.components[0].term, pot.components[0].provider
    a = bulk("Al", "fcc", a=4.04, cubic=True) * (8, 8, 8)
    a.rattle(0.02, seed=1)
    g = Graph.build(pot.batch(a), neighbor_list(pot.batch(a), term.cutoff), 1)
    pr = g.pairs(term.cutoff)
    v, i, n = pr.vectors.detach().numpy(), pr.i.numpy(), len(a)
    gen = torch.Generator().manual_seed(0)
    p0 = prov.p0.detach().expand(n, -1)
    params = (p0 * (1.0 + 0.01 * torch.randn(p0.shape, generator=gen, dtype=p0.dtype))).numpy()
    start = np.searchsorted(i, np.arange(n + 1)).astype(np.int64)
    with open(path, "wb") as f:
        np.array([n, len(i), params.shape[1]], np.int64).tofile(f)
        np.array([term.rc, term.hc], np.float64).tofile(f)
        start.tofile(f)
        np.ascontiguousarray(v.T, dtype=np.float64).tofile(f)
        np.ascontiguousarray(params, dtype=np.float64).tofile(f)
    return n


def build(work: Path, first: dict[str, str], second: dict[str, str], cxx: str, flags: list[str],
          extra: tuple[list[str], list[str]] = ([], [])) -> Path:
    """The driver with `first` in namespace physml_A and `second` in physml_B (each object
    compiled with `flags` plus its own `extra` flags)."""
    exe = work / f"ab_{len(list(work.glob('ab_*')))}"
    objs = []
    for (slot, files), more in zip((("A", first), ("B", second)), extra):
        d = work / slot
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir()
        for name in FILES:
            text = files[name]
            if name.endswith(".h"):  # distinct contents: `#pragma once` would merge identical files
                text += f"\n// slot {slot}\n"
            (d / name).write_text(text)
        obj = work / f"{slot}.o"
        subprocess.run([cxx, *flags, *more, f"-Dphysml=physml_{slot}", "-c", str(d / "pinn_kernels.cpp"), "-o", str(obj)], check=True)
        objs.append(str(obj))
    (work / "driver.cpp").write_text(DRIVER)
    subprocess.run([cxx, *flags, "-I", str(work), str(work / "driver.cpp"), *objs, "-o", str(exe)], check=True)
    return exe


def run(exe: Path, data: Path, rounds: int, n_atoms: int) -> dict:
    out = subprocess.run([str(exe), str(data), str(rounds)], capture_output=True, text=True, check=True).stdout
    pairs = [(float(a), float(b)) for a, b in re.findall(r"^round (\S+) (\S+)$", out, re.M)]
    diff, scale = (float(x) for x in re.search(r"^diff (\S+) (\S+)$", out, re.M).groups())
    ratios = sorted(b / a for a, b in pairs)
    q = lambda f: ratios[min(len(ratios) - 1, int(f * len(ratios)))]  # noqa: E731
    return {
        "median": q(0.5), "q1": q(0.25), "q3": q(0.75),
        "best_a_us": min(a for a, _ in pairs) / n_atoms * 1e6, "best_b_us": min(b for _, b in pairs) / n_atoms * 1e6,
        "max_abs_diff": diff, "max_abs_value": scale,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", help="git revision or WORKTREE (the reference)")
    ap.add_argument("b", help="git revision or WORKTREE (the candidate)")
    ap.add_argument("--rounds", type=int, default=40, help="rounds per run (each: all atoms, both versions)")
    ap.add_argument("--a-cflags", default="", help="extra compiler flags of version A, e.g. --a-cflags=-mavx512f")
    ap.add_argument("--b-cflags", default="", help="extra compiler flags of version B")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.rounds < 4:
        ap.error("--rounds must be at least 4")
    data_dir = Path(os.environ.get("PHYSML_DATA_DIR", ROOT.parent / "shared" / "data"))
    pinn_file = data_dir / "pinn" / "Al_2020.pinn"
    if not pinn_file.is_file():
        raise SystemExit(f"{pinn_file} not found (set PHYSML_DATA_DIR)")
    from physml.ext import kernel_cflags

    cxx = os.environ.get("CXX", "c++")
    flags = kernel_cflags()
    va = {n: source(args.a, n) for n in FILES}
    vb = {n: source(args.b, n) for n in FILES}
    with tempfile.TemporaryDirectory(prefix="physml-ab-") as tmp:
        work = Path(tmp)
        data = work / "cell.bin"
        n = write_data(data, str(pinn_file))
        fa, fb = args.a_cflags.split(), args.b_cflags.split()
        r1 = run(build(work, va, vb, cxx, flags, (fa, fb)), data, args.rounds, n)  # B/A · bias
        r2 = run(build(work, vb, va, cxx, flags, (fb, fa)), data, args.rounds, n)  # A/B · bias
        r0 = run(build(work, va, va, cxx, flags, (fa, fa)), data, args.rounds, n)  # bias (A/A)
    ratio, bias = math.sqrt(r1["median"] / r2["median"]), math.sqrt(r1["median"] * r2["median"])
    label = lambda rev, fl: f"{rev} ({fl})" if fl else rev  # noqa: E731
    print(f"A = {label(args.a, args.a_cflags)}, B = {label(args.b, args.b_cflags)}; {n} atoms, {args.rounds} rounds per run; CPU µs/atom, best round")
    print(f"  run 1 (A, B in place 1, 2): median B/A {r1['median']:.3f} (quartiles {r1['q1']:.3f}–{r1['q3']:.3f}); A {r1['best_a_us']:.2f}, B {r1['best_b_us']:.2f}")
    print(f"  run 2 (B, A in place 1, 2): median A/B {r2['median']:.3f} (quartiles {r2['q1']:.3f}–{r2['q3']:.3f}); B {r2['best_a_us']:.2f}, A {r2['best_b_us']:.2f}")
    print(f"  control (A, A):             median {r0['median']:.3f} (quartiles {r0['q1']:.3f}–{r0['q3']:.3f})")
    print(f"  B/A = {ratio:.3f} (place bias {bias:.3f}); max |B − A| of the outputs {r1['max_abs_diff']:.2e} (values up to {r1['max_abs_value']:.2f})")
    if r1["max_abs_diff"] > 1e-10 * max(1.0, r1["max_abs_value"]):
        print("  WARNING: the two versions give different results (more than round-off)")
    if args.json:
        Path(args.json).write_text(json.dumps({"a": args.a, "b": args.b, "n_atoms": n, "run1": r1, "run2": r2, "control": r0, "ratio": ratio, "bias": bias}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
