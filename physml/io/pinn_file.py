"""PINN potential files in the dialect of the authors' LAMMPS ``pair_style pinn``.

Layout (``PairPINN::read_file``; see the project's PINN model notes):

    lines 1–3   free text
    line 4      gimethod giref actfunc          (int, float, int; text after them ignored)
    line 5      nelements
    next ne     symbol mass
    next        d1 d2 rc hc sigma_g             (exactly 5 numbers)
    next        nL l_1 … l_nL                   (Legendre orders)
    next        nS r0_1 … r0_nS                 (Gaussian centres)
    next        nlayers n_0 … n_{L−1}
    next        nBase p0_1 … p0_nbo             (may continue on following lines)
    rest        weights then biases per layer, W[m][n] row by row (m input, n output)

On lines 4 and 7 onward, text after ``#`` is discarded. CRLF line endings are accepted.
Other dialects (e.g. the AladynPi mini-app's files, which have no three-line comment
header) are refused with a message naming what was detected.
"""

from __future__ import annotations

from typing import Sequence

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


class PinnFormatError(ValueError):
    pass


@dataclass
class PinnFile:
    gimethod: int
    giref: float
    actfunc: int
    elements: list[str]
    masses: list[float]
    d1: float
    d2: float
    rc: float
    hc: float
    sigma_g: float
    orders: list[int]
    centres: list[float]
    layers: list[int]
    baseline_flag: int
    baseline: np.ndarray  # (n_out,)
    weights: list[np.ndarray] = field(default_factory=list)  # W^(k): (n_{k-1}, n_k)
    biases: list[np.ndarray] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


def _strip(line: str) -> str:
    return line.split("#", 1)[0]


def _is_number(tok: str) -> bool:
    try:
        float(tok)
        return True
    except ValueError:
        return False


def read_pinn(path: str | os.PathLike) -> PinnFile:
    path = Path(path)
    text = path.read_text(errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if len(lines) < 10:
        raise PinnFormatError(f"{path}: too short for a PINN file ({len(lines)} lines)")
    first = lines[0].split()
    l4 = _strip(lines[3]).split()

    def dialect_error(msg: str):
        if first and all(_is_number(t) for t in first):
            detected = "AladynPi-style (numeric first line, no three-line comment header)"
        else:
            detected = "unknown"
        return PinnFormatError(
            f"{path}:4: not the LAMMPS pair_style pinn dialect ({msg}); detected dialect: {detected}. "
            "physml reads files whose line 4 is 'gimethod giref actfunc'"
        )

    if len(l4) < 3:
        raise dialect_error(f"line 4 has {len(l4)} words, expected 'gimethod giref actfunc'")
    try:
        gimethod, giref, actfunc = int(l4[0]), float(l4[1]), int(l4[2])
    except ValueError:
        raise dialect_error(f"line 4 starts with {' '.join(l4[:3])!r}") from None
    if gimethod not in (0, 2):
        raise PinnFormatError(f"{path}:4: descriptor transform (gimethod) {gimethod} is not 0 or 2")
    if actfunc not in (0, 1, 2):
        raise PinnFormatError(f"{path}:4: activation code {actfunc} is not 0, 1 or 2")
    try:
        ne = int(lines[4].split()[0])
    except (IndexError, ValueError):
        raise PinnFormatError(f"{path}:5: expected the number of elements") from None
    elements, masses = [], []
    k = 5
    for e in range(ne):
        w = _strip(lines[k]).split()
        if len(w) < 2 or not _is_number(w[1]):
            raise PinnFormatError(f"{path}:{k + 1}: expected 'symbol mass' for element {e + 1}")
        elements.append(w[0])
        masses.append(float(w[1]))
        k += 1

    def numbers(line_no: int, exact: int | None = None, at_least: int | None = None, what: str = "") -> list[float]:
        w = _strip(lines[line_no]).split() if line_no < len(lines) else []
        if exact is not None and len(w) != exact:
            raise PinnFormatError(f"{path}:{line_no + 1}: {what}: expected {exact} numbers, found {len(w)}")
        if at_least is not None and len(w) < at_least:
            raise PinnFormatError(f"{path}:{line_no + 1}: {what}: expected at least {at_least} numbers, found {len(w)}")
        try:
            return [float(t) for t in w]
        except ValueError:
            raise PinnFormatError(f"{path}:{line_no + 1}: {what}: non-numeric value in {w}") from None

    cut = numbers(k, exact=5, what="cutoff line 'd1 d2 rc hc sigma_g'")
    k += 1
    w = numbers(k, at_least=1, what="Legendre orders")
    nL = int(w[0])
    if len(w) != nL + 1:
        raise PinnFormatError(f"{path}:{k + 1}: Legendre orders: declares {nL} orders, lists {len(w) - 1}")
    orders = [int(x) for x in w[1:]]
    if orders != sorted(orders) or orders[-1] < 1:
        raise PinnFormatError(f"{path}:{k + 1}: Legendre orders must ascend and end with an order ≥ 1, got {orders}")
    k += 1
    w = numbers(k, at_least=1, what="Gaussian centres")
    nS = int(w[0])
    if len(w) < nS + 1:
        raise PinnFormatError(f"{path}:{k + 1}: Gaussian centres: declares {nS}, lists {len(w) - 1}")
    centres = w[1 : nS + 1]
    k += 1
    w = numbers(k, at_least=1, what="network layers")
    nlay = int(w[0])
    if len(w) != nlay + 1:
        raise PinnFormatError(f"{path}:{k + 1}: network layers: declares {nlay}, lists {len(w) - 1}")
    layers = [int(x) for x in w[1:]]
    k += 1
    nb = ne * (4 * ne + ne * ne + 1 + 2 * ne * ne)
    if layers[-1] != nb:
        raise PinnFormatError(f"{path}:{k}: output layer has {layers[-1]} nodes; {ne} element(s) need {nb} BOP parameters")
    n_block = ne * (ne + 1) // 2 * nL * nS
    if layers[0] not in (n_block, ne * n_block):
        raise PinnFormatError(f"{path}:{k}: input layer has {layers[0]} nodes; expected {n_block} or {ne * n_block} for {ne} element(s), {nL} orders, {nS} centres")
    # baseline: first token is the flag, then nb numbers possibly over several lines
    toks: list[str] = []
    start = k
    flag_tokens = _strip(lines[k]).split()
    if not flag_tokens:
        raise PinnFormatError(f"{path}:{k + 1}: expected the baseline line 'flag p0_1 …'")
    try:
        flag = int(float(flag_tokens[0]))
    except ValueError:
        raise PinnFormatError(f"{path}:{k + 1}: baseline flag {flag_tokens[0]!r} is not an integer") from None
    toks = flag_tokens[1:]
    k += 1
    while len(toks) < nb:
        if k >= len(lines):
            raise PinnFormatError(f"{path}: file ends while reading the {nb} baseline parameters (line {start + 1} on)")
        toks += _strip(lines[k]).split()
        k += 1
    try:
        baseline = np.array([float(t) for t in toks[:nb]])
    except ValueError:
        raise PinnFormatError(f"{path}:{start + 1}: non-numeric baseline parameter") from None
    nw = sum(layers[q - 1] * layers[q] + layers[q] for q in range(1, len(layers)))
    vals: list[float] = []
    while len(vals) < nw:
        if k >= len(lines):
            raise PinnFormatError(f"{path}: file ends after {len(vals)} of {nw} network weights")
        for t in _strip(lines[k]).split():
            try:
                vals.append(float(t))
            except ValueError:
                raise PinnFormatError(f"{path}:{k + 1}: non-numeric network weight {t!r}") from None
        k += 1
    arr = np.array(vals[:nw])
    weights, biases, off = [], [], 0
    for q in range(1, len(layers)):
        n_in, n_out = layers[q - 1], layers[q]
        weights.append(arr[off : off + n_in * n_out].reshape(n_in, n_out))
        off += n_in * n_out
        biases.append(arr[off : off + n_out].copy())
        off += n_out
    return PinnFile(
        gimethod, giref, actfunc, elements, masses, cut[0], cut[1], cut[2], cut[3], cut[4], orders, centres,
        layers, flag, baseline, weights, biases, comments=lines[:3],
    )


def write_pinn_file(pf: PinnFile, path: str | os.PathLike) -> Path:
    """Write a :class:`PinnFile` (numbers with 17 significant digits: re-reading is exact)."""
    path = Path(path)

    def f(x: float) -> str:
        return repr(float(x))

    out = [(pf.comments[k] if k < len(pf.comments) else "#") for k in range(3)]
    out = [c if c.strip() else "#" for c in out]
    out.append(f" {pf.gimethod} {f(pf.giref)} {pf.actfunc} - Gi version, reference Gi and type of logistic function.")
    out.append(f" {len(pf.elements)} - number of chemical species in the system.")
    out += [f" {e} {f(m)}" for e, m in zip(pf.elements, pf.masses)]
    out.append(" " + " ".join(f(x) for x in (pf.d1, pf.d2, pf.rc, pf.hc, pf.sigma_g)))
    out.append(f" {len(pf.orders)} " + " ".join(str(int(x)) for x in pf.orders))
    out.append(f" {len(pf.centres)} " + " ".join(f(x) for x in pf.centres))
    out.append(f" {len(pf.layers)} " + " ".join(str(int(x)) for x in pf.layers))
    out.append(f" {int(pf.baseline_flag)} " + " ".join(f(x) for x in pf.baseline))
    for W, b in zip(pf.weights, pf.biases):
        out += [f(x) for x in np.asarray(W).ravel()]
        out += [f(x) for x in np.asarray(b).ravel()]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(out) + "\n")
    os.replace(tmp, path)
    return path


ACTIVATIONS = {0: "sigmoid", 1: "pinn_sigmoid", 2: "tanh"}
ACTIVATION_CODES = {v: k for k, v in ACTIVATIONS.items()}


def load_pinn(path: str | os.PathLike, elements: Sequence[str] | None = None):
    """``physml.load`` importer: a Potential with a PINN bond-order term and a
    physics-informed provider reproducing the authors' pair style.

    The file names its elements and their order (which indexes its parameter blocks), so
    ``elements`` can only confirm them: a different list is an error, never a silent
    reordering. MEAM-style options (``library``, ``types``) are not accepted."""
    from physml.ml.pinn import potential_from_pinn_file

    pot = potential_from_pinn_file(read_pinn(path), source=str(path))
    if elements is not None and list(elements) != list(pot.species):
        raise ValueError(f"{path}: the file defines the elements {list(pot.species)} in this order; elements={list(elements)} do not match")
    return pot


def write_pinn(potential, path: str | os.PathLike) -> Path:
    """Export a physml PINN-BOP potential to the ``.pinn`` format."""
    from physml.ml.pinn import pinn_file_from_potential

    return write_pinn_file(pinn_file_from_potential(potential), path)
