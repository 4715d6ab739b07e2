"""The .pinn format: round trips, CRLF files, dialect detection, malformed files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.build import bulk

import physml
from physml.io.pinn_file import PinnFormatError, read_pinn


def test_round_trip_is_exact(data_dir, tmp_path):
    src = data_dir / "pinn" / "Al_2020.pinn"
    pot = physml.load(src)
    out = tmp_path / "Al_copy.pinn"
    physml.io.pinn_file.write_pinn(pot, out)
    back = physml.load(out)
    for (k, v), (k2, v2) in zip(pot.state_dict().items(), back.state_dict().items()):
        assert k == k2 and torch.equal(v, v2), k
    a, b = read_pinn(src), read_pinn(out)
    for W1, W2 in zip(a.weights, b.weights):
        np.testing.assert_array_equal(W1, W2)
    np.testing.assert_array_equal(a.baseline, b.baseline)
    at = bulk("Al", "fcc", a=4.0, cubic=True) * (2, 2, 2)
    at.rattle(0.1, seed=1)
    assert pot.evaluate(at)[0]["energy"] == back.evaluate(at)[0]["energy"]
    # and through the physml model format too
    physml.save(pot, tmp_path / "m")
    again = physml.load(tmp_path / "m")
    assert again.evaluate(at)[0]["energy"] == pot.evaluate(at)[0]["energy"]


def test_crlf_ta_loads(data_dir):
    assert b"\r\n" in (data_dir / "pinn" / "Ta_2020.pinn").read_bytes()
    pot = physml.load(data_dir / "pinn" / "Ta_2020.pinn")
    e = pot.evaluate(bulk("Ta", "bcc", a=3.30))[0]["energy"]
    assert -8.5 < e < -7.5  # cohesive energy of Ta ≈ 8.1 eV


def _lines(data_dir):
    return (data_dir / "pinn" / "Al_2020.pinn").read_text().splitlines()


def test_other_dialect_refused(tmp_path):
    p = tmp_path / "aladyn.pinn"
    p.write_text("\n".join(["1 2 3", "4 5", "6", "0.5 1", "x"] + ["1.0"] * 20))
    with pytest.raises(PinnFormatError, match="detected dialect: AladynPi-style"):
        physml.load(p)


@pytest.mark.parametrize(
    "edit,match",
    [
        (lambda L: L[:3] + ["2 0.0"] + L[4:], "line 4 has 2 words"),
        (lambda L: L[:6] + [" 0 0.1 6.0 1.5"] + L[7:], r":7: cutoff line .* expected 5 numbers"),
        (lambda L: L[:9] + [" 4 40 16 16 9"] + L[10:], "output layer has 9 nodes"),
        (lambda L: L[:500], "file ends after"),
        (lambda L: L[:100] + ["abc"] + L[101:], r":101: non-numeric network weight"),
    ],
)
def test_malformed_files(data_dir, tmp_path, edit, match):
    p = tmp_path / "bad.pinn"
    p.write_text("\n".join(edit(_lines(data_dir))))
    with pytest.raises(PinnFormatError, match=match):
        physml.load(p)
