"""Quarantine false positives: sentences of ordinary documents the injection check would
cut from prompts, and how many planted attack documents it catches, in one run.

    .venv/bin/python bench/quarantine.py [--json] [CORPUS_DIR ...]

Default corpora: the bundled news corpus and every corpus of `../shared/eval/suite/`
(read from there, never copied). Each file is parsed and chunked exactly as `rag index`
does; every chunk sentence judged an instruction is printed with its file. None of
these documents addresses an AI system, so every hit is a false positive (the target
is 0). Then the planted documents of `tests/data/attacks/` are judged the same way: the
share that have at least one quarantined sentence, per technique class (`kind` in its
`cases.jsonl`). No model, no index: seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from index.chunking import chunk_document, split_sentences
from index.errors import DocumentError
from index.indexer import load_document
from index.readers import SUPPORTED_SUFFIXES
from rag.safety.injection import is_instruction
from rag.skeleton import skeleton

REPO = Path(__file__).resolve().parent.parent
SUITE = REPO.parent / "shared" / "eval" / "suite"
ATTACKS = REPO / "tests" / "data" / "attacks"


def flagged(folder: Path) -> tuple[int, int, list[tuple[str, str]]]:
    """(files, chunk sentences, [(file, sentence)] judged instructions) under `folder`."""
    files, sentences, hits = 0, 0, []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUPPORTED_SUFFIXES):
        try:
            doc, blocks = load_document(path, str(path.relative_to(folder)))
        except DocumentError:
            continue
        files += 1
        seen: set[str] = set()
        for chunk in chunk_document(doc.source, doc.title, doc.text, blocks, 700, 1, doc.pages):
            for s, e in split_sentences(chunk.text):
                sentence = chunk.text[s:e]
                if sentence in seen:
                    continue  # chunks overlap by a sentence
                seen.add(sentence)
                sentences += 1
                if is_instruction(sentence):
                    hits.append((doc.source, " ".join(sentence.split())))
    return files, sentences, hits


def attacks_caught() -> dict[str, tuple[int, int, int]]:
    """Per technique class: planted documents, those with a quarantined sentence, and
    those whose canary never reaches the indexed text (hidden text left out at ingest)."""
    total: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    gone: Counter[str] = Counter()
    for line in (ATTACKS / "cases.jsonl").read_text("utf-8").splitlines():
        case = json.loads(line)
        doc, _ = load_document(ATTACKS / "docs" / case["file"], case["file"])
        total[case["kind"]] += 1
        caught[case["kind"]] += any(
            is_instruction(doc.text[s:e]) for s, e in split_sentences(doc.text)
        )
        canary = case.get("canary")
        gone[case["kind"]] += bool(canary) and skeleton(canary) not in skeleton(doc.text)
    return {k: (total[k], caught[k], gone[k]) for k in sorted(total)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="*", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    corpora = args.corpora or [
        REPO / "index" / "data" / "corpus",
        *sorted(p / "corpus" for p in SUITE.iterdir() if (p / "corpus").is_dir()),
    ]
    normal = {}
    for folder in corpora:
        files, sentences, hits = flagged(folder)
        normal[str(folder)] = {"files": files, "sentences": sentences, "quarantined": hits}
    attacks = {
        k: {"documents": n, "caught": c, "removed at ingest": g}
        for k, (n, c, g) in attacks_caught().items()
    }
    if args.json:
        print(json.dumps({"normal": normal, "attacks": attacks}, indent=2, ensure_ascii=False))
        return 0
    print("| corpus | files | sentences | quarantined |\n|---|---|---|---|")
    for folder, r in normal.items():
        print(f"| {folder} | {r['files']} | {r['sentences']} | {len(r['quarantined'])} |")
    for folder, r in normal.items():
        for source, sentence in r["quarantined"]:
            print(f"  {Path(folder).parent.name}/{source}: {sentence[:160]}", file=sys.stderr)
    n = sum(r["documents"] for r in attacks.values())
    k = sum(r["caught"] for r in attacks.values())
    print(f"\nattack documents with a quarantined sentence: {k}/{n}")
    print("| technique | documents | quarantined | payload removed at ingest |\n|---|---|---|---|")
    for kind, r in attacks.items():
        print(f"| {kind} | {r['documents']} | {r['caught']} | {r['removed at ingest']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
