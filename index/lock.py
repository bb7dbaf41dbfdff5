"""One writer per index directory, enforced by the kernel.

`flock` is released by the kernel when the holder exits, however it exits (SIGKILL
included), so a crashed indexer never leaves a stale lock behind. Readers never lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import IndexLockedError

LOCK_FILE = "write.lock"


@contextmanager
def write_lock(folder: Path) -> Iterator[None]:
    """Hold the directory's write lock, or fail at once if another process has it."""
    path = folder / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise IndexLockedError(
                f"{folder} is being written by another process (pid {holder}); "
                "wait for it to finish. Searching the index still works meanwhile."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
