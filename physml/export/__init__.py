"""Exporters of physml potentials to other codes (LAMMPS files, plugin models)."""

from physml.export.lammps import export_lammps

__all__ = ["export_lammps"]
