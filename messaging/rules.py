"""Input rules and limits, shared by page forms, the API and the services, each with one
wording. Pure functions: no database, no DynamoDB."""

import re
import unicodedata
import uuid

from django.conf import settings

from accounts.models import HANDLE_PATTERN
from messaging.dynamo.records import MAX_MEMBERS, UNREAD_CAP
from messaging.errors import Invalid, NotFound

MAX_MESSAGE_LENGTH = 1024
MAX_IDEMPOTENCY_KEY_LENGTH = 255
MAX_REPORT_REASON_LENGTH = 500
# Membership is fixed at creation, like Slack group DMs: a conversation holds 2 to 8
# people, so a start names 1 to 7 others.
MAX_OTHERS = MAX_MEMBERS - 1
# Newline and tab are the only control characters a message may hold: anything else
# (ESC starting a terminal escape sequence, backspace, NUL) is refused at the door.
_ALLOWED_CONTROLS = {"\n", "\t"}

SELF_MESSAGE = "That's you. Pick someone else's @handle to start a conversation."
TOO_MANY_MEMBERS = (
    f"A conversation holds at most {MAX_MEMBERS} people: you and {MAX_OTHERS} others."
    " For more, start a second conversation."
)
# A conversation whose other members all deleted their accounts stays readable, but a
# message there would reach nobody.
NOBODY_TO_MESSAGE = "Everyone else here has deleted their account, so nobody would get this."


def normalize_newlines(text: str) -> str:
    """Browsers submit a textarea's newlines as CRLF; count and store each as one."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def message_body_clean(body: object) -> str:
    if not isinstance(body, str):
        raise Invalid("message", "Message must be text.")
    body = normalize_newlines(body).strip()
    if not body:
        raise Invalid("message", "Write a message first.")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise Invalid(
            "message",
            f"Messages are at most {MAX_MESSAGE_LENGTH} characters (this one has {len(body)}).",
        )
    for character in body:
        category = unicodedata.category(character)
        if category == "Cs":
            raise Invalid("message", "Message contains characters that are not valid text.")
        if category == "Cc" and character not in _ALLOWED_CONTROLS:
            raise Invalid(
                "message", "Message contains control characters; only new lines and tabs."
            )
    return body


def report_reason_clean(reason: object) -> str:
    """What a reporter says is wrong with a message: text, 1 to 500 characters."""
    if not isinstance(reason, str):
        raise Invalid("reason", "Reason must be text.")
    reason = normalize_newlines(reason).strip()
    if not reason:
        raise Invalid("reason", "Say what is wrong with this message.")
    if len(reason) > MAX_REPORT_REASON_LENGTH:
        raise Invalid("reason", f"A reason is at most {MAX_REPORT_REASON_LENGTH} characters.")
    if any(
        unicodedata.category(character) in {"Cs", "Cc"} and character not in _ALLOWED_CONTROLS
        for character in reason
    ):
        raise Invalid("reason", "Reason contains characters that are not valid text.")
    return reason


def idempotency_key_clean(key: str | None) -> str | None:
    if key is None:
        return None
    if not (1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH) or not key.isprintable():
        raise Invalid(
            "idempotency_key",
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable characters.",
        )
    return key


def page_size_clean(page_size: int | None) -> int:
    if page_size is None:
        return int(settings.MESSAGING_PAGE_SIZE)
    if not 1 <= page_size <= settings.MESSAGING_MAX_PAGE_SIZE:
        raise Invalid(
            "page_size", f"page_size must be between 1 and {settings.MESSAGING_MAX_PAGE_SIZE}."
        )
    return page_size


def uuid_clean(value: uuid.UUID | str, *, field: str = "message_group_uuid") -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise Invalid(field, "Must be a valid UUID.") from exc


def handle_clean(handle: object) -> str:
    """A handle as typed (leading @ and spaces allowed), or NotFound: text that cannot be
    a handle names no user, and is never looked up (Postgres would reject some of it)."""
    text = handle.strip().removeprefix("@") if isinstance(handle, str) else ""
    if not re.fullmatch(HANDLE_PATTERN, text):
        raise NotFound("No such user.")
    return text


def handles_clean(handles: object, *, own_handle: str) -> list[str]:
    """1 to MAX_OTHERS distinct handles of other people, in the order given. A person
    named twice (in any case) counts once: the conversation is a set of people, and a
    picker that sent a name twice asked for nothing wrong."""
    if not isinstance(handles, list | tuple) or not handles:
        raise Invalid("handles", "Name at least one person by @handle.")
    if len(handles) > MAX_OTHERS:
        raise Invalid("handles", TOO_MANY_MEMBERS)
    cleaned: list[str] = []
    for handle in handles:
        if not isinstance(handle, str):
            raise Invalid("handles", "Handles must be text.")
        text = handle.strip().removeprefix("@")
        if text.lower() == own_handle.lower():
            raise Invalid("handles", SELF_MESSAGE)
        if text.lower() not in {seen.lower() for seen in cleaned}:
            cleaned.append(text)
    return cleaned


def unread_label(count: int) -> str:
    """Unread counts are exact to UNREAD_CAP and "99+" beyond."""
    return f"{UNREAD_CAP}+" if count > UNREAD_CAP else str(count)
