"""What every generator is: chat messages in, streamed text deltas out, with usage.

`LlamaCppGenerator` (llamacpp.py) runs the GGUF in this process; the
`OpenAICompatibleGenerator` (openai.py) sends the same prompts to a server. Tests use
scripted fakes with the same methods.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from ..types import Usage

Message = dict[str, str]
MESSAGE_OVERHEAD = 8  # chat-template tokens per message (role markers, newlines)


@runtime_checkable
class Generator(Protocol):
    """A chat model that streams text deltas.

    `stream_chat` may return a `ChatStream`, whose `usage` then holds the model's own
    token counts. `warm_up` loads the model (and may evaluate `messages`, the static
    system prompt, into its cache) so the first question runs at full speed; a scripted
    fake may leave it out."""

    name: str

    def stream_chat(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float
    ) -> Iterator[str]: ...

    def count_tokens(self, messages: Sequence[Message]) -> int: ...

    def warm_up(self, messages: Sequence[Message] | None = None) -> None: ...


class ChatStream(Iterator[str]):
    """Text deltas; once exhausted, `usage` holds the model's own token counts (a remote
    server's deltas need not be one token each, so counting them would be wrong)."""

    def __init__(self, deltas: Iterator[str], usage: Usage) -> None:
        self._deltas = deltas
        self.usage = usage

    def __next__(self) -> str:
        return next(self._deltas)

    def close(self) -> None:
        """Stop generating now: the model's lock is released at once."""
        close = getattr(self._deltas, "close", None)
        if close is not None:
            close()


def estimate_tokens(messages: Sequence[Message]) -> int:
    """Tokens a prompt takes at most, where no tokenizer can be asked.

    BPE vocabularies average about four characters of English per token, so one token
    per three ASCII characters leaves a margin; other scripts (CJK, ...) can take a
    token per character. Too high only costs a passage; too low overflows the context.
    """
    total = 0
    for m in messages:
        text = m["content"]
        ascii_chars = len(text.encode("ascii", "ignore"))
        total += math.ceil(ascii_chars / 3) + (len(text) - ascii_chars) + MESSAGE_OVERHEAD
    return total
