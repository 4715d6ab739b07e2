"""Named public datasets, resolved by name.

Resolution order for a file of a named dataset:

1. ``$PHYSML_DATA_DIR/<relative path>`` (a local mirror, as on CI),
2. the user cache ``$PHYSML_CACHE_DIR`` (default ``~/.cache/physml/datasets``),
3. a download from ``$PHYSML_DATASET_URL/<relative path>`` (any URL scheme urllib
   handles, e.g. ``https://…`` or ``file://…``) into the cache.

Every file is verified against the sha256 recorded here; a download goes to a temporary
file and is moved into the cache only after its checksum matched, so a failed or
corrupted download never leaves a half-written file behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from physml.data.structures import Dataset, read_dataset


@dataclass(frozen=True)
class DatasetFile:
    path: str  # relative to the data root
    sha256: str


@dataclass(frozen=True)
class NamedDataset:
    name: str
    files: dict[str, DatasetFile]  # split name -> file
    citation: str
    licence: str


def _f(path: str, sha: str) -> DatasetFile:
    return DatasetFile(path, sha)


MLEARN = "Y. Zuo et al., J. Phys. Chem. A 124, 731 (2020)"
REGISTRY: dict[str, NamedDataset] = {
    "Ta-SNAP-2015": NamedDataset(
        "Ta-SNAP-2015",
        {"all": _f("Ta/Ta_fitsnap.extxyz", "240898b173800d597a4177d19616f294696ee8c658f980959c50f2b83fc3214e")},
        "A. P. Thompson et al., J. Comput. Phys. 285, 316 (2015)",
        "GPL-2.0 (FitSNAP)",
    ),
    "WBe-SNAP-2019": NamedDataset(
        "WBe-SNAP-2019",
        {"all": _f("WBe/WBe_fitsnap.extxyz", "e00cf1b3bfd88156a54f0431aa1921abffecab955045d80fc08fafa0779f7917")},
        "M. A. Wood et al., Phys. Rev. B 99, 184305 (2019)",
        "GPL-2.0 (FitSNAP)",
    ),
    "mlearn-Mo": NamedDataset("mlearn-Mo", {"train": _f("mlearn/Mo_train.extxyz", "fe9db2b289441c93f87de026285abbfded097118d1531ba1863cbb90e68ee991"), "test": _f("mlearn/Mo_test.extxyz", "0a87c7b95bf9d5a530d89000db7d478888695f8dab8a33d03638639c4c2d2338")}, MLEARN, "BSD-3-Clause"),
    "mlearn-Si": NamedDataset("mlearn-Si", {"train": _f("mlearn/Si_train.extxyz", "33cd2b3d32c6a1cbec843e6d709e8e82afa4f1e845d4c2d6d40a9f50911829ea"), "test": _f("mlearn/Si_test.extxyz", "b57367daf622ec8353ae3b6c623fbb09ecb3b2a7292da685cf10274a10f3d0fe")}, MLEARN, "BSD-3-Clause"),
    "mlearn-Ge": NamedDataset("mlearn-Ge", {"train": _f("mlearn/Ge_train.extxyz", "c71d79643970967d69a38e1d98949305b6a317f023ce264284568265e0995200"), "test": _f("mlearn/Ge_test.extxyz", "e592e9a4aa557872555a471008941c1ab3647e5d17e04a74642849c39f319272")}, MLEARN, "BSD-3-Clause"),
    "mlearn-Li": NamedDataset("mlearn-Li", {"train": _f("mlearn/Li_train.extxyz", "831acc2958677d0bc9da3cd1c1beea856ac668bd8fde200d81abe7a3e7536569"), "test": _f("mlearn/Li_test.extxyz", "ec2815991a557dda2bf2e8525acc3d5be470862c2e19a69fd6f75d7cb796c5ff")}, MLEARN, "BSD-3-Clause"),
    "mlearn-Cu": NamedDataset("mlearn-Cu", {"test": _f("mlearn/Cu_test.extxyz", "fada629ed38b89a89c599d4a8350b3c093d56c9a83d40e32bda57ebdcce458f9")}, MLEARN, "BSD-3-Clause"),
    "mlearn-Ni": NamedDataset("mlearn-Ni", {"test": _f("mlearn/Ni_test.extxyz", "fb28b048670d2da66f9489d66f5b24ba76815c78514477a65a8434ce653e08c1")}, MLEARN, "BSD-3-Clause"),
}


class DatasetNotFound(FileNotFoundError):
    pass


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_dir() -> Path:
    return Path(os.environ.get("PHYSML_CACHE_DIR", Path.home() / ".cache" / "physml" / "datasets"))


def _verify(path: Path, f: DatasetFile) -> Path:
    got = sha256_file(path)
    if got != f.sha256:
        raise ValueError(f"{path}: sha256 {got} does not match the registry's {f.sha256} for {f.path}")
    return path


def download(url: str, dest: Path, sha256: str) -> Path:
    """Fetch ``url`` to ``dest`` atomically, accepting it only if its sha256 matches."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=120) as resp:
            shutil.copyfileobj(resp, out)
        got = sha256_file(Path(tmp))
        if got != sha256:
            raise ValueError(f"download {url}: sha256 {got} does not match the expected {sha256}")
        os.replace(tmp, dest)
        return dest
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def resolve(name: str, split: str = "all") -> Path:
    """Local path of one file of a named dataset (mirror, cache or download)."""
    if name not in REGISTRY:
        raise KeyError(f"unknown dataset {name!r}; known: {sorted(REGISTRY)}")
    ds = REGISTRY[name]
    if split not in ds.files:
        raise KeyError(f"dataset {name} has splits {sorted(ds.files)}, not {split!r}")
    f = ds.files[split]
    root = os.environ.get("PHYSML_DATA_DIR")
    if root and (Path(root) / f.path).exists():
        return _verify(Path(root) / f.path, f)
    cached = cache_dir() / f.path
    if cached.exists():
        return _verify(cached, f)
    base = os.environ.get("PHYSML_DATASET_URL")
    if not base:
        raise DatasetNotFound(
            f"dataset {name} ({f.path}) not found: set PHYSML_DATA_DIR to a local mirror, or "
            f"PHYSML_DATASET_URL to a base URL to download it into {cache_dir()}"
        )
    return download(base.rstrip("/") + "/" + f.path, cached, f.sha256)


def load_named(name: str, split: str = "all", **kwargs) -> Dataset:
    return read_dataset(resolve(name, split), **kwargs)
