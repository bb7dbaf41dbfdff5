"""Fixtures shared by the tests; the fakes they build on are in `tests.fakes`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import make_engine


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "paris.md").write_text(
        "# Paris Travel Notes\n\nParis is the capital of France. The Eiffel Tower was "
        "completed in 1889.\n\nThe Louvre is the most visited museum in the world.\n",
        "utf-8",
    )
    (folder / "tea.txt").write_text(
        "Green Tea Brewing Guide\n\nGreen tea should be brewed at 80 degrees Celsius. "
        "Steep it for two minutes.\nON NOW\nBlack tea needs boiling water and four minutes.\n",
        "utf-8",
    )
    return folder


@pytest.fixture
def engine_factory(tmp_path: Path):
    return lambda replies=(), **kw: make_engine(tmp_path, replies, **kw)
