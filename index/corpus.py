"""The demo corpus shipped inside the package, so an installed wheel can run the demo."""

from pathlib import Path


def bundled_corpus() -> Path:
    """Folder of the five news articles indexed when the user has indexed nothing."""
    return Path(__file__).resolve().parent / "data" / "corpus"
