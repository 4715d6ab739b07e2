"""Fitting: losses, configuration (and, as it grows, the trainer and tuning)."""

from physml.train.config import ConfigError, FitConfig, load_config
from physml.train.loss import LossWeights, loss_terms

__all__ = ["ConfigError", "FitConfig", "LossWeights", "load_config", "loss_terms"]
