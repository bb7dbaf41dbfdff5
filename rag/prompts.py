"""The grounded prompt: rules in the system message, passages numbered in the user turn."""

from __future__ import annotations

from collections.abc import Sequence

from index.types import Passage

from .citations import REFUSAL

SYSTEM = (
    "You answer questions about a collection of documents. You are given numbered "
    "passages from those documents.\n"
    "Rules:\n"
    "1. Use only facts stated in the passages. Never use your own knowledge.\n"
    "2. Cite every sentence of your answer with the number of the passage that supports "
    "it, in square brackets, for example [1] or [2][3].\n"
    f'3. If the passages do not contain the answer, reply exactly: "{REFUSAL}"\n'
    "4. Answer in one to three short sentences. Name the specific people, places, "
    "numbers and dates the passages give."
)


def format_passages(passages: Sequence[Passage]) -> str:
    return "\n\n".join(
        f"[{i}] (from {p.title} — {p.source})\n{p.text}" for i, p in enumerate(passages, 1)
    )


def build_messages(
    question: str,
    passages: Sequence[Passage],
    history: Sequence[tuple[str, str]] = (),
) -> list[dict[str, str]]:
    """Chat messages for the model; earlier turns are kept without their passages."""
    messages = [{"role": "system", "content": SYSTEM}]
    for user, assistant in history:
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": assistant})
    messages.append(
        {
            "role": "user",
            "content": f"Passages:\n\n{format_passages(passages)}\n\nQuestion: {question}",
        }
    )
    return messages
