"""Loader of physml's C++ inference kernels (``physml/csrc``).

The PINN descriptors and bond-order energies are per-atom computations over a few hundred
neighbours and a few thousand screening triplets. As tensor programs they spend most of
their time materialising and gathering index arrays; a loop over centre atoms with
per-atom buffers does the same arithmetic once, in cache (≈ 10× faster on one core). The
kernels live in a torch-free core (``pinn_kernels.cpp``, API in ``pinn_kernels.h``, usable
from a LAMMPS pair style) and are exposed as torch custom operators
(``torch.ops.physml.*``, ``TORCH_LIBRARY(physml, m)``).

They are compiled with :func:`torch.utils.cpp_extension.load` on first use (≈ 30 s, once;
nothing is compiled by ``pip install``) into ``$PHYSML_EXT_DIR`` if set, else
``physml/csrc/build`` when the package directory is writable, else
``~/.cache/physml/ext``; the sub-directory is keyed by the torch and Python versions and a
hash of the sources, so a change rebuilds. Concurrent first uses (pytest-xdist) wait on
torch's build lock.

Selection (:func:`use_kernels`): CPU float64 tensors, no double backward requested (the
kernels provide exact first derivatives only; force/stress training uses the torch path),
and ``PHYSML_NO_EXT`` unset. If the build fails (no compiler, no ninja), a warning is
issued once and the torch implementation is used.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import warnings
from pathlib import Path

import torch

_SRC = Path(__file__).resolve().parent / "csrc"
_SOURCES = ("pinn_kernels.cpp", "torch_ops.cpp")
_HEADERS = ("pinn_kernels.h",)
#: -fno-math-errno and -fno-trapping-math let sqrt and branch-free selects be vectorised (results
#: unchanged: only errno and floating-point exception flags are not maintained); -fopenmp-simd
#: enables only the `omp simd` loop pragmas (no OpenMP runtime, no threads)
_CFLAGS = ["-O3", "-std=c++17", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd"]
_STATE: dict[str, object] = {"tried": False, "ok": False, "error": None}
_log = logging.getLogger("physml")


def disabled() -> bool:
    """True if ``PHYSML_NO_EXT`` is set to a true value (read at every call)."""
    return os.environ.get("PHYSML_NO_EXT", "0").strip().lower() not in ("0", "", "false", "no")


def kernel_cflags() -> list[str]:
    """Compiler flags of the kernels (also for builds outside Python, e.g. a LAMMPS plugin):
    AVX2/FMA code only where the CPU has them (torch's own detection), never -march=native,
    so a build directory shared between machines stays valid (the instruction set is part
    of the directory name)."""
    flags = list(_CFLAGS)
    cap = torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else "DEFAULT"
    if cap in ("AVX2", "AVX512"):
        flags += ["-mavx2", "-mfma"]
    return flags


def _tag() -> str:
    h = hashlib.sha256()
    for name in _SOURCES + _HEADERS:
        h.update((_SRC / name).read_bytes())
    h.update(" ".join(kernel_cflags()).encode())
    torch_tag = torch.__version__.replace("+", "_")
    return f"torch{torch_tag}-py{sys.version_info[0]}{sys.version_info[1]}-{h.hexdigest()[:12]}"


def build_directory() -> Path:
    """Where the extension is (or will be) built."""
    env = os.environ.get("PHYSML_EXT_DIR")
    if env:
        root = Path(env).expanduser()
    elif os.access(_SRC, os.W_OK):
        root = _SRC / "build"
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "physml" / "ext"
    return root / _tag()


def registered() -> bool:
    """True if the ``torch.ops.physml`` kernels are registered in this process already
    (by an earlier :func:`load`, or by a LAMMPS plugin that opened a kernel library)."""
    try:
        torch._C._dispatch_find_schema_or_throw("physml::pinn_bop", "")
    except RuntimeError:
        return False
    return True


def load(verbose: bool = False) -> bool:
    """Compile (first use) and load the kernels; True on success. Never raises: a failure
    is recorded (:func:`error`) and warned about once."""
    if _STATE["tried"]:
        return bool(_STATE["ok"])
    _STATE["tried"] = True
    if registered():
        # already registered in this process (the LAMMPS plugin opened a kernel library
        # first): loading a second copy would register the operators twice and abort
        _STATE["ok"] = True
        return True
    try:
        from torch.utils import cpp_extension

        if not cpp_extension.is_ninja_available():
            raise RuntimeError("the ninja build tool is not installed (pip install ninja)")
        bdir = build_directory()
        bdir.mkdir(parents=True, exist_ok=True)
        if not (bdir / "physml_kernels.so").exists():
            _log.info("physml: compiling the C++ kernels into %s (once, about 30 s)", bdir)
        cpp_extension.load(
            name="physml_kernels",
            sources=[str(_SRC / s) for s in _SOURCES],
            extra_cflags=kernel_cflags(),
            extra_include_paths=[str(_SRC)],
            build_directory=str(bdir),
            is_python_module=False,
            verbose=verbose,
        )
        _ = torch.ops.physml.pinn_bop  # registered?
        _STATE["ok"] = True
    except Exception as exc:  # compiler missing, build error, load error
        _STATE["error"] = f"{type(exc).__name__}: {exc}"
        warnings.warn(
            f"physml: C++ kernels unavailable ({_STATE['error']}); using the slower torch implementation. "
            "Set PHYSML_NO_EXT=1 to choose it explicitly.",
            RuntimeWarning,
            stacklevel=2,
        )
    return bool(_STATE["ok"])


def error() -> str | None:
    """Why the last :func:`load` failed (None if it did not)."""
    return _STATE["error"]  # type: ignore[return-value]


def available() -> bool:
    """Kernels enabled and loaded (compiles them on the first call)."""
    return not disabled() and load()


def use_kernels(*tensors: torch.Tensor) -> bool:
    """Whether a term or descriptor should run the C++ kernels on these inputs."""
    from physml.empirical.base import needs_double_backward

    if torch.is_grad_enabled() and needs_double_backward():
        return False
    for t in tensors:
        if t.device.type != "cpu" or t.dtype != torch.float64:
            return False
    return available()
