import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from messaging.templatetags.cruddur import (
    avatar,
    avatar_look,
    day_label,
    exact_time,
    linkify,
    relative_time,
    thread_rows,
    time_of_day,
)
from messaging.types import ChatMessage, Person

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age", "shown"),
    [
        (timedelta(seconds=59), "just now"),
        (timedelta(minutes=5), "5 min ago"),
        (timedelta(hours=3, minutes=59), "3 h ago"),
        (timedelta(days=2), "Sun"),
        (timedelta(days=30), "25 Oct"),
        (timedelta(days=400), "20 Oct 2025"),
    ],
)
def test_relative_time_shortens_with_age(age, shown):
    assert relative_time(NOW - age, NOW) == shown


def test_exact_time_names_day_date_time_and_zone():
    assert exact_time(NOW) == "Tue 24 Nov 2026, 12:00:00 UTC"


def test_initials_colour_follows_the_uuid_not_the_name():
    person_uuid = uuid.uuid4()
    before = avatar(Person(uuid=person_uuid, handle="bob", display_name="Bob Builder"))
    after = avatar(Person(uuid=person_uuid, handle="bob", display_name="Robert"))
    hue = f"--hue: {avatar_look(person_uuid)['hue']};"
    assert hue in before and hue in after
    assert before.endswith(">BB</span>") and after.endswith(">R</span>")


def test_two_people_with_the_same_initials_get_different_second_cues():
    number = (5 << 16) + 10
    first = avatar_look(uuid.UUID(int=number))
    second = avatar_look(uuid.UUID(int=number + 360 * 1000))

    # Same first hue by construction; the second colour or the split still differ.
    assert first["hue"] == second["hue"]
    assert (first["hue2"], first["angle"]) != (second["hue2"], second["angle"])


def test_an_avatar_escapes_the_name_and_shows_the_picture_when_there_is_one():
    person = Person(
        uuid=uuid.uuid4(), handle="eve", display_name='Eve "<b>', avatar_url="/media/a?x=1&y=2"
    )

    html = avatar(person, 32)

    assert html == (
        '<img class="avatar" src="/media/a?x=1&amp;y=2" alt="" width="32" height="32"'
        ' loading="lazy" title="Eve &quot;&lt;b&gt; (@eve)">'
    )
    assert "<b>" not in avatar(replace(person, avatar_url=None))


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("plain <b>text</b>", "plain &lt;b&gt;text&lt;/b&gt;"),
        (
            "see https://example.org/a?b=1&c=2.",
            'see <a href="https://example.org/a?b=1&amp;c=2" rel="noopener nofollow"'
            ' target="_blank">https://example.org/a?b=1&amp;c=2</a>.',
        ),
        ("javascript:alert(1) and ftp://x.org", "javascript:alert(1) and ftp://x.org"),
        (
            'http://x.org/"onmouseover="alert(1)',
            '<a href="http://x.org/" rel="noopener nofollow" target="_blank">http://x.org/</a>'
            "&quot;onmouseover=&quot;alert(1)",
        ),
        ("just https:// alone", "just https:// alone"),
    ],
)
def test_linkify_links_only_http_and_https_and_escapes_everything(text, html):
    assert linkify(text) == html


def _message(hour: int, sender: Person, day: int = 24) -> ChatMessage:
    return ChatMessage(
        uuid=uuid.uuid4(),
        group_uuid=uuid.uuid4(),
        sender=sender,
        body="x",
        created_at=datetime(2026, 11, day, hour, 0, tzinfo=UTC),
    )


def test_thread_rows_divide_days_in_the_readers_zone_and_group_runs_of_one_sender():
    bob = Person(uuid=uuid.uuid4(), handle="bob", display_name="Bob")
    ann = Person(uuid=uuid.uuid4(), handle="ann", display_name="Ann")
    messages = [
        _message(9, bob, day=22),
        _message(20, bob, day=23),
        _message(21, bob, day=23),
        _message(22, ann, day=23),
        _message(23, ann, day=23),
    ]

    with timezone.override(ZoneInfo("Europe/Berlin")):
        rows = thread_rows(messages, NOW)

    # 23:00 UTC on the 23rd is already the 24th in Berlin (UTC+1): a new day, a new run.
    assert [row.day for row in rows] == ["Sunday 22 November", "Yesterday", None, None, "Today"]
    assert [row.starts_run for row in rows] == [True, True, False, True, True]


def test_day_labels_name_today_yesterday_then_the_date():
    today = date(2026, 11, 24)

    assert day_label(today, today) == "Today"
    assert day_label(date(2026, 11, 23), today) == "Yesterday"
    assert day_label(date(2026, 11, 2), today) == "Monday 2 November"
    assert day_label(date(2025, 12, 31), today) == "Wednesday 31 December 2025"


def test_time_of_day_is_in_the_active_zone():
    with timezone.override(ZoneInfo("America/New_York")):
        assert time_of_day(NOW) == "07:00"
