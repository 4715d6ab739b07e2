"""Exported modules that call physml's C++ kernels (``physml/csrc``, ``torch.ops.physml``).

The kernels (Gaussian–Legendre descriptors with their vector–Jacobian product, PINN-BOP site
energies with local Jacobians) are plain C++ registered with ``TORCH_LIBRARY``, so a
TorchScript model can call them; the LAMMPS plugin loads the same library that physml
loads in Python (:mod:`physml.lammps.plugin`). They are not differentiable by autograd, so
the exported model is differentiated in two stages:

* :class:`KernelPinnBOP` returns a *first-order surrogate* of its energies,
      ẽ_i = E_i + Σ_{e∈i} ∂E_i/∂r_e · (r_e − r̄_e) + ∂E_i/∂p_i · (p_i − p̄_i)
  (bars: the same tensors detached). Its value is E_i exactly and its first derivatives are
  the kernel's, so one autograd pass through the rest of the model (network, parameter
  layout, other terms) gives exact gradients. Inside an exported model it hands the
  ∂E_i/∂r_e part over directly (:meth:`KernelPinnBOP.split`) instead of through autograd.
* :class:`KernelGaussianLegendre` computes the raw descriptors g_i by the kernel; the model
  makes them an autograd leaf, differentiates the rest w.r.t. the pair vectors *and* g, and
  maps ∂E/∂g back to the pair vectors with ``physml::gl_descriptor_backward``.

Kernel inputs follow the op signatures of ``physml/csrc/pinn_kernels.h``: the neighbour
index j of pair e is e itself and the "species" array is the neighbour species per pair.
"""

from typing import Dict, List, Tuple

import torch
from torch import Tensor, nn

from physml.export.scripted.descriptors import ScriptedGaussianLegendre
from physml.export.scripted.base import ScriptedTerm
from physml.export.scripted.geometry import PairList, scatter_sum

#: per-atom parameter order of physml::pinn_bop (the .pinn block order)
KERNEL_ORDER = ["A", "alpha", "B", "beta", "h", "sigma", "a", "lambda"]


def kernels_available() -> bool:
    """physml's C++ kernels are built and loaded in this process (compiled on first use)."""
    from physml import ext

    return ext.available()


class KernelPinnBOP(ScriptedTerm):
    """PINN bond-order site energies (physml.empirical.bop.PinnBOP) by ``physml::pinn_bop``."""

    names: List[str]

    def __init__(self, term):
        super().__init__()
        self.rc = float(term.rc)
        self.hc = float(term.hc)
        self.cutoff = float(term.cutoff)
        self.n_species = int(term.n_species)
        self.names = list(KERNEL_ORDER)

    def forward(self, pairs: PairList, species: Tensor, params: Dict[str, Tensor]) -> Tensor:
        e, dv = self.split(pairs, species, params)
        v = pairs.vectors
        return e + scatter_sum(species.shape[0], pairs.centre, (dv * (v - v.detach())).sum(1))

    def split(self, pairs: PairList, species: Tensor, params: Dict[str, Tensor]) -> Tuple[Tensor, Tensor]:
        """Energies with the parameter part of the surrogate, and ∂E/∂r_e directly."""
        n = species.shape[0]
        p = torch.cat([params[k].reshape(n, -1) for k in self.names], dim=1)
        v = pairs.vectors.detach()
        idx = torch.arange(v.shape[0], device=v.device)
        e, dv, dp = torch.ops.physml.pinn_bop(v, pairs.centre, idx, pairs.species_j, p.detach(), self.n_species, self.rc, self.hc, True, True)
        return e + (dp * (p - p.detach())).sum(1), dv


class KernelGaussianLegendre(ScriptedGaussianLegendre):
    """Gaussian–Legendre descriptors by ``physml::gl_descriptor`` (raw g and moments A) and
    ``physml::gl_descriptor_backward``; the transform stays in TorchScript."""

    def __init__(self, desc, n_species: int):
        super().__init__(desc, n_species)
        self.orders: List[int] = [int(x) for x in desc.orders]
        self.centres: List[float] = [float(x) for x in desc.centres]

    def raw_and_moments(self, pairs: PairList, species: Tensor) -> Tuple[Tensor, Tensor]:
        v = pairs.vectors.detach()
        idx = torch.arange(v.shape[0], device=v.device)
        return torch.ops.physml.gl_descriptor(v, pairs.centre, idx, pairs.species_j, species.shape[0], self.n_species, self.orders, self.centres, self.width, self.cutoff, self.smoothing)

    def transform(self, g: Tensor) -> Tensor:
        g = g + self.g_ref
        return torch.asinh(g) if self.asinh else g

    def vjp(self, grad_g: Tensor, moments: Tensor, pairs: PairList) -> Tensor:
        v = pairs.vectors.detach()
        idx = torch.arange(v.shape[0], device=v.device)
        return torch.ops.physml.gl_descriptor_backward(grad_g, moments, v, pairs.centre, idx, pairs.species_j, self.n_species, self.orders, self.centres, self.width, self.cutoff, self.smoothing)
