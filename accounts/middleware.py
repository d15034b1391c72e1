import zoneinfo

from asgiref.sync import iscoroutinefunction
from django.utils import timezone
from django.utils.decorators import sync_and_async_middleware


def _activate(user) -> None:
    name = user.time_zone if user.is_authenticated else ""
    try:
        zone = zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = None
    if zone is None:
        timezone.deactivate()
    else:
        timezone.activate(zone)


@sync_and_async_middleware
def user_time_zone_middleware(get_response):
    """Renders every time in the signed-in reader's own zone (`User.time_zone`).

    Async-capable, so that under the ASGI server no request (an event stream above all)
    is funnelled through the one thread Django keeps for synchronous middleware.
    """
    if iscoroutinefunction(get_response):

        async def async_middleware(request):
            # The loaded user replaces the lazy one (as `login()` does), so a
            # synchronous view after this does not query for it again.
            request.user = await request.auser()
            _activate(request.user)
            return await get_response(request)

        return async_middleware

    def middleware(request):
        _activate(request.user)
        return get_response(request)

    return middleware
