"""Input rules shared by forms, the API and the services (messaging/rules.py)."""

import pytest

from messaging import rules
from messaging.errors import Invalid, NotFound


@pytest.mark.parametrize(
    "body", ["ring \x07 bell", "red \x1b[31malert", "back\x08space", "nul\x00"]
)
def test_control_characters_other_than_newline_and_tab_are_refused(body):
    with pytest.raises(Invalid, match="control characters") as error:
        rules.message_body_clean(body)
    assert error.value.field == "message"


def test_newlines_and_tabs_are_kept_and_crlf_counts_as_one_character():
    assert rules.message_body_clean("a\r\nb\rc\n\td") == "a\nb\nc\n\td"
    # What the page's counter shows as 1,024 (it counts a newline once) is accepted.
    body = "x" * 1000 + "\r\n" * 23 + "y"
    assert len(rules.message_body_clean(body)) == rules.MAX_MESSAGE_LENGTH
    with pytest.raises(Invalid, match="at most 1024"):
        rules.message_body_clean(body + "z")


@pytest.mark.parametrize("body", [12345, None, ["text"], {"text": 1}, True])
def test_a_body_that_is_not_text_is_refused(body):
    with pytest.raises(Invalid, match="must be text"):
        rules.message_body_clean(body)


def test_lone_surrogates_are_refused():
    with pytest.raises(Invalid, match="not valid text"):
        rules.message_body_clean("broken \ud800 text")


def test_text_that_cannot_be_a_handle_names_nobody():
    assert rules.handle_clean(" @Bob_1 ") == "Bob_1"
    for text in ("", "ab", "has space", "x" * 31, "nul\x00", 42):
        with pytest.raises(NotFound):
            rules.handle_clean(text)


def test_unread_counts_show_exactly_to_99_then_99_plus():
    assert [rules.unread_label(n) for n in (0, 1, 99, 100, 10_000)] == [
        "0",
        "1",
        "99",
        "99+",
        "99+",
    ]
