"""Smooth cutoff functions f_c(r) used by the analytic terms and descriptors.

* :func:`pinn_cutoff` — f_c(r) = z⁴/(1+z⁴), z = (r − r_c)/h for r ≤ r_c, else 0
  (Purja Pun et al., Nat. Commun. 10, 2339 (2019)); f_c and its first three derivatives
  vanish at r_c.
* :func:`mishin_cutoff` — ψ(x) = x⁴/(1+x⁴), x = (r − r_c)/h (Mishin et al., PRB 59, 3393
  (1999)); the same function as the PINN one, kept under its historical name.
* :func:`cosine_cutoff` — ½[1 + cos(π r/r_c)] (Behler–Parrinello symmetry functions).
"""

from __future__ import annotations

import math

import torch


def pinn_cutoff(r: torch.Tensor, rc: float | torch.Tensor, h: float | torch.Tensor) -> torch.Tensor:
    z = (r - rc) / h
    z4 = z**4
    inside = r < rc
    return torch.where(inside, z4 / (1.0 + z4), torch.zeros_like(r))


mishin_cutoff = pinn_cutoff


def cosine_cutoff(r: torch.Tensor, rc: float) -> torch.Tensor:
    return torch.where(r < rc, 0.5 * (1.0 + torch.cos(math.pi * r / rc)), torch.zeros_like(r))
