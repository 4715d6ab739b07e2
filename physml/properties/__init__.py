"""Physical properties of a potential, computed with any ASE calculator.

```python
import physml
from physml.properties import Material, compute
calc = physml.Calculator(physml.load("Al99.eam.alloy"))      # or any ASE calculator
res = compute(calc, Material("Al", "fcc", a0_guess=4.05, T_m_guess=930), ["a0", "C44", "gamma_isf"])
res["C44"].value, res["C44"].unit, res["C44"].converged
```

Each calculator module states its method, equations and convergence checks:

| module | properties |
|---|---|
| :mod:`~physml.properties.eos` | a0, E_coh, B, B′ (Birch–Murnaghan); dE_<lattice> (bcc, fcc, hcp, A15, diamond, sc) |
| :mod:`~physml.properties.elastic` | C_ij with internal relaxation (cubic, hexagonal) |
| :mod:`~physml.properties.phonons` | frequencies at high-symmetry points (phonopy) |
| :mod:`~physml.properties.defects` | vacancy formation, migration (NEB), self-interstitials |
| :mod:`~physml.properties.surfaces` | relaxed low-index surface energies |
| :mod:`~physml.properties.faults` | γ-lines, intrinsic and unstable stacking faults |
| :mod:`~physml.properties.md` | thermal expansion, liquid g(r), density, diffusion |
| :mod:`~physml.properties.melting` | T_m by solid–liquid coexistence |
| :mod:`~physml.properties.scans` | beyond-the-data sanity scans (compression, dimers, trimers, hot MD) |
"""

from physml.properties.crystal import Crystal, relaxed_crystal
from physml.properties.registry import PROPERTIES, Context, Material, PropertySpec, compute, spec
from physml.properties.result import Check, Result

__all__ = ["PROPERTIES", "Check", "Context", "Crystal", "Material", "PropertySpec", "Result", "compute", "relaxed_crystal", "spec"]
