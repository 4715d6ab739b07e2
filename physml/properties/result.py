"""The value a property calculator returns: a number (or list) with its unit and a verdict
on its own convergence.

Every calculator in :mod:`physml.properties` checks the numerical side of its result
(relaxations reached their force tolerance, the result does not change with system size
or fit range beyond a stated tolerance, fits are good) and records each check it made in
``checks``; ``converged`` is true only when every check it made passed, and ``notes`` says
in words what was checked, what was not and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Check:
    """One convergence check: ``passed`` when ``measure`` is within ``tolerance``."""

    name: str
    passed: bool
    measure: float | None = None
    tolerance: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": bool(self.passed), "measure": _num(self.measure), "tolerance": _num(self.tolerance)}


@dataclass
class Result:
    """A computed property.

    Attributes:
        value: float, or a list of floats (phonon frequencies at one q-point).
        unit: e.g. ``"Å"``, ``"eV"``, ``"GPa"``, ``"J/m^2"``, ``"mJ/m^2"``, ``"K"``.
        converged: every check in ``checks`` passed (false when no check was possible).
        error: statistical error bar where the method has one (MD averages, T_m), else None.
        checks: the convergence checks made.
        notes: what the number means and what was not checked.
        data: arrays for plots (E(V) points, γ-lines, RDF, interface positions).
    """

    value: Any
    unit: str
    checks: list[Check] = field(default_factory=list)
    error: float | None = None
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def converged(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks) and _finite(self.value)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": _num(self.value), "unit": self.unit, "converged": self.converged}
        if self.error is not None:
            out["error"] = _num(self.error)
        out["checks"] = [c.to_json() for c in self.checks]
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def check_within(name: str, a: float, b: float, rel: float | None = None, abs_: float | None = None) -> Check:
    """Check that two estimates agree (relative ``rel`` of |b| or absolute ``abs_``)."""
    d = abs(a - b)
    if rel is not None:
        measure = d / max(abs(b), 1e-300)
        return Check(name, bool(measure <= rel), measure, rel)
    return Check(name, bool(d <= abs_), d, abs_)


def _finite(v: Any) -> bool:
    if isinstance(v, (list, tuple)):
        return all(_finite(x) for x in v)
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _num(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return [_num(x) for x in v]
    if hasattr(v, "tolist"):
        return _num(v.tolist())
    if isinstance(v, (bool, str)):
        return v
    f = float(v)
    return f if math.isfinite(f) else None
