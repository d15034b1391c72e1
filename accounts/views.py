from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.forms import AccountDeleteForm, ProfileForm, SignupForm
from accounts.services import (
    user_create,
    user_delete,
    user_profile_update,
    user_time_zone_default,
)


def _next_url(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def signup(request):
    if request.user.is_authenticated:
        return redirect("messaging:inbox")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_create(
            handle=form.cleaned_data["handle"],
            display_name=form.cleaned_data["display_name"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(_next_url(request) or "messaging:inbox")
    status = 400 if form.errors else 200
    return render(
        request, "accounts/signup.html", {"form": form, "next": _next_url(request)}, status=status
    )


def _profile_form(request, *, bound: bool) -> ProfileForm:
    user = request.user
    return ProfileForm(
        (request.POST or None) if bound else None,
        (request.FILES or None) if bound else None,
        initial={
            "display_name": user.display_name,
            "bio": user.bio,
            "time_zone": user.time_zone,
            "send_read_receipts": user.send_read_receipts,
        },
    )


def _profile_page(request, *, form: ProfileForm, delete_form: AccountDeleteForm):
    status = 400 if form.errors or delete_form.errors else 200
    context = {"form": form, "delete_form": delete_form}
    return render(request, "accounts/profile.html", context, status=status)


@login_required
def profile(request):
    user = request.user
    form = _profile_form(request, bound=request.method == "POST")
    if request.method == "POST" and form.is_valid():
        user_profile_update(
            user=user,
            display_name=form.cleaned_data["display_name"],
            bio=form.cleaned_data["bio"],
            avatar=form.cleaned_data["avatar"],
            remove_avatar=form.cleaned_data["remove_avatar"],
            time_zone=form.cleaned_data["time_zone"],
            send_read_receipts=form.cleaned_data["send_read_receipts"],
        )
        messages.success(request, "Profile saved.")
        return redirect("accounts:profile")
    return _profile_page(request, form=form, delete_form=AccountDeleteForm(user=user))


@login_required
@require_POST
def account_delete(request):
    """The profile's "Delete account" form: the password again, then the account goes.
    A wrong password shows the profile again with the error; nothing is deleted."""
    delete_form = AccountDeleteForm(request.POST, user=request.user, request=request)
    if not delete_form.is_valid():
        form = _profile_form(request, bound=False)
        return _profile_page(request, form=form, delete_form=delete_form)
    handle = request.user.handle
    user_delete(user=request.user)
    logout(request)
    messages.success(request, f"The account @{handle} is deleted.")
    return redirect("accounts:login")


@login_required
@require_POST
def time_zone_default(request):
    """The browser's own zone, posted once by the pages' script while none is stored."""
    changed = user_time_zone_default(
        user=request.user, time_zone=request.POST.get("time_zone", "")
    )
    return HttpResponse(status=204 if changed else 409)
