"""Password guessing limits (django-axes), one policy for the login page and the API
token endpoint: failed sign-ins are counted per account and per client address, and
either count reaching AXES_FAILURE_LIMIT refuses that account or address (even with the
right password) for AXES_COOLOFF_TIME after the last failure. Successful sign-ins are
never counted, so many people behind one address can all sign in."""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

LOCKED_OUT_MESSAGE = "Too many failed sign-ins. Try again in {minutes} minutes."


def lockout_username(request, credentials) -> str | None:
    """Handles are case-insensitive, so "Alice" and "alice" are one account's count."""
    username = (credentials or {}).get("username")
    if username is None:
        username = request.POST.get("username")
    return username.lower() if isinstance(username, str) else None


def retry_after_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def locked_out_message() -> str:
    return LOCKED_OUT_MESSAGE.format(minutes=max(1, round(retry_after_seconds() / 60)))


def locked_out_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the login page again, with the reason, as a 429."""
    response: HttpResponse
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"detail": locked_out_message()}, status=429)
    else:
        # Unbound: validating the form again would count one more failure.
        form = AuthenticationForm(
            request, initial={"username": lockout_username(request, credentials)}
        )
        response = render(
            request,
            "registration/login.html",
            {
                "form": form,
                "locked_out": locked_out_message(),
                "next": request.POST.get("next", ""),
            },
            status=429,
        )
    response["Retry-After"] = str(retry_after_seconds())
    return response
