"""Descriptors of the exported model (TorchScript), same definitions and column order as
:mod:`physml.ml.descriptors`.

* :class:`ScriptedGaussianLegendre` — PINN Gaussian–Legendre descriptors (Purja Pun et al.,
  Nat. Commun. 10, 2339 (2019)),
  g_i^{(l,m)} = g_ref + Σ_j Σ_k P_l(cos θ_jik) f_m(r_ij) f_m(r_ik), by the addition theorem
  g = Σ_q A_q A_q with A_q = Σ_j Q_lq(û_ij) f_m(r_ij) (per neighbour-species block);
  the angular features Q_lq are the coefficient tables of
  :class:`physml.ml.harmonics.AngularFeatures`.
* :class:`ScriptedBehlerParrinello` — radial G2 and angular G4 symmetry functions (Behler &
  Parrinello, PRL 98, 146401 (2007)) with the cosine cutoff.
"""

from typing import List

import torch
from torch import Tensor, nn

from physml.empirical.cutoff import cosine_cutoff
from physml.export.scripted.geometry import PairList, csr, entry_pairs, padded, scatter_sum, smooth_cutoff


class ScriptedAngular(nn.Module):
    """Q_lq(û): polynomial in z times Re/Im (x + iy)^m (see physml.ml.harmonics)."""

    def __init__(self, angular):
        super().__init__()
        self.lmax = int(angular.lmax)
        self.register_buffer("coef", angular.coef.detach().to(torch.float64).clone())
        # column c uses Re (x+iy)^m (index m) or Im (index lmax + 1 + m) of the stacked powers
        cols = [m if k == "c" else self.lmax + 1 + m for m, k in zip(angular.m_of, angular.kind_of)]
        self.register_buffer("columns", torch.tensor(cols, dtype=torch.long))

    def forward(self, unit: Tensor) -> Tensor:
        x = unit[:, 0]
        y = unit[:, 1]
        z = unit[:, 2]
        zp: List[Tensor] = [torch.ones_like(z)]
        re: List[Tensor] = [torch.ones_like(x)]
        im: List[Tensor] = [torch.zeros_like(x)]
        for _ in range(self.lmax):
            zp.append(zp[-1] * z)
            a = re[-1]
            b = im[-1]
            re.append(a * x - b * y)
            im.append(a * y + b * x)
        poly = torch.stack(zp, dim=1) @ self.coef.t()
        ang = torch.stack(re + im, dim=1).index_select(1, self.columns)
        return poly * ang


class ScriptedGaussianLegendre(nn.Module):
    def __init__(self, desc, n_species: int):
        super().__init__()
        self.n_species = int(n_species)
        self.cutoff = float(desc.cutoff)
        self.smoothing = float(desc.smoothing)
        self.width = float(desc.width)
        self.g_ref = float(desc.g_ref)
        self.asinh = desc.transform == "asinh"
        self.n_out = int(desc.n_features(n_species))
        self.n_centres = len(desc.centres)
        self.angular = ScriptedAngular(desc.angular)
        self.register_buffer("r0", torch.tensor(desc.centres, dtype=torch.float64))
        self.register_buffer("l_onehot_t", desc.l_onehot.detach().to(torch.float64).t().contiguous())

    def forward(self, pairs: PairList, species: Tensor) -> Tensor:
        S = self.n_species
        N = species.shape[0]
        p = pairs.within(self.cutoff)
        if p.size() == 0:
            g = torch.zeros([N, self.n_out], dtype=p.distances.dtype, device=p.distances.device)
        else:
            counts, _, slot = csr(p.centre, N)
            K = int(counts.max())
            r = p.distances
            q = self.angular(p.vectors / r[:, None])
            f = torch.exp(-((r[:, None] - self.r0) ** 2) / (self.width * self.width)) / self.r0
            f = f * smooth_cutoff(r, self.cutoff, self.smoothing)[:, None]
            if S > 1:
                onehot = torch.nn.functional.one_hot(p.species_j, S).to(f.dtype)
                f = (onehot[:, :, None] * f[:, None, :]).reshape(f.shape[0], S * self.n_centres)
            Qp = padded(q, p.centre, slot, N, K)
            Fp = padded(f, p.centre, slot, N, K)
            A = torch.bmm(Qp.transpose(1, 2), Fp).reshape(N, q.shape[1], S, self.n_centres)
            blocks: List[Tensor] = []
            for a in range(S):
                for c in range(a, S):
                    g_ac = torch.matmul(self.l_onehot_t, A[:, :, a] * A[:, :, c])
                    blocks.append(g_ac if a == c else 2.0 * g_ac)
            g = torch.stack(blocks, dim=1).reshape(N, -1)
        g = g + self.g_ref
        return torch.asinh(g) if self.asinh else g


class ScriptedBehlerParrinello(nn.Module):
    def __init__(self, desc, n_species: int):
        super().__init__()
        from physml.ml.descriptors import pair_blocks

        self.n_species = int(n_species)
        self.cutoff = float(desc.cutoff)
        self.n_radial = int(desc.n_radial())
        self.n_angular = int(desc.n_angular())
        self.register_buffer("eta", torch.tensor(desc.radial_eta, dtype=torch.float64))
        self.register_buffer("shift", torch.tensor(desc.radial_shift, dtype=torch.float64))
        self.register_buffer("angular_eta", torch.tensor(desc.angular_eta, dtype=torch.float64))
        self.register_buffer("zeta", torch.tensor(desc.zeta, dtype=torch.float64))
        self.register_buffer("lambdas", torch.tensor(desc.lambdas, dtype=torch.float64))
        self.register_buffer("blocks", pair_blocks(n_species))

    def forward(self, pairs: PairList, species: Tensor) -> Tensor:
        S = self.n_species
        N = species.shape[0]
        p = pairs.within(self.cutoff)
        r = p.distances
        E = r.shape[0]
        fc = cosine_cutoff(r, self.cutoff)
        g2 = torch.exp(-self.eta[None, :, None] * (r[:, None, None] - self.shift[None, None, :]) ** 2) * fc[:, None, None]
        rad = scatter_sum(N * S, p.centre * S + p.species_j, g2.reshape(E, self.n_radial)).reshape(N, S * self.n_radial)
        nb = S * (S + 1) // 2
        a, b = entry_pairs(p.centre, N, False)
        cos = (p.vectors[a] * p.vectors[b]).sum(-1) / (r[a] * r[b])
        radial = torch.exp(-(r[a] ** 2 + r[b] ** 2)[:, None] * self.angular_eta[None, :])
        base = torch.clamp(1.0 + self.lambdas[None, :] * cos[:, None], min=0.0)
        powz = base[:, None, :] ** self.zeta[None, :, None]
        val = (2.0 ** (1.0 - self.zeta))[None, :, None] * powz
        val = radial[:, :, None, None] * val[:, None, :, :] * (fc[a] * fc[b])[:, None, None, None]
        blk = self.blocks[p.species_j[a], p.species_j[b]]
        ang = scatter_sum(N * nb, p.centre[a] * nb + blk, val.reshape(a.shape[0], self.n_angular))
        return torch.cat([rad, ang.reshape(N, nb * self.n_angular)], dim=1)
