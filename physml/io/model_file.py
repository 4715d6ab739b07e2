"""The physml model format: JSON description + safetensors weights.

A model is a directory ``NAME/`` holding ``model.json`` (architecture, species, cutoffs,
units, physml version, provenance) and ``weights.safetensors`` (every tensor of the
potential's ``state_dict``), or the same two members in a single zip file (``*.physml``).
Loading executes nothing from the file: classes are looked up by name in
:mod:`physml.registry` and tensors are read by safetensors (no pickle).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from physml import __version__
from physml.potential import Component, Potential
from physml.registry import provider_class, term_class

FORMAT = "physml-model"
FORMAT_VERSION = 1


def describe(potential: Potential) -> dict:
    comps = []
    for c in potential.components:
        comps.append(
            {
                "name": c.name,
                "term": {"kind": c.term.kind, "config": c.term.config()},
                "provider": {"kind": c.provider.kind, "config": c.provider.config()},
            }
        )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "physml_version": __version__,
        "species": potential.species,
        "cutoff": potential.cutoff,
        "units": {"energy": "eV", "length": "Å", "force": "eV/Å", "stress": "eV/Å^3"},
        "dtype": str(potential.dtype).replace("torch.", ""),
        "components": comps,
        "metadata": potential.metadata,
    }


def _weights(potential: Potential) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in potential.state_dict().items()}


def model_hash(potential: Potential) -> str:
    """sha256 over the model description (minus metadata) and all tensors."""
    desc = describe(potential)
    desc.pop("metadata", None)
    desc.pop("physml_version", None)
    h = hashlib.sha256(json.dumps(desc, sort_keys=True).encode())
    for k, v in sorted(_weights(potential).items()):
        h.update(k.encode())
        h.update(v.to(torch.float64).numpy().tobytes() if v.is_floating_point() else v.numpy().tobytes())
    return h.hexdigest()


def save(potential: Potential, path: str | os.PathLike) -> Path:
    """Write ``potential`` to a directory (default) or a ``.physml``/``.zip`` single file.

    The write is atomic: files go to a temporary sibling and are renamed into place, so
    an existing model at ``path`` is never left half-written.
    """
    path = Path(path)
    from physml.compose.freeze import frozen_hashes, has_frozen_blocks

    desc = describe(potential)
    desc["model_hash"] = model_hash(potential)
    if has_frozen_blocks(potential):  # inherited (frozen) tensors, re-checked on load
        desc["frozen"] = frozen_hashes(potential)
    js = json.dumps(desc, indent=2, sort_keys=False).encode()
    blob = st_save(_weights(potential), metadata={"format": FORMAT})
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix in (".physml", ".zip"):
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("model.json", js)
            zf.writestr("weights.safetensors", blob)
        os.replace(tmp, path)
        return path
    tmpdir = Path(tempfile.mkdtemp(dir=path.parent, prefix=".tmp-"))
    (tmpdir / "model.json").write_bytes(js)
    (tmpdir / "weights.safetensors").write_bytes(blob)
    if path.exists():
        old = path.parent / f".old-{path.name}-{os.getpid()}"
        os.replace(path, old)
        os.replace(tmpdir, path)
        import shutil

        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmpdir, path)
    return path


def is_model(path: str | os.PathLike) -> bool:
    p = Path(path)
    if p.is_dir():
        return (p / "model.json").exists()
    if p.suffix in (".physml", ".zip") and p.is_file():
        return True
    return False


def read_model_json(path: str | os.PathLike) -> dict:
    js, _ = _read_members(Path(path))
    return json.loads(js)


def _read_members(path: Path) -> tuple[bytes, bytes]:
    if path.is_dir():
        try:
            return (path / "model.json").read_bytes(), (path / "weights.safetensors").read_bytes()
        except FileNotFoundError as err:
            raise ValueError(f"{path}: not a physml model directory ({err.filename} missing)") from None
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.read("model.json"), zf.read("weights.safetensors")
    except (zipfile.BadZipFile, KeyError) as err:
        raise ValueError(f"{path}: not a physml model file ({err})") from None


def load_model(path: str | os.PathLike, dtype: torch.dtype | None = None) -> Potential:
    path = Path(path)
    js, blob = _read_members(path)
    try:
        desc = json.loads(js)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}/model.json: invalid JSON ({err})") from None
    if desc.get("format") != FORMAT:
        raise ValueError(f"{path}: model.json has format {desc.get('format')!r}, expected {FORMAT!r}")
    species = desc["species"]
    comps = []
    for k, c in enumerate(desc["components"]):
        term = term_class(c["term"]["kind"]).from_config(c["term"]["config"], species)
        pcls = provider_class(c["provider"]["kind"])
        provider = pcls.from_config(c["provider"]["config"], term)
        comps.append(Component(term, provider, name=c.get("name")))
    pot = Potential(species, comps, metadata=desc.get("metadata", {}))
    weights = st_load(blob)
    state = pot.state_dict()
    missing = set(state) - set(weights)
    unexpected = set(weights) - set(state)
    if missing or unexpected:
        raise ValueError(f"{path}: weights do not match the architecture (missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]})")
    # buffers may have data-dependent shapes (tables): resize before loading
    for name, buf in list(pot.named_buffers()):
        if name in weights and tuple(weights[name].shape) != tuple(buf.shape):
            mod_name, _, attr = name.rpartition(".")
            mod = pot.get_submodule(mod_name) if mod_name else pot
            mod._buffers[attr] = torch.empty_like(weights[name])
    pot.load_state_dict(weights, strict=True)
    if desc.get("frozen"):
        from physml.compose.freeze import verify_frozen

        verify_frozen(pot, desc["frozen"], str(path))
    if dtype is not None:
        pot = pot.to(dtype)
    return pot
