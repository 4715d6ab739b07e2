"""The local potential repository and its CLI."""

from __future__ import annotations

import json

import pytest

import physml
from physml.cli import main
from physml.repository import Repository
from tests.test_potential import morse_potential


def test_add_list_show_parents(tmp_path, capsys):
    pot = morse_potential()
    physml.save(pot, tmp_path / "parent")
    child = morse_potential()
    child.components[0].provider.set_values({"D": 0.5})
    child.metadata["parents"] = [physml.io.model_file.model_hash(pot)]
    child.metadata["data_hashes"] = ["abc"]
    physml.save(child, tmp_path / "child")
    repo = Repository(tmp_path / "repo")
    e1 = repo.add(tmp_path / "parent", name="CuNi-base")
    assert repo.add(tmp_path / "parent").hash == e1.hash  # same model twice: no-op
    e2 = repo.add(tmp_path / "child", name="CuNi-derived")
    assert e2.parents == [e1.hash]
    assert [c.name for c in repo.children("CuNi-base")] == ["CuNi-derived"]
    assert [e.name for e in repo.entries(species=["Ni"])] == ["CuNi-base", "CuNi-derived"]
    assert repo.entries(species=["W"]) == []
    back = repo.load(e1.hash[:10])
    assert physml.io.model_file.model_hash(back) == e1.hash
    with pytest.raises(ValueError, match="parent of"):
        repo.remove("CuNi-base")
    # CLI
    assert main(["repo", "--repo", str(tmp_path / "repo"), "list", "--species", "Cu"]) == 0
    out = capsys.readouterr().out
    assert "CuNi-base" in out and "CuNi-derived" in out
    assert main(["repo", "--repo", str(tmp_path / "repo"), "show", "CuNi-derived"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["parents"] == ["CuNi-base"] and shown["data_hashes"] == ["abc"]


def test_rejects_non_model_and_name_clash(tmp_path):
    repo = Repository(tmp_path / "repo")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(ValueError, match="not a physml model"):
        repo.add(tmp_path / "x.txt")
    physml.save(morse_potential(), tmp_path / "a")
    other = morse_potential()
    other.components[0].provider.set_values({"D": 0.9})
    physml.save(other, tmp_path / "b")
    repo.add(tmp_path / "a", name="same")
    with pytest.raises(ValueError, match="already in"):
        repo.add(tmp_path / "b", name="same")
    (tmp_path / "repo" / "index.json").write_text("{")
    with pytest.raises(ValueError, match="corrupt repository index"):
        repo.entries()
