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
    "4. Answer in one to three short sentences. Give the specific names, roles, "
    "organisations, places, numbers and dates exactly as the passages state them; when "
    "asked who someone is, give their job title and employer as the passages state them.\n"
    "5. Do not talk about the passages themselves; just cite them."
)

REWRITE_SYSTEM = (
    "Rewrite the user's last question so that it can be understood without the "
    "conversation: replace pronouns and vague references (he, she, it, they, that, the "
    "deal) with what they refer to. Keep it short. Output only the rewritten question."
)


def build_rewrite_messages(question: str, history: Sequence[tuple[str, str]]) -> list[dict]:
    """Messages asking the model for a standalone version of a follow-up question."""
    turns = "\n".join(f"User: {u}\nAssistant: {a[:400]}" for u, a in history[-3:])
    return [
        {"role": "system", "content": REWRITE_SYSTEM},
        {
            "role": "user",
            "content": f"Conversation:\n{turns}\n\nLast question: {question}\n\n"
            "Rewritten question:",
        },
    ]


def format_passages(passages: Sequence[Passage]) -> str:
    return "\n\n".join(
        f"[{i}] (from {p.title} — {p.source})\n{p.text}" for i, p in enumerate(passages, 1)
    )


def build_messages(question: str, passages: Sequence[Passage]) -> list[dict[str, str]]:
    """System rules, then one user turn: the numbered passages and the question."""
    return [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": f"Passages:\n\n{format_passages(passages)}\n\nQuestion: {question}",
        },
    ]
