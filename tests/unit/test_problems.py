"""Every API error code has a status and a sentence in English and in German; the store's
refusals map onto them by reason."""

from __future__ import annotations

import pytest

from server.engine.people import errors
from server.handlers.problems import _REASONS, TEXTS, message_of
from server.protocol._http import ApiErrorCode


@pytest.mark.parametrize("code", list(ApiErrorCode))
def test_every_code_has_a_status_and_both_languages(code: ApiErrorCode) -> None:
    status, english, german = TEXTS[code]
    assert 400 <= status < 600
    assert english.endswith(".")
    assert german.endswith(".")
    assert english != german
    assert message_of(code, "en") == english
    assert message_of(code, "de") == german


def test_every_reason_the_store_gives_a_child_or_teacher_maps_to_its_own_code() -> None:
    refusals = {
        cls.reason
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.PeopleError)
    }
    # Reasons that name a row (unknown_class, unknown_member, ...) are `not_found`; a weak
    # password or a taken teacher name is the `teacher` command's, never the API's.
    own_code = refusals - {
        "unknown_class",
        "unknown_member",
        "unknown_teacher",
        "weak_password",
        "teacher_name_taken",
    }
    assert own_code <= set(_REASONS)
    assert all(_REASONS[reason].value == reason for reason in own_code)
