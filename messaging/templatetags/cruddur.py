"""Template helpers for avatars, times, threads and links, shared by every page.

Times render in the active time zone: the reader's own (`User.time_zone`, activated by
`accounts.middleware.UserTimeZoneMiddleware`), UTC until their browser reports it.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from messaging.presenters import person_from_user
from messaging.rules import unread_label as unread_text
from messaging.types import ChatMessage, Person

register = template.Library()

# Only these become links: no javascript:, data: or mailto:, whatever the text says.
_LINK = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
# Punctuation that ends a sentence rather than a URL ("see https://x.org/a.").
_TRAILING = ".,;:!?)]}'\""


def avatar_look(person_uuid) -> dict:
    """Two hues and a split angle, all fixed by the uuid: two people with the same
    initials and a similar first colour still differ in the second colour and split."""
    number = person_uuid.int
    return {
        "hue": number % 360,
        "hue2": (number >> 16) % 360,
        "angle": ((number >> 32) % 8) * 45,
    }


@register.simple_tag
def avatar(who, size: int = 40) -> SafeString:
    """A person's avatar, or their initials on colours fixed by their uuid (so they
    never change with their name). Takes a `Person` or a user. Built with `format_html`
    rather than a template: a page shows forty of them, and rendering a template each
    time was a tenth of the page's time."""
    person = who if isinstance(who, Person) else person_from_user(who)
    title = f"{person.display_name} (@{person.handle})"
    if person.avatar_url:
        return format_html(
            '<img class="avatar" src="{}" alt="" width="{}" height="{}" loading="lazy"'
            ' title="{}">',
            person.avatar_url,
            size,
            size,
            title,
        )
    look = avatar_look(person.uuid)
    return format_html(
        '<span class="avatar avatar--initials" style="--size: {}px; --hue: {}; --hue2: {};'
        ' --angle: {}deg" aria-hidden="true" title="{}">{}</span>',
        size,
        look["hue"],
        look["hue2"],
        look["angle"],
        title,
        person.initials,
    )


@register.filter
def relative_time(moment: datetime, now: datetime | None = None) -> str:
    """Short, human time for lists: "just now", "5 min", "3 h", "Mon", "24 Nov",
    "24 Nov 2024". Pages keep these ticking (static/js/live.js, same rules)."""
    if moment is None:
        return ""
    now = now or timezone.now()
    age = now - moment
    if age < timedelta(minutes=1):
        return "just now"
    if age < timedelta(hours=1):
        return f"{int(age.total_seconds() // 60)} min ago"
    if age < timedelta(days=1):
        return f"{int(age.total_seconds() // 3600)} h ago"
    local = timezone.localtime(moment)
    if age < timedelta(days=6):
        return local.strftime("%a")
    if local.year == timezone.localtime(now).year:
        return f"{local.day} {local:%b}"
    return f"{local.day} {local:%b %Y}"


@register.filter
def exact_time(moment: datetime) -> str:
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M:%S %Z}"


@register.simple_tag
def edit_window_seconds() -> int:
    """How long after sending a message its sender may edit it (pages offer Edit until
    then; the table's condition enforces it)."""
    return int(settings.MESSAGING_EDIT_WINDOW)


@register.filter
def unread_label(count: int) -> str:
    """An unread count as shown: exact to 99, then "99+"."""
    return unread_text(count)


@register.filter
def time_of_day(moment: datetime) -> str:
    return "" if moment is None else f"{timezone.localtime(moment):%H:%M}"


def day_label(day: date, today: date) -> str:
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    if day.year == today.year:
        return f"{day:%A} {day.day} {day:%B}"
    return f"{day:%A} {day.day} {day:%B %Y}"


@dataclass(frozen=True)
class ThreadRow:
    message: ChatMessage
    # The day's label when this message starts a new day in the reader's zone.
    day: str | None
    day_key: str
    # The first of a run of messages from one sender (the run shows the name once).
    starts_run: bool


@register.filter
def thread_rows(messages: list[ChatMessage], now: datetime | None = None) -> list[ThreadRow]:
    """Messages in time order with day dividers and sender runs, in the reader's zone."""
    today = timezone.localtime(now or timezone.now()).date()
    rows, previous_day, previous_sender = [], None, None
    for message in messages or ():
        day = timezone.localtime(message.created_at).date()
        new_day = day != previous_day
        rows.append(
            ThreadRow(
                message=message,
                day=day_label(day, today) if new_day else None,
                day_key=day.isoformat(),
                starts_run=new_day or message.sender.uuid != previous_sender,
            )
        )
        previous_day, previous_sender = day, message.sender.uuid
    return rows


def _link(url: str) -> str:
    return f'<a href="{escape(url)}" rel="noopener nofollow" target="_blank">{escape(url)}</a>'


@register.filter(needs_autoescape=False)
def linkify(text: str) -> SafeString:
    """The text, escaped, with its http and https URLs as links that carry no referrer
    rights (`noopener`) and no endorsement (`nofollow`)."""
    parts: list[str] = []
    position = 0
    for match in _LINK.finditer(text or ""):
        url = match.group(0).rstrip(_TRAILING)
        if len(url) <= len("https://"):
            continue
        parts.append(escape(text[position : match.start()]))
        parts.append(_link(url))
        position = match.start() + len(url)
    parts.append(escape((text or "")[position:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped
