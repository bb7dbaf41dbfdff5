"""Durable small-file writes: a crash or power cut leaves the old file or the new one,
never a half-written one (write aside, fsync, rename, fsync the folder)."""

from __future__ import annotations

import json
import os
from pathlib import Path


def fsync(path: Path) -> None:
    """Flush a file's or a folder's entry to disk (a folder: so a rename in it lasts)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_synced(path: Path, text: str) -> None:
    """Write `text` to `path` and flush it to disk before returning."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def write_json_atomic(path: Path, data: dict) -> None:
    """Replace `path` with `data` as JSON, all or nothing."""
    tmp = path.with_suffix(".tmp")
    write_synced(tmp, json.dumps(data, indent=2))
    os.replace(tmp, path)
    fsync(path.parent)
