"""Train/validation/test splits: seeded random, stratified by group, hold out groups.

All splits are deterministic for a given seed (numpy ``default_rng``) and return sorted
index lists into the dataset.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def random_split(n: int, fractions: Sequence[float], seed: int = 0) -> list[list[int]]:
    """Shuffle 0..n−1 and cut into parts of the given fractions (the last takes the rest)."""
    _check(fractions)
    perm = np.random.default_rng(seed).permutation(n)
    out, start = [], 0
    for k, f in enumerate(fractions):
        stop = n if k == len(fractions) - 1 else start + int(round(f * n))
        out.append(sorted(perm[start:stop].tolist()))
        start = stop
    return out


def stratified_split(groups: Sequence[str], fractions: Sequence[float], seed: int = 0) -> list[list[int]]:
    """Split every group in the same fractions; a group with few frames keeps at least
    one frame in the first (training) part."""
    _check(fractions)
    rng = np.random.default_rng(seed)
    by: dict[str, list[int]] = {}
    for k, g in enumerate(groups):
        by.setdefault(g, []).append(k)
    parts: list[list[int]] = [[] for _ in fractions]
    for g in sorted(by):
        idx = np.array(by[g])
        idx = idx[rng.permutation(len(idx))]
        n = len(idx)
        counts = [int(np.floor(f * n)) for f in fractions]
        counts[0] = max(counts[0], 1)
        # distribute the remainder to the parts in order of their fractional loss
        rem = n - sum(counts)
        order = np.argsort([-(f * n - np.floor(f * n)) for f in fractions])
        k = 0
        while rem > 0:
            counts[order[k % len(order)]] += 1
            rem -= 1
            k += 1
        while sum(counts) > n:  # only when the forced training frame overflowed
            j = int(np.argmax(counts[1:])) + 1
            counts[j] -= 1
        start = 0
        for p, c in enumerate(counts):
            parts[p].extend(idx[start : start + c].tolist())
            start += c
    return [sorted(p) for p in parts]


def holdout_groups(groups: Sequence[str], held_out: Sequence[str]) -> tuple[list[int], list[int]]:
    """(indices of the other groups, indices of the held-out groups)."""
    unknown = set(held_out) - set(groups)
    if unknown:
        raise ValueError(f"held-out group(s) {sorted(unknown)} not in the data (groups: {sorted(set(groups))})")
    hold = set(held_out)
    keep = [k for k, g in enumerate(groups) if g not in hold]
    out = [k for k, g in enumerate(groups) if g in hold]
    return keep, out


def _check(fractions: Sequence[float]) -> None:
    if not fractions or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"split fractions must be non-negative and sum to 1, got {list(fractions)}")
