"""The quality gate on real corpora nobody here wrote: saved web pages, a Markdown book,
PDFs, and follow-up conversations over the book (`../shared/eval/suite/`, read from
there, never copied into the project). Real embedder, real default model.

Each corpus is indexed once for the module; every set is scored by `rag eval`'s rules
and must stay above its floors (see FLOORS; the README's "Quality on every set" has the
measured numbers).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import RAG
from rag.evaluation import EvalReport, evaluate, load_questions
from tests.fakes import save_report

pytestmark = pytest.mark.real

SUITE = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "suite"

# Floors: two questions under what clean `bench/quality.py` runs and CI rehearsals gave
# (2026-12-03, default model; acc / refusals / recall@5 over five runs: html 0.75-0.80 /
# 4 of 5 / 0.90, docs 0.765-0.824 / 3 of 4 / 0.824, pdf 0.588 before pages were joined
# and 0.706 after / 4 of 4 / 0.824, follow-ups 0.75 / 1-2 of 2 / 0.875, citation
# precision 0.9). Greedy answers flipped between those runs with the random fence code
# each prompt had then, one question each way, hence the margin; the code now comes from
# the request (the same question over the same index is the same prompt), but a change
# anywhere in what a question retrieves still turns it, as a hidden corpus would.
# 2026-12-04, compound questions searched by part: docs and pdf recall@5 0.882 (no
# model involved: floors one question under), pdf accuracy 0.765 (two under).
# 2026-12-06, a rate asked per something (pdf06): pdf accuracy 0.824, floor two under.
FLOORS = {
    "html": {"recall@5": 0.85, "answer_accuracy": 0.65, "refusal_accuracy": 0.6},
    "docs": {"recall@5": 0.8, "answer_accuracy": 0.64, "refusal_accuracy": 0.5},
    "pdf": {"recall@5": 0.8, "answer_accuracy": 0.7, "refusal_accuracy": 0.5},
    # 8 answerable questions with about one citation each: one answer is 0.125
    "followups": {"answer_accuracy": 0.5, "refusal_accuracy": 0.5, "citation_precision": 0.7},
}
# Every set unless FLOORS says otherwise (measured 0.875-1.0): what is cited is a gold file.
CITATION_PRECISION = 0.85


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
    save_report(name, report)
    metrics = report.metrics()
    floors = {"citation_precision": CITATION_PRECISION, **FLOORS[name]}
    low = {k: metrics[k] for k, floor in floors.items() if (metrics[k] or 0) < floor}
    assert not low, f"{name}: below floor: {low}\n{report.table()}"


@pytest.mark.parametrize("name", ["html", "docs", "pdf", "followups"])
def test_every_suite_set_meets_its_floors(engines, name):
    report = evaluate(engines[name], load_questions(SUITE / name / "questions.jsonl"))
    _check(name, report)
    for row in report.rows:  # nothing the checks dropped, and no uncited claim
        if not row.refused:
            assert row.citations, row
