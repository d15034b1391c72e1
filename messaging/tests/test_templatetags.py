import uuid
from datetime import UTC, datetime, timedelta

import pytest

from messaging.templatetags.cruddur import avatar, exact_time, relative_time
from messaging.types import Person

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
    assert before["hue"] == after["hue"]
    assert (before["person"].initials, after["person"].initials) == ("BB", "R")
