"""Conversations that survive the tab, a restart and a crash: one SQLite file in the index.

Each finished turn (question and the whole checked `Answer`, with citations and passages)
is written in one transaction, so a process killed mid-answer (SIGKILL included) leaves
every earlier turn intact and no half turn; WAL mode lets readers (the conversation list)
run while a turn is written. Conversations belong to a user name ("" when the UI has no
login): every read and write is filtered by it, so one user cannot list, open, rename,
delete or export another's, even knowing its id.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, UnknownConversationError
from .types import Answer

FILE = "conversations.sqlite3"
TITLE_CHARS = 80  # a conversation is named after its first question, cut to this
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_by_user ON conversations (user, updated);
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (conversation, n)
);
"""


@dataclass(frozen=True)
class ConversationInfo:
    """One entry of the list: enough to show and reopen it."""

    id: str
    title: str
    created: float
    updated: float
    turns: int


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created: float
    updated: float
    answers: tuple[Answer, ...]  # each turn's answer; `answer.question` is its question

    def history(self) -> list[tuple[str, str]]:
        """The turns as (question, answer text), for a follow-up."""
        return [(a.question, a.text) for a in self.answers]


def _title(question: str) -> str:
    q = " ".join(question.split())
    return q if len(q) <= TITLE_CHARS else q[: TITLE_CHARS - 1].rstrip() + "…"


class Conversations:
    """The saved conversations of one index (`engine.conversations`)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection per operation: callers are UI and API worker threads."""
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            with db:  # one transaction: committed on success, rolled back on error
                yield db

    def create(self, user: str = "", title: str = "") -> str:
        """A new, empty conversation; its id. Named after its first question unless `title`."""
        cid = uuid.uuid4().hex
        now = time.time()
        with self._db() as db:
            db.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                (cid, user, _title(title), now, now),
            )
        return cid

    def add(self, cid: str, answer: Answer, user: str = "") -> None:
        """Save a finished turn (one transaction: all of it or nothing)."""
        now = time.time()
        with self._db() as db:
            row = self._row(db, cid, user)
            n = db.execute("SELECT COUNT(*) FROM turns WHERE conversation = ?", (cid,)).fetchone()
            data = json.dumps(answer.to_dict(), ensure_ascii=False)
            db.execute(
                "INSERT INTO turns VALUES (?, ?, ?, ?, ?)",
                (cid, n[0], answer.question, data, now),
            )
            title = row[0] or _title(answer.question)
            db.execute(
                "UPDATE conversations SET updated = ?, title = ? WHERE id = ?", (now, title, cid)
            )

    def list(self, user: str = "") -> list[ConversationInfo]:
        """This user's conversations, the most recently used first."""
        with self._db() as db:
            rows = db.execute(
                "SELECT c.id, c.title, c.created, c.updated,"
                " (SELECT COUNT(*) FROM turns t WHERE t.conversation = c.id)"
                " FROM conversations c WHERE c.user = ? ORDER BY c.updated DESC, c.rowid DESC",
                (user,),
            ).fetchall()
        return [ConversationInfo(*row) for row in rows]

    def get(self, cid: str, user: str = "") -> Conversation:
        with self._db() as db:
            title, created, updated = self._row(db, cid, user)
            turns = db.execute(
                "SELECT question, answer FROM turns WHERE conversation = ? ORDER BY n", (cid,)
            ).fetchall()
        answers = tuple(Answer.from_dict(q, json.loads(a)) for q, a in turns)
        return Conversation(cid, title, created, updated, answers)

    def rename(self, cid: str, title: str, user: str = "") -> None:
        if not isinstance(title, str) or not title.strip():
            raise InputError("a conversation needs a non-empty name")
        with self._db() as db:
            self._row(db, cid, user)
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (_title(title), cid))

    def delete(self, cid: str, user: str = "") -> None:
        with self._db() as db:
            self._row(db, cid, user)
            db.execute("DELETE FROM conversations WHERE id = ?", (cid,))

    def markdown(self, cid: str, user: str = "") -> str:
        """The conversation as Markdown: each question, its answer, and its citations with
        file, page, character range and quoted supporting text."""
        conv = self.get(cid, user)
        parts = [f"# {conv.title}\n"]
        for a in conv.answers:
            parts.append(f"## {a.question}\n\n{a.text}\n")
            for c in a.citations:
                page = f", page {c.page}" if c.page else ""
                quote = "\n".join(f"> {line}" for line in c.text.splitlines() if line.strip())
                parts.append(
                    f"[{c.n}] {c.title} — `{c.source}`{page}, characters {c.start}–{c.end}\n\n"
                    f"{quote}\n"
                )
        return "\n".join(parts)

    @staticmethod
    def _row(db: sqlite3.Connection, cid: str, user: str) -> tuple[str, float, float]:
        """(title, created, updated) of the user's conversation `cid`; another user's is
        as unknown as a made-up id."""
        row = db.execute(
            "SELECT title, created, updated FROM conversations WHERE id = ? AND user = ?",
            (cid, user),
        ).fetchone()
        if row is None:
            raise UnknownConversationError(f"no conversation {cid!r}")
        return row
