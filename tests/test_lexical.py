"""BM25 against a brute-force oracle, and incremental commits against a build from scratch."""

from __future__ import annotations

import json
import math
import random
from collections import Counter

import pytest

from index import Store, sync
from index.lexical import ARRAYS, K1, META, B, Lexical, tokenize
from tests.fakes import FakeEmbedder
from tests.test_index import ConstantEmbedder

WORDS = "harbour council tariff storm rent ferry pupils quota bridge levy grain wind".split()


def make_corpus(rng: random.Random, n: int, start: int = 0) -> dict[str, str]:
    """Chunk id -> text; each chunk has common words and one rare name of its own."""
    return {
        f"c{i}": " ".join(rng.choices(WORDS, k=rng.randint(3, 40))) + f" Name{i}x"
        for i in range(start, start + n)
    }


def oracle(corpus: dict[str, str], query: str) -> dict[str, float]:
    """BM25 (Lucene variant) by its formula, one chunk at a time."""
    docs = {cid: tokenize(text) for cid, text in corpus.items()}
    avg = sum(len(t) for t in docs.values()) / len(docs)
    df = Counter(term for tokens in docs.values() for term in set(tokens))
    scores = {}
    for cid, tokens in docs.items():
        tf = Counter(tokens)
        score = 0.0
        for term in set(tokenize(query)):
            if tf[term]:
                idf = math.log(1 + (len(docs) - df[term] + 0.5) / (df[term] + 0.5))
                norm = K1 * (1 - B + B * len(tokens) / avg)
                score += idf * tf[term] / (tf[term] + norm)
        if score > 0:
            scores[cid] = score
    return scores


class Texts:
    """A `texts_of` that records which chunks were read."""

    def __init__(self, corpus: dict[str, str]) -> None:
        self.corpus = corpus
        self.asked: list[str] = []

    def __call__(self, ids: list[str]) -> list[str]:
        self.asked += ids
        return [self.corpus[cid] for cid in ids]


QUERIES = ["harbour storm", "rent levy rent", "Name7x grain", "wind", "nothing matches here"]


def assert_matches_oracle(lexical: Lexical, corpus: dict[str, str]) -> None:
    for query in QUERIES:
        expected = oracle(corpus, query)
        got = dict(lexical.search(query, k=len(corpus)))
        assert got.keys() == expected.keys(), query
        for cid, score in expected.items():
            assert got[cid] == pytest.approx(score, rel=1e-4), (query, cid)
        top = lexical.search(query, k=3)
        assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)
        assert [s for _, s in top] == pytest.approx(sorted(expected.values(), reverse=True)[:3])


def test_scores_match_a_brute_force_oracle():
    corpus = make_corpus(random.Random(1), 60)
    lexical = Lexical.build(None, list(corpus), Texts(corpus))
    assert_matches_oracle(lexical, corpus)
    assert lexical.idf("name7x") > lexical.idf("harbour")  # rare outweighs common
    assert lexical.idf("never-seen") == lexical.max_idf


def test_a_commit_reads_only_new_chunks_and_equals_a_build_from_scratch(tmp_path):
    rng = random.Random(2)
    first = make_corpus(rng, 80)
    (tmp_path / "a").mkdir()
    old = Lexical.build(tmp_path / "a", list(first), Texts(first))
    # Update: drop a third, add new chunks, and reorder (documents are sorted by source).
    kept = {cid: t for cid, t in first.items() if int(cid[1:]) % 3}
    second = {**make_corpus(rng, 25, start=1000), **kept}
    reader = Texts(second)
    (tmp_path / "b").mkdir()
    incremental = Lexical.build(tmp_path / "b", list(second), reader, previous=old)
    assert sorted(reader.asked) == sorted(c for c in second if c not in first)
    scratch = Lexical.build(None, list(second), Texts(second))
    assert incremental.ids == scratch.ids == list(second)
    assert set(incremental.terms) == set(scratch.terms)
    assert "name3x" not in incremental.vocab  # terms of removed chunks are forgotten
    for query in QUERIES:
        got, expected = incremental.search(query, 10), scratch.search(query, 10)
        assert [c for c, _ in got] == [c for c, _ in expected], query
        assert [s for _, s in got] == pytest.approx([s for _, s in expected], rel=1e-6)
    assert_matches_oracle(incremental, second)
    # ... and the same again after a save and load, chained once more.
    loaded = Lexical.load(tmp_path / "b")
    assert_matches_oracle(loaded, second)
    third = {**second, **make_corpus(rng, 5, start=2000)}
    chained = Lexical.build(None, list(third), Texts(third), previous=loaded)
    assert_matches_oracle(chained, third)


def test_a_damaged_bm25_file_is_a_value_error(tmp_path):
    corpus = make_corpus(random.Random(3), 10)
    Lexical.build(tmp_path, list(corpus), Texts(corpus))
    data = (tmp_path / ARRAYS).read_bytes()
    (tmp_path / ARRAYS).write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="damaged"):
        Lexical.load(tmp_path)


def current_folder(store: Store):
    return store.path / json.loads((store.path / "snapshot.json").read_text())["dir"]


def test_a_damaged_bm25_is_rebuilt_by_the_next_sync(tmp_path, corpus):
    store = Store(tmp_path / "db", FakeEmbedder())
    sync(store, [corpus])
    (current_folder(store) / ARRAYS).write_bytes(b"not a zip file")
    (corpus / "fish.txt").write_text("Salmon swim upstream to spawn in autumn.", "utf-8")
    reader = Store(tmp_path / "db", FakeEmbedder())
    assert reader.search("green tea", k=1)  # counted again from the texts, in memory
    report = sync(Store(tmp_path / "db", FakeEmbedder()), [corpus])
    assert report.added == ["fish.txt"]
    fresh = Store(tmp_path / "db", FakeEmbedder())
    ids = {cid for d in fresh.documents().values() for cid in d.chunk_ids}
    assert set(fresh.lexical.ids) == ids
    assert fresh.lexical.search("salmon", 3)[0][0] in fresh.documents()["fish.txt"].chunk_ids
    assert fresh.lexical.search("green tea", 3)


def test_a_snapshot_from_the_previous_version_is_searchable_and_upgraded(tmp_path, corpus):
    (corpus / "people.txt").write_text("Joseph Torigian of American University spoke.", "utf-8")
    store = Store(tmp_path / "db", ConstantEmbedder())
    sync(store, [corpus])
    folder = current_folder(store)
    ids = json.loads((folder / META).read_text())["ids"]
    (folder / META).unlink()
    (folder / ARRAYS).unlink()
    (folder / "ids.json").write_text(json.dumps({"ids": ids, "idf": {}}))  # bm25s era
    reader = Store(tmp_path / "db", ConstantEmbedder())
    assert reader.search("Torigian", k=1)[0].source == "people.txt"  # BM25 rebuilt in memory
    assert not (folder / META).exists()  # readers write nothing
    (corpus / "fish.txt").write_text("Salmon swim upstream.", "utf-8")
    sync(reader, [corpus])
    assert (current_folder(reader) / META).is_file()
    assert Store(tmp_path / "db", ConstantEmbedder()).search("Torigian", k=1)[0].source == (
        "people.txt"
    )
