"""Answer latency: our pipeline vs raw llama.cpp vs a naive RAG baseline, in one run.

    .venv/bin/python bench/answer.py [--questions tests/data/dev.jsonl] [--json]
        [--followups tests/data/followups.jsonl] [--set top_k=4 ...] [--draft N]

Per question it records retrieval, prompt tokens (and how many came from llama.cpp's KV
cache), time to first token, generated tokens per second and total seconds, for:
- `ours`: `RAG.ask` (hybrid retrieval, sentence windows, verified citations);
- `naive`: dense top-4 whole chunks, a plain prompt, the same model and threads.
Follow-up turns (question + history: a rewrite call, then the answer) run twice: as the
product runs them, and with the KV cache emptied before every model call, which shows
what reusing the shared prompt prefix saves. Then it measures raw llama.cpp prompt-eval
and decode speed for the same GGUF and thread count (a second `Llama` instance, so
nothing of ours is in the loop) and reports the ratios. `--draft N` turns on prompt-lookup
speculative decoding. Medians throughout: the machine is small and noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from rag import RAG
from rag.citations import is_refusal
from rag.evaluation import keyword_hit, load_questions
from rag.llm import resolve_model

NAIVE_PROMPT = "Answer the question using the context.\n\nContext:\n{context}\n\nQuestion: {q}"


def keyword_correct(item: dict, text: str, refused: bool) -> bool:
    """Keywords only (no citation requirement), so both pipelines are judged alike."""
    if item["type"] == "unanswerable":
        return refused
    return not refused and all(
        any(keyword_hit(a, text) for a in group) for group in item["answer_all"]
    )


class ColdCache:
    """The real generator, but llama.cpp's KV cache is emptied before every call: the
    baseline that shows what prefix reuse saves."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name = inner, inner.name

    def count_tokens(self, messages: Any) -> int:
        return self.inner.count_tokens(messages)

    def stream_chat(self, messages: Any, **kwargs: Any) -> Any:
        with self.inner._lock:
            self.inner._load().reset()
        return self.inner.stream_chat(messages, **kwargs)


def run_ours(engine: RAG, item: dict) -> dict:
    answer = engine.ask(item["question"], history=item.get("history"))
    t = answer.timings
    n = t.completion_tokens or 0
    before_answer = (t.retrieval or 0.0) + (t.rewrite or 0.0)
    return {
        "retrieval": t.retrieval or 0.0,
        "rewrite": t.rewrite,
        "prompt_tokens": t.prompt_tokens or 0,
        "cached_tokens": t.cached_tokens or 0,
        "first_token": t.first_token,
        # The answer call alone: its prompt evaluation (minus what the cache held).
        "answer_first_token": t.first_token - before_answer if t.first_token is not None else None,
        "completion_tokens": n,
        "tokens_per_s": (n - 1) / t.decode if n > 1 and t.decode else None,
        # The follow-up rewrite is a model call too: llama.cpp time, not ours.
        "in_llama": (t.generation or 0.0) + (t.rewrite or 0.0),
        "total": t.total or 0.0,
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
    deltas = engine.generator.stream_chat(
        messages, max_tokens=engine.settings.max_tokens, temperature=0.0
    )
    for delta in deltas:
        if not pieces:
            first_at = time.perf_counter()
        pieces.append(delta)
    end = time.perf_counter()
    text = "".join(pieces)
    n = len(pieces)
    usage = getattr(deltas, "usage", None) or {}
    return {
        "retrieval": retrieval,
        "prompt_tokens": usage.get("prompt_tokens", prompt_tokens),
        "cached_tokens": usage.get("cached_tokens", 0),
        "first_token": first_at - started,
        "answer_first_token": first_at - gen_started,
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


def prompt_rate(rows: list[dict]) -> float | None:
    """Evaluated (uncached) prompt tokens per second of the answer call, median."""
    rates = [
        (r["prompt_tokens"] - r["cached_tokens"]) / r["answer_first_token"]
        for r in rows
        if r.get("answer_first_token") and r.get("cached_tokens") is not None
    ]
    return round(statistics.median(rates), 1) if rates else None


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
        "median_cached_tokens": median(rows, "cached_tokens"),
        "median_generated_tokens_per_s": median(rows, "tokens_per_s"),
        "accuracy_keywords": round(sum(r["correct"] for r in rows) / len(rows), 3),
        "median_share_not_llama": round(
            statistics.median((r["total"] - r["in_llama"]) / r["total"] for r in rows), 3
        ),
    }


def parse_set(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set wants KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", default="tests/data/dev.jsonl")
    parser.add_argument("--followups", default="tests/data/followups.jsonl")
    parser.add_argument("--db", default=None, help="index dir (default: a fresh temp dir)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for our pipeline, e.g. top_k=4 (repeatable)",
    )
    parser.add_argument(
        "--draft",
        type=int,
        default=0,
        help="prompt-lookup speculative decoding: tokens per draft (0: off)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import tempfile

    db = args.db or tempfile.mkdtemp(prefix="rag-bench-")
    engine = RAG.open(db=db, draft_tokens=args.draft, **parse_set(args.set))
    engine.ensure_indexed()
    engine.warm_up()
    items = load_questions(args.questions)
    followups = load_questions(args.followups) if args.followups else []
    ours = [run_ours(engine, item) for item in items]
    naive = [run_naive(engine, item) for item in items]
    warm = [run_ours(engine, item) for item in followups]
    real = engine.generator
    engine._generator = ColdCache(real)
    cold = [run_ours(engine, item) for item in followups]
    engine._generator = real
    path = resolve_model(engine.settings.model, engine.settings.cache_dir)
    raw = raw_llama_speed(path, engine.settings.threads)
    report = {
        "model": path.name,
        "threads": engine.settings.threads,
        "settings": {k: getattr(engine.settings, k) for k in ("top_k", "window", "draft_tokens")},
        "questions": len(items),
        "raw_llama": {k: round(v, 1) for k, v in raw.items()},
        "ours": summarize(ours),
        "naive": summarize(naive),
    }
    o, n = report["ours"], report["naive"]
    o["prompt_eval_tokens_per_s"] = prompt_rate(ours)
    n["prompt_eval_tokens_per_s"] = prompt_rate(naive)
    report["ratios"] = {
        "ours_vs_naive_total": round(o["median_total_s"] / n["median_total_s"], 3),
        "ours_decode_vs_raw": round(
            o["median_generated_tokens_per_s"] / raw["decode_tokens_per_s"], 3
        ),
        "ours_prompt_eval_vs_raw": round(
            (o["prompt_eval_tokens_per_s"] or 0) / raw["prompt_tokens_per_s"], 3
        ),
    }
    if followups:
        report["followups"] = {
            "turns": len(followups),
            "prefix_reused": {
                **summarize(warm),
                "median_answer_first_token_s": median(warm, "answer_first_token"),
            },
            "kv_cache_emptied": {
                **summarize(cold),
                "median_answer_first_token_s": median(cold, "answer_first_token"),
            },
        }
    report["rows"] = {"ours": ours, "naive": naive, "followups": warm, "followups_cold": cold}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"model {report['model']}, {report['threads']} threads, {len(items)} questions, "
        f"{report['settings']}"
    )
    print(
        f"raw llama.cpp: prompt {raw['prompt_tokens_per_s']:.1f} tok/s, "
        f"decode {raw['decode_tokens_per_s']:.1f} tok/s"
    )
    print(f"{'':34}{'ours':>10}{'naive':>10}")
    for k in o:
        print(f"{k:34}{o[k]!s:>10}{n[k]!s:>10}")
    for k, v in report["ratios"].items():
        print(f"{k:34}{v:>10}")
    if followups:
        f = report["followups"]
        w, c = f["prefix_reused"], f["kv_cache_emptied"]
        print(f"\nfollow-up turns ({f['turns']}):{'reused':>14}{'emptied':>10}")
        for k in w:
            print(f"{k:34}{w[k]!s:>10}{c[k]!s:>10}")


if __name__ == "__main__":
    main()
