"""Opt-in process tuning helpers."""

import platform

import pytest

from physml.runtime import retain_memory


@pytest.mark.skipif(platform.system() != "Linux", reason="mallopt is glibc-specific")
def test_retain_memory_sets_glibc_thresholds():
    assert retain_memory() is True
