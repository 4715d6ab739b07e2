"""Real angular features Q_lq(û) with Σ_q Q_lq(û) Q_lq(v̂) = P_l(û·v̂).

They turn the O(n²) Legendre double sums of the PINN descriptors into O(n) sums
(spherical-harmonic addition theorem):

    Σ_j Σ_k P_l(û_j·û_k) a_j b_k = Σ_q (Σ_j Q_lq(û_j) a_j)(Σ_k Q_lq(û_k) b_k).

From P_l(cos γ) = P_l(z₁)P_l(z₂) + 2 Σ_{m≥1} (l−m)!/(l+m)! P_l^m(z₁)P_l^m(z₂) cos m(φ₁−φ₂)
and P_l^m(z) e^{imφ} = (d^m P_l/dz^m)(z) (x + iy)^m for a unit vector (x, y, z):

    Q_l0 = P_l(z),   Q_l,m± = √(2 (l−m)!/(l+m)!) (d^m P_l/dz^m)(z) · {Re, Im} (x + iy)^m.

Everything is a polynomial of the unit-vector components (smooth, exact derivatives).
We write these few lines instead of depending on a spherical-harmonics package because
only this normalisation-free identity is needed, for l ≤ ~10.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from numpy.polynomial import legendre as L
from numpy.polynomial import polynomial as P


def _derivative_polys(l: int) -> list[np.ndarray]:
    """Power-series coefficients of d^m P_l / dz^m for m = 0..l."""
    c = L.leg2poly([0] * l + [1])
    out = [c]
    for _ in range(l):
        c = P.polyder(c)
        out.append(c)
    return out


class AngularFeatures(torch.nn.Module):
    """Q_lq(û) for a list of orders l; output (E, n_features) and the l of each column."""

    def __init__(self, orders: Sequence[int]):
        super().__init__()
        self.orders = [int(l) for l in orders]
        self.lmax = max(self.orders) if self.orders else 0
        cols, lcol = [], []
        for l in self.orders:
            polys = _derivative_polys(l)
            for m in range(l + 1):
                norm = 1.0 if m == 0 else math.sqrt(2.0 * math.factorial(l - m) / math.factorial(l + m))
                coef = np.zeros(self.lmax + 1)
                coef[: len(polys[m])] = polys[m] * norm
                kinds = ["c"] if m == 0 else ["c", "s"]
                for kind in kinds:
                    cols.append((coef, m, kind))
                    lcol.append(l)
        self.n_features = len(cols)
        self.register_buffer("coef", torch.as_tensor(np.stack([c for c, _, _ in cols]) if cols else np.zeros((0, 1))), persistent=False)
        self.m_of = [m for _, m, _ in cols]
        self.kind_of = [k for _, _, k in cols]
        self.l_of_column = lcol

    def forward(self, unit: torch.Tensor) -> torch.Tensor:
        x, y, z = unit[:, 0], unit[:, 1], unit[:, 2]
        zp = [torch.ones_like(z)]
        for _ in range(self.lmax):
            zp.append(zp[-1] * z)
        Z = torch.stack(zp, dim=1)  # (E, lmax+1)
        poly = Z @ self.coef.to(Z.dtype).T  # (E, n_features): d^m P_l/dz^m (z) · norm
        re = [torch.ones_like(x)]
        im = [torch.zeros_like(x)]
        for _ in range(self.lmax):
            r, i = re[-1], im[-1]
            re.append(r * x - i * y)
            im.append(r * y + i * x)
        ang = torch.stack([re[m] if k == "c" else im[m] for m, k in zip(self.m_of, self.kind_of)], dim=1)
        return poly * ang
