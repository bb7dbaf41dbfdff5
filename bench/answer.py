"""Answer latency: our pipeline vs raw llama.cpp vs a naive RAG baseline, in one run.

    .venv/bin/python bench/answer.py [--questions tests/data/dev.jsonl] [--json]

Per question it records retrieval, prompt tokens, time to first token, generated tokens
per second and total seconds, for:
- `ours`: `RAG.ask` (hybrid retrieval, sentence windows, verified citations);
- `naive`: dense top-4 whole chunks, a plain prompt, the same model and threads.
Then it measures raw llama.cpp prompt-eval and decode speed for the same GGUF and thread
count (a second `Llama` instance, so nothing of ours is in the loop) and reports the
ratios. Medians throughout: the machine is small and noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from rag import RAG
from rag.citations import is_refusal
from rag.evaluation import keyword_hit, load_questions
from rag.models import resolve_model

NAIVE_PROMPT = "Answer the question using the context.\n\nContext:\n{context}\n\nQuestion: {q}"


def keyword_correct(item: dict, text: str, refused: bool) -> bool:
    """Keywords only (no citation requirement), so both pipelines are judged alike."""
    if item["type"] == "unanswerable":
        return refused
    return not refused and all(
        any(keyword_hit(a, text) for a in group) for group in item["answer_all"]
    )


def run_ours(engine: RAG, item: dict) -> dict:
    answer = engine.ask(item["question"])
    t = answer.timings
    n = t.get("completion_tokens", 0)
    return {
        "retrieval": t.get("retrieval", 0.0),
        "prompt_tokens": t.get("prompt_tokens", 0),
        "first_token": t.get("first_token"),
        "completion_tokens": n,
        "tokens_per_s": (n - 1) / t["decode"] if n > 1 and t.get("decode") else None,
        "in_llama": t.get("generation", 0.0),
        "total": t.get("total", 0.0),
        "correct": keyword_correct(item, answer.text, answer.refused),
    }


def run_naive(engine: RAG, item: dict) -> dict:
    started = time.perf_counter()
    passages = engine.store.dense_search(item["question"], 4)
    retrieval = time.perf_counter() - started
    context = "\n\n".join(p.text for p in passages)
    messages = [
        {"role": "user", "content": NAIVE_PROMPT.format(context=context, q=item["question"])}
    ]
    prompt_tokens = engine.generator.count_tokens(messages)
    pieces: list[str] = []
    first_at = gen_started = time.perf_counter()
    for delta in engine.generator.stream_chat(
        messages, max_tokens=engine.settings.max_tokens, temperature=0.0
    ):
        if not pieces:
            first_at = time.perf_counter()
        pieces.append(delta)
    end = time.perf_counter()
    text = "".join(pieces)
    n = len(pieces)
    return {
        "retrieval": retrieval,
        "prompt_tokens": prompt_tokens,
        "first_token": first_at - started,
        "completion_tokens": n,
        "tokens_per_s": (n - 1) / (end - first_at) if n > 1 and end > first_at else None,
        "in_llama": end - gen_started,
        "total": time.perf_counter() - started,
        "correct": keyword_correct(item, text, is_refusal(text)),
    }


def raw_llama_speed(path: Path, threads: int, n_prompt: int = 512, n_gen: int = 64) -> dict:
    """Prompt-eval and decode tokens/s of bare llama.cpp (median of 3)."""
    from llama_cpp import Llama

    llama = Llama(
        model_path=str(path),
        n_ctx=2048,
        n_threads=threads,
        n_threads_batch=threads,
        n_batch=512,
        verbose=False,
    )
    text = " ".join(f"The delegation discussed trade item number {i}." for i in range(200))
    tokens = llama.tokenize(text.encode())[:n_prompt]
    pp, tg = [], []
    for _ in range(3):
        llama.reset()
        t = time.perf_counter()
        llama.eval(tokens)
        pp.append(len(tokens) / (time.perf_counter() - t))
        t = time.perf_counter()
        for _ in range(n_gen):
            llama.eval([tokens[-1]])
        tg.append(n_gen / (time.perf_counter() - t))
    return {
        "prompt_tokens_per_s": statistics.median(pp),
        "decode_tokens_per_s": statistics.median(tg),
    }


def median(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return round(statistics.median(values), 3) if values else None


def summarize(rows: list[dict]) -> dict:
    """Medians; `share_not_llama` is the time outside the llama.cpp generation call
    (retrieval, windows, prompt building, token counting, verification) over the total."""
    return {
        "median_total_s": median(rows, "total"),
        "median_first_token_s": median(rows, "first_token"),
        "median_retrieval_s": median(rows, "retrieval"),
        "median_prompt_tokens": median(rows, "prompt_tokens"),
        "median_generated_tokens_per_s": median(rows, "tokens_per_s"),
        "accuracy_keywords": round(sum(r["correct"] for r in rows) / len(rows), 3),
        "median_share_not_llama": round(
            statistics.median((r["total"] - r["in_llama"]) / r["total"] for r in rows), 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", default="tests/data/dev.jsonl")
    parser.add_argument("--db", default=None, help="index dir (default: a fresh temp dir)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import tempfile

    db = args.db or tempfile.mkdtemp(prefix="rag-bench-")
    engine = RAG.open(db=db)
    engine.ensure_indexed()
    engine.warm_up()
    items = load_questions(args.questions)
    ours = [run_ours(engine, item) for item in items]
    naive = [run_naive(engine, item) for item in items]
    path = resolve_model(engine.settings.model, engine.settings.cache_dir)
    raw = raw_llama_speed(path, engine.settings.threads)
    report = {
        "model": path.name,
        "threads": engine.settings.threads,
        "questions": len(items),
        "raw_llama": {k: round(v, 1) for k, v in raw.items()},
        "ours": summarize(ours),
        "naive": summarize(naive),
    }
    o, n = report["ours"], report["naive"]
    report["ratios"] = {
        "ours_vs_naive_total": round(o["median_total_s"] / n["median_total_s"], 3),
        "ours_decode_vs_raw": round(
            o["median_generated_tokens_per_s"] / raw["decode_tokens_per_s"], 3
        ),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"model {report['model']}, {report['threads']} threads, {len(items)} questions")
    print(
        f"raw llama.cpp: prompt {raw['prompt_tokens_per_s']:.1f} tok/s, "
        f"decode {raw['decode_tokens_per_s']:.1f} tok/s"
    )
    keys = list(o)
    print(f"{'':34}{'ours':>10}{'naive':>10}")
    for k in keys:
        print(f"{k:34}{o[k]!s:>10}{n[k]!s:>10}")
    for k, v in report["ratios"].items():
        print(f"{k:34}{v:>10}")


if __name__ == "__main__":
    main()
