"""Make the index mirror a set of files and folders, exactly, even if killed midway.

One run, under the directory's write lock:
1. read: every file is hashed; unchanged ones (same bytes as committed) are skipped
   without parsing; new and changed ones are extracted, neutralized, cleaned, chunked;
2. embed: chunks Chroma does not hold yet are embedded in large batches (chunks left
   by an interrupted run are reused; identical content under a second name copies the
   first one's vectors instead of embedding them again);
3. commit: the new document list and BM25 index are published in one atomic step,
   then vectors nothing uses any more are deleted.
Until step 3 search sees the previous state; a kill anywhere leaves that state intact
and the next run picks up the work. A file that fails keeps its old chunks.
"""

from __future__ import annotations

import errno
import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .chunking import Block, chunk_document
from .clean import clean, derive_title
from .columns import locate
from .errors import DocumentError, PathNotFoundError
from .neutralize import neutralize
from .readers import MARKDOWN_SUFFIXES, MAX_FILE_BYTES, SUPPORTED_SUFFIXES, extract, read_bytes
from .snapshot import StoredDocument
from .store import Store, chunk_id
from .structure import Section, outline, printed_sections
from .types import Chunk, Document, IndexReport, heading_path

EMBED_BATCH = 256
# Appended to each file's sha256: a file parsed by an older version of the parsing code
# (p2: outlines and heading paths; p3: ligatures and line-end hyphens read as words in
# what is embedded) no longer looks unchanged, so it is parsed and embedded again.
PARSER = "+p20"
# By type, where later versions changed only some: p4, PDFs: text through PDFium, which
# keeps words whole where pypdf glued or broke them. p5, PDF, Word and Markdown: text a
# reader cannot see (hidden, white, microscopic, off-page, hidden HTML) is left out. p6,
# PDF: footnotes drawn before a page's body read after it (`footnotes`); Markdown:
# heading attribute blocks (`{#id .class}`) are no part of the heading path. p7, PDF: a
# sentence that runs over a page break is one sentence, on the page where it starts, and
# a word hyphenated there is not glued to the page number. p8, Markdown: a chunk that
# opens inside a table has the table's first row in its heading path. p9, Markdown: a
# table's `| --- |` rule line is no page furniture, so it no longer cuts the table's
# header (and the sentence leading into it) from its rows. p10, Markdown: a repeated line
# of prose is kept (an option's sentence that other options share), not dropped as a
# teaser. p11, every type whose text can hold Markdown lists (all but PDF): a chunk that
# opens inside a keyed list item has the item's key in its heading path. p12, PDF:
# footnotes at a page's foot follow the end of the sentence the page breaks off, as a
# paragraph of their own (p8 was the mark of a reverted PDF change). p13, PDF: printed
# table rows carry their values named by column (`columns`), for the prompt. p14, HTML:
# the page's author from its metadata (`Document.author`), for the prompt. p15, Word
# (`index.word`): tables in reading order under their own heading, numbered and bulleted
# paragraphs as list items, a merged cell said once, headings below a "Title" paragraph.
# p16, HTML: a heading's permalink ("¶", "#") and MediaWiki's "[edit]" are not its words.
# p17, every type read into Markdown's shape: a heading's (or list item key's) code span
# and backslash escapes are its text, not markup ("socket.bind([port][, address])" had
# been read as links, "CARGO_<name>_DEBUG" had lost its "_" as emphasis). p18, Word:
# footnotes and endnotes, each after the paragraph citing it; text boxes, after theirs.
# p19, HTML: dialogs (ARIA's, Bootstrap's `.modal`) are no page text. p20, every type
# but PDF: a list item keyed by its type in braces ("* `tabSize` {integer} …") is a
# keyed item, and a chunk that opens inside a keyed item stores it (`Chunk.opened`); a
# type's mark keeps its own last change before it ("+p17+p20"), so types stay apart.
# p21, PDF: lines set larger than the body text head sections (`printed_heads`): chunks
# end where a section does and carry its heading. p22, PDF: a line that repeats an
# earlier one is kept where it is text (inside a sentence, a table's head over each
# table; `clean._printed_repeats`), and a wrapped column head's one capitalized word.
_PARSERS = {
    ".pdf": "+p13+p22",
    ".docx": "+p18+p20",
    ".md": "+p17+p20",
    ".markdown": "+p17+p20",
    ".mdx": "+p17+p20",
    ".html": "+p19+p20",
    ".htm": "+p19+p20",
}


def parser_mark(file: Path) -> str:
    """The parsing code's version for this kind of file: only files it changed are redone."""
    return _PARSERS.get(file.suffix.lower(), PARSER)


@dataclass(frozen=True)
class ProgressEvent:
    """`stage` is "read" (files) or "embed" (chunks); `item` names the current file."""

    stage: str
    done: int
    total: int
    item: str = ""


Progress = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class _Target:
    file: Path
    source: str
    root: str


def _walk(root: Path) -> tuple[list[_Target], dict[str, str], Counter[str]]:
    """Supported files under `root` (hidden ones skipped), following symlinks safely;
    and how many files of each other type were left out, so a folder of `.odt` files
    is not "0 added" without a reason."""
    found: list[_Target] = []
    failed: dict[str, str] = {}
    other: Counter[str] = Counter()
    visited: set[tuple[int, int]] = set()

    def visit(folder: Path) -> None:
        st = folder.stat()
        if (st.st_dev, st.st_ino) in visited:
            failed[folder.relative_to(root).as_posix() + "/"] = "symlink loop: folder skipped"
            return
        visited.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            failed[folder.relative_to(root).as_posix() + "/"] = f"cannot list ({exc.strerror})"
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            rel = path.relative_to(root).as_posix()
            try:
                is_dir, is_file = entry.is_dir(), entry.is_file()
            except OSError as exc:
                is_dir = is_file = False
                if path.suffix.lower() in SUPPORTED_SUFFIXES:
                    failed[rel] = f"cannot open ({exc.strerror})"
            if is_dir:
                visit(path)
            elif is_file and path.suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(_Target(path, rel, str(root)))
            elif entry.is_symlink() and not is_dir and path.suffix.lower() in SUPPORTED_SUFFIXES:
                failed[rel] = _broken_link_reason(path)
            elif is_file:
                other[path.suffix.lower() or "(no extension)"] += 1

    visit(root)
    return found, failed, other


def _broken_link_reason(path: Path) -> str:
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        return f"broken symlink ({exc.strerror})"
    return "not a regular file"


def _collect(
    paths: Iterable[Path | str],
) -> tuple[list[_Target], list[str], dict[str, str], Counter[str]]:
    """Resolve arguments to files and the folder roots they mirror; fail before any change."""
    resolved = [Path(p).expanduser() for p in paths]
    missing = [str(p) for p in resolved if not p.exists()]
    if missing:
        raise PathNotFoundError(f"no such file or directory: {', '.join(missing)}")
    targets: dict[str, _Target] = {}
    roots: list[str] = []
    failed: dict[str, str] = {}
    other: Counter[str] = Counter()
    for path in resolved:
        path = path.resolve()
        if path.is_dir():
            roots.append(str(path))
            found, bad, left_out = _walk(path)
            targets.update((t.source, t) for t in found)
            failed.update(bad)
            other.update(left_out)
        else:
            targets[path.name] = _Target(path, path.name, str(path.parent))
    return list(targets.values()), roots, failed, other


def load_document(
    file: Path, source: str, max_bytes: int = MAX_FILE_BYTES
) -> tuple[Document, list[tuple[int, int]]]:
    """Read, extract, neutralize and clean one file: the document and its text blocks."""
    data = read_bytes(file, max_bytes)
    return parse_document(data, file, source)


def parse_document(
    data: bytes, file: Path, source: str, digest: str | None = None
) -> tuple[Document, list[tuple[int, int]]]:
    """The document behind a file's bytes: extracted, neutralized, cleaned."""
    extracted = extract(data, file.suffix, source)
    pages: tuple[tuple[int, int], ...] = ()
    if extracted.pages:  # neutralize page by page to keep the page spans exact
        text, edge = "", 0
        for s, e in extracted.pages:
            text += extracted.text[edge:s]  # the page joint, as the extractor chose it
            part = neutralize(extracted.text[s:e])
            pages += ((len(text), len(text) + len(part)),)
            text, edge = text + part, e
    else:
        text = neutralize(extracted.text)
    shape = outline(text) if extracted.markdown else None
    # A Markdown file's own prose (outside its code) has no teasers or running headers
    prose = None
    if shape is not None and file.suffix.lower() in MARKDOWN_SUFFIXES:
        prose = lambda offset: not shape.in_code(offset)  # noqa: E731
    cleaned = clean(text, fallback_title=file.stem, pages=pages, authored=prose)
    title = extracted.title
    blocks: list[Block] = list(cleaned.blocks)
    if shape is not None:
        title = title or shape.title
        blocks = _within(cleaned.blocks, shape.sections, title)
    elif extracted.heads:  # a PDF's headings, as print sets them, under its title
        blocks = _within(
            cleaned.blocks, printed_sections(text, pages, extracted.heads, title), title
        )
    elif title:  # a PDF's own title (metadata or its first page) says where text sits
        blocks = [(s, e, title) for s, e in cleaned.blocks]
    if not blocks:
        raise DocumentError(f"{source}: no article text left after removing boilerplate")
    if not title and extracted.markdown:  # no headings: the lead of the visible text
        lines = [line for s, e, *_ in blocks[:3] for line in text[s:e].splitlines()]
        title = derive_title([x for x in lines if x.strip()], fallback=file.stem)
    title = title or cleaned.title
    digest = digest or f"{hashlib.sha256(data).hexdigest()}{parser_mark(file)}"
    rows = locate(text, pages, extracted.rows) if extracted.rows else ()
    doc = Document(source, str(file), title, text, digest, pages, rows, extracted.author)
    return doc, blocks


def read_indexed(doc: StoredDocument, max_bytes: int = MAX_FILE_BYTES) -> Document:
    """The text an indexed document's offsets point into, read again from its file.

    Only a file whose bytes are still those that were indexed is returned: after an edit,
    offsets (and highlighted citations) would point at the wrong words.
    """
    if not doc.path:
        raise DocumentError(f"{doc.source}: the index does not say where this file is")
    file = Path(doc.path)
    data = read_bytes(file, max_bytes)
    digest = f"{hashlib.sha256(data).hexdigest()}{parser_mark(file)}"
    if digest != doc.content_hash:
        raise DocumentError(
            f"{doc.source}: the file has changed since it was indexed; index it again"
        )
    return parse_document(data, file, doc.source, digest)[0]


def _within(
    blocks: Sequence[tuple[int, int]], sections: Sequence[Section], title: str
) -> list[Block]:
    """Clean text blocks cut at section boundaries, each with its heading path."""
    out: list[Block] = []
    i = 0
    for sec in sections:
        while i < len(blocks) and blocks[i][1] <= sec.start:
            i += 1
        j = i
        while j < len(blocks) and blocks[j][0] < sec.end:
            s, e = max(blocks[j][0], sec.start), min(blocks[j][1], sec.end)
            if s < e:
                out.append((s, e, heading_path(title, sec.path)))
            j += 1
    return out


@dataclass
class _Pending:
    doc: Document
    root: str
    chunks: list[Chunk]
    ids: list[str]


def sync(
    store: Store,
    paths: Iterable[Path | str],
    *,
    chunk_chars: int = 700,
    overlap_sentences: int = 1,
    max_bytes: int = MAX_FILE_BYTES,
    progress: Progress | None = None,
) -> IndexReport:
    """Index `paths` into `store`; folders are mirrored (files gone from them are removed).

    Raises `IndexLockedError` at once if another process is writing to the same index.
    """
    started = time.perf_counter()
    targets, roots, walk_failures, left_out = _collect(paths)
    report = IndexReport(failed=dict(walk_failures), skipped=dict(sorted(left_out.items())))
    note = progress or (lambda event: None)
    with store.writing():
        committed = store.documents()
        pending: list[_Pending] = []
        for i, target in enumerate(targets):
            note(ProgressEvent("read", i, len(targets), target.source))
            try:
                data = read_bytes(target.file, max_bytes)
                old = committed.get(target.source)
                digest = f"{hashlib.sha256(data).hexdigest()}{parser_mark(target.file)}"
                if old is not None and old.content_hash == digest:
                    report.unchanged.append(target.source)
                    continue
                doc, blocks = parse_document(data, target.file, target.source, digest)
            except DocumentError as exc:
                report.failed[target.source] = str(exc)
                continue
            chunks = chunk_document(
                doc.source,
                doc.title,
                doc.text,
                blocks,
                chunk_chars,
                overlap_sentences,
                doc.pages,
                doc.rows,
                doc.author,
            )
            pending.append(_Pending(doc, target.root, chunks, [chunk_id(c) for c in chunks]))
        note(ProgressEvent("read", len(targets), len(targets)))

        _store_chunks(store, pending, committed, report, note)

        documents = dict(committed)
        for p in pending:
            (report.updated if p.doc.source in committed else report.added).append(p.doc.source)
            documents[p.doc.source] = StoredDocument(
                source=p.doc.source,
                title=p.doc.title,
                content_hash=p.doc.content_hash,
                root=p.root,
                chunk_ids=tuple(dict.fromkeys(p.ids)),
                path=p.doc.path,
                pages=len(p.doc.pages),
            )
        seen = {t.source for t in targets}
        for source, old in committed.items():
            if old.root in roots and source not in seen:
                del documents[source]
                report.removed.append(source)
        old_ids = {cid for d in committed.values() for cid in d.chunk_ids}
        new_ids = {cid for d in documents.values() for cid in d.chunk_ids}
        report.chunks_removed = len(old_ids - new_ids)
        if report.changed or not store.snapshots.exists():
            store.commit(documents)
        store.collect_garbage()
    report.seconds = time.perf_counter() - started
    return report


def _store_chunks(
    store: Store,
    pending: list[_Pending],
    committed: dict[str, StoredDocument],
    report: IndexReport,
    note: Progress,
) -> None:
    """Put every pending chunk into Chroma, embedding only what is not there already."""
    all_ids = [cid for p in pending for cid in p.ids]
    have = store.stored_ids(all_ids)
    report.chunks_added = len(set(all_ids))
    by_hash = {d.content_hash: d.source for d in committed.values()}
    to_embed: list[tuple[Chunk, str]] = []
    twins: list[tuple[_Pending, str]] = []
    for p in pending:
        twin = by_hash.get(p.doc.content_hash)
        if twin is not None and twin != p.doc.source:
            twins.append((p, twin))
            continue
        by_hash.setdefault(p.doc.content_hash, p.doc.source)
        fresh = [c for c, cid in zip(p.chunks, p.ids, strict=True) if cid not in have]
        to_embed.extend((c, p.doc.content_hash) for c in fresh)
    total = len(to_embed)
    for i in range(0, total, EMBED_BATCH):
        note(ProgressEvent("embed", i, total))
        batch = to_embed[i : i + EMBED_BATCH]
        store.upsert([c for c, _ in batch], [h for _, h in batch])
    note(ProgressEvent("embed", total, total))
    report.chunks_embedded = total
    for p, twin in twins:
        missing = [c for c, cid in zip(p.chunks, p.ids, strict=True) if cid not in have]
        # Same bytes, same chunks: the twin's chunk ids differ only by the source name.
        twin_ids = [chunk_id(replace(c, source=twin)) for c in missing]
        vectors = store.embeddings(twin_ids)
        reuse = [(c, vectors[t]) for c, t in zip(missing, twin_ids, strict=True) if t in vectors]
        rest = [c for c, t in zip(missing, twin_ids, strict=True) if t not in vectors]
        if reuse:
            store.upsert(
                [c for c, _ in reuse], [p.doc.content_hash] * len(reuse), [v for _, v in reuse]
            )
            report.chunks_reused += len(reuse)
        if rest:
            store.upsert(rest, [p.doc.content_hash] * len(rest))
            report.chunks_embedded += len(rest)
