"""The quality gate on real corpora nobody here wrote: saved web pages, a Markdown book,
PDFs, and follow-up conversations over the book (`../shared/eval/suite/`, read from
there, never copied into the project). Real embedder, real default model.

Each corpus is indexed once for the module; every set is scored by `rag eval`'s rules
and must stay above its floors (see FLOORS: provisional until a clean `bench/quality.py`
run; the README's "Quality on every set" has the numbers measured so far).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import RAG
from rag.evaluation import EvalReport, evaluate, load_questions

pytestmark = pytest.mark.real

SUITE = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "suite"

# Floors: provisional, well under the partial measurements of this session (html acc
# 0.75, refusals 3/5; docs acc 0.53, refusals 4/4; pdf about 0.4 on the first half; no
# clean pdf or follow-up run yet). They catch a collapse; raise them to just under a
# clean `bench/quality.py` run.
FLOORS = {
    "html": {"recall@5": 0.85, "answer_accuracy": 0.5, "refusal_accuracy": 0.4},
    "docs": {"recall@5": 0.75, "answer_accuracy": 0.3, "refusal_accuracy": 0.5},
    "pdf": {"recall@5": 0.55, "answer_accuracy": 0.15, "refusal_accuracy": 0.25},
    "followups": {"answer_accuracy": 0.1},
}
CITATION_PRECISION = 0.8  # every set: what is cited is a gold file


@pytest.fixture(scope="module")
def engines(tmp_path_factory) -> dict[str, RAG]:
    assert SUITE.is_dir(), f"the evaluation suite is missing: {SUITE} (CI lays ../shared)"
    made: dict[str, RAG] = {}
    generator = None
    for name in ("html", "docs", "pdf"):
        engine = RAG.open(db=tmp_path_factory.mktemp(name) / "db", generator=generator)
        report = engine.index([SUITE / name / "corpus"])
        assert not report.failed, report.failed
        generator = engine.generator  # one model in memory for every set
        made[name] = engine
    made["html"].warm_up()
    made["followups"] = made["docs"]
    return made


def _check(name: str, report: EvalReport) -> None:
    metrics = report.metrics()
    floors = {**FLOORS[name], "citation_precision": CITATION_PRECISION}
    low = {k: metrics[k] for k, floor in floors.items() if (metrics[k] or 0) < floor}
    assert not low, f"{name}: below floor: {low}\n{report.table()}"


@pytest.mark.parametrize("name", ["html", "docs", "pdf", "followups"])
def test_every_suite_set_meets_its_floors(engines, name):
    report = evaluate(engines[name], load_questions(SUITE / name / "questions.jsonl"))
    _check(name, report)
    for row in report.rows:  # nothing the checks dropped, and no uncited claim
        if not row.refused:
            assert row.citations, row
