from __future__ import annotations

from pathlib import Path

import pytest

from rag import InputError, Settings


def test_env_overrides_defaults_and_arguments_override_env():
    env = {"RAG_TOP_K": "7", "RAG_DB": "/tmp/x", "RAG_MODEL": "small"}
    s = Settings.from_env(env)
    assert (s.top_k, s.db, s.model) == (7, Path("/tmp/x"), "small")
    s = Settings.from_env(env, top_k=3, model=None)
    assert (s.top_k, s.model) == (3, "small")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RAG_TOP_K": "many"}, "RAG_TOP_K"),
        ({"RAG_TOP_K": "0"}, r"\[1, 20\]"),
        ({"RAG_CTX": "100"}, "RAG_CTX"),
        ({"RAG_WINDOW": "-1"}, "RAG_WINDOW"),
    ],
)
def test_bad_values_name_the_variable(env, message):
    with pytest.raises(InputError, match=message):
        Settings.from_env(env)


def test_unknown_setting_is_an_error():
    with pytest.raises(InputError, match="unknown setting"):
        Settings.from_env({}, colour="blue")
