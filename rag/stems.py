"""Word stems for comparing what two texts speak of: the checker's words against a
passage's, a question part's against an answer's. Crude and language-light on purpose:
a 6-letter prefix after the language's irregular verb forms are mapped to their verb."""

from __future__ import annotations

import re

from index.lexical import tokenize

# English verb forms no prefix joins to their verb: the model writes "grew" for the
# question's "grow", "brought" for the passage's "brings". The irregular verbs are a
# closed class of the language, not words tuned on any corpus; forms that are also
# common nouns or names ("left", "saw", "fed", "led", "won", "ground") are left out.
_IRREGULAR = {
    form: verb
    for verb, *forms in (
        group.split()
        for group in """
    arise arose arisen, awake awoke awoken, beat beaten, become became,
    begin began begun, bend bent, bite bitten, blow blew blown, break broke broken,
    breed bred, bring brought, build built, burn burnt, buy bought, catch caught,
    choose chose chosen, cling clung, come came, creep crept, deal dealt, dig dug,
    draw drew drawn, drink drank, drive drove driven, eat ate eaten, fall fallen,
    feel felt, fight fought, find found, flee fled, fling flung, fly flew flown,
    forbid forbade forbidden, foresee foresaw foreseen, forget forgot forgotten,
    forgive forgave forgiven, freeze froze frozen, get got gotten, give gave given,
    go went gone, grow grew grown, hang hung, hear heard, hide hid hidden, hold held,
    keep kept, kneel knelt, know knew known, leap leapt, learn learnt, lend lent,
    lose lost, make made, mean meant, mistake mistook mistaken, overcome overcame,
    oversee oversaw overseen, overtake overtook overtaken, pay paid, rebuild rebuilt,
    rewrite rewrote rewritten, ride rode ridden, rise risen, run ran, seek sought,
    sell sold, send sent, shake shook shaken, shine shone, shrink shrank shrunk,
    sing sang sung, sink sank sunk, sleep slept, slide slid, speak spoken,
    speed sped, spend spent, spin spun, spring sprang sprung, stand stood,
    steal stolen, stick stuck, sting stung, strike struck stricken,
    strive strove striven, swear swore sworn, sweep swept, swim swam swum,
    swing swung, take took taken, teach taught, tell told, think thought,
    throw threw thrown, undergo underwent undergone, understand understood,
    undertake undertook undertaken, uphold upheld, wake woke woken, wear wore worn,
    weave wove woven, weep wept, withdraw withdrew withdrawn, withhold withheld,
    write wrote written
""".replace("\n", " ").split(",")
    )
    for form in forms
}
_CONSONANT_Y = re.compile(r"(?<=[^aeiouy])y$|ied$|ie$")


def stem(word: str) -> str:
    """A 6-letter prefix: a crude but language-light stemmer ("arrested" ~ "arrest"),
    after an irregular verb form becomes its verb and a consonant's final y an i, so
    "carried", "carries" and "carry", "policies" and "policy" meet ("carrie" and
    "carry" did not)."""
    if word[0].isdigit():
        return word
    return _CONSONANT_Y.sub("i", _IRREGULAR.get(word, word))[:6]


def stems(text: str) -> set[str]:
    """Content-word stems: what two texts share when they speak of the same things."""
    return {stem(w) for w in tokenize(text)}


# Endings a word takes without changing what it names: "fueling"/"fueled", "statement".
# Not "-ion", which makes other words of short ones ("portion", "station").
_ENDING = re.compile(r"(?:ing|ed|es|s|ers|er|ly|ments|ment)$")


def _base(word: str) -> str:
    end = _ENDING.search(word)
    return word[: end.start()] if end and end.start() >= 4 else word


def same_word(a: str, b: str) -> bool:
    """Whether two tokens are forms of one word: one ending stripped from each ("fueling"
    and "fueled"), or a base of five letters or more that the other extends by at most
    three ("chairs" and "chairman"). How a question's words are found in a sentence the
    writer worded otherwise; looser than `stem`, which the checker keeps strict."""
    x, y = _base(a), _base(b)
    if x == y:
        return True
    short, long = sorted((x, y), key=len)
    return len(short) >= 5 and long.startswith(short) and len(long) - len(short) <= 3
