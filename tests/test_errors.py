"""The one exception tree and the vendor boundary that feeds it."""

import pytest

from index.errors import DocumentError, IndexDirError, RagError, map_exceptions
from rag.errors import ModelError


class VendorError(Exception):
    pass


class VendorTimeout(VendorError):
    pass


TABLE = {
    VendorTimeout: lambda e: ModelError(f"timed out: {e}"),
    VendorError: lambda e: IndexDirError(f"vendor failed: {e}"),
}


def test_the_first_matching_entry_makes_our_error_chained_to_the_vendors():
    with pytest.raises(ModelError, match="timed out: slow") as caught, map_exceptions(TABLE):
        raise VendorTimeout("slow")
    assert isinstance(caught.value.__cause__, VendorTimeout)
    with pytest.raises(IndexDirError, match="vendor failed: down"), map_exceptions(TABLE):
        raise VendorError("down")


def test_our_own_errors_and_unmapped_ones_pass_unchanged():
    # A vendor calling back into our code (Chroma calls our embedder) keeps our error,
    # even when the table maps every Exception.
    everything = {Exception: lambda e: IndexDirError(str(e))}
    with pytest.raises(DocumentError, match="ours"), map_exceptions(everything):
        raise DocumentError("ours")
    # a bug, not a vendor failure: not disguised
    with pytest.raises(KeyError), map_exceptions(TABLE):
        raise KeyError("bug")
    with map_exceptions(TABLE):
        value = 42  # nothing raised: nothing changes
    assert value == 42


def test_every_exception_class_the_project_defines_is_a_rag_error():
    import importlib
    import pkgutil

    import index
    import rag

    defined = []
    for package in (index, rag):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if info.name.endswith("__main__"):
                continue  # runs the CLI
            module = importlib.import_module(info.name)
            defined += [
                obj
                for obj in vars(module).values()
                if isinstance(obj, type)
                and issubclass(obj, Exception)
                and obj.__module__ == module.__name__
            ]
    assert len(defined) >= 15  # the tree, plus the errors of the embedder, BM25, API
    assert [e.__qualname__ for e in defined if not issubclass(e, RagError)] == []
