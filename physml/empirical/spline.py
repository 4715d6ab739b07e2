"""Cubic interpolation of tabulated functions, exactly as LAMMPS ``pair_style eam`` does it.

LAMMPS (``PairEAM::interpolate``) turns n equally spaced values f_1..f_n (spacing δ) into
piecewise cubics f(p) = ((c3 p + c4) p + c5) p + c6 on each interval, p ∈ [0, 1], with
slopes c5 estimated by the 5-point formula (c5_m = [f_{m−2} − f_{m+2} + 8(f_{m+1} − f_{m−1})]/12,
one-sided at the ends) and c4, c3 from continuity of value and slope (cubic Hermite).
A lookup at x uses p = x/δ + 1, m = clamp(int p, 1, n−1), p −= m, p = min(p, 1).

physml evaluates the same cubics, so imported setfl potentials give LAMMPS' numbers; the
derivative of the cubic (what autograd gives) equals LAMMPS' derivative coefficients
c0..c2. Beyond the last grid point LAMMPS clamps p at 1 but keeps using the slope there
for forces; :func:`evaluate` reproduces that with a straight-through clamp.
"""

from __future__ import annotations

import numpy as np
import torch


def lammps_spline_coefficients(values: np.ndarray) -> np.ndarray:
    """Coefficients (n, 4) = (c3, c4, c5, c6) per grid point (row m ↔ interval [m, m+1]).

    Zero-based port of the LAMMPS recipe (the arithmetic order is kept so the numbers are
    bit-compatible with LAMMPS' own tables).
    """
    f = np.asarray(values, dtype=np.float64)
    n = f.shape[0]
    if n < 5:
        raise ValueError(f"a tabulated function needs at least 5 points, got {n}")
    c6 = f.copy()
    c5 = np.empty(n)
    c5[0] = c6[1] - c6[0]
    c5[1] = 0.5 * (c6[2] - c6[0])
    c5[n - 2] = 0.5 * (c6[n - 1] - c6[n - 3])
    c5[n - 1] = c6[n - 1] - c6[n - 2]
    c5[2 : n - 2] = ((c6[0 : n - 4] - c6[4:n]) + 8.0 * (c6[3 : n - 1] - c6[1 : n - 3])) / 12.0
    c4 = np.zeros(n)
    c3 = np.zeros(n)
    c4[: n - 1] = 3.0 * (c6[1:] - c6[:-1]) - 2.0 * c5[:-1] - c5[1:]
    c3[: n - 1] = c5[:-1] + c5[1:] - 2.0 * (c6[1:] - c6[:-1])
    return np.stack([c3, c4, c5, c6], axis=1)


def locate(x: torch.Tensor, inv_delta: float, n: int, lower_one: bool = False):
    """LAMMPS lookup: (m, p, p_clamped) with m the zero-based interval index.

    ``lower_one`` mirrors the embedding lookup's ``MAX(1, …)`` (negative densities are
    extrapolated from the first interval).
    """
    p = x * inv_delta + 1.0
    with torch.no_grad():
        m1 = torch.clamp(p.floor(), max=n - 1)  # one-based, as LAMMPS' static_cast<int>
        if lower_one:
            m1 = torch.clamp(m1, min=1)
        else:
            m1 = torch.clamp(m1, min=1)  # x >= 0 for distances; guards x slightly negative
    p = p - m1
    m = (m1 - 1).long()
    return m, p


def evaluate(table: torch.Tensor, rows: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Value of the cubic of ``rows`` of a (K, 4) coefficient table at ``p``.

    p is clamped at 1 as in LAMMPS with a straight-through gradient, so the derivative
    beyond the last grid point is the cubic's slope at p = 1 (LAMMPS' force convention).
    """
    pc = p - (p - torch.clamp(p, max=1.0)).detach()
    c = table[rows]
    return ((c[:, 0] * pc + c[:, 1]) * pc + c[:, 2]) * pc + c[:, 3]


def evaluate_with_slope(table: torch.Tensor, rows: torch.Tensor, p: torch.Tensor, inv_delta: float):
    """Value and d/dx (x the tabulated variable) without autograd, LAMMPS' formulas."""
    pc = torch.clamp(p, max=1.0)
    c = table[rows]
    c3, c4, c5, c6 = c.unbind(1)
    val = ((c3 * pc + c4) * pc + c5) * pc + c6
    slope = ((3.0 * c3 * pc + 2.0 * c4) * pc + c5) * inv_delta
    return val, slope
