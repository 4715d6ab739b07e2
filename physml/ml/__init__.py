"""Descriptors, neural regressors and the physics-informed parameter provider."""
