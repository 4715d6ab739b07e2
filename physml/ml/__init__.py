"""Descriptors, neural regressors and the physics-informed parameter provider."""

from physml.ml.descriptors import BehlerParrinello, GaussianLegendre
from physml.ml.mlp import MLP, SpeciesNetworks
from physml.ml.physics_informed import PhysicsInformed, SiteEnergy

__all__ = ["BehlerParrinello", "GaussianLegendre", "MLP", "PhysicsInformed", "SiteEnergy", "SpeciesNetworks"]
