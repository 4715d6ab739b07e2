"""Local-environment descriptors G_i (rotation, translation and permutation invariant).

:class:`GaussianLegendre` — the PINN local structural parameters (Purja Pun et al.,
Nat. Commun. 10, 2339 (2019); Phys. Rev. Mater. 4, 113807 (2020)):

    g_i^{(l,m)} = g_ref + Σ_j Σ_k P_l(cos θ_jik) f_m(r_ij) f_m(r_ik)     (k = j included)
    f_m(r) = exp(−(r − r0_m)²/σ²) / r0_m · F_c(r; R_c, h_c),   F_c(r) = z⁴/(1+z⁴), z = (r−R_c)/h_c
    G_i = asinh(g_i) (transform 2) or g_i (transform 0)

computed in O(neighbours) with :class:`~physml.ml.harmonics.AngularFeatures`. For several
species the double sum is split into blocks by the unordered species pair {t_j, t_k}
(block order 00, 01, …, 0n, 11, 12, …); an absent species gives an exactly zero block
(before the transform). Column order: block · N_L·N_σ + (index of l) · N_σ + m.

:class:`BehlerParrinello` — radial G2 and angular G4 symmetry functions (Behler &
Parrinello, PRL 98, 146401 (2007); Behler, J. Chem. Phys. 134, 074106 (2011)) with a
cosine cutoff, species-resolved (radial per neighbour species, angular per unordered
neighbour pair).

Both are chunked over atoms so that memory stays bounded for large cells.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn
from torch.autograd.function import once_differentiable

from physml import ext
from physml.empirical.cutoff import cosine_cutoff, pinn_cutoff
from physml.ml.harmonics import AngularFeatures


def pair_blocks(n_species: int) -> torch.Tensor:
    """(S, S) map of an unordered species pair to its block index (upper triangle, row-wise)."""
    b = torch.empty(n_species, n_species, dtype=torch.long)
    k = 0
    for a in range(n_species):
        for c in range(a, n_species):
            b[a, c] = b[c, a] = k
            k += 1
    return b


class _GaussianLegendreKernel(torch.autograd.Function):
    """Raw descriptors by the C++ kernel ``physml::gl_descriptor`` (one pass per centre
    atom), with its vector–Jacobian product ``physml::gl_descriptor_backward`` as backward.
    First derivatives only: the torch path serves double backward."""

    @staticmethod
    def forward(ctx, vectors, i, j, species, n_atoms: int, n_species: int, hyper: tuple):  # type: ignore[override]
        g, A = torch.ops.physml.gl_descriptor(vectors, i, j, species, n_atoms, n_species, *hyper)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(A, vectors, i, j, species)
        ctx.n_species, ctx.hyper = n_species, hyper
        return g

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_g):  # type: ignore[override]
        A, vectors, i, j, species = ctx.saved_tensors
        gv = torch.ops.physml.gl_descriptor_backward(grad_g, A, vectors, i, j, species, ctx.n_species, *ctx.hyper)
        return gv, None, None, None, None, None, None


class Descriptor(nn.Module):
    kind = "abstract"
    cutoff: float

    def n_features(self, n_species: int) -> int:  # pragma: no cover
        raise NotImplementedError

    def config(self) -> dict:  # pragma: no cover
        raise NotImplementedError


class GaussianLegendre(Descriptor):
    """PINN Gaussian–Legendre descriptors (see module docstring).

    Args:
        orders: Legendre orders l (ascending).
        centres: Gaussian centres r0_m (Å).
        width: Gaussian width σ (Å).
        cutoff: descriptor cutoff R_c (Å); PINN uses 1.5 × the BOP cutoff.
        smoothing: cutoff width h_c (Å).
        g_ref: constant added to every raw descriptor before the transform.
        transform: ``"asinh"`` or ``"none"``.
        chunk_pairs: pairs processed at once (memory bound).
    """

    kind = "gaussian_legendre"
    #: evaluated by the C++ kernel on CPU float64 (see :func:`physml.ext.use_kernels`)
    kernel_backed = True

    def __init__(
        self,
        orders: Sequence[int],
        centres: Sequence[float],
        width: float,
        cutoff: float,
        smoothing: float,
        g_ref: float = 0.0,
        transform: str = "asinh",
        chunk_pairs: int = 400_000,
    ):
        super().__init__()
        if transform not in ("asinh", "none"):
            raise ValueError(f"transform must be 'asinh' or 'none', got {transform!r}")
        self.orders = [int(l) for l in orders]
        self.centres = [float(c) for c in centres]
        self.width = float(width)
        self.cutoff = float(cutoff)
        self.smoothing = float(smoothing)
        self.g_ref = float(g_ref)
        self.transform = transform
        self.chunk_pairs = int(chunk_pairs)
        self.angular = AngularFeatures(self.orders)
        self.register_buffer("r0", torch.tensor(self.centres, dtype=torch.float64), persistent=False)
        lcol = torch.tensor(self.angular.l_of_column)
        # (n_features_angular, N_L) one-hot of which order each angular column belongs to
        onehot = torch.stack([(lcol == l).to(torch.float64) for l in self.orders], dim=1)
        self.register_buffer("l_onehot", onehot, persistent=False)

    def n_per_block(self) -> int:
        return len(self.orders) * len(self.centres)

    def n_features(self, n_species: int) -> int:
        return n_species * (n_species + 1) // 2 * self.n_per_block()

    def radial(self, r: torch.Tensor) -> torch.Tensor:
        """f_m(r) for every centre: (E, N_σ)."""
        r0 = self.r0.to(r.dtype)
        g = torch.exp(-((r[:, None] - r0) ** 2) / self.width**2) / r0
        return g * pinn_cutoff(r, self.cutoff, self.smoothing)[:, None]

    def raw(self, graph) -> torch.Tensor:
        """g_i before the transform: (N, n_features).

        A_i[q, t, m] = Σ_{j of species t} Q_q(û_ij) f_m(r_ij), then
        g[{a,c}, l, m] = (2 − δ_ac) Σ_{q∈l} A[q, a, m] A[q, c, m]. On CPU in float64 (no
        double backward) this runs in the C++ kernel (:mod:`physml.ext`); otherwise as a
        batched matrix product over each atom's zero-padded neighbours (BLAS both ways).
        """
        S = graph.n_species
        N = graph.n_atoms
        pr = graph.pairs(self.cutoff)
        nq, ns = self.angular.n_features, len(self.centres)
        if pr.n_pairs == 0:
            return torch.zeros(N, self.n_features(S), dtype=graph.dtype, device=graph.device)
        if ext.use_kernels(pr.vectors):
            hyper = (self.orders, self.centres, self.width, self.cutoff, self.smoothing)
            return _GaussianLegendreKernel.apply(pr.vectors, pr.i, pr.j, graph.species, N, S, hyper)
        with torch.no_grad():
            counts = pr.counts(N)
            start = torch.cumsum(counts, 0) - counts
            slot = torch.arange(pr.n_pairs, device=pr.i.device) - start[pr.i]
            K = int(counts.max())
            # rows after the last centre atom have no pairs (raw g = 0): in a chunked
            # evaluation these are the halo atoms, often many more than the centres
            R = int(pr.i[-1]) + 1
        r = pr.distances
        u = pr.vectors / r[:, None]
        q = self.angular(u)  # (E, nq)
        f = self.radial(r)  # (E, ns)
        if S > 1:
            onehot = torch.nn.functional.one_hot(graph.species[pr.j], S).to(f.dtype)
            f = (onehot[:, :, None] * f[:, None, :]).reshape(-1, S * ns)
        Qp = torch.zeros(R, K, nq, dtype=q.dtype, device=q.device).index_put((pr.i, slot), q)
        Fp = torch.zeros(R, K, S * ns, dtype=f.dtype, device=f.device).index_put((pr.i, slot), f)
        A = torch.bmm(Qp.transpose(1, 2), Fp).reshape(R, nq, S, ns)
        onehot_l = self.l_onehot.to(A.dtype)
        blocks = []
        for a in range(S):
            for c in range(a, S):
                g = torch.einsum("nqs,ql->nls", A[:, :, a] * A[:, :, c], onehot_l)
                blocks.append(g if a == c else 2.0 * g)
        out = torch.stack(blocks, dim=1).reshape(R, -1)
        if R < N:
            out = torch.cat([out, out.new_zeros((N - R, out.shape[1]))])
        return out

    def forward(self, graph) -> torch.Tensor:
        g = self.raw(graph) + self.g_ref
        return torch.asinh(g) if self.transform == "asinh" else g

    def config(self) -> dict:
        return {
            "kind": self.kind, "orders": self.orders, "centres": self.centres, "width": self.width,
            "cutoff": self.cutoff, "smoothing": self.smoothing, "g_ref": self.g_ref, "transform": self.transform,
        }


class BehlerParrinello(Descriptor):
    """Species-resolved Behler–Parrinello symmetry functions.

    G2_i(η, r_s; t) = Σ_{j∈t} exp(−η (r_ij − r_s)²) f_c(r_ij)
    G4_i(η, ζ, λ; {t,u}) = 2^{1−ζ} Σ_{j∈t, k∈u, j<k} (1 + λ cos θ_jik)^ζ exp(−η (r_ij² + r_ik²)) f_c(r_ij) f_c(r_ik)

    with f_c(r) = ½[1 + cos(π r/R_c)].
    """

    kind = "behler_parrinello"

    def __init__(
        self,
        cutoff: float,
        radial_eta: Sequence[float] = (0.5, 1.0, 2.0, 4.0),
        radial_shift: Sequence[float] = (0.0,),
        angular_eta: Sequence[float] = (0.005, 0.05),
        zeta: Sequence[float] = (1.0, 4.0),
        lambdas: Sequence[float] = (1.0, -1.0),
        chunk_triplets: int = 2_000_000,
    ):
        super().__init__()
        self.cutoff = float(cutoff)
        self.radial_eta = [float(x) for x in radial_eta]
        self.radial_shift = [float(x) for x in radial_shift]
        self.angular_eta = [float(x) for x in angular_eta]
        self.zeta = [float(x) for x in zeta]
        self.lambdas = [float(x) for x in lambdas]
        self.chunk_triplets = int(chunk_triplets)

    def n_radial(self) -> int:
        return len(self.radial_eta) * len(self.radial_shift)

    def n_angular(self) -> int:
        return len(self.angular_eta) * len(self.zeta) * len(self.lambdas)

    def n_features(self, n_species: int) -> int:
        return n_species * self.n_radial() + n_species * (n_species + 1) // 2 * self.n_angular()

    def forward(self, graph) -> torch.Tensor:
        S, N = graph.n_species, graph.n_atoms
        pr = graph.pairs(self.cutoff)
        r = pr.distances
        fc = cosine_cutoff(r, self.cutoff)
        eta = torch.tensor(self.radial_eta, dtype=r.dtype, device=r.device)
        rs = torch.tensor(self.radial_shift, dtype=r.dtype, device=r.device)
        g2 = torch.exp(-eta[None, :, None] * (r[:, None, None] - rs[None, None, :]) ** 2) * fc[:, None, None]
        tj = graph.species[pr.j]
        rad = torch.zeros(N * S, self.n_radial(), dtype=r.dtype, device=r.device)
        rad = rad.index_add(0, pr.i * S + tj, g2.reshape(len(r), -1)).reshape(N, S * self.n_radial())
        # angular: all ordered pairs (j, k) of neighbours of i with j < k (by list position)
        blocks = pair_blocks(S).to(r.device)
        nb = S * (S + 1) // 2
        ang = torch.zeros(N * nb, self.n_angular(), dtype=r.dtype, device=r.device)
        tj_e, tk_e = _triplets(pr.i, N)
        ae = torch.tensor(self.angular_eta, dtype=r.dtype, device=r.device)
        ze = torch.tensor(self.zeta, dtype=r.dtype, device=r.device)
        la = torch.tensor(self.lambdas, dtype=r.dtype, device=r.device)
        for start in range(0, len(tj_e), self.chunk_triplets):
            a = tj_e[start : start + self.chunk_triplets]
            b = tk_e[start : start + self.chunk_triplets]
            cos = (pr.vectors[a] * pr.vectors[b]).sum(-1) / (r[a] * r[b])
            radial = torch.exp(-(r[a] ** 2 + r[b] ** 2)[:, None] * ae[None, :])  # (t, nη)
            base = (1.0 + la[None, :] * cos[:, None]).clamp(min=0.0)  # (t, nλ)
            powz = base[:, None, :] ** ze[None, :, None]  # (t, nζ, nλ)
            val = (2.0 ** (1.0 - ze))[None, :, None] * powz
            val = radial[:, :, None, None] * val[:, None, :, :] * (fc[a] * fc[b])[:, None, None, None]
            blk = blocks[tj[a], tj[b]]
            ang = ang.index_add(0, pr.i[a] * nb + blk, val.reshape(len(a), -1))
        return torch.cat([rad, ang.reshape(N, -1)], dim=1)

    def config(self) -> dict:
        return {
            "kind": self.kind, "cutoff": self.cutoff, "radial_eta": self.radial_eta, "radial_shift": self.radial_shift,
            "angular_eta": self.angular_eta, "zeta": self.zeta, "lambdas": self.lambdas,
        }


def _triplets(i: torch.Tensor, n_atoms: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All pairs (a, b), a < b, of list entries that share the centre atom (i sorted)."""
    with torch.no_grad():
        counts = torch.bincount(i, minlength=n_atoms)
        starts = torch.cumsum(counts, 0) - counts
        n_per = counts * (counts - 1) // 2
        total = int(n_per.sum())
        if total == 0:
            e = torch.zeros(0, dtype=torch.long, device=i.device)
            return e, e
        atom = torch.repeat_interleave(torch.arange(n_atoms, device=i.device), n_per)
        offs = torch.arange(total, device=i.device) - torch.repeat_interleave(torch.cumsum(n_per, 0) - n_per, n_per)
        c = counts[atom].to(torch.float64)
        # invert offs = a*c - a*(a+1)/2 + (b - a - 1) for 0 <= a < b < c
        a = torch.floor(((2 * c - 1) - torch.sqrt((2 * c - 1) ** 2 - 8 * offs.to(torch.float64))) / 2).long()
        base = a * counts[atom] - a * (a + 1) // 2
        fix = base > offs
        a = torch.where(fix, a - 1, a)
        base = a * counts[atom] - a * (a + 1) // 2
        nxt = (a + 1) * counts[atom] - (a + 1) * (a + 2) // 2
        fix2 = nxt <= offs
        a = torch.where(fix2, a + 1, a)
        base = a * counts[atom] - a * (a + 1) // 2
        b = offs - base + a + 1
        s = starts[atom]
        return s + a, s + b


DESCRIPTORS = {"gaussian_legendre": GaussianLegendre, "behler_parrinello": BehlerParrinello}


def descriptor_from_config(config: dict) -> Descriptor:
    cfg = dict(config)
    kind = cfg.pop("kind")
    if kind not in DESCRIPTORS:
        raise ValueError(f"unknown descriptor kind {kind!r}; known: {sorted(DESCRIPTORS)}")
    return DESCRIPTORS[kind](**cfg)
