"""Ingestion and retrieval at scale: a synthetic news corpus indexed with our own code.

    .venv/bin/python bench/ingest.py [--scale full|small|tiny] [--docs N] [--json] [--keep]

`full` is ~2,000 documents, ~100k chunks (hours on two busy cores: embedding dominates);
`small` is 200 documents, ~10k chunks; `tiny` is 20 documents, ~1k chunks. In one run:
- generate a deterministic (seeded, offline) corpus of news-like .txt files;
- index it with `index.sync` into a fresh `Store`, moving files into the indexed folder
  in ~`--steps` incremental syncs, timing chunks/s and where the time goes (embedding,
  each Store method the indexer calls, and the rest: reading, cleaning, chunking);
- time raw `SentenceTransformer.encode` (same weights, batch size, normalization) on a
  random sample of the very chunk texts our chunker makes, in rounds before and between
  the sync steps so machine noise hits both alike; report ours over raw, overall and as
  the median per step (each step against the raw rounds either side of it);
- at ~1k, ~10k and ~100k chunks, time the same queries through: query embedding alone,
  BM25 alone, `Store.count()`, `dense_search`, and `Store.search(k=5)` with window 0
  (retrieval only) and window 1 (the product default, which also embeds sentences);
  half the queries are the opening words of indexed sentences (source expected in top 5);
- report peak and current RSS and the index size on disk at each of those stages;
- finally time a no-op re-sync of the whole folder (nothing changed).
Medians and percentiles throughout: the machine is small and noisy.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from index import Store, make_embedder, sync
from index.chunking import chunk_document, split_sentences
from index.embedding import bundled_minilm_dir
from index.indexer import load_document
from index.onnx_embedder import BACKENDS
from rag.settings import Settings

SCALES = {"full": 2000, "small": 200, "tiny": 20}
STAGE_TARGETS = (1_000, 10_000, 100_000)
TARGET_RATIO = 0.9
TARGET_P50_MS = 20.0

# --- synthetic corpus -------------------------------------------------------------------

FIRST = (
    "Maria James Aisha Tomasz Chen Priya Oluwaseun Elena Mateo Ingrid Kwame Sofia Hiroshi "
    "Fatima Liam Amara Dmitri Lucia Rahul Nadia Samuel Yuki Omar Claire Diego Hannah Ibrahim "
    "Grace Viktor Leila Pablo Zainab Erik Mei Andrei Chloe Tariq Isabel Kofi Anya Marcus "
    "Noura Felix Ines Tobias Ama Rosa Kenji Sara Bruno Alma Jonas Wanjiru Pedro Greta"
).split()
LAST = (
    "Okafor Lindqvist Moreau Haddad Kowalski Tanaka Fernandes Novak Mensah Gallagher Petrov "
    "Nakamura Abubakar Rossi Whitfield Delacroix Sandoval Ivanova Achterberg Osei Brennan "
    "Castillo Horvath Kimura Torigian Baptiste Eriksen Quintero Adeyemi Vasquez Lambert "
    "Oyelaran Schreiber Marchetti Dubois Kaur Halvorsen Mwangi Szabo Carvalho Ferreira "
    "Lindgren Obi Rahman Kovacs Duarte Hartmann Nilsson Ncube Salazar Jovanovic Ahmadi"
).split()
TITLES = ["", "", "", "Dr. ", "Mayor ", "Senator ", "Professor ", "Judge "]
PLACES = (
    "Port Alder|Brightwater|Kessington|Marlow Bay|Eastfield|Norrholm|Valdera|Halsey County|"
    "Redbank|Cedar Falls|Oakridge|Lindenport|San Caelo|Westmere|Dunmore|Riverton|Ashford|"
    "Greyhaven|Kingsmoor|Bellamy|Lyon|Nairobi|Osaka|Gdansk|Porto|Accra|Manila|Leeds|Tucson|"
    "Winnipeg|Fairhaven|Stonebridge|Millbrook|Thornbury|Calder Valley|Santa Rita|Novo Campo|"
    "Kirkwall|Elmstead|Harrow Point|Blackwater|Maplewood|Silverton|Aldergrove|Ravensfield|"
    "Coldwater|Pinecrest|Larkspur|Wexford|Tamsin Harbour"
).split("|")
ORGS = (
    "Ministry of Transport|regional water authority|National Statistics Office|city council|"
    "Harbour Development Agency|teachers' union|Chamber of Commerce|Public Health Institute|"
    "Energy Regulatory Board|farmers' cooperative|Audit Commission|central bank|"
    "Environmental Protection Office|county health board|Housing Trust|Port Authority|"
    "Competition Tribunal|Ministry of Finance|Fisheries Council|Rail Safety Inspectorate|"
    "tenants' association|Coastal Planning Board|Interior Ministry|Metropolitan Police|"
    "Education Department|Civil Aviation Authority|Consumer Protection Agency|Wildlife Trust"
).split("|")
TOPICS = (
    "housing shortages|bus fares|coastal erosion|rising rents|hospital waiting lists|"
    "water quality|rail electrification|grain exports|wildfire prevention|teacher shortages|"
    "broadband coverage|food prices|pension reform|air pollution|youth unemployment|"
    "road safety|plastic waste|energy bills|flood defences|childcare costs|port congestion|"
    "drug shortages|tourism revenue|fishing quotas|crime rates|school funding|"
    "electricity blackouts|public sector pay|traffic congestion|soil contamination|"
    "mortgage arrears|river pollution|hospital staffing|migrant labour|copper prices|"
    "freight delays|heat stress|groundwater levels|ferry cancellations|vaccine uptake"
).split("|")
EVENTS = (
    "flood|fire at the port|strike|storm|power outage|bridge collapse|data breach|"
    "chemical spill|landslide|heatwave|derailment|cyberattack|drought|factory closure"
).split("|")
POLICIES = (
    "congestion charge|rent cap|fuel subsidy|water levy|zoning overhaul|minimum wage increase|"
    "carbon tax|school merger plan|tourist tax|parking reform|fishing ban|housing grant"
).split("|")
PROJECTS = (
    "harbour expansion|light rail line|desalination plant|wind farm|ring road|solar park|"
    "flood barrier|housing estate|hospital wing|cargo terminal|bypass tunnel|water pipeline"
).split("|")
COMPANIES = (
    "Northwind Logistics|Helix Pharma|Corvane Mining|Bluestone Energy|Altamira Foods|"
    "Vesta Telecom|Quarry Point Cement|Meridian Air|Kestrel Shipping|Orbis Retail|"
    "Tamarind Textiles|Greenline Buses"
).split("|")
GROUPS = (
    "small business owners|commuters|pensioners|nurses|tenants|fishermen|students|"
    "local farmers|shop owners|parents|dock workers|taxi drivers|young families|landlords"
).split("|")
ROLES = (
    "shop owner|retired nurse|bus driver|school principal|fisherman|city planner|economist|"
    "farmer|union organiser|paramedic|civil engineer|local historian"
).split("|")
THINGS = (
    "basic repairs|heating|school supplies|medicine|public transport|local clinics|"
    "road maintenance|clean water|rent|childcare|insurance premiums|fuel"
).split("|")
ADJS = (
    "deeply troubling|a turning point|long overdue|entirely avoidable|a wake-up call|"
    "unprecedented|a modest success|badly handled|a serious warning"
).split("|")
MONTHS = (
    "January February March April May June July August September October November December"
).split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
TEMPLATES = [
    "{person}, who heads the {org} in {place}, said the plan to tackle {topic} would cost "
    "about {money} over the next {small} years.",
    "Officials in {place} confirmed on {day} that {n} residents had been moved after the "
    "{event} damaged homes and {thing} across the district.",
    "The {org} reported that {topic} rose {pct} percent in {month}, the sharpest increase "
    "recorded in the region since {year}.",
    "Critics, including {person} of the {org}, argued that the proposal ignored {topic} and "
    "favoured {group} in {place}.",
    "According to figures released by the {org}, {n} {group} in {place} were affected by "
    "{topic} during the last year.",
    "{surname} told reporters in {place} that negotiations over {topic} had stalled but could "
    "resume before the end of {month}.",
    "The council in {place} voted {small} to {small2} to approve {money} for {topic}, ending "
    "months of heated public debate.",
    "Residents of {place} said {topic} had worsened steadily since {year}, and many blamed "
    "the {org} for repeated delays.",
    "Analysts at the {org} expect {topic} to ease by {pct} percent if the {policy} is adopted "
    "across the country next year.",
    "In a statement issued on {day}, the {org} said it would review {topic} in {place} and "
    "publish its findings by {month}.",
    "{person} described the {event} in {place} as {adj}, adding that {group} deserved clear "
    "answers from the authorities.",
    "The long dispute over {topic} has divided {group} in {place}, where attendance at public "
    "meetings reached {n} this spring.",
    "A spokesperson for the {org} declined to comment on the {policy}, citing ongoing talks "
    "with {group} from {place} and nearby towns.",
    "Shares of {company} fell {pct} percent on {day} after the firm warned that {topic} would "
    "weigh heavily on its annual profits.",
    "Construction of the {project} near {place} is expected to create {n} jobs and to cost "
    "roughly {money} by {year2}.",
    "{person}, a {role} from {place}, said the {event} had left {group} struggling to pay for "
    "{thing} through the winter.",
    "Police in {place} said {small} people were detained on {day} during protests against the "
    "{policy} outside the town hall.",
    "The {org} will hold a public hearing in {place} on {month} {date} to consider {topic} "
    "and a series of related complaints.",
    "Farmers near {place} warned that {topic} could cut this year's harvest by {pct} percent "
    "unless the dry weather breaks soon.",
    "Last {month}, {company} agreed to pay {money} to settle claims that it had misled "
    "{group} in {place} about {topic}.",
    "Supporters of the {policy} say it would save {money} a year, while opponents in {place} "
    "strongly dispute that estimate.",
    "{surname}, speaking at a conference in {place}, urged {group} to prepare for {topic} "
    "over the coming decade.",
    "Hospital admissions in {place} climbed to {n} during the week, officials said, as "
    "concerns about {topic} continued to grow.",
    "The {org} first raised concerns about {topic} in {year}, but funding for the {project} "
    "in {place} was repeatedly postponed.",
    "Teachers in {place} said the {policy} had pushed class sizes to {class_size} pupils and "
    "left schools short of {thing}.",
    "Asked about {topic}, {person} said the {org} had underestimated the problem and promised "
    "a full report by {month}.",
    "Data published on {day} showed that {pct} percent of {group} in {place} now spend more "
    "than a third of their income on {thing}.",
    "The {project} in {place}, first proposed in {year}, has already cost {money}, more than "
    "twice the original budget.",
]
HEADLINE_TAILS = (
    "Plan Faces New Scrutiny|Dispute Deepens|Sparks Debate Among Residents|Costs Rise Again|"
    "Talks Resume After Months of Delay|Report Blames Officials|Protests Grow|"
    "Council Approves New Funding|Inquiry Opens|Concerns Mount Over Delays"
).split("|")
BOILERPLATE = ["Advertisement", "Share this article", "Read more about this story here"]


def _money(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"${rng.randint(2, 950)}.{rng.randint(0, 9)} million"
    return f"€{rng.randint(1, 40)}.{rng.randint(0, 9)} billion"


def _person(rng: random.Random) -> str:
    return f"{rng.choice(TITLES)}{rng.choice(FIRST)} {rng.choice(LAST)}"


def make_sentence(rng: random.Random) -> str:
    """One news-style sentence (~15-25 words) with random names, places and figures."""
    return rng.choice(TEMPLATES).format(
        person=_person(rng),
        surname=rng.choice(LAST),
        place=rng.choice(PLACES),
        org=rng.choice(ORGS),
        topic=rng.choice(TOPICS),
        event=rng.choice(EVENTS),
        policy=rng.choice(POLICIES),
        project=rng.choice(PROJECTS),
        company=rng.choice(COMPANIES),
        group=rng.choice(GROUPS),
        role=rng.choice(ROLES),
        thing=rng.choice(THINGS),
        adj=rng.choice(ADJS),
        month=rng.choice(MONTHS),
        day=rng.choice(DAYS),
        date=rng.randint(1, 28),
        year=rng.randint(1995, 2023),
        year2=rng.randint(2026, 2035),
        n=f"{rng.randint(120, 98_000):,}",
        small=rng.randint(3, 19),
        small2=rng.randint(1, 12),
        class_size=rng.randint(28, 41),
        pct=f"{rng.randint(1, 38)}.{rng.randint(0, 9)}",
        money=_money(rng),
    )


def make_document(index: int, seed: int, mean_sentences: int = 182) -> str:
    """A headline and paragraphs of 2-6 sentences; doc `index` is the same for any --docs."""
    rng = random.Random(f"{seed}-{index}")
    place = rng.choice(PLACES)
    topic = rng.choice(TOPICS).title()
    lines = [f"{place} {topic} {rng.choice(HEADLINE_TAILS)}", ""]
    remaining = rng.randint(mean_sentences * 3 // 10, mean_sentences * 17 // 10)
    while remaining > 0:
        n = min(remaining, rng.randint(2, 6))
        lines += [" ".join(make_sentence(rng) for _ in range(n)), ""]
        remaining -= n
        if rng.random() < 0.05:
            lines += [rng.choice(BOILERPLATE), ""]
    return "\n".join(lines)


def generate_corpus(folder: Path, n_docs: int, seed: int) -> list[Path]:
    folder.mkdir(parents=True)
    files = []
    for i in range(n_docs):
        path = folder / f"doc{i:05d}.txt"
        path.write_text(make_document(i, seed), "utf-8")
        files.append(path)
    return files


def file_chunks(file: Path, chunk_chars: int, overlap: int) -> list:
    """The chunks the indexer makes of one file (same reader, cleaner and chunker)."""
    doc, blocks = load_document(file, file.name)
    pages = getattr(doc, "pages", ())  # as the indexer does (PDFs; empty for .txt)
    extra = {"pages": pages, "rows": doc.rows} if pages else {}
    return chunk_document(doc.source, doc.title, doc.text, blocks, chunk_chars, overlap, **extra)


def plan_chunks(
    files: list[Path], chunk_chars: int, overlap: int, sample_size: int, seed: int
) -> tuple[list[int], list[str], dict]:
    """Chunk every file with the product's chunker: per-file counts and a uniform random
    sample (reservoir) of the chunk texts, without holding all texts in memory."""
    rng = random.Random(f"{seed}-sample")
    counts: list[int] = []
    sample: list[str] = []
    seen = chars = 0
    for file in files:
        chunks = file_chunks(file, chunk_chars, overlap)
        counts.append(len(chunks))
        for chunk in chunks:
            chars += len(chunk.text)
            if len(sample) < sample_size:
                sample.append(chunk.text)
            else:
                j = rng.randrange(seen + 1)
                if j < sample_size:
                    sample[j] = chunk.text
            seen += 1
    return counts, sample, {"chunks": seen, "avg_chunk_chars": round(chars / max(seen, 1))}


def stage_bounds(counts: list[int], targets: tuple[int, ...]) -> list[int]:
    """Number of files to have indexed after each stage (prefixes reaching each target);
    a target within 10% of the whole corpus merges into the final stage."""
    total = sum(counts)
    bounds: list[int] = []
    cumulative = 0
    for n, count in enumerate(counts, 1):
        cumulative += count
        for t in targets:
            if cumulative >= t > cumulative - count and t * 1.1 <= total:
                bounds.append(n)
    return sorted(set(bounds) | {len(counts)})


def make_queries(n: int, seed: int, chunks: list) -> list[tuple[str, str | None]]:
    """(query, expected source): half questions built from the vocabulary, half known-item
    queries, the first 12-20 words of a sentence of one of `chunks` (text the index holds;
    its source should be in the top 5: template words are common, the fillers are not)."""
    rng = random.Random(f"{seed}-queries")
    forms = [
        "What did {person} say about {topic}?",
        "How much will the {project} in {place} cost?",
        "{topic} in {place} {year}",
        "Why did {company} shares fall?",
        "What happened after the {event} in {place}?",
        "Who opposed the {policy} in {place}?",
        "How many {group} were affected by {topic}?",
        "What did the {org} report about {topic}?",
        "{surname} {place} negotiations",
        "When is the {org} hearing on {topic}?",
    ]
    out: list[tuple[str, str | None]] = []
    for i in range(n):
        if i % 2 == 0 or not chunks:
            q = rng.choice(forms).format(
                person=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                surname=rng.choice(LAST),
                topic=rng.choice(TOPICS),
                place=rng.choice(PLACES),
                project=rng.choice(PROJECTS),
                company=rng.choice(COMPANIES),
                event=rng.choice(EVENTS),
                policy=rng.choice(POLICIES),
                group=rng.choice(GROUPS),
                org=rng.choice(ORGS),
                year=rng.randint(1995, 2023),
            )
            out.append((q, None))
            continue
        chunk = rng.choice(chunks)
        words = chunk.text[slice(*rng.choice(split_sentences(chunk.text)))].split()
        out.append((" ".join(words[: rng.randint(12, 20)]), chunk.source))
    return out


# --- measurement helpers ----------------------------------------------------------------


class Timers:
    """Seconds per wrapped method, installed on instances (no product code is edited).

    Times are inclusive (an `embed` inside `upsert` counts for both); `outermost` sums only
    calls not nested in another wrapped call, so the rest of a sync is `seconds - outermost`.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.outermost = 0.0
        self._depth = 0

    def wrap(self, obj: object, method: str, key: str | None = None) -> bool:
        """Wrap `obj.method` if it is a plain method (not a property); False if absent."""
        if isinstance(getattr(type(obj), method, None), property):
            return False
        inner = getattr(obj, method, None)
        if not callable(inner):
            return False
        key = key or method

        def timed(*args, **kwargs):
            started = time.perf_counter()
            self._depth += 1
            try:
                return inner(*args, **kwargs)
            finally:
                self._depth -= 1
                spent = time.perf_counter() - started
                self.seconds[key] = self.seconds.get(key, 0.0) + spent
                if self._depth == 0:
                    self.outermost += spent

        setattr(obj, method, timed)
        return True

    def snapshot(self) -> dict[str, float]:
        return {**self.seconds, "_outermost": self.outermost}


# Store methods that sync may call, old and new API alike; only those that exist are timed.
STORE_METHODS = (
    "documents",
    "stored_ids",
    "embeddings",
    "add",
    "upsert",
    "delete",
    "commit",
    "refresh_lexical",
    "collect_garbage",
)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def ms_stats(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "p50": round(statistics.median(ms), 2),
        "p95": round(percentile(ms, 95), 2),
        "mean": round(statistics.fmean(ms), 2),
    }


def memory_mb() -> dict[str, float]:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    current = 0.0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
    except OSError:
        pass
    return {"rss_peak_mb": round(peak_kb / 1024, 1), "rss_now_mb": round(current, 1)}


def disk_usage(path: Path) -> dict[str, int]:
    """Allocated bytes (like du) of the whole index, and of its BM25 part (with the
    snapshot manifest, in the new layout)."""
    total = lexical = 0
    for f in path.rglob("*"):
        if f.is_file():
            size = f.stat().st_blocks * 512
            total += size
            if f.relative_to(path).parts[0].startswith(("lexical", "snapshot")):
                lexical += size
    return {"bytes": total, "lexical_bytes": lexical}


def time_retrieval(store: Store, queries: list[tuple[str, str | None]], warmup: int = 5) -> dict:
    """Each query through every path in turn (interleaved and rotated, so noise and
    order effects hit all paths alike)."""
    paths: dict[str, Callable[[str], object]] = {
        "query_embedding": lambda q: store.embedder.embed([q]),
        "bm25": lambda q: store.lexical.search(q, 30),
        "count": lambda q: store.count(),
        "dense_search_k5": lambda q: store.dense_search(q, 5),
        "search_k5_window0": lambda q: store.search(q, k=5, window=0),
        "search_k5_window1": lambda q: store.search(q, k=5, window=1),
    }
    for q, _ in queries[:warmup]:
        for fn in paths.values():
            fn(q)
    times: dict[str, list[float]] = {name: [] for name in paths}
    hits = known = 0
    names = list(paths)
    for i, (q, expected) in enumerate(queries):
        # Rotate the order per query, so no path always runs first or after the heaviest.
        for name in names[i % len(names) :] + names[: i % len(names)]:
            fn = paths[name]
            started = time.perf_counter()
            result = fn(q)
            times[name].append(time.perf_counter() - started)
            if name == "search_k5_window0" and expected is not None:
                known += 1
                hits += any(p.source == expected for p in result)  # type: ignore[attr-defined]
    out: dict = {name: ms_stats(values) for name, values in times.items()}
    # Paired per query (measured back to back), so less sensitive to load drifting.
    w0, w1, emb = times["search_k5_window0"], times["search_k5_window1"], times["query_embedding"]
    out["window0_minus_query_embedding"] = ms_stats([a - b for a, b in zip(w0, emb, strict=True)])
    out["window1_minus_window0"] = ms_stats([a - b for a, b in zip(w1, w0, strict=True)])
    out["known_item_hit_at_5"] = round(hits / known, 3) if known else None
    return out


READER = """
import json, sys
import ingest
from index import Store, make_embedder
queries = [tuple(q) for q in json.load(sys.stdin)]
store = Store(sys.argv[1], make_embedder(sys.argv[2]))
print(json.dumps(ingest.time_retrieval(store, queries)))
"""


def reader_retrieval(db: Path, queries: list[tuple[str, str | None]], backend: str) -> dict:
    """`time_retrieval` in a fresh process that only opens the index, as `rag ui` or
    `rag ask` would after `rag index`; this long-running writer measures slower."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent)}
    done = subprocess.run(
        [sys.executable, "-c", READER, str(db), backend],
        input=json.dumps(queries),
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(done.stdout)


def raw_round(model, texts: list[str], batch_size: int) -> float:
    started = time.perf_counter()
    model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return time.perf_counter() - started


# --- the run ----------------------------------------------------------------------------


def step_bounds(counts: list[int], stages: list[int], steps: int) -> list[int]:
    """File counts after each sync step: the stage bounds plus ~`steps` equal chunk slices."""
    total = sum(counts)
    targets = [total * j / steps for j in range(1, steps)]
    out = set(stages)
    cumulative = 0
    for n, count in enumerate(counts, 1):
        cumulative += count
        if any(cumulative >= t > cumulative - count for t in targets):
            out.add(n)
    return sorted(out)


def ingest_step(store: Store, corpus: Path, timers: Timers) -> dict:
    """One incremental `sync` of the folder, with the time of each timed method."""
    before = timers.snapshot()
    report = sync(store, [corpus])
    after = timers.snapshot()
    spent = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    return {
        "docs_added": len(report.added),
        "chunks_added": report.chunks_added,
        "failed": len(report.failed),
        "seconds": report.seconds,
        "embed_s": spent.get("embed", 0.0),
        **{f"{k}_s": spent[k] for k in sorted(spent) if k.startswith("store.")},
        "outside_timed_calls_s": report.seconds - spent["_outermost"],
    }


def summarize_steps(steps: list[dict]) -> dict:
    """Sum steps into one ingest record (seconds rounded, chunks/s recomputed)."""
    keys = list(dict.fromkeys(k for s in steps for k in s if k not in ("raw_around", "ratio")))
    out: dict = {k: sum(s.get(k, 0) for s in steps) for k in keys}
    out = {k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()}
    out["chunks_per_s"] = round(out["chunks_added"] / out["seconds"], 1)
    return out


def run(args: argparse.Namespace, work: Path, log: Callable[[str], None]) -> dict:
    import torch
    from sentence_transformers import SentenceTransformer

    defaults = inspect.signature(sync).parameters
    chunk_chars = defaults["chunk_chars"].default
    overlap = defaults["overlap_sentences"].default

    pool, corpus, db = work / "pool", work / "corpus", work / "index"
    started = time.perf_counter()
    files = generate_corpus(pool, args.docs, args.seed)
    gen_s = time.perf_counter() - started
    corpus_bytes = sum(f.stat().st_size for f in files)
    log(f"generated {len(files)} documents ({corpus_bytes / 1e6:.1f} MB) in {gen_s:.1f}s")

    started = time.perf_counter()
    counts, sample, chunk_info = plan_chunks(
        files, chunk_chars, overlap, args.raw_sample, args.seed
    )
    plan_s = time.perf_counter() - started
    stage_set = stage_bounds(counts, tuple(args.stages))
    bounds = step_bounds(counts, stage_set, args.steps)
    log(
        f"chunker: {chunk_info['chunks']:,} chunks (avg {chunk_info['avg_chunk_chars']} chars) "
        f"in {plan_s:.1f}s; {len(bounds)} sync steps, retrieval measured after "
        f"{stage_set} files"
    )

    embedder = make_embedder(args.backend)
    model_dir = bundled_minilm_dir()
    raw_model = SentenceTransformer(str(model_dir), device="cpu")
    warm = sample[:64] or ["warm-up"]
    embedder.embed(warm)  # loads and hash-checks the weights outside any timing
    raw_round(raw_model, warm, embedder.batch_size)
    memory_before = memory_mb()

    store = Store(db, embedder)
    timers = Timers()
    timers.wrap(embedder, "embed")
    timed_methods = [m for m in STORE_METHODS if timers.wrap(store, m, f"store.{m}")]

    # Raw rounds before the first step and after every step, so both see the same noise.
    rounds = len(bounds) + 1
    slices = [sample[i::rounds] for i in range(rounds)]
    raw_times: list[float] = []

    def raw_next() -> float | None:
        texts = slices[len(raw_times)]
        raw_times.append(raw_round(raw_model, texts, embedder.batch_size) if texts else 0.0)
        cps = len(texts) / raw_times[-1] if texts else None
        log(f"raw round {len(raw_times)}/{rounds}: {cps or 0:.1f} chunks/s")
        return cps

    raw_cps = [raw_next()]
    stage1_chunks = [c for f in files[: stage_set[0]] for c in file_chunks(f, chunk_chars, overlap)]
    queries = make_queries(args.queries, args.seed, stage1_chunks)
    corpus.mkdir()
    steps: list[dict] = []
    stages: list[dict] = []
    done = 0
    for bound in bounds:
        for file in files[done:bound]:
            file.rename(corpus / file.name)
        step = ingest_step(store, corpus, timers)
        expected = sum(counts[done:bound])
        if step["failed"] or step["chunks_added"] != expected:
            log(f"warning: {step['chunks_added']} chunks added, chunker predicted {expected}")
        done = bound
        cps = step["chunks_added"] / step["seconds"]
        log(
            f"step {len(steps) + 1}/{len(bounds)}: {bound} files, +{step['chunks_added']:,} "
            f"chunks in {step['seconds']:.1f}s ({cps:.1f} chunks/s)"
        )
        raw_cps.append(raw_next())
        around = [c for c in raw_cps[-2:] if c]
        step["raw_around"] = statistics.fmean(around) if around else None
        step["ratio"] = cps / step["raw_around"] if step["raw_around"] else None
        steps.append(step)
        if bound not in stage_set:
            continue
        total_chunks = store.count()
        retrieval = time_retrieval(store, queries)
        log(
            f"retrieval at {total_chunks:,} chunks: p50 window0 "
            f"{retrieval['search_k5_window0']['p50']} ms, window1 "
            f"{retrieval['search_k5_window1']['p50']} ms"
        )
        reader = reader_retrieval(db, queries, args.backend) if bound == stage_set[-1] else None
        if reader:
            log(f"in a fresh reader process: p50 window0 {reader['search_k5_window0']['p50']} ms")
        disk = disk_usage(db)
        first = sum(len(s["steps"]) for s in stages)
        stages.append(
            {
                "docs": bound,
                "chunks": total_chunks,
                "steps": list(range(first, len(steps))),
                "ingest": summarize_steps(steps[first:]),
                "retrieval": retrieval,
                "retrieval_fresh_reader": reader,
                "memory": memory_mb(),
                "loadavg_1m": round(os.getloadavg()[0], 2),
                "disk": {**disk, "bytes_per_chunk": round(disk["bytes"] / max(total_chunks, 1))},
            }
        )

    before = timers.snapshot()
    resync = sync(store, [corpus])
    after = timers.snapshot()
    resync_info = {
        "seconds": round(resync.seconds, 2),
        "unchanged_docs": len(resync.unchanged),
        "documents_s": round(after.get("store.documents", 0) - before.get("store.documents", 0), 2),
    }
    log(f"no-op re-sync: {resync.seconds:.1f}s")

    total = summarize_steps(steps)
    ours = total["chunks_per_s"]
    raw_sizes = [len(s) for s in slices]
    raw_total = sum(raw_sizes) / sum(raw_times)
    round_cps = [c for c in raw_cps if c]
    step_ratios = [s["ratio"] for s in steps if s["ratio"]]
    return {
        "config": {
            "docs": args.docs,
            "seed": args.seed,
            "queries": len(queries),
            "sync_steps": len(bounds),
            "chunk_chars": chunk_chars,
            "overlap_sentences": overlap,
            "embedder": embedder.name,
            "backend": args.backend,
            "batch_size": embedder.batch_size,
            "torch_threads": torch.get_num_threads(),
            "timed_store_methods": timed_methods,
        },
        "corpus": {
            "docs": len(files),
            "bytes": corpus_bytes,
            **chunk_info,
            "generate_s": round(gen_s, 2),
            "chunker_pass_s": round(plan_s, 2),
        },
        "memory_before_ingest": memory_before,
        "stages": stages,
        "steps": [
            {
                "files": b,
                **{k: round(v, 3) if isinstance(v, float) else v for k, v in s.items()},
            }
            for b, s in zip(bounds, steps, strict=True)
        ],
        "ingest": {
            **total,
            "embed_only_chunks_per_s": (
                round(total["chunks_added"] / total["embed_s"], 1) if total["embed_s"] else None
            ),
            "embed_share": round(total["embed_s"] / total["seconds"], 3),
        },
        "raw": {
            "sample_texts": sum(raw_sizes),
            "rounds": len(round_cps),
            "chunks_per_s": round(raw_total, 1),
            "round_chunks_per_s_median": round(statistics.median(round_cps), 1),
            "round_chunks_per_s_min": round(min(round_cps), 1),
            "round_chunks_per_s_max": round(max(round_cps), 1),
        },
        "ratios": {
            "ingest_vs_raw": round(ours / raw_total, 3),
            "ingest_vs_raw_step_median": round(statistics.median(step_ratios), 3),
            "ingest_vs_raw_step_min": round(min(step_ratios), 3),
            "ingest_vs_raw_step_max": round(max(step_ratios), 3),
            "embed_only_vs_raw": (
                round(total["chunks_added"] / total["embed_s"] / raw_total, 3)
                if total["embed_s"]
                else None
            ),
        },
        "resync_noop": resync_info,
        "targets": {
            "ingest_vs_raw_min": TARGET_RATIO,
            "search_window0_p50_ms_max_at_100k": TARGET_P50_MS,
        },
        "memory_peak": memory_mb(),
    }


def print_report(r: dict) -> None:
    c, corpus, ing, raw, ratios = r["config"], r["corpus"], r["ingest"], r["raw"], r["ratios"]
    print(
        f"corpus: {corpus['docs']:,} docs, {corpus['bytes'] / 1e6:.1f} MB, {corpus['chunks']:,} "
        f"chunks (avg {corpus['avg_chunk_chars']} chars, chunk_chars {c['chunk_chars']}, "
        f"overlap {c['overlap_sentences']}), seed {c['seed']}"
    )
    print(f"model {c['embedder']}, batch {c['batch_size']}, torch threads {c['torch_threads']}")
    stages = r["stages"]
    width = 12
    head = "".join(f"{s['chunks']:>{width},}" for s in stages)

    print("\nIngestion, summed over the sync steps up to each stage (seconds)")
    print(f"{'  chunks in index after stage':34}{head}")
    keys = list(dict.fromkeys(k for s in stages for k in s["ingest"]))
    for key in keys:
        print(f"  {key:32}" + "".join(f"{s['ingest'].get(key, '-')!s:>{width}}" for s in stages))
    ratio = ratios["ingest_vs_raw_step_median"]
    ok = "ok" if ratio >= TARGET_RATIO else "BELOW TARGET"
    print(
        f"\ntotal: {ing['chunks_added']:,} chunks in {ing['seconds']}s over {c['sync_steps']} "
        f"sync steps = {ing['chunks_per_s']} chunks/s (embedding is {ing['embed_share']:.0%} "
        f"of it; {ing['embed_only_chunks_per_s']} chunks/s counting embed calls only)"
    )
    print(
        f"raw SentenceTransformer.encode (same weights, batch {c['batch_size']}, normalized) "
        f"on a random sample of {raw['sample_texts']:,} of the same chunk texts, in "
        f"{raw['rounds']} rounds before and between the sync steps: {raw['chunks_per_s']} "
        f"chunks/s (rounds {raw['round_chunks_per_s_min']}-{raw['round_chunks_per_s_max']}, "
        f"median {raw['round_chunks_per_s_median']})"
    )
    print(
        f"ours/raw: {ratios['ingest_vs_raw']} overall; median per step {ratio} (each step vs "
        f"the raw rounds either side; range {ratios['ingest_vs_raw_step_min']}-"
        f"{ratios['ingest_vs_raw_step_max']}); embed calls only {ratios['embed_only_vs_raw']}"
    )
    print(f"target: median per-step ratio >= {TARGET_RATIO}: {ok}")

    print(f"\nRetrieval, {c['queries']} queries, ms p50 / p95 (LLM excluded)")
    wide = "".join(f"{s['chunks']:>{width + 4},}" for s in stages)
    print(f"{'  chunks in index':34}{wide}")
    for key in [k for k in stages[0]["retrieval"] if k != "known_item_hit_at_5"]:
        cells = "".join(
            f"{s['retrieval'][key]['p50']:>8.1f} /{s['retrieval'][key]['p95']:>6.1f}"
            for s in stages
        )
        print(f"  {key:32}{cells}")
    hits = "".join(f"{s['retrieval']['known_item_hit_at_5']!s:>{width + 4}}" for s in stages)
    print(f"  {'known-item query: source in top 5':32}{hits}")
    load = "".join(f"{s['loadavg_1m']!s:>{width + 4}}" for s in stages)
    print(f"  {'load average (1 min), 2 cores':32}{load}")
    last = stages[-1]
    p50 = last["retrieval"]["search_k5_window0"]["p50"]
    fresh = last.get("retrieval_fresh_reader")
    if fresh:
        print(f"  fresh reader process, at {last['chunks']:,} chunks:")
        for key in ("query_embedding", "bm25", "search_k5_window0", "search_k5_window1"):
            print(f"    {key:30}{fresh[key]['p50']:>8.1f} /{fresh[key]['p95']:>6.1f}")
        p50 = fresh["search_k5_window0"]["p50"]
    verdict = "ok" if p50 <= TARGET_P50_MS else "ABOVE TARGET"
    print(
        f"target: search window 0 p50 <= {TARGET_P50_MS:g} ms at 100k chunks"
        f"{' (fresh reader)' if fresh else ''}; {p50} ms at {last['chunks']:,}: {verdict}"
        + ("" if last["chunks"] >= 90_000 else " (not measured at 100k in this run)")
    )

    print("\nMemory and disk per stage")
    print(f"{'  chunks in index':34}{head}")
    rows = [
        ("rss peak MB", lambda s: s["memory"]["rss_peak_mb"]),
        ("rss now MB", lambda s: s["memory"]["rss_now_mb"]),
        ("index on disk MB", lambda s: round(s["disk"]["bytes"] / 1e6, 1)),
        ("  of which BM25/snapshot MB", lambda s: round(s["disk"]["lexical_bytes"] / 1e6, 1)),
        ("index bytes per chunk", lambda s: s["disk"]["bytes_per_chunk"]),
    ]
    for label, get in rows:
        print(f"  {label:32}" + "".join(f"{get(s)!s:>{width}}" for s in stages))
    before = r["memory_before_ingest"]
    print(
        f"rss with both models loaded, before indexing: {before['rss_now_mb']} MB "
        f"(ru_maxrss is process-wide: the raw baseline model is included)"
    )
    rs = r["resync_noop"]
    print(
        f"no-op re-sync of {rs['unchanged_docs']:,} unchanged docs: {rs['seconds']}s "
        f"(Store.documents() {rs['documents_s']}s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--docs", type=int, default=None, help="documents (overrides --scale)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=Settings.from_env().embed_backend,
        help="embedder runtime indexed with (raw encode stays torch fp32: the baseline)",
    )
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument(
        "--raw-sample", type=int, default=5_000, help="chunk texts timed with raw encode"
    )
    parser.add_argument(
        "--stages",
        type=lambda s: [int(x) for x in s.split(",")],
        default=list(STAGE_TARGETS),
        help="chunk counts to measure retrieval at (comma-separated)",
    )
    parser.add_argument(
        "--steps", type=int, default=10, help="add the corpus in ~this many syncs (>= stages)"
    )
    parser.add_argument("--workdir", default=None, help="new or empty dir (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the corpus and index")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.docs = args.docs or SCALES[args.scale]

    if args.workdir:
        work = Path(args.workdir).expanduser().resolve()
        if work.exists() and any(work.iterdir()):
            parser.error(f"{work} is not empty")
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="rag-bench-ingest-"))
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t0:7.1f}s] {msg}", file=sys.stderr, flush=True)

    try:
        report = run(args, work, log)
        report["wall_s"] = round(time.perf_counter() - t0, 1)
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print_report(report)
    print(f"\nwall time {report['wall_s']}s")


if __name__ == "__main__":
    main()
