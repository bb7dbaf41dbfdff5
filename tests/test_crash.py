"""Crash safety: SIGKILL the indexer at random moments; the index must stay consistent.

A child process syncs a folder while the test kills it at a random point of its work
(reading, embedding, publishing, collecting garbage). Between kills the folder changes
(files added, edited, deleted), so kills also land in updates and removals. After every
kill a reader must see a consistent index; at the end one more run completes the work,
every document is findable exactly once, and a further run changes nothing.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index import Store, sync
from index.lexical import tokenize
from tests.fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent
KILLS = 24

CHILD = """
import sys, time
from tests.fakes import FakeEmbedder
from index import Store, sync

class SlowEmbedder(FakeEmbedder):
    def embed(self, texts):  # a real model takes time per batch: give kills room to land
        time.sleep(0.0015 * len(texts))
        return super().embed(texts)

store = Store(sys.argv[1], SlowEmbedder())
print("ready", flush=True)
sync(store, [sys.argv[2]])
print("done", flush=True)
"""

WORDS = (
    "canola tariff beijing ottawa premier minister trade steel export harbour vessel "
    "grain summit treaty quota pipeline fishery lumber aluminium dairy tourism"
).split()


def write_doc(folder: Path, n: int, version: int, rng: random.Random) -> None:
    """A document with a unique marker word, so search can find it by that word alone."""
    sentences = [f"Report zq{n}x{version} covers the regional economy in detail."]
    for _ in range(rng.randint(20, 45)):
        picked = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16)))
        sentences.append(f"The {picked} story continued.")
    (folder / f"doc{n:03d}.txt").write_text(" ".join(sentences), "utf-8")


def check_consistent(db: Path) -> None:
    """What a reader sees after a kill: only whole documents, both indexes agreeing."""
    store = Store(db, FakeEmbedder())
    docs = store.documents()
    committed = [cid for d in docs.values() for cid in d.chunk_ids]
    assert len(committed) == len(set(committed))  # no chunk listed twice
    assert store.stored_ids(committed) == set(committed)  # every listed vector is present
    assert set(store.lexical.ids) == set(committed)  # vector and lexical sides agree
    assert store.count() == len(committed)
    for hit in store.search("canola tariff summit", k=10):
        assert hit.source in docs


def run_child(db: Path, folder: Path, kill_after: float | None) -> tuple[bool, float]:
    """Run an indexer; kill it `kill_after` seconds into its work.

    Returns whether it finished, and how long its work ran."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(folder)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "ready", child.stderr.read()
    ready = time.perf_counter()
    if kill_after is None:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0 and "done" in out, err
        return True, time.perf_counter() - ready
    time.sleep(kill_after)
    child.send_signal(signal.SIGKILL)
    out, _ = child.communicate()
    return "done" in out, time.perf_counter() - ready


@pytest.mark.slow
def test_sigkill_at_random_points_never_leaves_a_half_indexed_document(tmp_path):
    rng = random.Random(20261122)
    folder, db = tmp_path / "docs", tmp_path / "db"
    folder.mkdir()
    versions = dict.fromkeys(range(40), 0)
    for n in versions:
        write_doc(folder, n, 0, rng)

    _, window = run_child(tmp_path / "probe-db", folder, None)  # how long a whole run takes
    interrupted = 0
    for _ in range(KILLS):
        finished, ran = run_child(db, folder, rng.uniform(0.0, window))
        if finished:  # less work was left than we thought: aim earlier next time
            window = max(0.05, ran * 0.9)
        else:
            interrupted += 1
        check_consistent(db)
        # Change the folder before the next attempt: edit, add and delete documents.
        for n in rng.sample(sorted(versions), 8):
            versions[n] += 1
            write_doc(folder, n, versions[n], rng)
        new = max(versions) + 1
        versions[new] = 0
        write_doc(folder, new, 0, rng)
        gone = rng.choice(sorted(versions))
        del versions[gone]
        (folder / f"doc{gone:03d}.txt").unlink()
    print(f"{interrupted} of {KILLS} kills landed mid-work")
    assert interrupted >= KILLS * 2 // 3, f"only {interrupted} kills landed mid-work"

    store = Store(db, FakeEmbedder())
    sync(store, [folder])  # completes whatever the kills left undone
    docs = store.documents()
    assert set(docs) == {f"doc{n:03d}.txt" for n in versions}
    for n, version in versions.items():
        marker = f"zq{n}x{version}"
        assert tokenize(marker) == [marker]
        found = [h.source for h in store.search(marker, k=5) if marker in h.text]
        assert found == [f"doc{n:03d}.txt"]  # findable, exactly once
    assert store._collection.count() == store.count()  # no orphaned vectors left
    again = sync(store, [folder])
    assert not again.changed and again.chunks_embedded == 0
    assert len(again.unchanged) == len(versions)
