"""Neighbour lists and the differentiable interatomic geometry (:class:`Graph`).

Pair *indices* and integer cell *shifts* come from `vesin <https://github.com/Luthaf/vesin>`_
(a cell-list implementation that is correct for cells smaller than the cutoff, mixed
periodicity and isolated systems); we do not write our own cell list. The *geometry*
(interatomic vectors and distances) is then rebuilt in torch from positions and cell,

    r_ij = x_j - x_i + S_ij · h,          (h: cell, rows are lattice vectors)

so that forces (−∂E/∂x) follow from autograd, and the stress follows from the derivative
with respect to a homogeneous strain ε applied to positions and cell,
x → x (1 + ε), h → h (1 + ε), σ = (1/V) ∂E/∂ε (ASE sign convention).

A list may be built with a *skin* (cutoff + skin) and reused while it provably still
holds every pair within the cutoff (:class:`NeighborCache`: atoms moved less than skin/2,
or, when the cell changed, a bound that separates the homogeneous strain from the atoms'
own displacements); every consumer applies its own exact distance test through
:meth:`Graph.pairs`, so results never depend on the skin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import vesin

from physml.system import AtomsShape, Batch


@dataclass
class NeighborList:
    """Neighbour list of a batch, indices into the batch.

    ``full=True`` (default): both i→j and j→i are listed. ``full=False``: each unordered
    pair (and each pair of periodic images) once — only for terms that declare
    ``supports_half_list`` and tally both directions themselves.
    """

    i: torch.Tensor  # (E,) long
    j: torch.Tensor  # (E,) long
    shifts: torch.Tensor  # (E, 3) integer cell shifts, stored as float of the batch dtype
    cutoff: float
    full: bool = True

    @property
    def n_pairs(self) -> int:
        return int(self.i.shape[0])

    def counts(self, n_atoms: int) -> torch.Tensor:
        """Number of pairs per centre atom (the list is sorted by i), cached."""
        c = getattr(self, "_counts", None)
        if c is None or c.shape[0] != n_atoms:
            c = torch.bincount(self.i, minlength=n_atoms)
            self._counts = c
        return c


def _structure_list(positions: np.ndarray, cell: np.ndarray, pbc: np.ndarray, cutoff: float, full: bool = True):
    n = positions.shape[0]
    if n == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros((0, 3), dtype=np.int64)
    periodic = [bool(p) for p in pbc]
    box = cell.copy()
    for axis in range(3):
        if periodic[axis] and np.linalg.norm(box[axis]) < 1e-12:
            raise ValueError(f"periodic axis {axis} has a zero-length cell vector")
    if any(periodic):
        if abs(np.linalg.det(box)) < 1e-12:
            # vesin needs an invertible box even on non-periodic axes: complete it with
            # orthogonal vectors there (their length is irrelevant when not periodic).
            for axis in range(3):
                if not periodic[axis]:
                    others = [box[a] for a in range(3) if a != axis]
                    v = np.cross(others[0], others[1])
                    if np.linalg.norm(v) < 1e-12:
                        v = np.eye(3)[axis]
                    box[axis] = v / np.linalg.norm(v) * 1.0
    else:
        box = np.zeros((3, 3))
    calc = vesin.NeighborList(cutoff=float(cutoff), full_list=full)
    i, j, S = calc.compute(points=positions, box=box, periodic=periodic, quantities="ijS")
    return i.astype(np.int64), j.astype(np.int64), S.astype(np.int64)


def neighbor_list(batch: Batch, cutoff: float, full: bool = True) -> NeighborList:
    """Neighbour list of every structure in ``batch`` within ``cutoff`` (Å), full or half.

    Pairs are sorted by centre atom i (then j), which keeps gathers cache-friendly."""
    pos = batch.positions.detach().cpu().numpy().astype(np.float64)
    cell = batch.cell.detach().cpu().numpy().astype(np.float64)
    pbc = batch.pbc.cpu().numpy()
    ptr = batch.ptr.cpu().numpy()
    ii, jj, ss = [], [], []
    for b in range(batch.n_structures):
        lo, hi = int(ptr[b]), int(ptr[b + 1])
        i, j, S = _structure_list(pos[lo:hi], cell[b], pbc[b], cutoff, full)
        if len(i):
            order = np.lexsort((j, i))
            i, j, S = i[order], j[order], S[order]
        ii.append(i + lo)
        jj.append(j + lo)
        ss.append(S)
    dev = batch.positions.device
    i = torch.as_tensor(np.concatenate(ii) if ii else np.zeros(0, np.int64), device=dev)
    j = torch.as_tensor(np.concatenate(jj) if jj else np.zeros(0, np.int64), device=dev)
    S = torch.as_tensor(np.concatenate(ss) if ss else np.zeros((0, 3), np.int64), device=dev)
    return NeighborList(i=i, j=j, shifts=S.to(batch.positions.dtype), cutoff=float(cutoff), full=full)


def segment_sum(values: torch.Tensor, lengths: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """Sum of consecutive segments (sorted index) along ``dim``; on CPU several times faster
    than ``index_add`` with a sorted, heavily repeated index. Not twice differentiable:
    use it only where no double backward is needed."""
    if values.dim() == 2 and dim == 1:
        lengths = lengths.unsqueeze(0).expand(values.shape[0], -1).contiguous()
    return torch.segment_reduce(values, "sum", lengths=lengths, axis=dim)


def _geometry_kernel(pt, shift_t, i, j):
    """(3, E) pair vectors and distances from (3, N) positions (one fused pass when compiled)."""
    vt = torch.index_select(pt, 1, j) - torch.index_select(pt, 1, i) + shift_t
    r = torch.sqrt(vt[0] * vt[0] + vt[1] * vt[1] + vt[2] * vt[2])
    return vt, r


def _geometry_grad_kernel(vt, r, g_r):
    w = torch.where(r > 0, g_r / r, torch.zeros_like(r))
    return vt * w


class _PairGeometry(torch.autograd.Function):
    """r_ij = x_j − x_i + s_ij and |r_ij|, computed in a structure-of-arrays layout (3, E).

    1-D gathers and an ``index_add`` backward are several times faster on CPU than row
    gathers and the generic indexing backward. Returns an (E, 3) view of the (3, E)
    vectors and the distances. The backward is written with differentiable ops (on saved
    outputs), so graphs stay twice differentiable for force training."""

    @staticmethod
    def forward(ctx, pos, shift_vec, i, j, counts_i):  # type: ignore[override]
        from physml.compile import maybe_compile

        pt = pos.t().contiguous()
        vt, r = maybe_compile("geometry", _geometry_kernel)(pt, shift_vec, i, j)
        vec = vt.t()
        ctx.save_for_backward(i, j, vec, r, counts_i)
        ctx.n = pos.shape[0]
        return vec, r

    @staticmethod
    def backward(ctx, g_vec, g_r):  # type: ignore[override]
        i, j, vec, r, counts_i = ctx.saved_tensors
        vt = vec.t()
        if g_r is not None:
            if torch.is_grad_enabled():
                gt = _geometry_grad_kernel(vt, r, g_r)
            else:
                from physml.compile import maybe_compile

                gt = maybe_compile("geometry_grad", _geometry_grad_kernel)(vt, r, g_r)
            if g_vec is not None:
                gt = gt + g_vec.t()
        else:
            gt = g_vec.t()
        if not gt.is_contiguous():
            gt = gt.contiguous()
        gpos = torch.zeros((3, ctx.n), dtype=gt.dtype, device=gt.device)
        if torch.is_grad_enabled() or gt.device.type != "cpu":  # double backward: differentiable ops
            gpos = gpos.index_add(1, j, gt).index_add(1, i, -gt)
        else:
            gpos = gpos.index_add(1, j, gt) - segment_sum(gt, counts_i, dim=1)
        return gpos.t(), gt, None, None, None


class Pairs:
    """Pairs within one cutoff: indices, vectors r_ij = x_j − x_i (+ shift) and distances.

    ``vectors`` is computed lazily from the parent list, so terms that only need distances
    (EAM, pair potentials) do not pay for gathering and back-propagating the vectors.
    """

    def __init__(self, i, j, distances, index, cutoff, full, parent_vectors, select):
        self.i = i
        self.j = j
        self.distances = distances
        self.index = index  # position of each pair in the parent list
        self.cutoff = cutoff
        self.full = full  # False: each unordered pair once (tally both directions)
        self._parent_vectors = parent_vectors
        self._select = select
        self._vectors = None

    def counts(self, n_atoms: int) -> torch.Tensor:
        """Pairs per centre atom (pairs are sorted by i), cached."""
        if getattr(self, "_counts", None) is None:
            self._counts = torch.bincount(self.i, minlength=n_atoms)
        return self._counts

    @property
    def vectors(self) -> torch.Tensor:
        if self._vectors is None:
            self._vectors = self._parent_vectors if not self._select else self._parent_vectors[self.index]
        return self._vectors

    @property
    def n_pairs(self) -> int:
        return int(self.i.shape[0])


@dataclass
class Graph(AtomsShape):
    """Differentiable geometry of a batch, shared by every term and descriptor.

    ``positions`` and ``cell`` are the (possibly strained) tensors that autograd
    differentiates; ``pairs(rc)`` returns the pairs with r_ij < rc, cached per cutoff.
    """

    positions: torch.Tensor
    cell: torch.Tensor
    species: torch.Tensor
    batch: torch.Tensor
    ptr: torch.Tensor
    n_species: int
    nlist: NeighborList
    vectors: torch.Tensor
    distances: torch.Tensor
    _cache: dict = field(default_factory=dict, repr=False)

    def pairs(self, cutoff: float) -> Pairs:
        """Pairs with 0 < r_ij < ``cutoff`` (must not exceed the list's cutoff)."""
        key = float(cutoff)
        if key in self._cache:
            return self._cache[key]
        if key > self.nlist.cutoff + 1e-12:
            raise ValueError(f"requested cutoff {key} Å exceeds the neighbour-list cutoff {self.nlist.cutoff} Å")
        with torch.no_grad():
            mask = self.distances < key
        idx = torch.nonzero(mask, as_tuple=True)[0]
        if idx.numel() == self.distances.numel():
            p = Pairs(self.nlist.i, self.nlist.j, self.distances, idx, key, self.nlist.full, self.vectors, False)
        else:
            p = Pairs(self.nlist.i[idx], self.nlist.j[idx], self.distances[idx], idx, key, self.nlist.full, self.vectors, True)
        self._cache[key] = p
        return p

    @classmethod
    def build(
        cls,
        batch: Batch,
        nlist: NeighborList,
        n_species: int,
        positions: torch.Tensor | None = None,
        cell: torch.Tensor | None = None,
    ) -> "Graph":
        """Geometry from (possibly strained, grad-requiring) positions and cell."""
        pos = batch.positions if positions is None else positions
        h = batch.cell if cell is None else cell
        # shift vectors: S_ij · h of the structure that pair (i, j) belongs to
        # shift vectors S_ij · h in (3, E) layout
        if h.shape[0] == 1:
            shift_t = h[0].t() @ nlist.shifts.t()
        else:
            pair_cell = h[batch.batch[nlist.i]] if nlist.n_pairs else h.new_zeros((0, 3, 3))
            shift_t = torch.einsum("ek,ekl->le", nlist.shifts, pair_cell).contiguous()
        vec, dist = _PairGeometry.apply(pos, shift_t, nlist.i, nlist.j, nlist.counts(batch.n_atoms))
        return cls(
            positions=pos,
            cell=h,
            species=batch.species,
            batch=batch.batch,
            ptr=batch.ptr,
            n_species=n_species,
            nlist=nlist,
            vectors=vec,
            distances=dist,
        )


class NeighborCache:
    """Reuse a neighbour list across calls while it provably holds every pair within the cutoff.

    A list built at positions x⁰ and cell H⁰ with cutoff rc + skin holds every pair
    (i, j, S) with |D⁰| < rc + skin, where D = x_j − x_i + S·H (rows of H: lattice vectors).
    For new positions x and cell H, let F = (H⁰)⁻¹H be the homogeneous deformation
    (H = H⁰F) and u_i = x_i − x⁰_i F the displacement of each atom beyond it; then exactly

        D = D⁰ F + u_j − u_i,     so     |D| ≥ σ_min(F) |D⁰| − 2 max_i |u_i|,

    with σ_min(F) the smallest singular value of F. Every pair missing from the list has
    |D⁰| ≥ rc + skin, so the list is still complete while

        σ_min(F) (rc + skin) − 2 max_i |u_i| > rc.

    Without a cell change (F = 1) this is the Verlet criterion max|Δx| < skin/2; under a
    barostat (positions rescaled with the cell) the list survives strains of order
    skin / (rc + skin) instead of being rebuilt at every step. For a batch the bound is
    taken over all structures at once (smallest σ_min, largest |u|: conservative). A cell
    that changed and is singular (a non-periodic structure with zero cell vectors) rebuilds.
    The list is also rebuilt when the number of atoms, the structure boundaries, the
    periodicity, the cutoff or the list kind change. Consumers apply their own exact
    distance test (:meth:`Graph.pairs`), so results never depend on the skin or on reuse.
    """

    def __init__(self, skin: float = 1.0):
        self.skin = float(skin)
        self._key = None
        self._ref_positions: torch.Tensor | None = None
        self._ref_cell: torch.Tensor | None = None
        self._nlist: NeighborList | None = None
        self.builds = 0

    def _still_complete(self, batch: Batch, cutoff: float) -> bool:
        assert self._ref_positions is not None and self._ref_cell is not None
        pos = batch.positions.detach()
        if pos.numel() == 0:
            return True
        cell = batch.cell.detach()
        x0 = self._ref_positions
        if torch.equal(cell, self._ref_cell):
            return float((pos - x0).norm(dim=-1).max()) < 0.5 * self.skin
        h0 = self._ref_cell
        if bool((torch.linalg.det(h0).abs() < 1e-12).any()):
            return False
        F = torch.linalg.solve(h0, cell)  # (n_structures, 3, 3): H = H⁰ F
        if not bool(torch.isfinite(F).all()):
            return False
        affine = x0 @ F[0] if F.shape[0] == 1 else torch.einsum("nk,nkl->nl", x0, F[batch.batch])
        u_max = float((pos - affine).norm(dim=-1).max())
        s_min = float(torch.linalg.svdvals(F)[:, -1].min())
        return s_min * (cutoff + self.skin) - 2.0 * u_max > cutoff

    def get(self, batch: Batch, cutoff: float, full: bool = True) -> NeighborList:
        key = (
            batch.n_atoms,
            tuple(batch.ptr.tolist()) if batch.n_structures < 64 else batch.ptr.sum().item(),
            batch.pbc.cpu().numpy().tobytes(),
            float(cutoff),
            bool(full),
        )
        if self._nlist is not None and key == self._key and self._still_complete(batch, float(cutoff)):
            return self._nlist
        self._nlist = neighbor_list(batch, cutoff + self.skin, full=full)
        self._key = key
        self._ref_positions = batch.positions.detach().clone()
        self._ref_cell = batch.cell.detach().clone()
        self.builds += 1
        return self._nlist
