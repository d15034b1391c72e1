from django.utils.functional import SimpleLazyObject

from messaging import selectors
from messaging.errors import StoreUnavailable


def navigation(request):
    """The unread-conversations badge, read only if a page renders it and did not pass
    its own `nav_unread` (the inbox and conversation pages do, more cheaply)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> int | None:
        try:
            return selectors.inbox_unread_count(user=user)
        except StoreUnavailable:
            # The badge is decoration: a page that does not need DynamoDB still renders.
            return None

    return {"nav_unread": SimpleLazyObject(count)}
