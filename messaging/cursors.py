"""Opaque page cursors: a signed sort-key position, nothing else.

The partition to read never comes from a cursor, so a cursor replayed by another user
or edited by hand can at worst point into the reader's own data; an edited one fails the
signature and is rejected.
"""

from django.core import signing

from messaging.errors import InvalidCursor


def cursor_encode(*, kind: str, position: dict | None) -> str | None:
    if position is None:
        return None
    return signing.dumps(position, salt=f"cruddur.cursor.{kind}", compress=True)


def cursor_decode(*, kind: str, cursor: str | None) -> dict | None:
    if not cursor:
        return None
    try:
        position = signing.loads(cursor, salt=f"cruddur.cursor.{kind}")
    except (signing.BadSignature, ValueError, UnicodeError) as exc:
        raise InvalidCursor() from exc
    if not isinstance(position, dict):
        raise InvalidCursor()
    return position
