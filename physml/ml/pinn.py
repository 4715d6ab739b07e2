"""Conversion between ``.pinn`` files and physml potentials (PINN bond-order term +
physics-informed provider with Gaussian–Legendre descriptors and a shared network)."""

from __future__ import annotations

import numpy as np
import torch

from physml.empirical.bop import PinnBOP
from physml.io.pinn_file import ACTIVATION_CODES, ACTIVATIONS, PinnFile
from physml.ml.descriptors import GaussianLegendre
from physml.ml.physics_informed import PhysicsInformed
from physml.potential import Component, Potential


def potential_from_pinn_file(pf: PinnFile, source: str = "") -> Potential:
    S = len(pf.elements)
    term = PinnBOP(pf.elements, cutoff=pf.rc, smoothing=pf.hc)
    desc = GaussianLegendre(
        pf.orders, pf.centres, pf.sigma_g, 1.5 * pf.rc, pf.hc, g_ref=pf.giref,
        transform="asinh" if pf.gimethod == 2 else "none",
    )
    n_block = desc.n_features(S)
    central = pf.layers[0] == S * n_block and S > 1
    prov = PhysicsInformed(
        term.parameter_specs(), S, desc, hidden=pf.layers[1:-1], activation=ACTIVATIONS[pf.actfunc],
        shared_network=True, baseline=pf.baseline_flag != 0, central_species_blocks=central, seed=None,
    )
    P = prov.layout.size
    net = prov.networks.nets[0]
    with torch.no_grad():
        for k, (W, b) in enumerate(zip(pf.weights, pf.biases)):
            net.weights[k].copy_(torch.as_tensor(W))
            net.biases[k].copy_(torch.as_tensor(b))
        prov.p0.copy_(torch.as_tensor(np.asarray(pf.baseline).reshape(S, P)))
    meta = {
        "source": source, "format": "pinn", "comments": pf.comments, "masses": pf.masses,
        "pinn_header": {"d1": pf.d1, "d2": pf.d2, "gimethod": pf.gimethod, "baseline_flag": pf.baseline_flag},
    }
    return Potential(pf.elements, [Component(term, prov, name="pinn_bop")], metadata=meta)


def pinn_file_from_potential(pot: Potential) -> PinnFile:
    if len(pot.components) != 1:
        raise ValueError(f"a .pinn file holds one PINN bond-order term; this potential has {len(pot.components)} components")
    comp = pot.components[0]
    term, prov = comp.term, comp.provider
    if not isinstance(term, PinnBOP):
        raise ValueError(f"a .pinn file needs a pinn_bop term, not {term.kind}")
    if not isinstance(prov, PhysicsInformed) or not isinstance(prov.descriptor, GaussianLegendre):
        raise ValueError("a .pinn file needs a physics-informed provider with Gaussian–Legendre descriptors")
    if not prov.shared_network:
        raise ValueError("a .pinn file has one network for all species (shared_network=True)")
    d = prov.descriptor
    if abs(d.cutoff - 1.5 * term.rc) > 1e-12 or abs(d.smoothing - term.hc) > 1e-12:
        raise ValueError("the .pinn format ties the descriptor cutoff to 1.5 r_c and both smoothing widths to h_c")
    if prov.activation not in ACTIVATION_CODES:
        raise ValueError(f"activation {prov.activation!r} has no .pinn code (allowed: {sorted(ACTIVATION_CODES)})")
    if float(prov.out_scale) != 1.0 or not torch.all(prov.scale == 1):
        raise ValueError("descriptor/output scaling is not representable in a .pinn file")
    if any(s.transform != "identity" for s in prov.layout.specs):
        raise ValueError("parameter transforms are not representable in a .pinn file")
    if any(float(e) != 0.0 for e in pot.reference_energies.tolist()):
        raise ValueError("non-zero reference energies are not representable in a .pinn file")
    net = prov.networks.nets[0]
    meta = pot.metadata or {}
    head = meta.get("pinn_header", {})
    masses = meta.get("masses") or pot.species_map.masses()
    return PinnFile(
        gimethod=2 if d.transform == "asinh" else 0, giref=d.g_ref, actfunc=ACTIVATION_CODES[prov.activation],
        elements=pot.species, masses=list(masses), d1=head.get("d1", 0.0), d2=head.get("d2", 0.1), rc=term.rc, hc=term.hc,
        sigma_g=d.width, orders=d.orders, centres=d.centres, layers=list(net.layers), baseline_flag=1 if prov.use_baseline else 0,
        baseline=prov.p0.detach().cpu().numpy().reshape(-1),
        weights=[w.detach().cpu().numpy() for w in net.weights], biases=[b.detach().cpu().numpy() for b in net.biases],
        comments=list(meta.get("comments", ["# written by physml", "#", "#"])),
    )
