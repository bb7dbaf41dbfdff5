"""The store mirrors what it is given: idempotent, exact, and never loses data on bad input."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from index import IndexDirError, NotAnIndexError, PathNotFoundError, Store, sync
from index.store import FORMAT, MARKER
from index.types import TEXT
from tests.fakes import FakeEmbedder


def snapshot(store: Store) -> dict[str, tuple]:
    return {s: (d.content_hash, sorted(d.chunk_ids)) for s, d in store.documents().items()}


def test_indexing_twice_changes_nothing(tmp_path, corpus):
    store = Store(tmp_path / "db", FakeEmbedder())
    first = sync(store, [corpus])
    assert first.counts() == {"added": 2, "updated": 0, "unchanged": 0, "removed": 0, "failed": 0}
    before, count = snapshot(store), store.count()
    embedded = len(store.embedder.calls)
    second = sync(store, [corpus])
    assert second.counts()["unchanged"] == 2 and not second.changed
    assert snapshot(store) == before and store.count() == count
    assert len(store.embedder.calls) == embedded  # nothing re-embedded


def test_sources_are_relative_to_the_indexed_folder(tmp_path, corpus):
    (corpus / "sub").mkdir()
    (corpus / "sub" / "deep.txt").write_text("A nested note about deep sea fish.", "utf-8")
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [corpus, corpus / "tea.txt"])
    assert set(store.documents()) == {"paris.md", "tea.txt", "sub/deep.txt"}


def test_changed_file_replaces_exactly_its_chunks(tmp_path, corpus):
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [corpus])
    paris_before = store.documents()["paris.md"]
    (corpus / "tea.txt").write_text(
        "Oolong tea is partly oxidised. Brew it at 90 degrees.", "utf-8"
    )
    report = sync(store, [corpus])
    assert report.updated == ["tea.txt"] and report.unchanged == ["paris.md"]
    docs = store.documents()
    assert docs["paris.md"] == paris_before
    texts = [p.text for p in store.search("oolong tea oxidised", k=10) if p.source == "tea.txt"]
    assert texts and all("Green tea" not in t for t in texts)


def test_deleted_file_is_removed_and_only_it(tmp_path, corpus):
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [corpus])
    paris = store.documents()["paris.md"]
    (corpus / "tea.txt").unlink()
    report = sync(store, [corpus])
    assert report.removed == ["tea.txt"]
    assert store.documents() == {"paris.md": paris}
    assert store.count() == len(paris.chunk_ids)


def test_a_file_that_turns_bad_keeps_its_old_chunks(tmp_path, corpus):
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [corpus])
    before = snapshot(store)
    (corpus / "tea.txt").write_bytes(b"\x00\x00junk")
    report = sync(store, [corpus])
    assert "tea.txt" in report.failed and "binary" in report.failed["tea.txt"]
    assert snapshot(store) == before


def test_missing_path_fails_before_changing_anything(tmp_path, corpus):
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [corpus])
    before = snapshot(store)
    with pytest.raises(PathNotFoundError, match="nope"):
        sync(store, [corpus, tmp_path / "nope"])
    assert snapshot(store) == before


def test_a_folder_that_is_not_ours_is_refused_untouched(tmp_path):
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"\xff\xd8 not ours")
    with pytest.raises(NotAnIndexError, match="not a rag index"):
        Store(foreign, FakeEmbedder())
    assert sorted(p.name for p in foreign.iterdir()) == ["cat.jpg"]
    afile = tmp_path / "file.txt"
    afile.write_text("x", "utf-8")
    with pytest.raises(NotAnIndexError, match="is a file"):
        Store(afile, FakeEmbedder())


def test_an_index_built_with_another_embedder_is_refused(tmp_path, corpus):
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [corpus])
    other = FakeEmbedder()
    other.name = "some-other-model"
    with pytest.raises(IndexDirError, match="fake-bow-256"):
        Store(tmp_path / "db", other)
    assert (tmp_path / "db" / MARKER).is_file()


def test_an_index_in_the_previous_format_keeps_its_texts_and_is_upgraded(tmp_path, corpus):
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [corpus])
    expected = {(p.source, p.text) for p in store.search("green tea paris", k=10)}
    # Format 2 kept chunk texts as Chroma documents, not in the metadata.
    got = store._collection.get(include=["metadatas", "embeddings"])
    metas = [{k: v for k, v in m.items() if k != TEXT} for m in got["metadatas"]]
    texts = [m[TEXT] for m in got["metadatas"]]
    store._collection.upsert(
        ids=got["ids"], embeddings=got["embeddings"], metadatas=metas, documents=texts
    )
    marker = tmp_path / "db" / MARKER
    marker.write_text(json.dumps({**json.loads(marker.read_text()), "format": 2}))
    old = Store(tmp_path / "db", FakeEmbedder())
    assert {(p.source, p.text) for p in old.search("green tea paris", k=10)} == expected
    (corpus / "fish.txt").write_text("Salmon swim upstream to spawn.", "utf-8")
    sync(old, [corpus])
    assert json.loads(marker.read_text())["format"] == FORMAT  # an older version now refuses
    again = Store(tmp_path / "db", FakeEmbedder())
    hits = again.search("green tea paris", k=10)
    assert {(p.source, p.text) for p in hits if p.source != "fish.txt"} == expected
    assert again.search("salmon spawn", k=1)[0].text == "Salmon swim upstream to spawn."
    marker.write_text(json.dumps({**json.loads(marker.read_text()), "format": FORMAT + 2}))
    with pytest.raises(IndexDirError, match="format 6 is not supported"):
        Store(tmp_path / "db", FakeEmbedder())


def test_reopening_keeps_the_index(tmp_path, corpus):
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [corpus])
    before = snapshot(store)
    del store
    assert snapshot(Store(tmp_path / "db", FakeEmbedder())) == before


def test_search_returns_our_passages_with_exact_offsets(tmp_path, corpus):
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [corpus])
    hits = store.search("At what temperature should green tea be brewed?", k=3)
    assert hits[0].source == "tea.txt"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    original = (corpus / hits[0].source).read_text("utf-8")
    assert original[hits[0].start : hits[0].end] == hits[0].text
    assert "ON NOW" not in hits[0].text


class ConstantEmbedder(FakeEmbedder):
    """Every text gets the same vector: dense search is useless, only BM25 can rank."""

    name = "constant"

    def embed(self, texts):
        out = super().embed(["same"] * len(texts))
        return out


def all_ids(store: Store) -> set[str]:
    return {cid for d in store.documents().values() for cid in d.chunk_ids}


def test_lexical_index_follows_every_sync_exactly(tmp_path, corpus):
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [corpus])
    assert set(store.lexical.ids) == all_ids(store)
    (corpus / "tea.txt").write_text("Rooibos is not a tea at all. It is a red bush.", "utf-8")
    sync(store, [corpus])
    assert set(store.lexical.ids) == all_ids(store)
    (corpus / "paris.md").unlink()
    sync(store, [corpus])
    assert set(store.lexical.ids) == all_ids(store) and store.count() == len(all_ids(store))
    assert len(list((tmp_path / "db").glob("snapshot-*"))) == 1  # old versions cleaned up


def test_a_lost_snapshot_is_rebuilt_by_the_next_sync_without_embedding_again(tmp_path, corpus):
    store = Store(tmp_path / "db", FakeEmbedder())
    first = sync(store, [corpus])
    (tmp_path / "db" / "snapshot.json").unlink()  # as if killed before publishing
    assert store.count() == 0 and store.search("green tea") == []  # nothing half-visible
    store.embedder.calls.clear()
    report = sync(store, [corpus])
    assert report.chunks_embedded == 0 and report.chunks_added == first.chunks_added
    assert store.embedder.calls == []  # the vectors left in Chroma were reused
    assert set(store.lexical.ids) == all_ids(store) and store.search("green tea")


def test_rare_words_are_found_by_bm25_when_embeddings_cannot(tmp_path, corpus):
    (corpus / "people.txt").write_text(
        "Many experts spoke about the summit. Joseph Torigian of American University "
        "offered a view. Others were less sure.",
        "utf-8",
    )
    store = Store(tmp_path / "db", ConstantEmbedder())
    sync(store, [corpus])
    hits = store.search("Who is Joseph Torigian?", k=2)
    assert hits[0].source == "people.txt" and "Torigian" in hits[0].text
    assert store.term_coverage("Who is Joseph Torigian?", hits[0].text) == 1.0
    assert store.term_coverage("capital of Australia", hits[0].text) == 0.0


def test_a_chunk_stating_the_answer_among_other_matter_outranks_chunks_about_the_topic(
    tmp_path, monkeypatch
):
    """The second stage: a chunk whose vector is mostly about lunch still ranks first when
    one of its sentences says what was asked; chunks about the master throughout, which
    never say it, ranked above it by the fusion alone."""
    from index import search as search_module

    folder = tmp_path / "docs"
    folder.mkdir()
    filler = " ".join(f"Filler line {i} talks about weather and lunch plans." for i in range(7))
    (folder / "a.txt").write_text(f"{filler} The master keeps metadata for each chunk.", "utf-8")
    for name in "bc":
        (folder / f"{name}.txt").write_text(
            f"The master stores metadata on disk. The master and the chunk servers trade "
            f"{name} metadata messages. Each chunk is named by the master.",
            "utf-8",
        )
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [folder])
    question = "What metadata does the master keep for each chunk?"
    assert [p.source for p in store.search(question, k=3)] == ["a.txt", "b.txt", "c.txt"]
    monkeypatch.setattr(search_module, "SENTENCE_WEIGHT", 0.0)  # the fusion alone
    assert [p.source for p in store.search(question, k=3)][0] == "b.txt"


def test_windows_keep_the_best_sentence_with_exact_offsets(tmp_path, corpus):
    text = " ".join(f"Filler sentence number {i} about nothing." for i in range(6))
    text += " The Eiffel Tower was completed in 1889. " + text
    (corpus / "long.txt").write_text(text, "utf-8")
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [corpus])
    (hit,) = [
        p
        for p in store.search("When was the Eiffel Tower completed", k=5, window=1)
        if p.source == "long.txt"
    ][:1]
    assert "The Eiffel Tower was completed in 1889." in hit.text
    assert hit.text.count(".") <= 3  # the sentence and one neighbour each side
    assert text[hit.start : hit.end] == hit.text


def test_sentence_vectors_are_embedded_once_and_evicted_oldest_first():
    import numpy as np

    from index.window import SentenceVectors
    from tests.fakes import FakeEmbedder

    fake = FakeEmbedder()
    cache = SentenceVectors(fake, size=3)
    first = cache.embed(["a b", "c d", "a b"])
    assert fake.calls == [["a b", "c d"]]  # each distinct sentence once
    assert np.allclose(first, fake.embed(["a b", "c d", "a b"]))
    fake.calls.clear()
    cache.embed(["c d", "e f", "g h"])  # "a b" is now the oldest and falls out
    cache.embed(["a b", "c d"])
    assert fake.calls == [["e f", "g h"], ["a b"]]


def test_uncommitted_vectors_nearer_the_query_never_crowd_out_committed_ones(tmp_path, corpus):
    """A killed or running writer leaves vectors outside the snapshot: search asks Chroma
    for more until it has k committed chunks, and never shows the uncommitted ones."""
    from index.types import Chunk

    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [corpus])
    committed = {p.source for p in store.search("green tea brewed", k=2)}
    text = "green tea brewed green tea brewed"
    ghosts = [Chunk(f"ghost{i}.txt", "Ghost", f"{text} {i}", 0, len(text) + 2) for i in range(40)]
    with store.writing():
        store.upsert(ghosts, ["x"] * len(ghosts))
    found = store.search("green tea brewed", k=2)
    assert len(found) == 2 and {p.source for p in found} == committed
    assert not any(p.source.startswith("ghost") for p in store.dense_search("green tea", 2))


def test_a_unique_line_finds_its_file_among_sixty_near_identical_copies(tmp_path):
    """Known-item lookup: dense search sees sixty near-duplicates; the fusion must keep
    the one chunk that holds the query verbatim (BM25 ranks it first, dense does not)."""
    folder = tmp_path / "copies"
    folder.mkdir()
    body = (
        "The quarterly maintenance report lists every pump, valve and filter in the plant. "
        "Each item is inspected, cleaned and logged by the night shift before the audit."
    )
    for n in range(60):
        (folder / f"copy{n:02d}.txt").write_text(
            f"{body}\nCopy {n:02d} of the report was signed by inspector number {n * 7 + 3}.\n",
            "utf-8",
        )
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [folder])
    for n in range(60):
        line = f"Copy {n:02d} of the report was signed by inspector number {n * 7 + 3}."
        hits = store.search(line, k=5)
        assert hits[0].source == f"copy{n:02d}.txt", (n, [h.source for h in hits])


def test_a_file_parsed_by_an_older_parser_is_parsed_again(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "guide.md").write_text("# Guide\n\n## Setup\n\nRun the installer once.\n", "utf-8")
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [folder])
    docs = store.documents()
    # What an index written before heading paths holds: the bare sha256 as content hash.
    old = {s: replace(d, content_hash=d.content_hash.split("+")[0]) for s, d in docs.items()}
    store.commit(old)
    report = sync(store, [folder])
    assert report.updated == ["guide.md"]
    (hit,) = store.search("installer", k=1)
    assert hit.heading == "Guide > Setup" and hit.text == "Run the installer once."
    assert not sync(store, [folder]).changed


def test_overlapping_chunks_of_one_document_reach_the_model_as_one_exact_passage():
    from index import Passage
    from index.window import merge_overlapping

    doc = "One fact here. Two facts here. Three facts here. Four facts here."
    a = Passage("d.txt", "D", doc[0:48], 0, 48, 0.5)  # sentences 1-3
    b = Passage("d.txt", "D", doc[31:], 31, len(doc), 0.7)  # sentences 3-4
    other = Passage("e.txt", "E", "Elsewhere.", 0, 10, 0.6)
    merged = merge_overlapping([a, other, b])
    assert [p.source for p in merged] == ["d.txt", "e.txt"]  # at the better rank of the two
    assert merged[0].text == doc and (merged[0].start, merged[0].end) == (0, len(doc))
    assert merged[0].score == 0.7
    inside = Passage("d.txt", "D", doc[15:30], 15, 30, 0.4)
    assert merge_overlapping([a, inside]) == [a]  # nothing new: no second copy
    first, last = Passage("d.txt", "D", doc[:30], 0, 30, 0.6), b
    bridge = Passage("d.txt", "D", doc[15:48], 15, 48, 0.5)  # overlaps both
    (whole,) = merge_overlapping([first, last, bridge])
    assert (whole.text, whole.start, whole.end, whole.score) == (doc, 0, len(doc), 0.7)


def test_a_long_passage_is_cut_to_the_run_of_sentences_that_holds_most_of_the_question():
    from index import Passage
    from index.window import best_window

    doc = (
        "The paper begins with history. Shazam launched in 2002. The service is live in "
        "Germany, Finland, and the UK. It has over 1.8M tracks. Speed is covered later."
    )
    p = Passage("s.pdf", "Shazam", doc, 100, 100 + len(doc), 0.5, page=2)
    asked = {"service", "live", "tracks"}
    cover = lambda text: sum(w in text.lower() for w in asked)  # noqa: E731
    cut = best_window(p, 80, cover)
    live = "The service is live in Germany, Finland, and the UK."
    assert cut.text == f"{live} It has over 1.8M tracks."
    assert doc[cut.start - 100 : cut.end - 100] == cut.text and cut.page == 2  # exact
    assert best_window(p, len(doc), cover) is p  # fits: unchanged
    # No run of whole sentences fits: the best sentence alone, never a broken one.
    assert best_window(p, 10, cover).text == live


def test_a_search_that_races_a_commit_answers_from_the_new_snapshot(tmp_path, corpus, monkeypatch):
    """The UI searches while an upload or `rag index --watch` commits in the same process:
    the chunks its snapshot listed may be gone from Chroma by the time it reads them."""
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [corpus])
    old = store.committed()
    (corpus / "tea.txt").write_text("Green tea is brewed at 75 degrees now.\n", "utf-8")
    (corpus / "paris.md").write_text("# Paris\n\nParis has the Louvre.\n", "utf-8")
    sync(store, [corpus])  # replaces every chunk: the old ids are garbage-collected
    new = store.committed()
    snapshots = iter([old])
    monkeypatch.setattr(store, "committed", lambda: next(snapshots, new))
    hits = store.search("green tea brewed", k=2)
    assert hits and "75 degrees" in hits[0].text


def test_k_counts_passages_after_neighbouring_chunks_join(tmp_path):
    """Two chunks of one section sharing a sentence are one passage; the model still gets
    k passages, the next best chunk taking the place the join freed."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "long.txt").write_text(
        " ".join(f"Kestrel note {i} hovers over the meadow." for i in range(12)), "utf-8"
    )
    for name in ("a", "b", "c"):
        (folder / f"{name}.txt").write_text(f"Kestrel {name} nests on a cliff.", "utf-8")
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [folder], chunk_chars=120)
    chunks = store.search("kestrel hovers over the meadow", k=20)
    assert any(p.source == "long.txt" and p.text.count("Kestrel note") > 3 for p in chunks)
    for k in (2, 3, 4):
        passages = store.search("kestrel hovers over the meadow", k=k)
        assert len(passages) == k
        spans = [(p.source, p.start, p.end) for p in passages]
        for i, (s, a, b) in enumerate(spans):  # no two overlap: joined, not repeated
            assert not any(s == t and a <= d and c <= b for t, c, d in spans[i + 1 :]), spans


def test_a_document_mentions_what_any_of_its_chunks_its_title_or_its_name_says(tmp_path, corpus):
    """What the verifier asks before it lets a sentence about "Shazam" cite a document."""
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [corpus])
    assert store.mentions("paris.md", "Louvre") and store.mentions("paris.md", "Eiffel Tower")
    assert store.mentions("paris.md", "travel notes")  # the title
    assert store.mentions("tea.txt", "Tea") and not store.mentions("tea.txt", "Louvre")
    assert not store.mentions("tea.txt", "Green Louvre")  # every word of the name
    assert store.mentions("gone.md", "Louvre")  # an unknown document: nothing to judge by
