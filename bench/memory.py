"""Peak resident memory of `rag ui` with the default model, against the bare libraries.

    .venv/bin/python bench/memory.py [--questions 5] [--json] [--model NAME|PATH]

Starts the real `rag ui` command on a free loopback port with a fresh index (so it
indexes the bundled corpus, loads both models and warms them up, as the demo does),
asks `--questions` dev questions one after another through the web UI's `/ask` endpoint,
and reads the process's peak resident set (`VmHWM` in /proc) at each stage. In the same
run it measures the floor we cannot go under: a bare `llama_cpp.Llama` with the same
GGUF, context size and threads evaluating one prompt, and a bare `SentenceTransformer`
encoding a few sentences, each in its own process. Target: `rag ui` peak <= 3 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import free_port, run_clients  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TARGET_MB = 3 * 1024

RAW_LLAMA = """
import resource, sys
from llama_cpp import Llama
llama = Llama(model_path=sys.argv[1], n_ctx=int(sys.argv[2]), n_threads=int(sys.argv[3]),
              n_batch=512, verbose=False)
llama.create_completion("The delegation discussed trade. " * 60, max_tokens=32)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
RAW_ST = """
import resource
from index.embedding import SentenceTransformerEmbedder
SentenceTransformerEmbedder().embed(["The delegation discussed trade."] * 64)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def status_mb(pid: int) -> dict[str, float]:
    """Current (VmRSS) and peak (VmHWM) resident memory of a process, in MB."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    return out


def raw_peak_mb(code: str, *args: str) -> float:
    """ru_maxrss (KB on Linux) of a fresh interpreter running `code`."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip().splitlines()[-1]) / 1024


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"rag ui exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"rag ui was not ready after {timeout:.0f}s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--model", default=None, help="preset or .gguf (default: $RAG_MODEL)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from rag.evaluation import load_questions
    from rag.llm import resolve_model
    from rag.settings import Settings

    settings = Settings.from_env(model=args.model)
    gguf = resolve_model(settings.model, settings.cache_dir, settings.model_sha256)
    items = load_questions(REPO / "tests" / "data" / "dev.jsonl")[: args.questions]
    stages: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="rag-mem-") as tmp:
        port = free_port()
        cmd = [sys.executable, "-m", "rag", "ui", "--db", f"{tmp}/index", "--port", str(port)]
        if args.model:
            cmd += ["--model", args.model]
        log = open(Path(tmp) / "ui.log", "w")  # noqa: SIM115 (closed below)
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}/"
            started = time.perf_counter()
            wait_ready(url, proc)
            stages["ready"] = {**status_mb(proc.pid), "seconds": time.perf_counter() - started}
            for i, item in enumerate(items, 1):
                result = run_clients(url, [item["question"]])[0]
                if result.error:
                    raise SystemExit(f"question {i} failed: {result.error}")
                stages[f"after {i} question(s)"] = status_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            log.close()
    raw_llama = raw_peak_mb(RAW_LLAMA, str(gguf), str(settings.ctx), str(settings.threads))
    raw_st = raw_peak_mb(RAW_ST)
    peak = max(s["VmHWM"] for s in stages.values())
    report = {
        "model": gguf.name,
        "ctx": settings.ctx,
        "threads": settings.threads,
        "stages_mb": {k: {n: round(v, 1) for n, v in s.items()} for k, s in stages.items()},
        "rag_ui_peak_mb": round(peak, 1),
        "raw_llama_peak_mb": round(raw_llama, 1),
        "raw_sentence_transformers_peak_mb": round(raw_st, 1),
        "ratio_vs_raw_sum": round(peak / (raw_llama + raw_st), 3),
        "target_mb": TARGET_MB,
        "meets_target": peak <= TARGET_MB,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"model {report['model']}, ctx {settings.ctx}, {settings.threads} threads")
        for name, s in report["stages_mb"].items():
            print(f"  {name:22} RSS {s['VmRSS']:8.1f} MB   peak {s['VmHWM']:8.1f} MB")
        print(
            f"rag ui peak {peak:.0f} MB (target <= {TARGET_MB} MB); raw llama.cpp "
            f"{raw_llama:.0f} MB + raw sentence-transformers {raw_st:.0f} MB; "
            f"ratio {report['ratio_vs_raw_sum']}"
        )
    return 0 if report["meets_target"] else 1


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    raise SystemExit(main())
