"""Embedding backends against torch fp32, in one run, on the chunks our chunker makes.

    .venv/bin/python bench/embedders.py [--sizes 1000,10000] [--rounds 3] [--json]

For each size N: N chunk texts of the synthetic news corpus (bench/ingest.py's generator,
our reader and chunker, with heading paths as indexed) are embedded by every backend in
rounds, the backends interleaved within each round so machine noise hits them alike;
chunks/s is the median over rounds and the ratio is against torch in the same rounds.
Then single-query latency (p50/p95 over 200 questions), the time to embed the ~80
sentences of five retrieved passages (what query-time windows do), the cosine of each
backend's vectors against torch's, and each backend's peak RSS, measured in its own
process (embedding 500 chunks) so one runtime's memory does not count against another.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from ingest import file_chunks, generate_corpus, percentile

from index import make_embedder
from index.onnx_embedder import BACKENDS
from index.store import searchable

ROOT = Path(__file__).resolve().parents[1]


def chunk_texts(n: int, seed: int) -> list[str]:
    """`n` texts as the indexer embeds them, from as many generated documents as needed."""
    texts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="rag-bench-embed-") as tmp:
        docs = 4
        while len(texts) < n:
            files = generate_corpus(Path(tmp) / f"c{docs}", docs, seed)
            texts = [searchable(c) for f in files for c in file_chunks(f, 700, 1)]
            docs *= 2
    random.Random(seed).shuffle(texts)
    return texts[:n]


def peak_rss_mb(backend: str, texts: list[str]) -> float:
    code = (
        "import json, resource, sys; from index import make_embedder; "
        f"e = make_embedder({backend!r}); e.embed(json.load(sys.stdin)); "
        # VmHWM, not ru_maxrss: the latter keeps the forking parent's peak across exec.
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def run(sizes: list[int], rounds: int, seed: int) -> dict:
    embedders = {b: make_embedder(b) for b in BACKENDS}
    for e in embedders.values():
        e.embed(["warm up: load, verify, export once"])
    report: dict = {"sizes": {}, "backends": list(BACKENDS)}
    for n in sizes:
        texts = chunk_texts(n, seed)
        per_round = max(1, n // rounds)
        speed: dict[str, list[float]] = {b: [] for b in BACKENDS}
        for r in range(rounds):
            part = texts[r * per_round : (r + 1) * per_round]
            order = list(BACKENDS) if r % 2 == 0 else list(reversed(BACKENDS))
            for b in order:
                started = time.perf_counter()
                embedders[b].embed(part)
                speed[b].append(len(part) / (time.perf_counter() - started))
            print(f"[{n}] round {r + 1}/{rounds}: " + ", ".join(
                f"{b} {speed[b][-1]:.1f}/s" for b in BACKENDS
            ), file=sys.stderr, flush=True)  # fmt: skip
        base = statistics.median(speed["torch"])
        report["sizes"][n] = {
            b: {
                "chunks_per_s": round(statistics.median(speed[b]), 1),
                "ratio": round(statistics.median(speed[b]) / base, 2),
            }
            for b in BACKENDS
        }
    sample = chunk_texts(600, seed + 1)
    questions = [" ".join(t.split()[1:12]) + "?" for t in sample[:200]]
    sentences = [s for t in sample[200:240] for s in re.split(r"(?<=[.!?])\s+", t)][:80]
    reference = embedders["torch"].embed(sample[240:600])
    for b, e in embedders.items():
        latencies = []
        for q in questions:
            started = time.perf_counter()
            e.embed([q])
            latencies.append(time.perf_counter() - started)
        window = []
        for _ in range(5):
            started = time.perf_counter()
            e.embed(sentences)
            window.append(time.perf_counter() - started)
        cosine = (e.embed(sample[240:600]) * reference).sum(axis=1)
        report.setdefault("query", {})[b] = {
            "p50_ms": round(percentile(latencies, 50) * 1000, 1),
            "p95_ms": round(percentile(latencies, 95) * 1000, 1),
            "window_80_sentences_s": round(statistics.median(window), 3),
            "cosine_vs_torch_min": round(float(cosine.min()), 4),
            "cosine_vs_torch_mean": round(float(cosine.mean()), 4),
            "peak_rss_mb": round(peak_rss_mb(b, sample[:500]), 0),
        }
    report["this_process_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0
    )
    return report


def print_report(r: dict) -> None:
    print("| chunks | " + " | ".join(f"{b} chunks/s (× torch)" for b in r["backends"]) + " |")
    print("|---|" + "---|" * len(r["backends"]))
    for n, row in r["sizes"].items():
        cells = [f"{row[b]['chunks_per_s']} ({row[b]['ratio']}×)" for b in r["backends"]]
        print(f"| {n} | " + " | ".join(cells) + " |")
    print()
    keys = list(next(iter(r["query"].values())))
    print("| backend | " + " | ".join(keys) + " |")
    print("|---|" + "---|" * len(keys))
    for b, row in r["query"].items():
        print(f"| {b} | " + " | ".join(str(row[k]) for k in keys) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000", help="comma-separated chunk counts")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = run([int(s) for s in args.sizes.split(",")], args.rounds, args.seed)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
