"""The cheap check in front of `squeeze`'s digraph pass changes nothing: with it taken away
(every text sent through the regex), each text has the same spelling forms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.engine import safety_spelling
from server.engine.safety_normalize import normalize
from server.engine.safety_spelling import spellings

#: Spaced and stretched letters, umlaut digraphs, separators and digits, densely.
PIECES = st.sampled_from([*"aeousgnkx", "ae", "oe", "ue", "ss", *" _-.*!1", "é"])
TRICKY = st.lists(PIECES, max_size=40).map("".join)
ANY = st.text(max_size=120)


def regex_only(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, ...]:
    with monkeypatch.context() as patch:
        patch.setattr(safety_spelling, "_DIGRAPHS_TWICE", ("",))  # "" is in every text
        return spellings(text)


@given(st.one_of(TRICKY, ANY))
def test_the_prefilters_keep_every_spelling_form(text: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        for form in (text, normalize(text)):
            assert spellings(form) == regex_only(form, monkeypatch), repr(form)


def test_the_prefilters_let_each_trick_through() -> None:
    assert spellings("a g u n") == ("a g u n", "agun", "a gun")
    assert spellings("kiiiiill") == ("kiiill",)
    assert spellings("ttoeoetteenn") == ("ttoetteenn",)
