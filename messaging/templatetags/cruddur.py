"""Template helpers for avatars and times, shared by every page."""

from datetime import datetime, timedelta

from django import template
from django.utils import timezone

from messaging.presenters import person_from_user
from messaging.rules import unread_label as unread_text
from messaging.types import Person

register = template.Library()


@register.inclusion_tag("includes/avatar.html")
def avatar(who, size: int = 40):
    """A person's avatar, or their initials on a colour fixed by their uuid (so it never
    changes with their name). Takes a `Person` or a user."""
    person = who if isinstance(who, Person) else person_from_user(who)
    return {"person": person, "size": size, "hue": person.uuid.int % 360}


@register.filter
def relative_time(moment: datetime, now: datetime | None = None) -> str:
    """Short, human time for lists: "just now", "5 min", "3 h", "Mon", "24 Nov",
    "24 Nov 2024"."""
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


@register.filter
def unread_label(count: int) -> str:
    """An unread count as shown: exact to 99, then "99+"."""
    return unread_text(count)
