"""Optional ``torch.compile`` of hot per-pair kernels (opt-in).

Eager PyTorch runs each elementwise operation and gather as a separate pass over memory;
Inductor fuses a kernel's gathers and arithmetic into one loop (6–7× faster on the EAM
per-pair kernel on this project's CPU). Compilation costs ~20 s on first use (cached on
disk afterwards), so it is off by default: enable with ``PHYSML_COMPILE=1`` or
``physml.compile.enable()``. Only inference kernels are compiled (no double backward).
"""

from __future__ import annotations

import os
from typing import Callable

_ENABLED = [os.environ.get("PHYSML_COMPILE", "0") not in ("0", "", "false", "False")]
_CACHE: dict[str, Callable] = {}


def enable(flag: bool = True) -> None:
    _ENABLED[0] = bool(flag)


def enabled() -> bool:
    return _ENABLED[0]


def maybe_compile(name: str, fn: Callable) -> Callable:
    """``fn`` compiled with dynamic shapes when enabled (cached per name), else ``fn``."""
    if not _ENABLED[0]:
        return fn
    if name not in _CACHE:
        import torch

        _CACHE[name] = torch.compile(fn, dynamic=True)
    return _CACHE[name]
