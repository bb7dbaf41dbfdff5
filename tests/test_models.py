"""Model files: assembled atomically from part packages, and never loaded unverified."""

from __future__ import annotations

import hashlib
import sys
import textwrap

import pytest

from rag import InputError, ModelCorruptError, ModelNotFoundError
from rag.llm.models import PRESETS, Preset, assemble, resolve_model


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Three importable part packages like the real ones; returns (preset, payload)."""
    site = tmp_path / "site"
    payload = b"GGUF" + bytes(range(256)) * 40
    pieces = [payload[:4000], payload[4000:8000], payload[8000:]]
    for i, piece in enumerate(pieces, 1):
        pkg = site / f"fakemodel_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(piece)
        (pkg / "__init__.py").write_text(
            textwrap.dedent(f"""
            import os
            def get_part_path():
                return os.path.join(os.path.dirname(__file__), "data", "part{i:02d}.bin")
        """)
        )
    monkeypatch.syspath_prepend(str(site))
    for i in range(1, 4):
        sys.modules.pop(f"fakemodel_part{i}", None)
    preset = Preset(
        "fake",
        "fake.gguf",
        "fakemodel-part{i}",
        "1.0",
        3,
        len(payload),
        hashlib.sha256(payload).hexdigest(),
    )
    return preset, payload, site


def test_presets_match_the_published_files():
    assert PRESETS["default"].size == 1_117_320_768 and PRESETS["default"].parts == 22
    assert PRESETS["default"].sha256.startswith("cc324af0")
    assert PRESETS["small"].size == 491_400_064 and PRESETS["small"].parts == 6


def test_parts_are_concatenated_in_order_and_verified(fake_parts, tmp_path):
    preset, payload, _ = fake_parts
    path = assemble(preset, tmp_path / "cache" / "fake.gguf", progress=False)
    assert path.read_bytes() == payload
    assert [p.name for p in path.parent.iterdir()] == ["fake.gguf"]  # no temp file left


def test_missing_part_names_the_package_to_install(fake_parts, tmp_path):
    preset, _, site = fake_parts
    broken = Preset(
        preset.name, preset.filename, preset.package, "1.0", 4, preset.size, preset.sha256
    )
    with pytest.raises(ModelNotFoundError, match="pip install fakemodel-part4==1.0"):
        assemble(broken, tmp_path / "out.gguf", progress=False)
    assert not (tmp_path / "out.gguf").exists()


def test_corrupt_part_fails_the_hash_and_leaves_nothing(fake_parts, tmp_path):
    preset, payload, site = fake_parts
    part = site / "fakemodel_part2" / "data" / "part02.bin"
    data = bytearray(part.read_bytes())
    data[10] ^= 0xFF
    part.write_bytes(bytes(data))
    with pytest.raises(ModelCorruptError, match="sha256"):
        assemble(preset, tmp_path / "cache" / "fake.gguf", progress=False)
    assert list((tmp_path / "cache").iterdir()) == []


def test_truncated_part_is_caught_by_size(fake_parts, tmp_path):
    preset, _, site = fake_parts
    (site / "fakemodel_part3" / "data" / "part03.bin").write_bytes(b"short")
    with pytest.raises(ModelCorruptError, match="expected"):
        assemble(preset, tmp_path / "fake.gguf", progress=False)


def test_custom_gguf_paths_are_checked(tmp_path):
    with pytest.raises(ModelNotFoundError, match="not found"):
        resolve_model(str(tmp_path / "absent.gguf"), tmp_path)
    notgguf = tmp_path / "fake.gguf"
    notgguf.write_bytes(b"PK\x03\x04 a zip")
    with pytest.raises(ModelCorruptError, match="not a GGUF"):
        resolve_model(str(notgguf), tmp_path)
    good = tmp_path / "good.gguf"
    good.write_bytes(b"GGUF....")
    assert resolve_model(str(good), tmp_path) == good.resolve()
    with pytest.raises(ModelCorruptError, match="sha256"):
        resolve_model(str(good), tmp_path, expected_sha256="00" * 32)
    digest = hashlib.sha256(good.read_bytes()).hexdigest()
    assert resolve_model(str(good), tmp_path, expected_sha256=digest) == good.resolve()


def test_unknown_model_name_lists_the_presets(tmp_path):
    with pytest.raises(InputError, match="default, small"):
        resolve_model("gpt-5", tmp_path)


def test_a_damaged_cached_model_is_rebuilt_from_the_parts(fake_parts, tmp_path, monkeypatch):
    preset, payload, _ = fake_parts
    monkeypatch.setitem(PRESETS, "fake", preset)
    cached = resolve_model("fake", tmp_path / "cache", progress=False)
    cached.write_bytes(b"GGUF" + b"\x00" * (len(payload) - 4))  # same size, wrong bytes
    assert resolve_model("fake", tmp_path / "cache", progress=False).read_bytes() == payload
