"""The PINN bond-order term of the exported model (TorchScript).

Equations of :class:`physml.empirical.bop.PinnBOP` (Purja Pun et al., Nat. Commun. 10,
2339 (2019); Phys. Rev. Mater. 4, 113807 (2020)), parameters p_i of the centre atom:

    E_i = ½ Σ_j [e^{A − α r_ij} − S_ij b_ij e^{B − β r_ij}] f_c(r_ij) − σ (Σ_j S_ij b_ij f_c(r_ij))^{1/2}
    S_ij = Π_{k≠j} [1 − f_c(x_ijk) e^{−λ x_ijk}],   x_ijk = r_ik + r_jk − r_ij
    b_ij = (1 + z_ij)^{−1/2},   z_ij = Σ_{k≠j} a S_ik (cos θ_jik − h)² f_c(r_ik)

with the same algorithms as physml: screening candidates k of bond i–j from one batched
product of 4-vectors per centre (x_ijk < r_c ⟺ v_j·v_k − P_j Q_k > r_c²/2), the screening
product as Σ log|·| with its sign, and the bond order and energies from per-atom bond
moments by physml's own :func:`physml.empirical.bop.bond_energies`. All vectors are
pair vectors of the centre's own list (r_jk = r_ik − r_ij), so E_i needs no other list.
Derivatives come from autograd (the exported model is differentiated by its caller).
"""

from typing import Dict, List, Tuple

import torch
from torch import Tensor, nn

from physml.empirical.bop import bond_energies
from physml.export.scripted.base import ScriptedTerm
from physml.export.scripted.geometry import PairList, csr, padded, scatter_sum, smooth_cutoff


def screening_triplets(centre: Tensor, vectors: Tensor, r: Tensor, bonds: Tensor, n: int, rc: float, max_elements: int) -> Tuple[Tensor, Tensor, Tensor]:
    """(bond number, list entry of j, list entry of k) of every triplet with x_ijk < r_c,
    k ≠ j (physml.empirical.bop._screening_triplets, the same test and tolerance)."""
    empty = torch.zeros([0], dtype=torch.long, device=centre.device)
    if bonds.numel() == 0:
        return empty, empty, empty
    counts, start, slot = csr(centre, n)
    K = int(counts.max())
    ib = centre[bonds]
    counts_b, start_b, slot_b = csr(ib, n)
    Kb = int(counts_b.max())
    X = padded(torch.cat([vectors[bonds], (r[bonds] + rc)[:, None]], dim=1), ib, slot_b, n, Kb)
    Yp = torch.zeros([n, K, 4], dtype=r.dtype, device=r.device)
    Yp[:, :, 3] = -1.0e6 * rc  # padding: never passes
    Yp = Yp.index_put((centre, slot), torch.cat([vectors, (rc - r)[:, None]], dim=1))
    Y = Yp.transpose(1, 2)
    thresh = 0.5 * rc * rc * (1.0 - 1e-9)
    step = max(1, max_elements // max(1, Kb * K))
    out_b: List[Tensor] = []
    out_k: List[Tensor] = []
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        hit = torch.nonzero(torch.bmm(X[lo:hi], Y[lo:hi]) > thresh)
        row = hit[:, 0] + lo
        out_b.append(start_b[row] + hit[:, 1])
        out_k.append(start[row] + hit[:, 2])
    bond_of = torch.cat(out_b)
    k_entry = torch.cat(out_k)
    j_entry = bonds[bond_of]
    keep = torch.nonzero(k_entry != j_entry).squeeze(1)
    return bond_of[keep], j_entry[keep], k_entry[keep]


class ScriptedPinnBOP(ScriptedTerm):
    def __init__(self, term, max_elements: int = 2_000_000):
        super().__init__()
        self.rc = float(term.rc)
        self.hc = float(term.hc)
        self.cutoff = float(term.cutoff)
        self.n_species = int(term.n_species)
        self.max_elements = int(max_elements)

    def screening(self, p: PairList, bonds: Tensor, lam: Tensor, n: int) -> Tensor:
        """S_ij of every bond (positions ``bonds`` in ``p``)."""
        S = self.n_species
        r = p.distances
        bond_of, j_entry, k_entry = screening_triplets(p.centre, p.vectors.detach(), r.detach(), bonds, n, self.rc, self.max_elements)
        ci = p.centre[j_entry]
        if S == 1:
            lam_idx = ci
        else:
            lam_idx = (ci * S + p.species_j[j_entry]) * S + p.species_j[k_entry]
        d = p.vectors[k_entry] - p.vectors[j_entry]
        rjk = torch.sqrt((d * d).sum(1))
        x = r[k_entry] + rjk - r[j_entry]
        s = 1.0 - smooth_cutoff(x, self.rc, self.hc) * torch.exp(-lam.reshape(-1)[lam_idx] * x)
        nb = bonds.shape[0]
        logs = torch.log(torch.clamp(s.abs(), min=1e-300))
        neg = scatter_sum(nb, bond_of, (s.detach() < 0).to(r.dtype))
        sign = 1.0 - 2.0 * torch.remainder(neg, 2.0)
        return sign * torch.exp(scatter_sum(nb, bond_of, logs))

    def forward(self, pairs: PairList, species: Tensor, params: Dict[str, Tensor]) -> Tensor:
        N = species.shape[0]
        p = pairs.within(self.cutoff)
        bonds = torch.nonzero(p.distances.detach() < self.rc).squeeze(1)
        i = p.centre[bonds]
        r = p.distances[bonds]
        fc = smooth_cutoff(r, self.rc, self.hc)
        Sij = self.screening(p, bonds, params["lambda"], N)
        pair, promo = bond_energies(p.vectors[bonds], r, fc, Sij, i, p.species_j[bonds], N, params)
        return promo.index_add(0, i, pair)
