"""Analytic energy terms (EAM, bond order, Tersoff, ZBL, pair potentials, …)."""

from physml.empirical.base import Term
from physml.empirical.pair import Morse
from physml.empirical.zbl import ZBL
from physml.empirical.bop import PinnBOP
from physml.empirical.tersoff import Tersoff
from physml.empirical.eam import AnalyticEAM, TabulatedEAM
from physml.empirical.meam import MEAM

__all__ = ["Term", "Morse", "TabulatedEAM", "AnalyticEAM", "ZBL", "PinnBOP", "Tersoff", "MEAM"]
