"""Identifiers sort by creation time as plain strings, across every character boundary."""
from __future__ import annotations

import time

import pytest

from chalicelib.ids import new_id


def test_ids_sort_in_creation_order(monkeypatch):
    # Milliseconds chosen so the encoded prefix crosses every alphabet boundary (9→a, v→10...).
    moments = [1_700_000_000_000 + step * 997 for step in range(2000)]
    ids = []
    for ms in moments:
        monkeypatch.setattr(time, "time", lambda ms=ms: ms / 1000)
        ids.append(new_id("c"))
    assert sorted(ids) == ids


@pytest.mark.parametrize("prefix", ["c", "t", "key"])
def test_ids_are_unguessable_and_path_safe(prefix):
    made = {new_id(prefix) for _ in range(1000)}
    assert len(made) == 1000
    assert all(i.startswith(prefix + "_") and i[len(prefix) + 1:].isalnum() for i in made)
