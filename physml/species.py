"""Chemical species of a potential: symbols, atomic numbers and their index order."""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
from ase.data import atomic_masses, atomic_numbers, chemical_symbols


def symbol_to_number(symbol: str) -> int:
    try:
        return int(atomic_numbers[symbol])
    except KeyError:
        raise KeyError(f"unknown element symbol {symbol!r}") from None


class SpeciesMap:
    """Ordered species of a potential; the index of a species is its position in the list."""

    def __init__(self, symbols: Sequence[str]):
        symbols = list(symbols)
        if len(set(symbols)) != len(symbols):
            raise ValueError(f"duplicate species in {symbols}")
        self.symbols: list[str] = symbols
        self.numbers: list[int] = [symbol_to_number(s) for s in symbols]
        self._lookup = np.full(119, -1, dtype=np.int64)
        for k, z in enumerate(self.numbers):
            self._lookup[z] = k

    def __len__(self) -> int:
        return len(self.symbols)

    def __iter__(self):
        return iter(self.symbols)

    def __repr__(self) -> str:
        return f"SpeciesMap({self.symbols})"

    def indices(self, numbers: Iterable[int]) -> np.ndarray:
        """Species indices of atomic numbers; raises KeyError naming an unknown element."""
        z = np.asarray(list(numbers) if not isinstance(numbers, np.ndarray) else numbers, dtype=np.int64)
        if z.size == 0:
            return z
        if z.min() < 0 or z.max() > 118:
            raise KeyError(f"invalid atomic number in {sorted(set(z.tolist()))}")
        idx = self._lookup[z]
        if (idx < 0).any():
            bad = sorted({chemical_symbols[v] for v in z[idx < 0].tolist()})
            raise KeyError(f"element(s) {', '.join(bad)} not in the potential's species {self.symbols}")
        return idx

    def masses(self) -> list[float]:
        return [float(atomic_masses[z]) for z in self.numbers]
