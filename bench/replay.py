"""Replay the answers a `bench/quality.py --json` run recorded through today's verifier.

A verifier change is judged on answers without asking the model again: each answered
row of a saved run is checked as the pipeline would check it now, over the passages its
prompt held (rebuilt by today's retrieval: the first try's, or all of them when the row
was retried), and the rows where a sentence is now dropped, or where none answers any
longer (the pipeline would refuse), are printed. Run on the code before and after a
change, the difference is what the change does to every recorded answer of every set,
in about a minute.

    .venv/bin/python bench/replay.py RUN.json [--sets html,pdf,nodemd=/tmp/probe/nodemd]

Left out: refusals and quoted fallbacks (no model text to check), follow-ups (their
standalone question came from the model's rewrite) and compound questions (each part
is answered on its own prompt). Indexes are the ones `bench/quality.py` keeps (`--work`),
built again if the indexing code changed; the model is never loaded.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from quality import chosen_sets, code_hash, index_dir  # bench/quality.py

from rag import RAG
from rag.verify import segments, verify


def replay(engine: RAG, rows: list[dict]) -> list[dict]:
    """Each checkable row's recorded answer, checked again: what is kept and dropped."""
    pipeline, store = engine.pipeline, engine.store
    out = []
    for row in rows:
        answer = row.get("answer") or ""
        if row.get("refused") or answer.startswith("“") or row.get("standalone"):
            continue
        query = pipeline.rewrite(row["question"], (), None)
        if query.parts:
            continue
        passages = pipeline.retrieve(query)
        prompt = pipeline.select(query, passages, tight=not row.get("retried"))
        checked = verify(
            answer, prompt.passages, store.term_weight, row["question"], store.mentions
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
        checked = replay(engine, recorded[name]["ours"])
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
