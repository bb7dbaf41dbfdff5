"""One-way layers: index <- rag <- ui. Checked on the source, so a stray import fails CI."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "index": {"rag", "ui", "gradio", "llama_cpp"},
    "rag": {"ui", "gradio"},
    "ui": {"chromadb", "llama_cpp", "index", "sentence_transformers"},
}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_only_import_downwards(package):
    for path in (ROOT / package).rglob("*.py"):
        bad = imported_roots(path) & FORBIDDEN[package]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def imported_modules(path: Path) -> set[str]:
    """Absolute names of what a file imports, and of each name it takes from a module."""
    package = path.relative_to(ROOT).parent.parts
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            parent = package[: len(package) - node.level + 1] if node.level else ()
            base = ".".join([*parent, *([node.module] if node.module else [])])
            names |= {base} | {f"{base}.{a.name}" for a in node.names}
    return names


# The faces that listen or talk to people sit side by side: none imports another (they
# share the engine and rag.safety.network). The CLI is the launcher: `rag serve` starts the
# API, and `rag ui` finds the UI through an entry point, never by import.
FACES = {"ui": ROOT.glob("ui/*.py"), "rag.server": [ROOT / "rag" / "server.py"]}


@pytest.mark.parametrize("face", sorted(FACES))
def test_faces_do_not_import_each_other(face):
    others = {"ui", "rag.server", "rag.cli"} - {face}
    for path in FACES[face]:
        bad = {m for m in imported_modules(path) for o in others if m == o or m.startswith(o + ".")}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_chroma_default_embedding_function_is_never_used():
    for path in (ROOT / "index").rglob("*.py"):
        source = path.read_text("utf-8")
        assert "DefaultEmbeddingFunction" not in source
        if "get_or_create_collection" in source:
            assert "embedding_function=ChromaEmbedding(" in source


def test_every_error_we_define_is_a_rag_error():
    """One hierarchy: `except RagError` catches whatever our code raises on purpose."""
    import importlib
    import inspect

    from rag import RagError

    defined = []
    for package in ("index", "rag", "ui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "__main__.py":
                continue  # runs the CLI
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            module = importlib.import_module(name.removesuffix(".__init__"))
            defined += [
                c
                for _, c in inspect.getmembers(module, inspect.isclass)
                if issubclass(c, Exception) and c.__module__ == module.__name__
            ]
    assert len(defined) >= 12
    assert [c.__qualname__ for c in defined if not issubclass(c, RagError)] == []


# The CPU build of torch is installed before the package on purpose (see pyproject.toml).
INSTALLED_FIRST = {"torch"}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0]).lower()


def test_every_library_our_code_imports_is_a_declared_dependency():
    """An import that only works because another package pulled it in breaks the day
    that package drops it: each one is listed in pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    declared = {_name(r) for r in project["dependencies"]}
    owners = importlib.metadata.packages_distributions()
    ours = {"rag", "index", "ui"}
    missing = {}
    for package in sorted(ours):
        for path in (ROOT / package).rglob("*.py"):
            for root in imported_roots(path) - ours - set(sys.stdlib_module_names):
                if root in INSTALLED_FIRST:
                    continue
                dists = {_name(d) for d in owners.get(root, [root])}
                if not dists & declared:
                    missing.setdefault(root, str(path.relative_to(ROOT)))
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
