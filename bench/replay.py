"""Replay the answers a `bench/quality.py --json` run recorded through today's verifier.

A verifier change is judged on answers without asking the model again: each answered
row of a saved run is checked as the pipeline would check it now, over the passages its
prompt held (rebuilt by today's retrieval: the first try's, or all of them when the row
was retried), and the rows where a sentence is now dropped, or where none answers any
longer (the pipeline would refuse), are printed. Run on the code before and after a
change, the difference is what the change does to every recorded answer of every set,
in about a minute.

    .venv/bin/python bench/replay.py RUN.json [--sets html,pdf,nodemd=/tmp/probe/nodemd]

A follow-up is searched with its recorded standalone question (the model's rewrite) and
its set's earlier turns; a quoted fallback is checked as the pipeline checks it. Left
out: refusals (no model text to check) and compound questions (each part is answered on
its own prompt). Indexes are the ones `bench/quality.py` keeps (`--work`),
built again if the indexing code changed; the model is never loaded.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from quality import chosen_sets, code_hash, index_dir  # bench/quality.py

from rag import RAG
from rag.evaluation import load_questions
from rag.pipeline import Query
from rag.verify import segments, verify


def replay(engine: RAG, rows: list[dict], history: dict[str, list]) -> list[dict]:
    """Each checkable row's recorded answer, checked again: what is kept and dropped.

    A follow-up is searched as it was answered: its recorded standalone question, with
    its set's earlier turns (`history`, by id). A quoted fallback is checked as the
    pipeline checks it, as an answer."""
    pipeline, store = engine.pipeline, engine.store
    out = []
    for row in rows:
        answer = row.get("answer") or ""
        if row.get("refused"):
            continue
        turns = tuple(tuple(turn) for turn in history.get(str(row["id"]), ()))
        if turns:
            query = Query(row["question"], row.get("standalone") or row["question"], turns)
        else:
            query = pipeline.rewrite(row["question"], (), None)
        if query.parts and not query.joined:
            continue
        passages = pipeline.retrieve(query)
        prompt = pipeline.select(query, passages, tight=not row.get("retried"))
        checked = verify(
            answer,
            prompt.passages,
            store.term_weight,
            query.standalone,
            store.mentions,
            query.original,
        )
        out.append(
            {
                "id": row["id"],
                "correct": row.get("correct"),
                "sentences": len(segments(answer)),
                "supported": checked.supported,
                "dropped": list(checked.unsupported),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a bench/quality.py --json output")
    parser.add_argument("--sets", default="", help="as bench/quality.py's (default: the run's)")
    parser.add_argument("--work", default="/tmp/rag-quality", help="where indexes are kept")
    args = parser.parse_args()
    recorded = json.loads(args.run.read_text("utf-8"))["rows"]
    sets, wanted = chosen_sets(args.sets or ",".join(recorded))
    missing = [n for n in wanted if n not in sets or n not in recorded]
    if missing:
        raise SystemExit(f"not in the run or unknown (give NAME=DIR): {', '.join(missing)}")
    version = code_hash({})
    for name in wanted:
        spec = sets[name]
        engine = RAG.open(db=index_dir(spec, Path(args.work), version))
        engine.index([spec.corpus])
        history = {str(q["id"]): q.get("history") or [] for q in load_questions(spec.questions)}
        checked = replay(engine, recorded[name]["ours"], history)
        # Kept sentences that only restate the question answer nothing: with none that
        # answers, the pipeline refuses (`supported` counts the ones that answer).
        changed = [r for r in checked if r["dropped"] or not r["supported"]]
        print(f"{name}: {len(checked)} answers checked, {len(changed)} changed")
        for r in changed:
            mark = "right" if r["correct"] else "wrong"
            now = "refused now" if not r["supported"] else f"{r['supported']} answering"
            print(f"  {r['id']} (was {mark}; {now}; dropped: {r['dropped']})")


if __name__ == "__main__":
    main()
