"""Analytic EAM functions (pair φ, density ρ, embedding F) with per-atom parameters.

Each family declares its :class:`~physml.parameters.ParameterSpec` list (the prefix
``phi_``, ``rho_`` or ``F_`` keeps names unique inside an EAM term) and evaluates on the
gathered per-pair or per-atom parameters. Parameters are owned by the central atom i:
φ parameters per neighbour species (tied symmetric for a classic potential), ρ
parameters per neighbour species (tied by neighbour: eam/alloy semantics), F parameters
per element.

Smooth cutoff ψ(x) = x⁴/(1 + x⁴), x = (r − r_c)/h (Mishin et al., PRB 59, 3393 (1999)).

Families
--------
``mishin`` (Mishin, Mehl, Papaconstantopoulos, Voter, Kress, PRB 63, 224106 (2001), Cu):
    φ(r) = [E1 M(r; r1, α1) + E2 M(r; r2, α2) + δ] ψ((r − r_c)/h),
            M(r; r0, α) = e^{−2α(r−r0)} − 2 e^{−α(r−r0)}
    ρ(r) = [a e^{−β1 (r − r3)²} + e^{−β2 (r − r4)}] ψ((r − r_c)/h)
    F(ρ) = F0 + ½ F2 (ρ − ρ0)² + q1 (ρ − ρ0)³ + q2 (ρ − ρ0)⁴   (the expansion of Mishin
           2001 about the equilibrium density ρ0, truncated after the quartic term)

``finnis_sinclair`` (Finnis & Sinclair, Phil. Mag. A 50, 45 (1984)):
    φ(r) = (r − c)² (c0 + c1 r + c2 r²)  for r < c, else 0
    ρ(r) = (r − d)² + β (r − d)³ / d     for r < d, else 0
    F(ρ) = −A √ρ
"""

from __future__ import annotations

import torch

from physml.empirical.cutoff import mishin_cutoff
from physml.parameters import ParameterSpec


class EAMFamily:
    """One analytic EAM family: parameter declarations and the three functions."""

    name = "abstract"

    def __init__(self, cutoff: float, smoothing: float = 1.0):
        self.cutoff = float(cutoff)
        self.smoothing = float(smoothing)

    def specs(self) -> list[ParameterSpec]:
        raise NotImplementedError

    def pair(self, r: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def density(self, r: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def embedding(self, rho: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError


class MishinEAM(EAMFamily):
    name = "mishin"

    def specs(self) -> list[ParameterSpec]:
        pair = [
            ("phi_E1", 0.3, "eV", "depth of the first Morse-like well"),
            ("phi_r1", 2.5, "Å", "position of the first well"),
            ("phi_a1", 1.5, "1/Å", "inverse width of the first well"),
            ("phi_E2", 0.0, "eV", "depth of the second well"),
            ("phi_r2", 3.5, "Å", "position of the second well"),
            ("phi_a2", 1.5, "1/Å", "inverse width of the second well"),
            ("phi_delta", 0.0, "eV", "constant shift"),
        ]
        dens = [
            ("rho_a", 1.0, "", "Gaussian amplitude"),
            ("rho_b1", 0.5, "1/Å²", "Gaussian width"),
            ("rho_r3", 2.0, "Å", "Gaussian centre"),
            ("rho_b2", 1.5, "1/Å", "exponential decay"),
            ("rho_r4", 2.5, "Å", "exponential reference distance"),
        ]
        emb = [
            ("F_F0", -3.0, "eV", "energy at the equilibrium density"),
            ("F_F2", 1.0, "eV", "curvature at the equilibrium density"),
            ("F_q1", 0.0, "eV", "cubic coefficient"),
            ("F_q2", 0.0, "eV", "quartic coefficient"),
            ("F_rho0", 1.0, "", "equilibrium density"),
        ]
        out = [ParameterSpec(n, "pair", d, tie="symmetric", unit=u, doc=doc) for n, d, u, doc in pair]
        out += [ParameterSpec(n, "pair", d, tie="neighbor", unit=u, doc=doc) for n, d, u, doc in dens]
        out += [ParameterSpec(n, "element", d, unit=u, doc=doc) for n, d, u, doc in emb]
        return out

    def _psi(self, r):
        return mishin_cutoff(r, self.cutoff, self.smoothing)

    def pair(self, r, p):
        def morse(r0, a):
            x = torch.exp(-a * (r - r0))
            return x * x - 2.0 * x

        v = p["phi_E1"] * morse(p["phi_r1"], p["phi_a1"]) + p["phi_E2"] * morse(p["phi_r2"], p["phi_a2"]) + p["phi_delta"]
        return v * self._psi(r)

    def density(self, r, p):
        v = p["rho_a"] * torch.exp(-p["rho_b1"] * (r - p["rho_r3"]) ** 2) + torch.exp(-p["rho_b2"] * (r - p["rho_r4"]))
        return v * self._psi(r)

    def embedding(self, rho, p):
        x = rho - p["F_rho0"]
        return p["F_F0"] + 0.5 * p["F_F2"] * x * x + p["F_q1"] * x**3 + p["F_q2"] * x**4


class FinnisSinclairEAM(EAMFamily):
    name = "finnis_sinclair"

    def specs(self) -> list[ParameterSpec]:
        return [
            ParameterSpec("phi_c", "pair", 3.5, tie="symmetric", unit="Å", doc="pair cutoff c"),
            ParameterSpec("phi_c0", "pair", 1.0, tie="symmetric", unit="eV/Å²"),
            ParameterSpec("phi_c1", "pair", 0.0, tie="symmetric", unit="eV/Å³"),
            ParameterSpec("phi_c2", "pair", 0.0, tie="symmetric", unit="eV/Å⁴"),
            ParameterSpec("rho_d", "pair", 3.5, tie="neighbor", unit="Å", doc="density cutoff d"),
            ParameterSpec("rho_beta", "pair", 0.0, tie="neighbor", unit=""),
            ParameterSpec("F_A", "element", 1.0, unit="eV", doc="embedding strength"),
        ]

    def pair(self, r, p):
        c = torch.clamp(p["phi_c"], max=self.cutoff)
        x = r - c
        v = x * x * (p["phi_c0"] + p["phi_c1"] * r + p["phi_c2"] * r * r)
        return torch.where(r < c, v, torch.zeros_like(v))

    def density(self, r, p):
        d = torch.clamp(p["rho_d"], max=self.cutoff)
        x = r - d
        v = x * x + p["rho_beta"] * x**3 / d
        return torch.where(r < d, v, torch.zeros_like(v))

    def embedding(self, rho, p):
        # −A√ρ with a safe gradient at ρ = 0 (an isolated atom)
        safe = torch.where(rho > 0, rho, torch.ones_like(rho))
        return torch.where(rho > 0, -p["F_A"] * torch.sqrt(safe), torch.zeros_like(rho))


FAMILIES: dict[str, type[EAMFamily]] = {"mishin": MishinEAM, "finnis_sinclair": FinnisSinclairEAM}
