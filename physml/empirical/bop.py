"""The PINN bond-order potential (BOP) term.

Purja Pun, Batra, Ramprasad, Mishin, Nat. Commun. 10, 2339 (2019); Purja Pun, Yamakov,
Hickman, Glaessgen, Mishin, Phys. Rev. Mater. 4, 113807 (2020). With the parameters p_i of
the central atom (A, α, B, β per neighbour species; h, a, λ per neighbour-species pair; σ):

    E_i = ½ Σ_j [e^{A − α r_ij} − S_ij b_ij e^{B − β r_ij}] f_c(r_ij) − σ (Σ_j S_ij b_ij f_c(r_ij))^{1/2}
    S_ij = Π_{k≠i,j} [1 − f_c(x_ijk) e^{−λ x_ijk}],   x_ijk = r_ik + r_jk − r_ij
    b_ij = (1 + z_ij)^{−1/2},   z_ij = Σ_{k≠i,j} a S_ik (cos θ_jik − h)² f_c(r_ik)
    f_c(r) = z⁴/(1 + z⁴), z = (r − r_c)/h_c for r < r_c, else 0.

Implementation notes (same numbers as the authors' code, different cost):

* z_ij is evaluated from per-atom moments of the bonds k (w_k = S_ik f_c(r_ik)):
  Σ_k w_k (û_ij·û_ik − h)² = û_ijᵀ M_i û_ij − 2h û_ij·v_i + h² m_i − (k = j term),
  M_i = Σ_k w_k û_k û_kᵀ, v_i = Σ_k w_k û_k, m_i = Σ_k w_k (per species of k) — linear
  in the number of neighbours instead of quadratic.
* Screening needs triplets, but only k with r_ik < r_ij + r_c/2 can give x_ijk < r_c
  (triangle inequality); candidates are generated from each atom's neighbours sorted by
  distance, and the exact test x_ijk < r_c is applied after.
* If 1 + z_ij ≤ 0 (possible when a network makes a < 0), b_ij = (|1 + z_ij| + 10⁻²⁰)^{−1/2}
  as in the authors' code.
"""

from __future__ import annotations

from typing import Sequence

import torch

from physml.empirical.base import Term
from physml.empirical.cutoff import pinn_cutoff
from physml.parameters import ParameterSpec
from physml.registry import register_term
from physml.compile import maybe_compile

#: Al_2020 baseline values, used as defaults of a freshly built term
DEFAULTS = {"A": 8.313739, "alpha": 3.659377, "B": 2.076203, "beta": 0.785523, "h": -0.065095, "sigma": 0.717922, "a": 0.907034, "lambda": 1.669902}


def _candidate_mask(vt: torch.Tensor, rd: torch.Tensor, k_entry: torch.Tensor, j_entry: torch.Tensor, rc: float) -> torch.Tensor:
    """Exact test x_ijk = r_ik + r_jk − r_ij < r_c (and k ≠ j) for candidate triplets,
    without autograd (one fused pass when compiled)."""
    dx = vt[0][k_entry] - vt[0][j_entry]
    dy = vt[1][k_entry] - vt[1][j_entry]
    dz = vt[2][k_entry] - vt[2][j_entry]
    x = rd[k_entry] + torch.sqrt(dx * dx + dy * dy + dz * dz) - rd[j_entry]
    return (x < rc) & (k_entry != j_entry)


@register_term("pinn_bop")
class PinnBOP(Term):
    """PINN bond-order term (see module docstring).

    Args:
        cutoff: BOP cutoff r_c (Å); the term reads neighbours up to 1.5 r_c for screening.
        smoothing: cutoff width h_c (Å).
    """

    def __init__(self, species: Sequence[str], cutoff: float = 6.0, smoothing: float = 1.5):
        super().__init__(species)
        self.rc = float(cutoff)
        self.hc = float(smoothing)
        self.cutoff = 1.5 * self.rc

    def parameter_specs(self) -> list[ParameterSpec]:
        d = DEFAULTS
        return [
            ParameterSpec("A", "pair", d["A"], doc="log of the repulsive prefactor (e^A eV)"),
            ParameterSpec("alpha", "pair", d["alpha"], unit="1/Å", doc="repulsive decay"),
            ParameterSpec("B", "pair", d["B"], doc="log of the attractive prefactor (e^B eV)"),
            ParameterSpec("beta", "pair", d["beta"], unit="1/Å", doc="attractive decay"),
            ParameterSpec("h", "triple", d["h"], doc="preferred angle cosine"),
            ParameterSpec("sigma", "element", d["sigma"], unit="eV", doc="promotion energy strength"),
            ParameterSpec("a", "triple", d["a"], doc="bond-order angular strength"),
            ParameterSpec("lambda", "triple", d["lambda"], unit="1/Å", doc="screening decay"),
        ]

    # ------------------------------------------------------------------ pieces
    def _screening(self, graph, pr, bonds, lam) -> torch.Tensor:
        """log S_ij for every bond (index into ``pr``)."""
        rc = self.rc
        i, r = pr.i, pr.distances
        n = graph.n_atoms
        with torch.no_grad():
            rd = r.detach()
            big = 4.0 * self.cutoff + 1.0
            key = i.to(rd.dtype) * big + rd
            order = torch.argsort(key)
            skey = key[order]
            counts = torch.bincount(i, minlength=n)
            seg_start = torch.cumsum(counts, 0) - counts
            ib = i[bonds]
            limit = ib.to(rd.dtype) * big + rd[bonds] + 0.5 * rc
            cnt = torch.searchsorted(skey, limit) - seg_start[ib]
            cnt = torch.clamp(cnt, min=0)
            total = int(cnt.sum())
            bond_of = torch.repeat_interleave(torch.arange(len(bonds), device=i.device), cnt)
            within = torch.arange(total, device=i.device) - torch.repeat_interleave(torch.cumsum(cnt, 0) - cnt, cnt)
            k_entry = order[seg_start[ib][bond_of] + within]
            j_entry = bonds[bond_of]
            # exact test x_ijk < r_c without autograd, on 1-D coordinate gathers
            vt = pr.vectors.detach().t().contiguous()
            keep = maybe_compile("bop_candidates", _candidate_mask)(vt, rd, k_entry, j_entry, rc)
            bond_of, k_entry, j_entry = bond_of[keep], k_entry[keep], j_entry[keep]
        v = pr.vectors
        rjk = torch.linalg.norm(v[k_entry] - v[j_entry], dim=-1)
        x = r[k_entry] + rjk - r[j_entry]
        sp = graph.species
        lam_t = lam[i[j_entry], sp[pr.j[j_entry]], sp[pr.j[k_entry]]]
        s = 1.0 - pinn_cutoff(x, rc, self.hc) * torch.exp(-lam_t * x)
        logs = torch.log(torch.clamp(s, min=1e-300))
        return torch.zeros(len(bonds), dtype=r.dtype, device=r.device).index_add(0, bond_of, logs)

    def _parts(self, graph, params):
        """Per-bond quantities shared by the energy and its LAMMPS partition."""
        rc = self.rc
        S = graph.n_species
        pr = graph.pairs(self.cutoff)
        with torch.no_grad():
            bonds = torch.nonzero(pr.distances < rc, as_tuple=True)[0]
        i = pr.i[bonds]
        j = pr.j[bonds]
        r = pr.distances[bonds]
        tj = graph.species[j]
        fc = pinn_cutoff(r, rc, self.hc)
        Sij = torch.exp(self._screening(graph, pr, bonds, params["lambda"]))
        # bond order from per-atom moments of the bonds k
        u = pr.vectors[bonds] / r[:, None]
        w = Sij * fc
        key = i * S + tj
        N = graph.n_atoms
        uu = (u[:, :, None] * u[:, None, :]).reshape(-1, 9)
        M = torch.zeros(N * S, 9, dtype=r.dtype, device=r.device).index_add(0, key, w[:, None] * uu).reshape(N, S, 3, 3)
        V = torch.zeros(N * S, 3, dtype=r.dtype, device=r.device).index_add(0, key, w[:, None] * u).reshape(N, S, 3)
        m0 = torch.zeros(N * S, dtype=r.dtype, device=r.device).index_add(0, key, w).reshape(N, S)
        a = params["a"][i, tj]  # (nb, S): a_i[t_j][t_k]
        h = params["h"][i, tj]
        quad = torch.einsum("bx,btxy,by->bt", u, M[i], u)
        lin = torch.einsum("bx,btx->bt", u, V[i])
        z = (a * (quad - 2.0 * h * lin + h * h * m0[i])).sum(1)
        a_jj = a.gather(1, tj[:, None]).squeeze(1)
        h_jj = h.gather(1, tj[:, None]).squeeze(1)
        z = z - a_jj * w * (1.0 - h_jj) ** 2
        onez = 1.0 + z
        bad = onez <= 0
        b = torch.where(bad, (onez.abs() + 1e-20) ** -0.5, torch.where(bad, torch.ones_like(onez), onez) ** -0.5)
        A = params["A"][i, tj]
        al = params["alpha"][i, tj]
        B = params["B"][i, tj]
        be = params["beta"][i, tj]
        pair = 0.5 * (torch.exp(A - al * r) - Sij * b * torch.exp(B - be * r)) * fc
        phi_sum = torch.zeros(N, dtype=r.dtype, device=r.device).index_add(0, i, Sij * b * fc)
        safe = torch.where(phi_sum > 0, phi_sum, torch.ones_like(phi_sum))
        promo = torch.where(phi_sum > 0, -params["sigma"] * torch.sqrt(safe), torch.zeros_like(phi_sum))
        return i, j, pair, promo

    def energies(self, graph, params) -> torch.Tensor:
        i, j, pair, promo = self._parts(graph, params)
        return promo.index_add(0, i, pair)

    def lammps_energies(self, graph, params) -> torch.Tensor:
        """Per-atom energies as the authors' LAMMPS pair style tallies them: each pair term
        half to i and half to j (its owner for periodic images), promotion to i."""
        i, j, pair, promo = self._parts(graph, params)
        return promo.index_add(0, i, 0.5 * pair).index_add(0, j, 0.5 * pair)

    def config(self) -> dict:
        return {"cutoff": self.rc, "smoothing": self.hc}

    def describe(self) -> str:
        return f"PINN bond order (r_c {self.rc:g} Å, h_c {self.hc:g} Å, screening range {self.cutoff:g} Å)"
