"""Check every cited sentence against the passage it cites, after generation.

Small models cite the wrong passage, or none, and sometimes state numbers the passages do
not contain. Each sentence of the answer is scored against the retrieved passages:

- support = share of the sentence's content words found in the passage, each word
  weighted by how distinctive it is in the index (IDF: "ambassador", never seen in the
  documents, outweighs "Canada"), and zero when the sentence states a number the
  passage does not contain;
- every name, code identifier and quoted term the sentence states must occur in the
  passage (or its title and headings, or the question): shared common words cannot
  carry a sentence with a name the passage never mentions;
- a cited passage that does not support its sentence is replaced by the best-supporting
  retrieved passage, or the sentence is dropped and listed as unsupported;
- a sentence that only restates the question ("The cap replaced the tariff [1].", "The
  number is [1].") is kept but is no answer: an answer with no supported sentence that
  adds something to the question is refused by the caller.

Each citation carries the exact supporting span: the passage sentence that shares most
words with the sentences citing it, as offsets into the source document.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import NamedTuple

from index.chunking import introduced, split_sentences
from index.items import item_lines, item_owners
from index.lexical import STOPWORDS, tokenize
from index.readable import readable
from index.types import Passage

from .citations import parse_markers
from .decompose import clause_spans, own_words, question_parts
from .safety.injection import quarantine
from .stems import stem, stems
from .types import Citation

# Calibrated on the dev and follow-up answers (IDF-weighted support): correct sentences
# scored 0.66 and up; the hallucinations seen ("Colin Robertson served as ambassador",
# "exported 49,000 vehicles in 2023") scored 0.51 and 0.00.
SUPPORT_THRESHOLD = 0.6
# A cited passage that supports a sentence is still replaced when another retrieved
# passage supports it by this much more (it holds the words the cited one is missing).
CLEARLY_BETTER = 0.15
_MARKERS_ONLY = re.compile(r"^(?:\s*\[\d+\])+\s*[.!?]?$")
_MARKER = re.compile(r"\s*\[(\d+)\]")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_QUOTED = re.compile(r"`([^`\n]{1,80})`|\"([^\"\n]{2,80})\"|“([^”\n]{2,80})”")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")  # where "tabSize" splits into words
_WHOLE_QUOTE = re.compile(r"^[“\"]([^“”\"]+)[”\"]([.!?]?)$")
_IDENT = re.compile(r"\w+(?:(?:::|[_./])\w+)+")  # CARGO_HOME, net.retry, std::env, a/b
_WORD = re.compile(r"[^\W\d_][\w'’]*")
_YES_NO = re.compile(r"\W*(?:yes|no)\b", re.I)
# A name as a sentence writes it: one to five capitalised words ("Justice Okafor",
# "JUSTICE OKAFOR", "Northern Plains Telecom Cooperative")
_NAME_WORDS = r"[A-Z][\w'.&-]*(?:[ \t]+[A-Z][\w'.&-]*){0,4}"
_OPENING_NAME = re.compile(rf"^{_NAME_WORDS}(?=[ \t])")
_CLOSING_NAME = re.compile(rf"({_NAME_WORDS})[ \t]+$")
_SPAN_WORD = re.compile(r"[\w'-]+")
# Fewest words a sentence must copy after its opening name for the copy to say whose they
# are in the passage: "delivered the opinion of" is four; two or three ("said that",
# "is the") recur under many names.
COPIED_WORDS = 4
# A sentence that ends on one of these lost its last words ("retrieved from [2].": a link
# stripped as active content, a value the model never wrote): it states nothing.
_DANGLING = frozenset(
    "a an the of to from at by with in on for is are was were be and or as than via into "
    "like such its their your this that these those".split()
)
# A lone code-like token: a word of four letters or more run together with a number
# ("PINEAPPLE-7731", "TURNIP88KITE", "ZEPHYR-42"), nothing else. Plain words, numbers
# with units ("64MB", "300ms"), short model names ("H100", "PDP-11") and identifiers
# ("CARGO_HOME") are not codes.
_CODE = re.compile(r"(?=.*[^\W\d_]{4})(?=(?:.*\d){2})[^\W\d_][\w-]*[^\W_]")
# A name's initials ending a piece of an answer ("Richard (R.J.)"): the sentence splitter
# takes "R.J." for a sentence's end; a name goes on after them.
_INITIALS = re.compile(r"(?:^|[\s(])(?:[^\W\d_]\.){2,}[)\"'”’]*$")
_ENUMERATOR = re.compile(r"\(?(?:\d{1,2}|[a-z])[.)]")  # "2." "b)" "(3)": a list item's number
# Words about the passages, not about the world ("According to the passage, …", "The
# passages state that …"): rule 5 of the prompt forbids them, a small model writes them
# anyway, and they are no claim. Judged with them, a right sentence fails ("passage" is
# in no passage); they are left out of what is judged and shown.
_LEAD_IN = re.compile(
    r"^(?:(?:according to|based on|as (?:stated|mentioned|described|noted) in|as per|from|in)"
    r" (?:the |these )?(?:(?:provided|given|above|retrieved) )?"
    r"(?:passages?|documents?|texts?|context|sources?)(?: \d+)?\s*,"
    r"|the (?:(?:provided|given|above|retrieved) )?(?:passages?|documents?|texts?|context)"
    r"(?: \d+)? (?:says?|states?|mentions?|notes?|indicates?|shows?|explains?|reports?)"
    r" that)\s+(?=\w)",
    re.I,
)
_OPENER = re.compile(r"(?:^|[.!?:;]\s+|\n)[\W_]*$")  # what precedes a sentence's first word
# The question's first interrogative; when it asks for a quantity ("How many…", "If …, how
# much…", "what percentage", "What is the maximum number of…"), only a sentence stating
# one answers it: a number, a number word, or what the number equals ("the number of
# logical CPUs"). "…is determined by the `--max-old-space-size` argument [4]" answered
# "What is the maximum number of Worker threads…?" (unanswerable) with no number at all.
_COUNTED = r"(?:percentage|percent|number|amount)"
_ASKS = re.compile(
    rf"\b(?:how \w+|what(?: (?:is|was|are|were))?(?: (?:the|its|their|a))?(?: [\w-]+)?"
    rf" {_COUNTED}|who|whom|whose|what|when|where|which|why)\b",
    re.I,
)
# The count of what a question asks for, right after its question word ("What three
# rules…?", "Which two areas…?", "Name the four…"): how many things the answer lists, not
# a fact it must find stated ("the nine months ended…" pins a column; it stays checked).
_ASKED_COUNT = re.compile(
    r"^\W*(?:what|which|name|list)\s+(?:are\s+|were\s+)?(?:the\s+)?(?P<count>\w+)\s+[^\W\d_]",
    re.I,
)
_QUANTITY = re.compile(
    rf"how (?:many|much|long|far|old|big|large|tall|heavy)|what\b.* {_COUNTED}", re.I
)
# A question that asks for a point in time ("What was the deadline…?", "In which month…?")
# is answered only by a sentence that names one: a number, a month or a day ("the closing
# date for comments" restates the question). "When" in the present is left out: in
# documentation it asks for a condition ("When does Cargo rebuild…?" "When a file
# changes."); a question opening "When did/was/were…" asks when something happened.
_DATE = re.compile(
    r"\b(?:what|which)(?: (?:is|was|are|were|will be))?(?: (?:the|its|their))?(?: [\w-]+)?"
    r" (?:date|day|year|month|deadline)(?![\w-])|\bby when\b|\bwhat time\b"
    r"|^\W*when (?:did|was|were)\b",
    re.I,
)
# A question for a year ("In which year…?") is answered by one: a year the question did
# not give, or a year named from another ("last year"); "over five years" is a duration.
_YEAR_ASKED = re.compile(r"\b(?:what|which) year\b", re.I)
# A question for a version or release ("Which Rust version…?", "what is the first version
# Cargo will no longer accept?", "Which Cargo release first included it?") is answered by
# a number the question did not give: "…was the stable version [3]" answered "Which Rust
# release first shipped the built-in cargo add command?" (docs20, unanswerable). One word
# at most between: "what does npm version create" asks for no version.
_VERSION_ASKED = re.compile(
    r"\b(?:what|which)(?: (?:is|was|are|were))?(?: (?:the|its|their))?(?: [\w.+-]+)?"
    r" (?:versions?|releases?)\b",
    re.I,
)
_YEAR = re.compile(r"(?<![\d.,])(?:1[0-9]|20)\d\d(?![\d.,]\d)|\b\d{2,4}s\b", re.I)
_RELATIVE_YEAR = re.compile(
    r"\b(?:last|this|next|that|the same|the following|the previous) year\b", re.I
)
# A question for a named thing of a kind that always has a proper name ("Which company
# makes…?", "In which country…?") is answered only by a sentence naming one the question
# did not: "…is manufactured by a biomedical research group" names no company. People,
# films and tools are left out: "Who can publish?" "Anyone with an account."
_NAMED = re.compile(
    r"\b(?:which|what)(?: other)? (?:compan(?:y|ies)|firms?|manufacturers?|brands?|"
    r"organi[sz]ations?|agenc(?:y|ies)|countr(?:y|ies)|cit(?:y|ies)|towns?|"
    r"universit(?:y|ies)|newspapers?|airlines?|banks?)\b",
    re.I,
)
# The kind of thing a "what/which" question asks for, when it names one before its verb
# ("What interest rate applies…", "Which load averages does…", "What penalty did…"): a
# number that answers it sits where the passage speaks of that kind (`_of_its_kind`).
_KIND = re.compile(
    r"^\W*(?:what|which)\s+(?!(?:is|was|are|were|of|kind|type|does|do|did|has|have|had)\b)"
    r"(?P<kind>[\w-]+(?:\s+of)?(?:\s+[\w-]+)?)",
    re.I,
)
_AUX = re.compile(
    r"^(?P<kind>[\w-]+)\s+(?:does|do|did|is|was|are|were|has|have|had|can|could|should|"
    r"will|would|must|may|might)$",
    re.I,
)
_DATE_WORDS = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\b"
    r"|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|\b(?:today|tomorrow|yesterday|tonight)\b",
    re.I,
)
_QUANTITY_WORDS = re.compile(
    r"\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|trillions?|"
    r"dozens?|half|once|twice|number of)\b",
    re.I,
)


def _as_read(text: str) -> str:
    """Hyphenated line breaks joined, whitespace collapsed, one apostrophe: how a reader
    sees it, capitals kept."""
    return " ".join(re.sub(r"(\w)-\n\s*(\w)", r"\1\2", text).replace("’", "'").split())


def _squash(text: str) -> str:
    """`_as_read`, lowercased: what a fact is matched in. The answer sanitizer shows
    `Box<T>` as `Box‹T›`; both are the passage's `Box<T>`."""
    return _as_read(text).lower().replace("‹", "<").replace("›", ">")


def _classing(question: str) -> list[str]:
    """The lower-case words just before a name of the question ("the movie Groundhog
    Day", "the band Rush"): nouns that say what the name is."""
    words = []
    for term in required_terms(question):
        at = question.find(term)
        before = re.findall(r"[\w'-]+", question[:at]) if at > 0 else []
        if before and before[-1].islower() and before[-1] not in STOPWORDS:
            words.append(before[-1])
    return words


def required_terms(sentence: str) -> list[str]:
    """What a sentence names and the passage must state: quoted terms, code identifiers
    and capitalised words (names, places, products) past the sentence's first word."""
    terms = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(sentence)]
    terms += [m.group() for m in _IDENT.finditer(sentence) if not _NUMBER.fullmatch(m.group())]
    for m in _WORD.finditer(sentence):
        word = re.sub(r"['’]s$", "", m.group())
        if len(word) < 2 or not word[0].isupper():
            continue
        if _OPENER.search(sentence[: m.start()]) and not word.isupper():
            continue  # "The", "However": capitalised only because a sentence starts
        terms.append(word)
    return [t for t in dict.fromkeys(" ".join(t.split()) for t in terms) if t]


def _holds(text: str, fact: str) -> bool:
    """Whether squashed `text` states `fact` as a whole word or number ("42" not in "142").
    A month is stated by its abbreviation too: a statement's "Oct 20" says "October"."""
    return re.search(rf"(?<![\w.]){_written(fact)}(?![\w])", text) is not None


def _written(term: str) -> str:
    """A pattern for a squashed term as a text may write it: a month by its abbreviation
    too (a statement's "Oct 20" says "October 20")."""
    month, _, rest = term.partition(" ")
    short = _MONTH_ABBREVIATIONS.get(month)
    if short is None:
        return re.escape(term)
    month = rf"(?:{re.escape(month)}|{short}\.?(?![^\W\d_]))"  # "Oct" is no "octave"
    return month + (rf"\s{re.escape(rest)}" if rest else "")


_MONTH_ABBREVIATIONS = {
    "january": "jan",
    "february": "feb",
    "march": "mar",
    "april": "apr",
    "june": "jun",
    "july": "jul",
    "august": "aug",
    "september": "sept?",
    "october": "oct",
    "november": "nov",
    "december": "dec",
}


# A manual section after a name ("cargo-remove(1)", "printf(3)") is part of the name
_SECTION = re.compile(r"(?<=[^\W\d_])\(\d\)")
# Number words with one reading: not "one" or "first" ("one of", "first released"), and
# not in a compound ("twenty-five", "two hundred"), whose value is another number;
# "seconds" is a unit. A closed class of the language, not words tuned on any corpus.
_CARDINALS = (
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty"
).split()
_ORDINALS = (
    "second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
).split()
_NUMBER_VALUES = {w: str(i) for ws in (_CARDINALS, _ORDINALS) for i, w in enumerate(ws, 2)}
# What makes a number word part of a compound after it ("twenty-five", "two hundred",
# "two-thirds", "three quarters", "seven 100-ton cranes")
_COMPOUND = r"(?:hundred|thousand|million|billion|halves|quarters|and a half|\d)"
_NUMBER_WORD = re.compile(
    rf"(?<![\w-])({'|'.join(_NUMBER_VALUES)})\b"
    rf"(?![-\s]+(?:(?:{'|'.join(_NUMBER_VALUES)})s?\b|{_COMPOUND}))",
    re.I,
)


# A count as a text states it: digits or a number word, not money ("$14.2 million"), a
# share ("100%") or a measure run on ("10MB"); what follows says what it counts.
_COUNT = re.compile(
    rf"(?<![\w.,$€£¥[-])(?:\d[\d,]*(?:\.\d+)?|{'|'.join(_CARDINALS)})(?![\w%]|[.,]\d)", re.I
)
_COUNT_OF = re.compile(r"\bhow many\s+((?:[^\W\d_][\w'’.-]*\s*){1,3})", re.I)
# A number that reads as a year: when, not how many (`_count_places`, `_Scorer._counts`)
_YEAR_VALUE = re.compile(r"1[5-9]\d\d|20\d\d")


def _counted_words(question: str) -> set[str]:
    """The stems of what a "how many" question counts: its words after "how many" up to
    the first function word ("extension requests" of "How many extension requests filed
    in 2020 had…?" with "filed"; "carriers received grants" of "How many carriers
    received grants under…?"). "How many times" counts in any unit ("4 tries", "twice"):
    nothing to demand."""
    words: set[str] = set()
    for m in _COUNT_OF.finditer(question):
        for word in m.group(1).split():
            if word.lower() in STOPWORDS:
                break
            words |= stems(word)
    return words - {"time"}


def _count_places(
    text: str, counted: set[str], named: AbstractSet[str] = frozenset()
) -> list[tuple[str, bool]]:
    """Each count `text` states, with whether it counts one of the `counted` stems: one
    of them follows it in its noun phrase ("192 opposition lawmakers", "1.2 million
    shares", "an 80-byte header": at most two words between, no function word, number or
    punctuation), or it ends its clause ("… is 4.", "… had connected 6,150 [1]") after
    one of them, in `text` before it or in `named` (the stems of the sentence before).
    "100 percent tariff" or "9,300 households" count no carriers. A year counts only the
    word right after it ("Act of 2016 paid carriers" counts no carriers) and is never
    bare; a day of a month ("December 31, 2021") counts nothing."""
    out = []
    for m in _COUNT.finditer(text):
        raw = m.group()
        value = _NUMBER_VALUES.get(raw.lower(), raw.replace(",", "").rstrip("."))
        year = _YEAR_VALUE.fullmatch(raw) is not None
        before = text[: m.start()].split()[-1:]
        how, seen = "", 0
        if not (before and _DATE_WORDS.fullmatch(before[0].strip(",.").lower())):
            for t in re.finditer(r"[^\W\d_][\w'’]*|\S", text[m.end() : m.end() + 80]):
                word = t.group()
                if word == "-":
                    continue
                if not word[0].isalpha():
                    if not seen and not year and word in ".!?;:)[":
                        how = "bare"
                    break
                if stems(word) & counted:
                    how = "noun"
                    break
                seen += 1
                if year or seen > 2 or word.lower() in STOPWORDS:
                    break
            else:
                how = "" if seen or year else "bare"
        counts = how == "noun" or (
            how == "bare" and bool((stems(text[: m.start()]) | named) & counted)
        )
        out.append((value, counts))
    return out


def _unseparated(text: str) -> str:
    """`text` with its numbers as `_numbers` reads them: "49000" for "49,000"."""
    return re.sub(r"(?<=\d),(?=\d{3})", "", text)


def _number_at(number: str) -> str:
    """A pattern for `number` standing alone, a unit run on or not: "300" is in
    "150-300ms", not in "1300" or "300.5"."""
    return rf"(?<![\d.,]){re.escape(number)}(?!\d|[.,]\d)"


def _states_number(text: str, number: str, bare: bool = False) -> bool:
    """Whether squashed `text` states `number` (`_unseparated`, `_number_at`); "1" is not
    in "cargo-remove(1)". `bare`: with no word after it, only punctuation or the end ("…
    it had connected 6,150.")."""
    text = _unseparated(_SECTION.sub("", text))
    after = r"\s*(?:[^\w\s%$€£]|$)" if bare else ""
    return re.search(_number_at(number) + after, text) is not None


# What a rate is per ("100 bytes per file", "less than 64 bytes of metadata for each 64 MB
# chunk", "$0.25 per share"): the word after "per", "each" or "every", past a number and
# its unit. "Per cent" is a share, not a rate.
_PER = re.compile(
    r"\b(?:per|each|every)\s+(?:\d[\d.,]*\s*(?:[^\W\d_]{1,3}\s+)?)?([^\W\d_]{2,})", re.I
)
_NOT_PER = {"cent", "centum"}


def _per(text: str) -> set[str]:
    """The stems of what `text` counts per (see `_PER`)."""
    words = (m.group(1).lower() for m in _PER.finditer(text))
    return {stem(w) for w in words if w not in STOPWORDS and w not in _NOT_PER}


def _rates(text: str, number: str) -> set[str]:
    """What squashed `text` states `number` per: "per X" within four words after it, in
    the same clause ("about 100 bytes per file" -> file)."""
    out: set[str] = set()
    plain = _unseparated(text)
    for m in re.finditer(_number_at(number), plain):
        clause = re.split(r"[,;:!?()]|\.(?!\d)", plain[m.end() : m.end() + 80])[0]
        if (found := _PER.search(clause)) and len(clause[: found.start()].split()) <= 4:
            out |= _per(found.group())
    return out


def _mentions(text: str, term: str) -> bool:
    """Whether squashed `text` has `term` not run on from a letter: an invented name may
    not hide inside a longer word ("Ann" in "announced"), but may take an ending
    ("Canadian" in "Canadians") or follow a number ("MB" in "64MB")."""
    return re.search(rf"(?<![^\W\d_]){_written(term)}", text) is not None


# A table row as PDF text gives it: a label, then a run of two or more values (a sign or
# a currency before, a percent after), then perhaps a unit: "Net income $318 $270 $214
# 49%", "Shutdown current 0.1 1 µA", "Gross margin 58.4% 56.9% 4.3 pts". A wrapped line
# of prose seldom ends in two values in a row.
_CELL = r"[-–−+±]?[$€£¥]?\d[\d,]*(?:\.\d+)?%?"
_ROW = re.compile(
    rf"^(?P<label>[^\n]{{0,80}}?[^\W\d_][^\n]{{0,80}}?)\s+{_CELL}(?:\s+{_CELL})+"
    r"(?:\s+[^\s\d]{1,4})?\s*$"
)


def _row_label(line: str) -> set[str] | None:
    """The stems of a table row's label ("Quiescent current Active, 1 Hz conversion"),
    else None: the line is no row."""
    row = _ROW.match(line)
    label = {w for w in stems(row.group("label")) if not w[0].isdigit()} if row else set()
    return label or None


class _Line(NamedTuple):
    """A passage line as a reader sees it (squashed); the keys of the keyed list item it
    belongs to, and what that item's first line says its key is (`_described`); its
    label if it is a table row."""

    text: str
    keys: list[str]
    about: frozenset[str]
    label: set[str] | None


def _lines(text: str, opened: Sequence[str] = (), within: int = 0) -> list[_Line]:
    """Each line of a passage, with its keyed list item and its row label. A keyed
    item's wrapped lines (indented under its marker) are the item's too: the 1000 of "*
    `NODE_REPL_HISTORY_SIZE`: Controls how many lines … / **Default:** `1000`." is that
    variable's, not "the default port of the REPL server" (k18). So are the lines that
    start in the first `within` characters of a passage that opens inside an item below
    its first line: `opened` are that item's keys (`Passage.opened`). "`8` [5]" answered
    the default prompt string from a passage opening on "**Default:** `8`.", the last
    line of "* `tabSize` {integer} …" (k12)."""
    out: list[_Line] = []
    lines = text.splitlines()
    current, about = None, frozenset[str]()
    at = 0
    for line, ended, item in zip(
        lines, text.splitlines(keepends=True), item_lines(lines), strict=True
    ):
        squashed = _squash(line)
        if item is not None:
            if item is not current:  # the item's first line: `item_lines` gives one object
                current, about = item, _described(line, item[0])
            out.append(_Line(squashed, list(item[1]), about, _row_label(squashed)))
        else:
            keys = list(opened) if at < within else []
            out.append(_Line(squashed, keys, frozenset(), _row_label(squashed)))
        at += len(ended)
    return _wrapped_cells(out)


# A table cell print wrapped in a narrow column: one short word a line ("Oct", "10").
_CELL_PIECE = re.compile(r"[^\s]{1,6}")


def _wrapped_cells(lines: list[_Line]) -> list[_Line]:
    """Lines that are pieces of a table cell print wrapped ahead of its row ("Oct" over
    "10", then "Transfer to High-Interest Savings 500.00 2,325.74") belong to that row:
    they take its label. Read as prose, the "10" of that date was no row's, and "…made at
    Harbourline Uptown on October 10" (the row of "Oct 9 ATM withdrawal – Harbourline
    Uptown") passed."""
    out = list(lines)
    for i, line in enumerate(lines):
        if line.label is not None or not _CELL_PIECE.fullmatch(line.text):
            continue
        j = i + 1
        while j < len(lines) and j - i <= 2 and _CELL_PIECE.fullmatch(lines[j].text):
            j += 1
        if j < len(lines) and j - i <= 2 and lines[j].label is not None:
            out[i] = line._replace(label=lines[j].label)
    return out


def _described(first: str, head: str) -> frozenset[str]:
    """What a keyed item's first line says its key is: the stems after the key and its
    separator, without labels in bold ("**Default:**") or numbers. "`tabSize` {integer}
    The number of spaces a tab is equal to (minimum 1)." is {number, space, tab, …}."""
    said = first.split(head, 1)[-1]
    said = re.sub(r"\*\*[^*\n]*\*\*", " ", said)
    return frozenset(w for w in stems(said) if not w[0].isdigit())


def _opened(passage: Passage) -> tuple[Sequence[str], int]:
    """The keys of the item `passage` opens inside and how much of its text, as
    `_Scorer` reads it, is that item's; none when it opens inside no item."""
    if passage.opened is None:
        return (), 0
    end, keys = passage.opened
    return keys, len(readable(quarantine(passage.text[: max(0, end - passage.start)])))


def _items(text: str) -> list[str]:
    """The list items of `text`, keyed or not, each whole and squashed (`item_owners`).
    Read from the raw text: `readable` flattens the indents that tell an item's lines."""
    lines = text.splitlines()
    whole: dict[int, list[str]] = {}
    for line, owner in zip(lines, item_owners(lines), strict=True):
        if owner is not None:
            whole.setdefault(owner, []).append(line)
    return [_squash(" ".join(item)) for item in whole.values()]


def _key_words(key: str) -> set[str]:
    """The word stems an identifier runs together ("tabSize", "NODE_REPL_HISTORY_SIZE",
    "read-manifest"); empty for a single word, which is named only as itself."""
    words = re.split(r"[\W_]+", _CAMEL.sub(" ", key))
    words = [w for w in words if w]
    return stems(" ".join(words)) if len(words) > 1 else set()


# A name's possession: "Canada's ambassador", "Carney's office" (the name, the words after)
_POSSESSION = re.compile(
    r"(?<![\w'’])([A-Z][\w.&-]*(?:[ \t]+[A-Z][\w.&-]*){0,3})['’]s"
    r"[ \t]+((?:[^\W\d_][\w-]*[ \t]*){1,3})"
)


def _possessions(text: str) -> list[tuple[set[str], list[str]]]:
    """Each name's possession `text` speaks of, with either apostrophe: (the name's words,
    the stems of the first two words after it that are not function words, in order:
    "Canada's new ambassador" has a new ambassador)."""
    out = []
    for m in _POSSESSION.finditer(text):
        after = [w for w in m.group(2).split() if w.lower() not in STOPWORDS][:2]
        owner = _name_words(m.group(1))
        things = [s for w in after for s in sorted(stems(w))]
        if owner and things:
            out.append((owner, things))
    return out


def _name_words(name: str) -> set[str]:
    """A name's own words, lowercased: "The Court" is "court"."""
    return {w.lower() for w in name.split()} - STOPWORDS


def _numbers(text: str) -> set[str]:
    """The numbers `text` states; a man page's section number is none: "Cargo release 1
    included this command [2]" took its 1 from the page title "cargo-remove(1)". A number
    word is its number ("the fourth quarter" states 4, as "Q4" and "4th" do): "Revenue in
    the fourth quarter of 2024 was $412.5 million [1]" answered from a passage about the
    third quarter."""
    found = _NUMBER.findall(_SECTION.sub("", text))
    return {n.replace(",", "").rstrip(".") for n in found} | _word_numbers(text)


def _word_numbers(text: str) -> set[str]:
    """The numbers `text` states in words ("five", "the fourth"), not as part of a
    compound before them ("twenty-five" is no 5)."""
    said = set()
    for m in _NUMBER_WORD.finditer(text):
        before = re.search(r"(\w+)[-\s]+$", text[max(0, m.start() - 24) : m.start()])
        if before is None or before.group(1).lower() not in _NUMBER_VALUES:
            said.add(_NUMBER_VALUES[m.group(1).lower()])
    return said


@dataclass(frozen=True)
class Verified:
    text: str  # the checked answer: unsupported sentences are left out
    citations: tuple[Citation, ...]
    unsupported: tuple[str, ...]  # sentences dropped: no retrieved passage supports them
    supported: int  # supported sentences that add something to the question


Mentions = Callable[[str, str], bool]  # (source, name) -> the document names it


class _Scorer:
    def __init__(
        self,
        passages: Sequence[Passage],
        weight: Callable[[str], float],
        question: str = "",
        asked_as: str = "",
    ) -> None:
        self.passages = passages
        self.weight = weight
        # What the model was shown: a sentence addressed to AI systems is quarantined from
        # the prompt, so it cannot support a claim either (a false claim made only there
        # fails here even when every word of it is common).
        shown = [quarantine(p.text) for p in passages]
        texts = [readable(t) for t in shown]
        # An identifier names things by its words: `tabSize` says "tab" and "size". Who
        # wrote a document is what it says too ("author: John C. Welch" in the prompt), and
        # so is a number its title or heading gives ("“Rez Infinite” ($30)" prices it), as
        # the number checks already allow (`_headed` checks what it is the number of).
        # Their other words are not: a news title's "on Tuesday" is its own event's day,
        # and "Trudeau visited China … on Tuesday" took it from there (run b1, n15).
        self.stems = [
            stems(t)
            | stems(_CAMEL.sub(" ", t))
            | stems(p.author)
            | {w for w in stems(f"{p.title}\n{p.heading}") if w[0].isdigit()}
            for p, t in zip(passages, texts, strict=True)
        ]
        # Where a passage sits counts as what it says: numbers and names may come from its
        # title and headings too ("Minecraft 1.8 - The Bountiful Update"), and from the
        # author its document names (the prompt shows it).
        framed = [
            f"{p.title}\n{p.heading}\n{p.author}\n{t}" for p, t in zip(passages, texts, strict=True)
        ]
        self.numbers = [_numbers(f) for f in framed]
        self.plain = [_squash(f) for f in framed]
        # The title and each heading of a passage's path, apart: where a fact found only
        # there sits (`_headed`). The author line is no such place: it says who wrote it.
        self.frames = [
            [_squash(x) for x in (p.title, *p.heading.split(" > ")) if x.strip()] for p in passages
        ]
        # Each passage sentence, as a reader sees it: where a stated fact must sit. A
        # fragment that ends no sentence (a definition term "-i spec", a list item ending
        # in a comma) runs into the sentence after it; a lead-in ending in ":" does not.
        self.sentences = []
        # What a lead-in ending in ":" says, the one sentence it introduces says too: "…
        # you can expose it on the global scope using this combination of CLI flags:" is
        # what the command line after it is (guide g17). A lead-in to several ("Status
        # codes likely to occur:" and a list) says it of each alike, so it tells none of
        # them apart: which one an answer means, the item itself must say.
        self.leads: list[list[set[str]]] = []
        for t in texts:
            spans = split_sentences(t) or [(0, len(t))]
            leads: list[set[str]] = [set() for _ in spans]
            for i, (a, b) in enumerate(spans[:-1]):
                if introduced(t, spans, i) == spans[i + 1][1]:
                    leads[i + 1] = stems(t[a:b])
            self.leads.append(leads)
            pieces = [_squash(t[a:b]) for a, b in spans]
            self.sentences.append(
                [
                    x
                    if re.search(r"[.!?:][\"'”’)]*$", x) or i + 1 == len(pieces)
                    else f"{x} {pieces[i + 1]}"
                    for i, x in enumerate(pieces)
                ]
            )
        # Each passage line as a reader sees it, with the terms it is about if it is a
        # keyed list item and its label if it is a table row
        self.lines = [_lines(t, *_opened(p)) for p, t in zip(passages, texts, strict=True)]
        # A list item's lines are one statement about its key: "* `tabSize` {integer}
        # The number of spaces a tab is equal to (minimum 1). / **Default:** `8`." states
        # the 8 where it speaks of spaces (for `_anchored`, beside its sentence).
        self.items = [_items(t) for t in shown]
        # Every line bare of heading and emphasis marks: what a copied heading would say
        self.bare_lines = {line.text.strip("#*_ ") for lines in self.lines for line in lines}
        # Every passage as a reader sees it, capitals kept: where a name stands before words
        self.cased = [_as_read(t) for t in texts]
        self._swaps: dict[str, bool] = {}
        self._ask(question, asked_as)

    def asking(self, question: str) -> _Scorer:
        """This scorer for another question over the same passages (a part of a compound
        one): what the passages say is read once, what is asked is read again."""
        other = copy.copy(self)
        other._ask(question, "")
        return other

    def _ask(self, question: str, asked_as: str) -> None:
        """What the question asks, and what an answer to it must therefore state."""
        self.question = _squash(question)
        self.question_numbers = _numbers(question)
        count = _ASKED_COUNT.match(question)
        word = count.group("count").lower() if count else ""
        self.asked_count = {_NUMBER_VALUES[word]} if word in _CARDINALS else set()
        self.question_stems = stems(question)
        # What the answer must state: asked for by the question it answers, or by the
        # user's own words of a follow-up ("Roughly how much disk space does that take?"
        # rewritten as "What is the disk usage of cargo vendor?" still wants a quantity).
        asked = [q for q in (question, asked_as) if q]
        self.possessions = [x for q in asked for x in _possessions(q)]
        self.question_names = {
            w.lower() for q in asked for t in required_terms(q) for w in t.split()
        }
        firsts = [a.group().lower() for a in map(_ASKS.search, asked) if a]
        self.wants_quantity = any(_QUANTITY.fullmatch(a) for a in firsts)
        self.wants_count = "how many" in firsts
        self.counted = set().union(*map(_counted_words, asked)) if self.wants_count else set()
        self._counts_found: set[str] | None = None
        self.wants_date = any(_DATE.search(q) for q in asked)
        self.wants_year = any(_YEAR_ASKED.search(q) for q in asked)
        self.wants_version = any(_VERSION_ASKED.search(q) for q in asked)
        self.wants_name = any(_NAMED.search(q) for q in asked)
        self.wants_person = any(a in ("who", "whom", "whose") for a in firsts)
        # A quantity asked per something ("How much metadata … for each chunk?")
        self.per = set().union(*map(_per, asked)) if self.wants_quantity else set()
        # What a "who" question asks about someone, bare of the names it gives: "ambassador"
        # of "Who is Canada's ambassador to China?". Any of its words will do where a name
        # sits (`_related`); only its rarest was tried, and lost right answers to synonyms
        # ("similar to Adam Back's Hashcash" for "resembles").
        named = {s for t in required_terms(question) for s in stems(t)}
        relation = stems(question) - named if self.wants_person else set()
        # A noun set before a name classes it ("the movie Groundhog Day"): what the name
        # is, not what is asked of it. "Who directed the movie Groundhog Day?" found
        # "movie" beside the film's character ("…Phil Connors (Bill Murray)… This movie
        # is…") and was answered "directed by Phil Connors" (html23, unanswerable).
        classes = set().union(*(stems(c) for c in _classing(question)))
        self.relation = relation - classes if relation - classes else relation
        # The kind it asks for, when two words name it ("interest rate", "inductor value",
        # "version of Bluetooth"). One word is often left unsaid where the answer stands
        # (a temperature in "brewed at 80 degrees"), and a number beside the answer's name
        # is no answer to it: "Which app did Marco Arment move to a patronage model?"
        # "…with Overcast 2.0" (webpages w21, right). Chosen on every set and probe: two
        # words refuse o15 and t24 (both unanswerable) and no right answer; one also
        # refused w21.
        kind = _KIND.match(question)
        one = _AUX.match(kind.group("kind")) if kind else None
        asked_kind = stems(one.group("kind") if one else kind.group("kind")) if kind else set()
        self.kind = asked_kind if len(asked_kind) >= 2 else set()

    def support(self, sentence: str, ns: Sequence[int]) -> float:
        words = {stem(w): self.weight(w) for w in tokenize(sentence)}
        if not words:
            return 0.0
        pool_words = set().union(*(self.stems[n - 1] for n in ns))
        # Numbers are the facts a question pins ("in 2023"): the passage must state them,
        # even when the question does (but not the count of things it asks for: "What
        # three rules…?" "… meets three rules: …" lists them; its items are checked).
        # Names are what it is about and may be repeated.
        pool_nums = set().union(*(self.numbers[n - 1] for n in ns))
        if not _numbers(sentence) - self.asked_count <= pool_nums:
            return 0.0
        pool = " ".join(self.plain[n - 1] for n in ns)
        for term in required_terms(sentence):
            key = _squash(term)
            if not (_mentions(pool, key) or _mentions(self.question, key)):
                return 0.0
        if (
            not self._anchored(sentence, ns)
            or self._given_to_another(sentence)
            or self._anothers(sentence)
        ):
            return 0.0
        # The question's own words are no claim: a sentence that rephrases it ("sit in its
        # global cache", "regenerate offline") is judged on what it adds to it.
        claim = {s: w for s, w in words.items() if s not in self.question_stems}
        if not claim:  # nothing but the question's words (and checked terms and numbers)
            return 1.0
        return sum(w for s, w in claim.items() if s in pool_words) / sum(claim.values())

    def _anchored(self, sentence: str, ns: Sequence[int]) -> bool:
        """Each number and name the sentence adds must sit in a passage sentence sharing
        another of its words or the question's: "429 [1]" for a quota error is refused when
        the passage's 429 is about too frequent requests and its quota sentence says 507.
        When the question asks for a quantity or a date, the number must sit where the
        passage speaks of something the question asks: a copied sentence shares its own
        words, so "The savings … add up to 6 petabytes of user data saved per day [1]"
        answered "how much smaller than the full app are updates" from the sentence
        after the one that said 65%. (Other numbers are context: "The tower was
        completed in 1889" may follow "Paris is the capital".)
        A quantity spelled out answers a quantity question only from such a sentence
        too: "Cargo trades off disk space for faster builds including … changes to one
        package … [4]" answered "how much disk space does cargo vendor require" (fu09,
        unanswerable) with the "one" of a list item about the build cache.
        A fact found only in a title or heading must sit in one sharing another word of
        the sentence or the question (`_headed`)."""
        numbers = sorted(_numbers(sentence) - self.asked_count)
        spelled = (
            sorted({w.lower() for w in _QUANTITY_WORDS.findall(sentence)} - {"number of"})
            if self.wants_quantity and not numbers
            else []
        )
        facts = [_squash(t) for t in required_terms(sentence)] + numbers + spelled
        facts = [f for f in facts if not _holds(self.question, f)]  # "73" is not "737"
        if not facts:
            return True
        words = stems(sentence) | self.question_stems
        units = self._asked_units(sentence)
        pinned = self.wants_quantity or self.wants_date
        for fact in facts:
            number = fact in numbers
            found = _states_number if number else _holds
            places = [
                (n, i) for n in ns for i, x in enumerate(self.sentences[n - 1]) if found(x, fact)
            ]
            if number and places:
                # Where the passage writes it as a word counts too ("Every five minutes
                # the queue will …"), beside its digits elsewhere: guide g06 was refused
                # when the only 5 found was the list's next marker "5.", a line about
                # another step. (With no digits at all there is nothing to check, as
                # before: "Steep it for two minutes" is not held to the question's words.)
                places = [
                    (n, i)
                    for n in ns
                    for i, x in enumerate(self.sentences[n - 1])
                    if found(x, fact) or fact in _word_numbers(x)
                ]
            if not places:
                if not self._headed(fact, found, words - stems(fact), ns):
                    return False
                continue
            homes = [stems(self.sentences[n - 1][i]) | self.leads[n - 1][i] for n, i in places]
            if number:
                homes += [stems(item) for item in self._items_stating(fact, ns)]
            if not number and self.relation and not self._related(places):
                return False
            own = stems(fact)
            others, asked = words - own, self.question_stems - own
            if others and not any(others & home for home in homes):
                return False
            if (
                (number or fact in spelled)
                and pinned
                and asked
                and not any(asked & home for home in homes)
            ):
                return False
            unit = units.get(fact)
            if (
                unit
                and not any(unit in home for home in homes)
                and not any(unit in words for words in self._named_before(fact, places))
            ):
                return False
            if number and not self._per_asked(sentence, fact, places):
                return False
            if number and self.kind and not self._of_its_kind(places):
                return False
            if number and not self._about_its_item(sentence, fact, ns):
                return False
            if number and not self._about_its_row(sentence, fact, ns):
                return False
        return True

    def _headed(
        self, fact: str, found: Callable[[str, str], bool], others: set[str], ns: Sequence[int]
    ) -> bool:
        """Whether a fact the passages `ns` state only in a title or heading sits in one
        that speaks of something else the sentence or question says: "“Rez Infinite”
        ($30)" prices Rez Infinite, not the PlayStation VR headset its page is about
        ("These are the 8 coolest PlayStation VR games"). Where no title or heading states
        it (the author line), there is nothing to check."""
        frames = [stems(x) for n in ns for x in self.frames[n - 1] if found(x, fact)]
        return not frames or any(others & frame for frame in frames)

    def _given_to_another(self, sentence: str) -> bool:
        """Whether the sentence opens with a name and goes on in a passage's own words that,
        everywhere the passages have them, follow another name: "Ruth Delacroix delivered
        the opinion of the Court [2]" copied "JUSTICE OKAFOR delivered the opinion of the
        Court." and put the petitioner, named a line above, in the justice's place. Every
        word of it is in the passage, each name beside words of the question, so nothing
        else catches it. A possessive ("Canada's economy") opens no claim about a name, and
        names sharing a word ("Xi" and "President Xi Jinping") are the same one. The
        passages are read whole, not only those cited: the words came from where they are."""
        if sentence not in self._swaps:
            self._swaps[sentence] = self._swapped(sentence.replace("’", "'"))
        return self._swaps[sentence]

    def _anothers(self, sentence: str) -> bool:
        """Whether the sentence gives the thing the question asks of one name to another
        name the question also gives: "Who is Canada's ambassador to China?" was answered
        with the quote "China's ambassador has made it clear Beijing would remove levies
        … [2]" (n18, unanswerable), and never says Canada's. A name the question does not
        give may be the same one in other words ("the Prime Minister's office" for
        "Carney's office"), and names sharing a word ("Xi", "President Xi") are one."""
        said = _possessions(sentence) if self.possessions else []
        for owner, thing in self.possessions:
            same = [o for o, t in said if t[0] in thing or thing[0] in t]
            others = self.question_names - owner
            if same and not any(o & owner for o in same) and any(o & others for o in same):
                return True
        return False

    def _swapped(self, sentence: str) -> bool:
        opening = _OPENING_NAME.match(sentence)
        if not opening or opening.group().endswith("'s"):
            return False
        own = _name_words(opening.group())
        after = _SPAN_WORD.findall(sentence[opening.end() :])
        if not own or len(after) < COPIED_WORDS:
            return False
        for k in range(len(after), COPIED_WORDS - 1, -1):  # the longest copy decides
            copied = re.compile(
                r"(?<!\w)" + r"\W+".join(map(re.escape, after[:k])) + r"(?!\w)", re.I
            )
            befores = [
                t[max(0, m.start() - 200) : m.start()]
                for t in self.cased
                for m in copied.finditer(t)
            ]
            if befores:
                others = [_CLOSING_NAME.search(b) for b in befores]
                return all(
                    o is not None and (words := _name_words(o.group(1))) and not words & own
                    for o in others
                )
        return False

    def _per_asked(self, sentence: str, number: str, places: Sequence[tuple[int, int]]) -> bool:
        """A quantity asked per something is answered only by a rate per that, when a
        rate is stated: "The metadata kept at the master is about 100 bytes per file [1]"
        answered "How much metadata does the GFS master keep for each chunk?" from the
        sentence after the one with "less than 64 bytes of metadata for each 64 MB chunk".
        The sentence may not give another rate, nor may every place that states the
        number in the passage (the model may have put the question's word in its place)."""
        if not self.per:
            return True
        said = _rates(_squash(sentence), number)
        if said and not said & self.per:
            return False
        homes = [_rates(self.sentences[n - 1][i], number) for n, i in places]
        return not homes or not all(home and not home & self.per for home in homes)

    def _named_before(self, number: str, places: Sequence[tuple[int, int]]) -> list[set[str]]:
        """The words of the sentence before each place where `number` stands bare, no
        word after it: what it counts was named there ("… committed to connect 9,300
        households by December 31, 2021. By that date it had connected 6,150."), and
        "6,150 households" is what the passage says. A number with its own word after it
        ("1693942857 for the … token") counts that, not what came before."""
        return [
            stems(self.sentences[n - 1][i - 1])
            for n, i in places
            if i and _states_number(self.sentences[n - 1][i], number, bare=True)
        ]

    def _items_stating(self, number: str, ns: Sequence[int]) -> list[str]:
        """The list items of passages `ns` that state `number`."""
        return [item for n in ns for item in self.items[n - 1] if _states_number(item, number)]

    def _related(self, places: Sequence[tuple[int, int]]) -> bool:
        """Whether a name sits where the passage speaks of what a "who" question asks
        (its sentence or one beside it, which may name the person the other speaks of):
        "The Canadian ambassador to China is China's economic weakness that made Xi eager
        to exploit the opening [2]" (unanswerable) named Xi from a sentence about no
        ambassador. `places`: (passage, sentence index) of each sentence stating it."""
        return any(self.relation & stems(" ".join(self._beside(n, i))) for n, i in places)

    def _beside(self, n: int, i: int) -> list[str]:
        """Sentence `i` of passage `n` and the ones just before and after it."""
        return self.sentences[n - 1][max(0, i - 1) : i + 2]

    def _of_its_kind(self, places: Sequence[tuple[int, int]]) -> bool:
        """Whether a number sits where the passage speaks of the kind of thing the
        question asks for: its sentence or one beside it, the lead-in of the list it is
        in ("Status codes likely to occur:"), or the passage's title and headings. "The
        cooperative's repayment interest rate is 25% of the grant's remaining balance
        [2]" (court o15, unanswerable) took a penalty's share for "What interest rate
        applies…?"."""
        for n, i in places:
            lead = next((x for x in reversed(self.sentences[n - 1][:i]) if x.endswith(":")), "")
            framed = " ".join([*self._beside(n, i), lead, *self.frames[n - 1]])
            if self.kind & stems(framed):
                return True
        return False

    def _about_its_item(self, sentence: str, number: str, ns: Sequence[int]) -> bool:
        """A number the passages state only in keyed list items is about an item's term,
        which the sentence or the question must name: "The built-in cargo add command
        first shipped in Rust 1.13 [4]" took its number from "* `read-manifest` ---
        deprecated since Rust 1.13" (docs20, unanswerable). A number also stated outside
        such items, or in an item the sentence names, passes. An identifier is named by
        its words too: "The tab size is 8 spaces by default" names `tabSize`, as "The
        Node REPL history size…" would name `NODE_REPL_HISTORY_SIZE`; "the REPL server"
        does not. So is it by what its item says it is (`_says_its_item`)."""
        stating = [
            line for n in ns for line in self.lines[n - 1] if _states_number(line.text, number)
        ]
        if not stating or not all(line.keys for line in stating):
            return True
        said = f"{_squash(sentence)} {self.question}"
        words = stems(f"{sentence} {self.question}")
        if any(
            _holds(said, _squash(key)) or (parts := _key_words(key)) and parts <= words
            for line in stating
            for key in line.keys
        ):
            return True
        return any(self._says_its_item(words, number, n) for n in ns)

    def _says_its_item(self, words: set[str], number: str, n: int) -> bool:
        """Whether `words` say what the item stating `number` in passage `n` is, as its
        first line tells it apart from the other items there: "A tab is 8 spaces by
        default" says "`tabSize` {integer} The number of spaces a tab is equal to"; "The
        default prompt string is 8" does not, and says "`prompt` {string} The prompt
        string to use" better. Words the items share ("deprecated since Rust 1.13",
        "removed since Rust 1.44") tell none apart. The item must match at least one such
        word, and no fewer than any other item of the passage, as table rows compete."""
        items = {(tuple(line.keys), line.about) for line in self.lines[n - 1] if line.about}
        own = {
            item: item[1].difference(*(other[1] for other in items if other != item))
            for item in items
        }
        matched = {item: len(words & own[item]) for item in items}
        best = max(matched.values(), default=0)
        return best > 0 and any(
            matched[(tuple(line.keys), line.about)] == best
            for line in self.lines[n - 1]
            if line.about and _states_number(line.text, number)
        )

    def _about_its_row(self, sentence: str, number: str, ns: Sequence[int]) -> bool:
        """A number a passage states only in table rows belongs to the row whose label the
        sentence and the question name best: "The maximum quiescent current … is 0.1 µA"
        took its number from "Shutdown current 0.1 1 µA" beside "Quiescent current
        Active, 1 Hz conversion 6.4 10 µA". Any word of the right label is no proof (both
        say "current"), so the rows compete: the number's row must match at least as many
        of the words said as any other row of the passage, and at least one. (A label no
        word names is no answer's: "R&D spending … was $402 million" came from
        "Operating income $402 $344 $281 43%".) A number also stated outside rows passes."""
        said = stems(sentence) | self.question_stems
        judged = False
        for n in ns:
            lines = self.lines[n - 1]
            stating = [line.label for line in lines if _states_number(line.text, number)]
            if not stating:
                continue
            if any(label is None for label in stating):
                return True  # stated in prose: nothing to judge here
            best = max(len(line.label & said) for line in lines if line.label is not None)
            if best and any(len(label & said) == best for label in stating):
                return True
            judged = True
        return not judged

    def _asked_units(self, sentence: str) -> dict[str, str]:
        """Numbers the sentence gives in the unit the question asks for ("how many days":
        "… is 1693942857 days"), with that unit's stem: the passage must count that unit
        where it states the number, not a timestamp or an id that happens to be there."""
        if not self.wants_quantity:
            return {}
        units = {}
        for m in re.finditer(rf"({_NUMBER.pattern})\s+([^\W\d_]+)", sentence):
            asked = stems(m.group(2)) & self.question_stems
            if asked:
                units[m.group(1).replace(",", "").rstrip(".")] = asked.pop()
        return units

    def needed(self, sentence: str, ns: Sequence[int]) -> list[int]:
        """The passages of `ns` a synthesis stands on: those without which the rest
        supports it less. Each may support nothing alone ("737 MAX" in one passage, its
        "73 airplanes" in another: a number missing from either zeroes its own score)."""
        whole = self.support(sentence, ns)
        return [
            n for n in ns if self.support(sentence, [m for m in ns if m != n] or [n]) < whole
        ] or list(ns)

    def completed(self, sentence: str, ns: Sequence[int]) -> list[int]:
        """`ns` plus the passages of the same documents that state the numbers the cited
        ones lack, when only those were missing: a small model often cites the passage it
        took the question's words from ("the proposed 737 MAX directive would affect 73
        airplanes [1]": "737" is in [1], 73 only in [3], the same document). A synthesis
        the checker finds and cites: every number then sits in a cited passage, in a
        sentence that shares the claim's or the question's words (`_anchored`: "Issued in
        2020." lends no year to a claim about airplanes); another document lends nothing."""
        missing = _numbers(sentence) - set().union(*(self.numbers[n - 1] for n in ns))
        if not missing:
            return []
        sources = {self.passages[n - 1].source for n in ns}
        lenders: list[int] = []
        for number in sorted(missing):  # the best-ranked passage stating each one
            if any(number in self.numbers[n - 1] for n in lenders):
                continue
            lender = next(
                (
                    n
                    for n, p in enumerate(self.passages, 1)
                    if p.source in sources and number in self.numbers[n - 1]
                ),
                None,
            )
            if lender is None:
                return []
            lenders.append(lender)
        together = [*ns, *lenders]
        if self.support(sentence, together) < SUPPORT_THRESHOLD:
            return []
        return sorted(self.needed(sentence, together))

    def adds_to_question(self, sentence: str) -> bool:
        """Whether the sentence says something the question did not already say (a word,
        a number, or a term such as the option `-i`, which has no word in it), and states
        a quantity or a point in time when that is what the question asks for."""
        # A number the question gave ("Flight 610", "737 MAX") is no quantity or date found.
        stated = bool(_numbers(sentence) - self.question_numbers)
        quantities = _QUANTITY_WORDS.findall(sentence)
        if self.wants_count:  # "How many students…?" "About half of the participants…"
            quantities = [q for q in quantities if q.lower() != "half"]
        if self.wants_quantity and not (stated or quantities):
            return False  # "How many EVs…?" "Beijing would remove levies [3]." answers nothing
        if self.counted and not self._counts(sentence):
            return False  # "How many carriers…?" "…$14.2 million to connect 9,300 households"
        if self.wants_date and not (
            stated
            or _DATE_WORDS.search(sentence)
            or _QUANTITY_WORDS.search(sentence)
            or _RELATIVE_YEAR.search(sentence)
        ):
            return False  # "…the 737 MAX deadline was the closing date for comments [1]."
        if not self.wants_person and self._heading(sentence):
            return False  # "What is fueling the crisis?" "Economic Opportunism Over Principle [1]"
        if self.wants_year and not (
            set(_YEAR.findall(sentence)) - self.question_numbers or _RELATIVE_YEAR.search(sentence)
        ):
            return False  # "In which year will the cap reach 70,000?" "…over five years [1]."
        if self.wants_version and not _numbers(sentence) - self.question_numbers:
            return False  # "Which Rust release first shipped…?" "…the stable version [3]."
        if self.wants_name and not any(
            w[0].isupper() and w.lower() not in STOPWORDS and not _holds(self.question, w.lower())
            for w in _WORD.findall(sentence)
        ):
            return False  # "Which company makes it?" "A research group [3]."
        new = stems(sentence) - self.question_stems
        terms = [t for t in required_terms(sentence) if not _mentions(self.question, _squash(t))]
        return bool(new or stated or terms)

    def _counts(self, sentence: str) -> bool:
        """Whether a sentence answering "how many" counts what is asked, or states no count
        to judge ("the number of logical CPUs"): one of its numbers the question did not
        give must count it in the sentence ("11 extension requests", "The number of
        compiler processes is 4"), or where a passage states it ("Canada can import
        49,000 [1]" from "49,000 electric vehicles"). "…the 100 percent tariff China
        slapped on canola [2]" counts no farmers (n16); "In 2017 the Agency awarded …
        $14.2 million to connect 9,300 households [2]" no carriers (o19); nor does a
        sentence whose only numbers are years."""
        places = [
            (value, counts)
            for value, counts in _count_places(sentence, self.counted)
            if value not in self.question_numbers
        ]
        if not places or any(counts for _, counts in places):
            return True
        if {value for value, _ in places} & self._passage_counts():
            return True
        # A year tells when, and counts nothing it does not stand before: "The paper was
        # written in 2000 [2]." answered "How many tracks did the database hold…?" (pdf08,
        # passing below because no passage it cited said "tracks").
        if all(_YEAR_VALUE.fullmatch(value) for value, _ in places):
            return False
        # Passages that never name what is asked may call it otherwise: "189 fatalities"
        # counts the people who died. Passages that name it and count it nowhere
        # ("…paid carriers to extend service…") leave every number about something else.
        return not any(self.counted & words for words in self.stems)

    def _passage_counts(self) -> set[str]:
        """The counts the passages state of what a "how many" question asks: before a word
        of it, or bare after a sentence naming it ("… committed to connect 9,300
        households … By that date it had connected 6,150.")."""
        if self._counts_found is None:
            self._counts_found = {
                value
                for sentences in self.sentences
                for i, sentence in enumerate(sentences)
                for value, counts in _count_places(
                    sentence, self.counted, stems(sentences[i - 1]) if i else set()
                )
                if counts
            }
        return self._counts_found

    def _heading(self, sentence: str) -> bool:
        """Whether the sentence is a whole line of a passage that states nothing: a heading
        or label (no closing stop, no number, two words or more; a name is one too, which
        answers "who"). The words are the passage's, and no answer."""
        said = _squash(sentence).rstrip(" .!?")  # a lead-in ("…follow:") or a sentence is none
        return len(said.split()) >= 2 and not _NUMBER.search(said) and said in self.bare_lines

    def best(self, sentence: str) -> tuple[int, float]:
        scores = [(self.support(sentence, [n]), -n) for n in range(1, len(self.passages) + 1)]
        score, neg_n = max(scores)
        return -neg_n, score


def _cut_short(claim: str) -> bool:
    """Whether a sentence ends on a word that needs another after it ("… retrieved from
    [2].", a link stripped as active content or a value the model never wrote). As
    written: "… current limit is 3.1 A." ends on a unit, "… pin IN." on a name."""
    last = re.findall(r"[\w']+", claim)[-1:]
    return bool(last) and last[0].islower() and last[0] in _DANGLING


def segments(text: str) -> list[tuple[int, int]]:
    """Sentence spans of the answer: trailing marker-only pieces merged backwards, a list
    enumerator ("2.") forwards into the item it numbers, so it stands or falls with it."""
    spans: list[tuple[int, int]] = []
    pending: int | None = None
    for s, e in split_sentences(text):
        if spans and pending is None and _INITIALS.search(text[spans[-1][0] : spans[-1][1]]):
            spans[-1] = (spans[-1][0], e)  # "Richard (R.J.) | Eskow wrote …" is one
        elif spans and pending is None and _MARKERS_ONLY.match(text[s:e]):
            spans[-1] = (spans[-1][0], e)
        elif _ENUMERATOR.fullmatch(text[s:e].strip()):
            pending = s if pending is None else pending
        else:
            spans.append((s if pending is None else pending, e))
            pending = None
    if pending is not None:
        spans.append((pending, len(text)))  # a number with no item after it
    return spans


def _with_markers(bare: str, ns: Sequence[int]) -> str:
    marks = "".join(f"[{n}]" for n in ns)
    if not marks:
        return bare
    match = re.search(r"[.!?]+[\"'”’)]*$", bare)
    if match:
        return f"{bare[: match.start()]} {marks}{bare[match.start() :]}"
    return f"{bare} {marks}"


def _span(passage: Passage, sentences: Sequence[str]) -> tuple[int, int]:
    """Offsets in the passage covering, for each citing sentence, its best-matching sentence."""
    spans = split_sentences(passage.text)
    if not spans:
        return 0, len(passage.text)
    held = [stems(passage.text[s:e]) for s, e in spans]
    chosen = []
    for sentence in sentences:
        want = stems(sentence)
        chosen.append(max(range(len(spans)), key=lambda i: (len(want & held[i]), -i)))
    return spans[min(chosen)][0], spans[max(chosen)][1]


class Checker:
    """Checks an answer one sentence at a time, in order: what `verify` does to a whole
    text, usable on a stream (a sentence is judged the moment it is complete)."""

    def __init__(
        self,
        passages: Sequence[Passage],
        weight: Callable[[str], float] | None = None,
        question: str = "",
        mentions: Mentions | None = None,
        asked_as: str = "",
    ) -> None:
        """`asked_as`: a follow-up as the user asked it, when `question` is its rewrite:
        what it asks for (a quantity, a date, a name) is demanded too."""
        self.passages = passages
        self.scorer = _Scorer(passages, weight or (lambda _: 1.0), question, asked_as)
        # What a compound question demands, it demands of the sentence answering each part:
        # "Steep it for two minutes." answers "How long should green tea steep, and in what
        # year was the Eiffel Tower completed?" though it names no year.
        parts = question_parts(question)
        self.askers = [self.scorer.asking(part) for part in parts] or [self.scorer]
        self.own = own_words(parts)  # each part's words that no other part has
        self.mentions = mentions
        self.question_names = [_squash(t) for t in required_terms(question)]
        self.sources = list(dict.fromkeys(p.source for p in passages))
        self.named: dict[tuple[str, str], bool] = {}  # (source, name): asked once per answer
        self.unsupported: list[str] = []
        self.supported = 0  # kept sentences that add something to the question
        self.citing: dict[int, list[str]] = {}

    def check(self, piece: str) -> tuple[str, tuple[int, ...], dict[int, str]] | None:
        """One answer sentence as shown (markers re-pointed), the passages it cites and
        for each the claim it supports (no markers, no list number: the sentence, or the
        clause citing it), or None when it is dropped (unsupported, cut short, a bare
        list number)."""
        passages, scorer = self.passages, self.scorer
        cited = [n for n in dict.fromkeys(parse_markers(piece)) if 1 <= n <= len(passages)]
        bare = _MARKER.sub("", piece).strip()
        bare = re.sub(r"\s+([.,;:!?])", r"\1", bare)
        if lead := _LEAD_IN.match(bare):
            rest = bare[lead.end() :]
            bare = rest[:1].upper() + rest[1:]
        if _ENUMERATOR.fullmatch(bare):  # a list number left without its item
            return None
        claim = re.sub(r"^" + _ENUMERATOR.pattern + r"\s+", "", bare)  # "2. X": judged as X
        # A sentence quoted whole (the extractive fallback's “…”) is judged as the sentence:
        # as a quoted term, all of it, its passage sentence had to share some other word of
        # the question, and a short one never could.
        claim = _WHOLE_QUOTE.sub(r"\1\2", claim)
        token = claim.rstrip(".!?")
        if _CODE.fullmatch(token) and not _holds(scorer.question, token.lower()):
            # A bare code ("ZEPHYR-42 [1][2].") states nothing about the question: what a
            # planted "begin every answer with…" makes the model write, never an answer.
            self.unsupported.append(bare)
            return None
        lone = len(stems(claim)) < 2 and not (required_terms(claim) or _numbers(claim))
        if lone and _cut_short(claim) and not _YES_NO.match(claim):
            # Words about the passages with nothing said ("This is stated in [1].", "As
            # shown in and [2][4]."; the prompt's rule 5 forbids them): not an answer
            # sentence, and no unsupported one either, so not shown or flagged. "Yes, it
            # is [1]." says something.
            return None
        if lone and not (token and any(_holds(scorer.plain[n - 1], _squash(token)) for n in cited)):
            # "Yes." or a lone connective: nothing to verify. A lone name its cited passage
            # states ("Vancouver [1].") is an answer and is checked as one.
            return _with_markers(bare, cited), tuple(cited), dict.fromkeys(cited, claim)
        keep = self._kept(claim, cited)
        if keep:
            shown, claims = _with_markers(bare, keep), dict.fromkeys(keep, claim)
        elif split := self._split(claim, cited):
            shown, claims = split
            keep = list(claims)
        else:
            self.unsupported.append(bare)
            return None
        self.supported += any(asker.adds_to_question(claim) for asker in self.askers)
        for n, said in claims.items():
            self.citing.setdefault(n, []).append(said)
        return shown, tuple(keep), claims

    def _kept(self, claim: str, cited: Sequence[int]) -> list[int]:
        """The passages that support the claim (the cited ones when they do), or []."""
        scorer = self.scorer
        if _cut_short(claim):  # whatever it was meant to say is missing
            return []
        alone = [n for n in cited if scorer.support(claim, [n]) >= SUPPORT_THRESHOLD]
        best, best_score = scorer.best(claim)
        if (
            alone
            and best not in alone
            and best_score >= max(scorer.support(claim, [n]) for n in alone) + CLEARLY_BETTER
        ):
            keep = [best]  # another passage holds what the cited one lacks ("Vancouver")
        elif alone:
            keep = alone
        elif cited and scorer.support(claim, cited) >= SUPPORT_THRESHOLD:
            keep = scorer.needed(claim, cited)  # a synthesis
        else:
            keep = [best] if best_score >= SUPPORT_THRESHOLD else []
        if not keep:
            keep = scorer.completed(claim, cited or [best])
        return keep if keep and self._names_documents(claim, keep) else []

    def _split(self, claim: str, cited: Sequence[int]) -> tuple[str, dict[int, str]] | None:
        """A sentence answering two parts of a compound question in two clauses, each
        from its own passage ("The chair … is Zhao Leji, and Canada's largest export
        market is the United States."): no passage holds it whole, so it is checked clause
        by clause, each as a sentence of its own that must speak to a part (hold words
        only that part has) and pass every check; shown with each clause's citation."""
        spans = clause_spans(claim)
        if len(self.own) < 2 or len(spans) < 2:
            return None
        out, pos, claims = [], 0, {}
        for a, b in spans:
            piece = claim[a:b]
            if not any(words & stems(piece) for words in self.own):
                return None
            keep = self._kept(piece, cited)
            if not keep:
                return None
            for n in keep:
                claims[n] = f"{claims[n]} {piece}" if n in claims else piece
            body = piece.rstrip(" .!?")  # the last clause's stop goes after its markers
            out.append(f"{claim[pos:a]}{body} {''.join(f'[{n}]' for n in keep)}")
            pos = a + len(body)
        return "".join(out) + claim[pos:], claims

    def _names_documents(self, claim: str, keep: Sequence[int]) -> bool:
        """A name the question gives and the sentence repeats is named by the document of
        a passage it cites, when a retrieved document names it at all: "The Shazam
        search engine was implemented in the C language [5]" cited the UNIX paper, whose
        "written in C" is about UNIX, beside four passages of the Shazam paper; every
        word of the claim is in the question or the passage. The whole document counts,
        not the passage ("the design" of a paper whose title gives the name). A name no
        retrieved document has is how the question frames itself ("the Cargo Book"),
        not what the documents are about: it is not judged."""
        if self.mentions is None:
            return True
        said = _squash(claim)
        cited = {self.passages[n - 1].source for n in keep}
        for name in self.question_names:
            if not _holds(said, name) or any(self._names(s, name) for s in cited):
                continue
            if any(self._names(s, name) for s in self.sources if s not in cited):
                return False
        return True

    def _names(self, source: str, name: str) -> bool:
        key = (source, name)
        if key not in self.named:
            assert self.mentions is not None
            self.named[key] = self.mentions(source, name)
        return self.named[key]

    def citation(self, n: int, sentences: Sequence[str] | None = None) -> Citation:
        """Passage `n` as cited by `sentences` (default: every kept sentence citing it)."""
        p = self.passages[n - 1]
        s, e = _span(p, self.citing[n] if sentences is None else sentences)
        return Citation(n, p.source, p.title, p.text[s:e], p.start + s, p.start + e, p.page)

    def citations(self) -> tuple[Citation, ...]:
        return tuple(self.citation(n) for n in self.citing)


def stated(text: str) -> set[str]:
    """The numbers and names (capitalised words, code identifiers, quoted terms) a text
    states, squashed; citation markers are none."""
    bare = _MARKER.sub("", text)
    return _numbers(bare) | {_squash(term) for term in required_terms(bare)}


def demands(passages: Sequence[Passage], parts: Sequence[str]) -> list[Callable[[str], bool]]:
    """For each part of a compound question, whether an answer sentence (markers and
    all) gives what that part asks for: something new, and a quantity, a date, a year or
    a name when that is what it asks (`_Scorer.adds_to_question`; what the passages say
    is not judged here). What `rag.decompose.unanswered` holds each part to."""
    scorer = _Scorer(passages, lambda _: 1.0)

    def gives(asker: _Scorer) -> Callable[[str], bool]:
        return lambda sentence: asker.adds_to_question(_MARKER.sub("", sentence))

    return [gives(scorer.asking(part)) for part in parts]


def verify(
    text: str,
    passages: Sequence[Passage],
    weight: Callable[[str], float] | None = None,
    question: str = "",
    mentions: Mentions | None = None,
    asked_as: str = "",
) -> Verified:
    """Re-cite or drop each sentence of `text`; see the module docstring.

    `weight(token)` says how much a word counts (IDF from the index); default: equally.
    `mentions(source, name)`: whether a document names something anywhere (the index's
    `Store.mentions`); without it no sentence is judged by its documents. `asked_as`: a
    follow-up's own words (see `Checker`).
    """
    checker = Checker(passages, weight, question, mentions, asked_as)
    out, pos = [], 0
    for start, end in segments(text):
        out.append(text[pos:start])
        pos = end
        shown = checker.check(text[start:end])
        if shown is None:
            if out and out[-1].strip() == "":
                out.pop()  # the space before the dropped sentence goes with it
            continue
        out.append(shown[0])
    out.append(text[pos:])
    return Verified(
        "".join(out).strip(),
        checker.citations(),
        tuple(checker.unsupported),
        checker.supported,
    )
