"""Compound probe sets: pairs of a set's answerable questions joined into one question.

"What chunk size did GFS settle on, and how many tracks did Shazam's database hold?"
asks two things, often about two documents: the kind of question a small model answers
half of. Joining a set's own questions gives such questions with known answers (both
parts' keywords) over a corpus nobody here wrote, so compound handling is measured on
more than the suite's dozen. Each set's corpus is linked, not copied:

    .venv/bin/python bench/probes/compound.py /tmp/probe
    P=/tmp/probe; .venv/bin/python bench/quality.py --no-naive \\
        --sets cnews=$P/cnews,cdocs=$P/cdocs,chtml=$P/chtml,cpdf=$P/cpdf
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quality import eval_sets  # noqa: E402

from rag.decompose import question_parts  # noqa: E402

# A part that opens with a question word joins after ", and " as a question of its own
_OPENS = re.compile(r"^(?:what|which|who|how|when|where|in which|in what)\b", re.I)
# Each probe: the sets whose questions are joined, and the most words a joined question
# may have (two long ones make a question nobody asks; the news questions are short).
PROBES = {
    "cnews": (("dev", "news-probe"), 18),
    "cdocs": (("docs",), 30),
    "chtml": (("html",), 30),
    "cpdf": (("pdf",), 30),
}


def pairs(questions: list[dict], max_words: int) -> list[dict]:
    """Consecutive answerable one-part questions joined two by two ("A, and b?"); only
    joins `question_parts` splits back into the two are kept."""
    usable = [
        q
        for q in questions
        if q["type"] == "factoid"
        and q["answer_all"]
        and "history" not in q
        and _OPENS.match(q["question"])
        and q["question"].count("?") == 1
        and len(q["question"].split()) <= max_words
    ]
    out = []
    for a, b in zip(usable[0::2], usable[1::2], strict=False):
        text = f"{a['question'].rstrip('? ')}, and {b['question'][0].lower()}{b['question'][1:]}"
        if len(question_parts(text)) != 2:
            continue
        out.append(
            {
                "id": f"c{len(out) + 1:02d}",
                "type": "multi",
                "question": text,
                "answer_all": a["answer_all"] + b["answer_all"],
                "gold_docs": sorted(set(a["gold_docs"]) | set(b["gold_docs"])),
                "gold_quote": a["gold_quote"],
                "from": [a["id"], b["id"]],
            }
        )
    return out


def main(root: Path) -> None:
    sets = eval_sets()
    for name, (sources, max_words) in PROBES.items():
        questions = [
            json.loads(line)
            for source in sources
            for line in sets[source].questions.read_text("utf-8").splitlines()
            if line.strip()
        ]
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        corpus = folder / "corpus"
        if not corpus.exists():
            corpus.symlink_to(sets[sources[0]].corpus.resolve())
        joined = pairs(questions, max_words)
        (folder / "questions.jsonl").write_text(
            "".join(json.dumps(q) + "\n" for q in joined), "utf-8"
        )
        print(f"{name}: {len(joined)} compound questions in {folder}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/probe"))
