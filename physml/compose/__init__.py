"""Composition of potentials: alloys that inherit elemental potentials.

:func:`alloy` builds a multi-element potential from elemental ones, freezing the
elemental blocks and adding trainable cross parameters and networks that contribute
nothing in a pure element (the alloy contract of the design note).
"""

from physml.compose.alloy import alloy, check_inheritance, cross_pair, johnson_cross
from physml.compose.freeze import frozen_hashes, frozen_state, unfreeze
from physml.compose.inherited import InheritedPhysicsInformed

__all__ = ["InheritedPhysicsInformed", "alloy", "check_inheritance", "cross_pair", "frozen_hashes", "frozen_state", "johnson_cross", "unfreeze"]
