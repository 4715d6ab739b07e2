"""physml: physics-informed hybrid interatomic potentials.

Public entry points: :func:`load` (physml models and published potential files),
:class:`Calculator` (ASE), :class:`Potential`, :func:`save`, :func:`alloy` (multi-element
potentials inheriting elemental ones).
"""

__version__ = "0.1.0"

from physml.potential import Component, Potential  # noqa: E402
from physml.io import load, save  # noqa: E402
from physml.calculator import Calculator  # noqa: E402
from physml.compose import alloy  # noqa: E402
import physml.runtime  # noqa: E402,F401  (applies PHYSML_RETAIN_MEMORY=1)

__all__ = ["Calculator", "Component", "Potential", "alloy", "load", "save", "__version__"]
