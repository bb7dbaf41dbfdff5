"""Answer quality on every evaluation set: our pipeline against a naive RAG baseline.

    .venv/bin/python bench/quality.py [--sets dev,html,docs,pdf,followups,news-followups,
        news-probe] [--json] [--retrieval-only] [--limit N] [--set KEY=VALUE ...] [--work DIR]

Each set's corpus is indexed once per version of the indexing code (the index is kept in
`--work`, keyed by a hash of `index/*.py`, so a change to chunking re-indexes and an
unchanged tree reuses it). The sets are the shared dev questions over the bundled news
corpus and the suite in `../shared/eval/suite/` (html, docs, pdf, follow-ups over docs);
the documents are read from there, never copied into the project.

- `ours`: `RAG.ask`, scored by `rag eval`'s rules (keywords *and* a citation of a gold
  file; a refusal is right only for unanswerable questions).
- `naive`: the 60-line pipeline users compare us with: ~700-character paragraph chunks,
  all-MiniLM-L6-v2 dense top-4, LlamaIndex's default QA prompt, the same GGUF and
  threads. It never cites, so its accuracy is keywords only (and a refusal, detected
  by the same patterns, for unanswerable questions). Follow-ups: it retrieves with the
  earlier questions prepended and gets the earlier turns as chat messages.

recall@5 counts a question when one of the top 5 passages holds its `gold_quote`, with
whitespace collapsed on both sides (PDF passages keep the page's line breaks). One table per
run; `--json` prints every metric and row. The two pipelines take turns by blocks of
`--block` questions, so a slow spell of the machine falls on both. `--retrieval-only`
skips the model (seconds, for iterating on ingestion and search).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from answer import parse_set  # bench/answer.py: --set KEY=VALUE

from index import bundled_corpus
from index.readers import SUPPORTED_SUFFIXES, extract, read_bytes
from rag import RAG
from rag.citations import is_refusal
from rag.evaluation import (
    EvalReport,
    Row,
    evaluate,
    keyword_hit,
    load_questions,
    quote_rank,
    shown,
)
from rag.settings import Settings
from rag.types import Usage

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "eval"
SUITE = SHARED / "suite"

# LlamaIndex's DEFAULT_TEXT_QA_PROMPT_TMPL, word for word.
NAIVE_PROMPT = (
    "Context information is below.\n---------------------\n{context}\n---------------------\n"
    "Given the context information and not prior knowledge, answer the query.\n"
    "Query: {question}\nAnswer: "
)
NAIVE_CHUNK = 700
NAIVE_K = 4


@dataclass(frozen=True)
class EvalSet:
    name: str
    corpus: Path
    questions: Path


def eval_sets() -> dict[str, EvalSet]:
    return {
        "dev": EvalSet("dev", bundled_corpus(), SHARED / "dev.jsonl"),
        "html": EvalSet("html", SUITE / "html" / "corpus", SUITE / "html" / "questions.jsonl"),
        "docs": EvalSet("docs", SUITE / "docs" / "corpus", SUITE / "docs" / "questions.jsonl"),
        "pdf": EvalSet("pdf", SUITE / "pdf" / "corpus", SUITE / "pdf" / "questions.jsonl"),
        "followups": EvalSet(
            "followups", SUITE / "docs" / "corpus", SUITE / "followups" / "questions.jsonl"
        ),
        # Conversations over the bundled news, written here (issue 16), not hidden ones.
        "news-followups": EvalSet(
            "news-followups", bundled_corpus(), ROOT / "tests" / "data" / "followups.jsonl"
        ),
        # New questions over the bundled news, written here (twelfth session) the way the
        # hidden news set is described: a quarter unanswerable, traps beside real numbers.
        "news-probe": EvalSet(
            "news-probe", bundled_corpus(), ROOT / "tests" / "data" / "news-probe.jsonl"
        ),
    }


def own_set(name: str, folder: Path) -> EvalSet:
    """A set brought by the user, laid out like the suite's: the bench measures any
    folder of documents the same way, which is how a new corpus is tried before release."""
    spec = EvalSet(name, folder / "corpus", folder / "questions.jsonl")
    if not spec.corpus.is_dir() or not spec.questions.is_file():
        raise SystemExit(f"{folder}: needs a corpus/ folder and a questions.jsonl file")
    return spec


def chosen_sets(arg: str) -> tuple[dict[str, EvalSet], list[str]]:
    """The known sets plus any NAME=DIR given in `--sets`, and the names asked for."""
    sets = eval_sets()
    wanted = []
    for item in (s.strip() for s in arg.split(",")):
        name, _, folder = item.partition("=")
        if folder:
            sets[name] = own_set(name, Path(folder))
        if name:
            wanted.append(name)
    return sets, wanted


def index_dir(spec: EvalSet, work: Path, version: str) -> Path:
    """Where a set's corpus is indexed for this indexing code (`code_hash`): one index
    per corpus and version, shared by every set over that corpus and by `replay.py`."""
    where = hashlib.sha256(str(spec.corpus.resolve()).encode()).hexdigest()[:8]
    return work / f"{spec.corpus.parent.name}-{spec.corpus.name}-{where}-{version}"


def code_hash(settings: dict[str, str]) -> str:
    """Indexes are reused only while the indexing code and chunk settings are unchanged."""
    h = hashlib.sha256()
    for path in sorted((ROOT / "index").glob("*.py")):
        h.update(path.read_bytes())
    kept = {k: v for k, v in settings.items() if k == "chunk_chars"}
    kept["embed_backend"] = settings.get("embed_backend") or Settings.from_env().embed_backend
    h.update(json.dumps(kept).encode())
    return h.hexdigest()[:12]


# -- the naive baseline ---------------------------------------------------------------


def paragraph_chunks(text: str, size: int = NAIVE_CHUNK) -> list[str]:
    """Blank-line paragraphs packed up to `size` characters; longer ones cut at spaces."""
    pieces: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        while len(para) > size:
            cut = para.rfind(" ", 0, size)
            cut = cut if cut > 0 else size
            pieces.append(para[:cut])
            para = para[cut:].strip()
        if para:
            pieces.append(para)
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 2 + len(piece) <= size:
            chunks[-1] += "\n\n" + piece
        else:
            chunks.append(piece)
    return chunks


class Naive:
    """Dense top-4 over paragraph chunks, LlamaIndex's default prompt, the same model."""

    def __init__(self, corpus: Path, embedder: Any, generator: Any, cache: Path) -> None:
        self.embedder, self.generator = embedder, generator
        self.chunks: list[tuple[str, str]] = []  # (source, text)
        for file in sorted(corpus.rglob("*")):
            if file.suffix.lower() not in SUPPORTED_SUFFIXES or not file.is_file():
                continue
            try:
                text = extract(read_bytes(file), file.suffix, file.name).text
            except Exception:  # noqa: BLE001  (a naive pipeline skips what it cannot read)
                continue
            source = file.relative_to(corpus).as_posix()
            self.chunks += [(source, c) for c in paragraph_chunks(text)]
        texts = "\x00".join([embedder.name, *(t for _, t in self.chunks)])
        key = hashlib.sha256(texts.encode()).hexdigest()[:12]
        path = cache / f"naive-{key}.npy"
        if path.exists():
            self.vectors = np.load(path)
        else:
            self.vectors = np.asarray(embedder.embed([t for _, t in self.chunks]), np.float32)
            np.save(path, self.vectors)

    def retrieve(self, query: str, k: int) -> list[tuple[str, str]]:
        qvec = np.asarray(self.embedder.embed([query])[0], np.float32)
        order = np.argsort(-(self.vectors @ qvec), kind="stable")[:k]
        return [self.chunks[i] for i in order]

    def ask(self, item: dict) -> tuple[str, float, float | None, dict[str, float], Usage]:
        """The answer, its seconds, the first token's, where the seconds went (search,
        the model call) and the model's token counts (what its KV cache reused, as ours
        is measured)."""
        history = [tuple(t) for t in item.get("history", [])]
        query = " ".join([*(q for q, _ in history), item["question"]])
        started = time.perf_counter()
        top = self.retrieve(query, NAIVE_K)
        searched = time.perf_counter()
        context = "\n\n".join(t for _, t in top)
        messages: list[dict[str, str]] = []
        for q, a in history:
            messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        messages.append(
            {"role": "user", "content": NAIVE_PROMPT.format(context=context, question=query)}
        )
        first: float | None = None
        pieces: list[str] = []
        deltas = self.generator.stream_chat(messages, max_tokens=320, temperature=0.0)
        for delta in deltas:
            if first is None:
                first = time.perf_counter() - started
            pieces.append(delta)
        usage = getattr(deltas, "usage", None)
        usage = usage if isinstance(usage, Usage) else Usage()
        ended = time.perf_counter()
        timings = {"retrieval": searched - started, "generation": ended - searched}
        return "".join(pieces), ended - started, first, timings, usage


def naive_report(naive: Naive, items: Sequence[dict], retrieval_only: bool) -> EvalReport:
    report = EvalReport(k=5)
    for item in items:
        history = [tuple(t) for t in item.get("history", [])]
        query = " ".join([*(q for q, _ in history), item["question"]])
        gold_rank = None
        if item.get("gold_quote"):
            top5 = naive.retrieve(query, 5)
            gold_rank = quote_rank(item["gold_quote"], (t for _, t in top5))
        text, seconds, first, refused, usage = "", 0.0, None, True, Usage()
        timings: dict[str, float] = {}
        if not retrieval_only:
            text, seconds, first, timings, usage = naive.ask(item)
            refused = is_refusal(text)
        if item["type"] == "unanswerable":
            correct = refused
        else:
            correct = not refused and all(
                any(keyword_hit(a, text) for a in group) for group in item["answer_all"]
            )
        report.rows.append(
            Row(
                id=str(item["id"]),
                type=item["type"],
                question=item["question"],
                answer=text,
                refused=refused,
                correct=correct and not retrieval_only,
                gold_rank=gold_rank,
                citations=[],
                precise_citations=0,
                seconds=round(seconds, 3),
                first_token=first,
                prompt_tokens=usage.prompt_tokens,
                cached_tokens=usage.cached_tokens,
                timings=timings,
            )
        )
    return report


# -- ours ---------------------------------------------------------------------------


def ours_retrieval(engine: RAG, items: Sequence[dict]) -> EvalReport:
    """recall@5 without the model: follow-ups retrieve with earlier questions prepended."""
    report = EvalReport(k=5)
    for item in items:
        query = " ".join([*(q for q, _ in item.get("history", [])), item["question"]])
        gold_rank = None
        if item.get("gold_quote"):
            passages = engine.retrieve(query, k=5)
            gold_rank = quote_rank(item["gold_quote"], map(shown, passages))
        report.rows.append(
            Row(str(item["id"]), item["type"], item["question"], "", True, False, gold_rank,
                [], 0, 0.0, None, None)
        )  # fmt: skip
    return report


COLUMNS = (
    ("accuracy", "answer_accuracy"),
    ("refusals right", "refusal_accuracy"),
    ("false refusals", "false_refusals"),
    ("cited", "cited_share"),
    ("cite precision", "citation_precision"),
    ("recall@5", "recall@5"),
    ("mrr", "mrr"),
    ("median s", "median_seconds"),
    ("median ttft", "median_first_token"),
    ("outside model", "median_outside_model"),
    ("median 1st sent", "median_first_sentence"),
    ("1st sent/total", "first_sentence_share"),
    ("rewrites used", "rewrites_used"),
    ("KV cached", "cached_share"),
    ("retried", "retried"),
)


def table(results: dict[str, dict[str, dict]]) -> str:
    head = f"{'set':<10} {'pipeline':<6} " + " ".join(f"{c:>14}" for c, _ in COLUMNS)
    lines = [head, "-" * len(head)]
    for name, by in results.items():
        for pipeline, metrics in by.items():
            cells = []
            for _, key in COLUMNS:
                value = metrics.get(key)
                if key == "false_refusals" and value is not None:
                    answerable = metrics.get("answerable") or 0
                    value = f"{value}/{answerable}"
                cells.append(f"{'-' if value is None else value!s:>14}")
            lines.append(f"{name:<10} {pipeline:<6} " + " ".join(cells))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sets",
        default="dev,html,docs,pdf,followups,news-followups,news-probe",
        help="known set names, or NAME=DIR for your own set (DIR/corpus, DIR/questions.jsonl)",
    )
    parser.add_argument("--work", default="/tmp/rag-quality", help="where indexes are kept")
    parser.add_argument("--retrieval-only", action="store_true", help="recall only, no model")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive baseline")
    parser.add_argument("--limit", type=int, default=0, help="first N questions per set")
    parser.add_argument("--ids", default="", help="only these question ids (comma-separated)")
    parser.add_argument(
        "--block",
        type=int,
        default=5,
        help="questions per turn of each pipeline (0: all of ours, then all of naive's)",
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each row")
    args = parser.parse_args()

    sets, wanted = chosen_sets(args.sets)
    unknown = [s for s in wanted if s not in sets]
    if unknown:
        raise SystemExit(f"unknown set(s): {', '.join(unknown)} (known: {', '.join(sets)})")
    overrides = parse_set(args.set)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    version = code_hash(overrides)
    results: dict[str, dict[str, dict]] = {}
    rows: dict[str, dict[str, list]] = {}
    engines: dict[Path, RAG] = {}
    shared_generator = None
    for name in wanted:
        spec = sets[name]
        if spec.corpus not in engines:
            db = index_dir(spec, work, version)
            engine = RAG.open(db=db, generator=shared_generator, **overrides)
            started = time.perf_counter()
            report = engine.index([spec.corpus])
            print(
                f"[{name}] index {db.name}: {report.counts()} "
                f"{report.chunks_added} chunks, {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
            if not args.retrieval_only:
                shared_generator = engine.generator  # one model in memory for all sets
                engine.warm_up()
            engines[spec.corpus] = engine
        engine = engines[spec.corpus]
        items = load_questions(spec.questions)[: args.limit or None]
        if args.ids:
            items = [item for item in items if str(item["id"]) in args.ids.split(",")]

        def show(row: Row, tag: str, name: str = name) -> None:
            if args.verbose:
                mark = "ok" if row.correct else "NO"
                print(f"[{name}/{tag}] {row.id} {mark} rank={row.gold_rank} {row.seconds:.1f}s "
                      f"{' '.join(row.answer.split())[:150]}", file=sys.stderr)  # fmt: skip
                if row.standalone:
                    print(f"    standalone: {row.standalone}", file=sys.stderr)

        naive = None
        if not args.no_naive:
            naive = Naive(spec.corpus, engine.store.embedder, shared_generator, work)
        by = {"ours": EvalReport(k=5)}
        if naive is not None:
            by["naive"] = EvalReport(k=5)
        # The two pipelines take turns, a block of questions each, so that both meet the
        # same spells of this shared machine. Run one after the other, a slow spell fell
        # on one of them: on html, same code and answers, ours took a median of 12.4 s
        # against naive's 7.8 in run h0, and 9.95 against 8.69 in the next (html01, 09
        # and 12: 11.4, 13.6, 10.8 s, then 7.6, 7.8, 7.7 s).
        size = args.block or max(len(items), 1)
        for block in (items[at : at + size] for at in range(0, len(items), size)):
            if args.retrieval_only:
                ours = ours_retrieval(engine, block)
                for row in ours.rows:
                    show(row, "ours")
            else:
                # The naive prompts before left llama.cpp's KV cache without our rules,
                # and rules evaluated inside a longer batch differ in their last bits: a
                # greedy answer can turn on it (fu09 was answered after naive ran,
                # refused alone). Warmed again, ours answers as it does with no naive
                # beside it, from a cache that holds the rules, as a user's engine does.
                engine.warm_up()
                ours = evaluate(engine, block, on_row=lambda r: show(r, "ours"))
            by["ours"].rows += ours.rows
            if naive is not None:
                plain = naive_report(naive, block, args.retrieval_only)
                for row in plain.rows:
                    show(row, "naive")
                by["naive"].rows += plain.rows
        results[name] = {}
        rows[name] = {}
        for pipeline, report in by.items():
            metrics = report.metrics()
            metrics["answerable"] = sum(1 for r in report.rows if r.type != "unanswerable")
            if pipeline == "naive":  # it never cites nor retries: those columns do not apply
                metrics["cited_share"] = metrics["citation_precision"] = None
                metrics["retried"] = None
            if args.retrieval_only:
                for key in ("answer_accuracy", "refusal_accuracy", "false_refusals",
                            "cited_share", "citation_precision", "median_seconds",
                            "median_first_token", "median_first_sentence",
                            "median_retrieval", "median_outside_model",
                            "first_sentence_share", "retried"):  # fmt: skip
                    metrics[key] = None
            results[name][pipeline] = metrics
            rows[name][pipeline] = report.to_dict()["rows"]
        print(table({name: results[name]}), file=sys.stderr)
    if args.json:
        print(json.dumps({"index_version": version, "metrics": results, "rows": rows}, indent=2))
    else:
        print(table(results))
    if not args.retrieval_only:
        medians = {
            name: {p: m.get("median_seconds") for p, m in by.items()}
            for name, by in results.items()
        }
        print(f"median seconds: {medians}", file=sys.stderr)


if __name__ == "__main__":
    main()
