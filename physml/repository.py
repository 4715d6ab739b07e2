"""A local potential repository: a folder of physml models with a searchable index.

Layout::

    REPO/
      index.json                     # {"format": "physml-repository", "entries": [...]}
      models/<name>-<hash12>/        # the physml model (model.json + weights.safetensors)

Each index entry records the model hash (sha256 of architecture and tensors), species,
term kinds, cutoff, training-data hashes, metrics and parent models (the elemental
potentials an alloy inherits), so users find the one W that all their W alloys share:
``physml repo list --species W`` lists it, ``physml repo show NAME`` shows which alloys
were built on it. The index is rewritten atomically; adding the same model twice is a
no-op (same hash).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from physml.io.model_file import is_model, load_model, model_hash, read_model_json, save

INDEX = "index.json"
FORMAT = "physml-repository"


@dataclass
class Entry:
    name: str
    hash: str
    path: str  # relative to the repository root
    species: list[str]
    terms: list[str]
    providers: list[str]
    cutoff: float
    added: str
    description: str = ""
    data_hashes: list[str] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    parents: list[str] = field(default_factory=list)  # hashes of inherited models

    def summary(self) -> str:
        return f"{self.name:24s} {'-'.join(self.species):10s} {','.join(self.terms):24s} {self.hash[:12]}  {self.added}"


class Repository:
    """A potential repository rooted at ``root`` (created on first ``add``)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    # -------------------------------------------------------------- index I/O
    def _read(self) -> list[Entry]:
        f = self.root / INDEX
        if not f.exists():
            return []
        try:
            d = json.loads(f.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{f}: corrupt repository index ({err})") from None
        if d.get("format") != FORMAT:
            raise ValueError(f"{f}: not a physml repository index")
        return [Entry(**e) for e in d["entries"]]

    def _write(self, entries: list[Entry]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".index-", suffix=".json")
        with os.fdopen(fd, "w") as fh:
            json.dump({"format": FORMAT, "entries": [asdict(e) for e in entries]}, fh, indent=2)
        os.replace(tmp, self.root / INDEX)

    # -------------------------------------------------------------- queries
    def entries(self, species: list[str] | None = None, term: str | None = None) -> list[Entry]:
        out = self._read()
        if species:
            out = [e for e in out if set(species) <= set(e.species)]
        if term:
            out = [e for e in out if term in e.terms]
        return out

    def find(self, key: str) -> Entry:
        """An entry by name or (a unique prefix of) its hash."""
        entries = self._read()
        hits = [e for e in entries if e.name == key] or [e for e in entries if e.hash.startswith(key)]
        if not hits:
            raise KeyError(f"no model {key!r} in repository {self.root}")
        if len(hits) > 1:
            raise KeyError(f"{key!r} is ambiguous in {self.root}: {[e.name for e in hits]}")
        return hits[0]

    def children(self, key: str) -> list[Entry]:
        h = self.find(key).hash
        return [e for e in self._read() if h in e.parents]

    def path(self, key: str) -> Path:
        return self.root / self.find(key).path

    def load(self, key: str):
        return load_model(self.path(key))

    # -------------------------------------------------------------- changes
    def add(self, model: str | os.PathLike, name: str | None = None, description: str = "", metrics: dict | None = None) -> Entry:
        """Copy a physml model into the repository and index it."""
        model = Path(model)
        if not is_model(model):
            raise ValueError(f"{model}: not a physml model (import other formats with physml.load and physml.save first)")
        pot = load_model(model)
        h = model_hash(pot)
        desc = read_model_json(model)
        entries = self._read()
        for e in entries:
            if e.hash == h:
                return e
        name = name or model.name.removesuffix(".physml").removesuffix(".zip")
        if any(e.name == name for e in entries):
            raise ValueError(f"a different model named {name!r} is already in {self.root}; choose another --name")
        meta = desc.get("metadata", {}) or {}
        if metrics is None:
            metrics = meta.get("metrics", {})
            mfile = model.parent / "metrics.json" if model.is_dir() else None
            if not metrics and mfile is not None and mfile.exists():
                metrics = json.loads(mfile.read_text())
        rel = f"models/{name}-{h[:12]}"
        dest = self.root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists():
            save(pot, dest)  # re-saved: normalised layout, atomic
        parents = [p.get("hash", p) if isinstance(p, dict) else p for p in meta.get("parents", [])]
        entry = Entry(
            name=name,
            hash=h,
            path=rel,
            species=list(desc["species"]),
            terms=[c["term"]["kind"] for c in desc["components"]],
            providers=[c["provider"]["kind"] for c in desc["components"]],
            cutoff=float(desc.get("cutoff", pot.cutoff)),
            added=time.strftime("%Y-%m-%dT%H:%M:%S"),
            description=description or meta.get("description", ""),
            data_hashes=_data_hashes(meta),
            metrics=metrics or {},
            parents=parents,
        )
        self._write(entries + [entry])
        return entry

    def remove(self, key: str) -> None:
        e = self.find(key)
        kids = self.children(key)
        if kids:
            raise ValueError(f"{e.name} is a parent of {[k.name for k in kids]}; remove those first")
        self._write([x for x in self._read() if x.hash != e.hash])
        shutil.rmtree(self.root / e.path, ignore_errors=True)


def _data_hashes(meta: dict) -> list[str]:
    """Training-data hashes of a model: ``metadata.data_hashes`` and the hash that
    ``physml fit`` records in ``metadata.data.hash``."""
    out = list(meta.get("data_hashes", []))
    h = (meta.get("data") or {}).get("hash") if isinstance(meta.get("data"), dict) else None
    if h and h not in out:
        out.append(h)
    return out


def default_root() -> Path:
    return Path(os.environ.get("PHYSML_REPO", Path.home() / ".physml" / "repository"))
