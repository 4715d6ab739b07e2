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
* On CPU in float64 without double backward, :meth:`PinnBOP.energies` runs the C++ kernel
  ``physml::pinn_bop`` (:mod:`physml.ext`): one pass per centre atom that computes E_i and,
  in the same pass, ∂E_i/∂r_ij and ∂E_i/∂p_i (E_i depends only on the pairs of atom i, so
  these local Jacobians make the backward a scaling by the upstream gradient). For forces
  at a fixed cell, ``physml::pinn_bop_positions`` scatters ∂E_i/∂r_ij to the positions in
  the same pass (no per-pair Jacobian array).
"""

from __future__ import annotations

from typing import Dict, Sequence, Tuple

import torch
from torch.autograd.function import once_differentiable

from physml import ext
from physml.empirical.base import Term, needs_double_backward
from physml.empirical.cutoff import pinn_cutoff
from physml.parameters import ParameterSpec
from physml.registry import register_term

#: Al_2020 baseline values, used as defaults of a freshly built term
DEFAULTS = {"A": 8.313739, "alpha": 3.659377, "B": 2.076203, "beta": 0.785523, "h": -0.065095, "sigma": 0.717922, "a": 0.907034, "lambda": 1.669902}


def _screening_triplets(i: torch.Tensor, vectors: torch.Tensor, r: torch.Tensor, bonds: torch.Tensor, rc: float, max_elements: int = 2_000_000):
    """Every triplet (bond i–j, neighbour k) with x_ijk = r_ik + r_jk − r_ij < r_c, k ≠ j.

    ``i`` (sorted), ``vectors``, ``r``: the pair list within 1.5 r_c; ``bonds``: list
    positions of the bonds (r_ij < r_c). Returns (bond number, list entry of j, list
    entry of k). No autograd, no per-candidate index arithmetic: with
    P_j = r_ij + r_c and Q_k = r_ik − r_c,

        x_ijk < r_c  ⟺  r_jk < r_c + r_ij − r_ik  ⟺  r̂·r̂ form  v_j·v_k − P_j Q_k > r_c²/2

    (square both sides of the middle form and use r_jk² = r_ij² + r_ik² − 2 v_j·v_k; when
    r_c + r_ij − r_ik < 0 the right-hand test fails too), so for each centre atom the
    (bonds × neighbours) test is one batched matrix product of 4-vectors [v_j, P_j] and
    [v_k, −Q_k], done in blocks of atoms to bound memory. The test is applied with a small
    tolerance (a borderline triplet has f_c(x) = 0 to all digits) and k = j is removed.
    """
    dev = i.device
    empty = torch.zeros(0, dtype=torch.long, device=dev)
    if bonds.numel() == 0:
        return empty, empty, empty
    R = int(i[-1]) + 1
    counts = torch.bincount(i, minlength=R)
    start = torch.cumsum(counts, 0) - counts
    K = int(counts.max())
    ib = i[bonds]
    counts_b = torch.bincount(ib, minlength=R)
    start_b = torch.cumsum(counts_b, 0) - counts_b
    Kb = int(counts_b.max())
    slot_b = torch.arange(len(bonds), device=dev) - start_b[ib]
    slot = torch.arange(len(i), device=dev) - start[i]
    dt = vectors.dtype
    X = torch.zeros(R, Kb, 4, dtype=dt, device=dev)
    X[ib, slot_b, :3] = vectors[bonds]
    X[ib, slot_b, 3] = r[bonds] + rc
    Y = torch.zeros(R, 4, K, dtype=dt, device=dev)
    Y[:, 3, :] = -1.0e6 * rc  # padding: never passes
    Y[i, :3, slot] = vectors
    Y[i, 3, slot] = rc - r
    thresh = 0.5 * rc * rc * (1.0 - 1e-9)
    step = max(1, max_elements // max(1, Kb * K))
    out_b, out_k = [], []
    for lo in range(0, R, step):
        hi = min(R, lo + step)
        mask = torch.bmm(X[lo:hi], Y[lo:hi]) > thresh
        flat = torch.nonzero(mask.view(-1), as_tuple=True)[0]
        row = torch.div(flat, Kb * K, rounding_mode="floor")
        rem = flat - row * (Kb * K)
        a = torch.div(rem, K, rounding_mode="floor")
        b = rem - a * K
        row = row + lo
        out_b.append(start_b[row] + a)  # bond number
        out_k.append(start[row] + b)  # list entry of k
    bond_of = torch.cat(out_b)
    k_entry = torch.cat(out_k)
    j_entry = bonds[bond_of]
    keep = k_entry != j_entry
    return bond_of[keep], j_entry[keep], k_entry[keep]


class _LogScreening(torch.autograd.Function):
    """Σ_k log|S_ijk| per bond and the sign of Π_k S_ijk, with a fused first-derivative
    backward (one pass over the triplets). Not twice differentiable: used only when no
    double backward is needed."""

    @staticmethod
    def forward(ctx, vectors, r, lam_flat, lam_idx, bond_of, j_entry, k_entry, n_bonds, rc, hc):  # type: ignore[override]
        vt = vectors.t()
        if not vt.is_contiguous():
            vt = vt.contiguous()
        d = vt.index_select(1, k_entry) - vt.index_select(1, j_entry)
        rjk = torch.sqrt((d * d).sum(0))
        x = r.index_select(0, k_entry) + rjk - r.index_select(0, j_entry)
        lam = lam_flat.index_select(0, lam_idx)
        z = (x - rc) / hc
        z2 = z * z
        z4 = z2 * z2
        inv = 1.0 / (1.0 + z4)
        inside = x < rc
        fc = torch.where(inside, z4 * inv, torch.zeros_like(x))
        fcp = torch.where(inside, (4.0 / hc) * z2 * z * inv * inv, torch.zeros_like(x))
        e = torch.exp(-lam * x)
        fe = fc * e
        s = 1.0 - fe
        sa = torch.clamp(s.abs(), min=1e-300)
        logs = torch.log(sa)
        out = torch.zeros(n_bonds, dtype=r.dtype, device=r.device).index_add_(0, bond_of, logs)
        neg = torch.zeros(n_bonds, dtype=r.dtype, device=r.device).index_add_(0, bond_of, (s < 0).to(r.dtype))
        sign = 1.0 - 2.0 * torch.remainder(neg, 2.0)
        inv_s = 1.0 / torch.where(s == 0, torch.full_like(s, 1e-300), s)
        dx = (lam * fc - fcp) * e * inv_s  # d log|s| / dx
        dlam = x * fe * inv_s  # d log|s| / dλ
        ujk = d / torch.where(rjk > 0, rjk, torch.ones_like(rjk))
        ctx.save_for_backward(bond_of, j_entry, k_entry, lam_idx, dx, dlam, ujk)
        ctx.sizes = (vectors.shape[0], lam_flat.shape[0])
        ctx.mark_non_differentiable(sign)
        return out, sign

    @staticmethod
    def backward(ctx, g_out, g_sign):  # type: ignore[override]
        bond_of, j_entry, k_entry, lam_idx, dx, dlam, ujk = ctx.saved_tensors
        E, L = ctx.sizes
        g = g_out.index_select(0, bond_of)
        gx = g * dx
        gr = torch.zeros(E, dtype=gx.dtype, device=gx.device).index_add_(0, k_entry, gx).index_add_(0, j_entry, -gx)
        gu = ujk * gx
        gv = torch.zeros(3, E, dtype=gx.dtype, device=gx.device).index_add_(1, k_entry, gu).index_add_(1, j_entry, -gu)
        glam = torch.zeros(L, dtype=gx.dtype, device=gx.device).index_add_(0, lam_idx, g * dlam)
        return gv.t(), gr, glam, None, None, None, None, None, None, None


#: parameter order of the kernel's per-atom vector (= the .pinn block order)
_KERNEL_ORDER = ("A", "alpha", "B", "beta", "h", "sigma", "a", "lambda")


class _PinnBOPKernel(torch.autograd.Function):
    """Site energies by ``physml::pinn_bop``, which also returns the local Jacobians
    ∂E_i/∂r_e (pairs e of atom i) and ∂E_i/∂p_i; the backward scales them by the upstream
    gradient. First derivatives only (the torch path serves double backward)."""

    @staticmethod
    def forward(ctx, vectors, params, i, j, species, n_species: int, rc: float, hc: float):  # type: ignore[override]
        want_v, want_p = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        e, dv, dp = torch.ops.physml.pinn_bop(vectors, i, j, species, params, n_species, rc, hc, want_v, want_p)
        ctx.save_for_backward(i, dv, dp)
        return e

    @staticmethod
    @once_differentiable
    def backward(ctx, g):  # type: ignore[override]
        i, dv, dp = ctx.saved_tensors
        ones = bool((g == 1.0).all())  # forces/stress of Σ E_i: the Jacobians as they are
        gv = gp = None
        if ctx.needs_input_grad[0]:
            gv = dv if ones else dv * g.index_select(0, i)[:, None]
        if ctx.needs_input_grad[1]:
            gp = dp if ones else dp * g[:, None]
        return gv, gp, None, None, None, None, None, None


class _PinnBOPPositionsKernel(torch.autograd.Function):
    """Site energies by ``physml::pinn_bop_positions``, differentiable in the atom positions
    (the pair vectors r_e = x_j − x_i + shift are given as values): the kernel scatters each
    atom's pair Jacobian to ∂(Σ_i E_i)/∂x while it is in cache, instead of returning an (E, 3)
    Jacobian that autograd then adds to the descriptors' and scatters. Used for forces at a
    fixed cell (no stress). First derivatives only."""

    @staticmethod
    def forward(ctx, positions, params, vectors, i, j, species, n_species: int, rc: float, hc: float):  # type: ignore[override]
        e, dx, dp = torch.ops.physml.pinn_bop_positions(vectors, i, j, species, params, n_species, rc, hc, ctx.needs_input_grad[1])
        ctx.save_for_backward(vectors, i, j, species, params)
        ctx.jacobians = (dx, dp)  # (intermediates: handed over by the backward, not kept)
        ctx.consts = (n_species, rc, hc)
        return e

    @staticmethod
    @once_differentiable
    def backward(ctx, g):  # type: ignore[override]
        vectors, i, j, species, params = ctx.saved_tensors
        dx, dp = ctx.jacobians
        del ctx.jacobians
        ones = bool((g == 1.0).all())
        gx = gp = None
        if ctx.needs_input_grad[0]:
            # Σ_i E_i (the forces), also when only atoms without pairs (E_i = 0) are weighted otherwise
            if ones or bool(((g == 1.0) | (torch.bincount(i, minlength=g.shape[0]) == 0)).all()):
                gx = dx
            else:  # a weighted sum of site energies: the pair Jacobians, scaled and scattered
                _, dv, _ = torch.ops.physml.pinn_bop(vectors, i, j, species, params, *ctx.consts, True, False)
                w = dv * g.index_select(0, i)[:, None]
                gx = torch.zeros_like(dx).index_add_(0, j, w).index_add_(0, i, -w)
        if ctx.needs_input_grad[1]:
            gp = dp if ones else dp * g[:, None]
        return gx, gp, None, None, None, None, None, None, None


def bond_energies(
    vectors: torch.Tensor, r: torch.Tensor, fc: torch.Tensor, screening: torch.Tensor, i: torch.Tensor, tj: torch.Tensor, n_atoms: int, params: Dict[str, torch.Tensor]
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Pair energies ½[e^{A − α r_ij} − S_ij b_ij e^{B − β r_ij}] f_c(r_ij) of the bonds and
    promotion energies −σ_i (Σ_j S_ij b_ij f_c(r_ij))^{1/2} of the atoms (module docstring).

    ``vectors``, ``r``, ``fc``, ``screening``: r_ij, r_ij, f_c(r_ij) and S_ij of every bond
    (r_ij < r_c); ``i`` its centre atom, ``tj`` the species of j; ``params``: the term's
    per-atom parameters (A, alpha, B, beta (N, S); h, a (N, S, S); sigma (N,)). b_ij comes
    from per-atom moments of the bonds (module docstring), z_ij without the k = j term.
    Plain tensors, TorchScript-compatible: the exported model
    (:mod:`physml.export.scripted.bop`) runs this same function."""
    S = params["a"].shape[-1]
    u = vectors / r[:, None]
    w = screening * fc
    key = i * S + tj
    uu = (u[:, :, None] * u[:, None, :]).reshape(-1, 9)
    M = torch.zeros([n_atoms * S, 9], dtype=r.dtype, device=r.device).index_add(0, key, w[:, None] * uu).reshape(n_atoms, S, 3, 3)
    V = torch.zeros([n_atoms * S, 3], dtype=r.dtype, device=r.device).index_add(0, key, w[:, None] * u).reshape(n_atoms, S, 3)
    m0 = torch.zeros([n_atoms * S], dtype=r.dtype, device=r.device).index_add(0, key, w).reshape(n_atoms, S)
    a = params["a"][i, tj]  # (bonds, S): a_i[t_j][t_k]
    h = params["h"][i, tj]
    quad = torch.einsum("bx,btxy,by->bt", [u, M[i], u])
    lin = torch.einsum("bx,btx->bt", [u, V[i]])
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
    pair = 0.5 * (torch.exp(A - al * r) - screening * b * torch.exp(B - be * r)) * fc
    phi_sum = torch.zeros([n_atoms], dtype=r.dtype, device=r.device).index_add(0, i, screening * b * fc)
    safe = torch.where(phi_sum > 0, phi_sum, torch.ones_like(phi_sum))
    promo = torch.where(phi_sum > 0, -params["sigma"] * torch.sqrt(safe), torch.zeros_like(phi_sum))
    return pair, promo


@register_term("pinn_bop")
class PinnBOP(Term):
    """PINN bond-order term (see module docstring).

    Args:
        cutoff: BOP cutoff r_c (Å); the term reads neighbours up to 1.5 r_c for screening.
        smoothing: cutoff width h_c (Å).
    """

    #: evaluated by the C++ kernel on CPU float64 (see :func:`physml.ext.use_kernels`)
    kernel_backed = True

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
        """S_ij for every bond (index into ``pr``), see the module docstring."""
        rc, hc = self.rc, self.hc
        i, r = pr.i, pr.distances
        with torch.no_grad():
            bond_of, j_entry, k_entry = _screening_triplets(i, pr.vectors.detach(), r.detach(), bonds, rc)
        sp = graph.species
        S = graph.n_species
        nb = len(bonds)
        if S == 1:
            lam_flat = lam.reshape(-1)
            lam_idx = i[j_entry]
        else:
            lam_flat = lam.reshape(-1)
            lam_idx = (i[j_entry] * S + sp[pr.j[j_entry]]) * S + sp[pr.j[k_entry]]
        if not (torch.is_grad_enabled() and needs_double_backward()):
            logs, sign = _LogScreening.apply(pr.vectors, r, lam_flat, lam_idx, bond_of, j_entry, k_entry, nb, rc, hc)
            return sign * torch.exp(logs)
        # fully differentiable version (force/stress training)
        v = pr.vectors
        rjk = torch.linalg.norm(v[k_entry] - v[j_entry], dim=-1)
        x = r[k_entry] + rjk - r[j_entry]
        s = 1.0 - pinn_cutoff(x, rc, hc) * torch.exp(-lam_flat[lam_idx] * x)
        logs = torch.log(torch.clamp(s.abs(), min=1e-300))
        neg = torch.zeros(nb, dtype=r.dtype, device=r.device).index_add(0, bond_of, (s.detach() < 0).to(r.dtype))
        sign = 1.0 - 2.0 * torch.remainder(neg, 2.0)
        return sign * torch.exp(torch.zeros(nb, dtype=r.dtype, device=r.device).index_add(0, bond_of, logs))

    def _parts(self, graph, params):
        """Per-bond quantities shared by the energy and its LAMMPS partition."""
        pr = graph.pairs(self.cutoff)
        with torch.no_grad():
            bonds = torch.nonzero(pr.distances < self.rc, as_tuple=True)[0]
        i = pr.i[bonds]
        j = pr.j[bonds]
        r = pr.distances[bonds]
        fc = pinn_cutoff(r, self.rc, self.hc)
        Sij = self._screening(graph, pr, bonds, params["lambda"])
        pair, promo = bond_energies(pr.vectors[bonds], r, fc, Sij, i, graph.species[j], graph.n_atoms, params)
        return i, j, pair, promo

    def energies(self, graph, params) -> torch.Tensor:
        pr = graph.pairs(self.cutoff)
        if pr.n_pairs and ext.use_kernels(pr.vectors, *params.values()):
            N = graph.n_atoms
            p = torch.cat([params[n].reshape(N, -1) for n in _KERNEL_ORDER], dim=1)
            pos, v = graph.positions, pr.vectors
            if torch.is_grad_enabled() and v.requires_grad and pos.requires_grad and not graph.cell.requires_grad:
                # forces without stress: r_e depends on the positions only (Graph.build)
                return _PinnBOPPositionsKernel.apply(pos, p, v.detach(), pr.i, pr.j, graph.species, graph.n_species, self.rc, self.hc)
            return _PinnBOPKernel.apply(v, p, pr.i, pr.j, graph.species, graph.n_species, self.rc, self.hc)
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
