"""Pages. Each view reads through selectors, writes through services, and renders;
domain errors become pages in `messaging.middleware`."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse

from messaging import limits, selectors, services
from messaging.errors import Invalid, NotFound
from messaging.forms import HandleForm, MessageForm


def _attach(form, error: Invalid) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _send_allowed(request, form) -> bool:
    """The per-user send limit (messaging.limits), shared with the API: over it, the form
    says how long to wait and keeps the draft."""
    wait = limits.send_wait(request)
    if wait is None:
        return True
    form.add_error(None, limits.send_limited_message(wait))
    form.send_limited = True
    return False


def _form_status(form) -> int:
    if getattr(form, "send_limited", False):
        return 429
    return 400 if form.errors else 200


def _conversation_url(group_uuid) -> str:
    return reverse("messaging:conversation", kwargs={"group_uuid": group_uuid}) + "#latest"


@login_required
def inbox(request):
    cursor = request.GET.get("cursor")
    page = selectors.inbox_list(user=request.user, cursor=cursor)
    nav_unread = selectors.inbox_unread_count(
        user=request.user, first_page=None if cursor else page
    )
    return render(
        request,
        "messaging/inbox.html",
        {"page": page, "handle_form": HandleForm(), "nav_unread": nav_unread, "cursor": cursor},
    )


@login_required
def conversation(request, group_uuid):
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _send_allowed(request, form):
        try:
            services.message_create(
                sender=request.user, group_uuid=group_uuid, body=form.cleaned_data["message"]
            )
        except Invalid as error:
            _attach(form, error)
        else:
            return redirect(_conversation_url(group_uuid))
    cursor = request.GET.get("cursor")
    detail = selectors.conversation_detail(user=request.user, group_uuid=group_uuid, cursor=cursor)
    opened_newest = not cursor and detail.messages.items
    if opened_newest:
        services.conversation_mark_read(
            user=request.user,
            group_uuid=group_uuid,
            conversation=detail.conversation,
            through_sk=detail.messages.items[-1].sk,
        )
    context = {
        "conversation": detail.conversation,
        "other": detail.conversation.other,
        "messages_page": detail.messages,
        "cursor": cursor,
        "form": form,
        "handle_form": HandleForm(),
        "nav_unread": selectors.inbox_unread_count(
            user=request.user,
            read_group_uuid=detail.conversation.group_uuid if opened_newest else None,
        ),
    }
    return render(request, "messaging/conversation.html", context, status=_form_status(form))


@login_required
def conversation_new(request, handle):
    """Start a conversation with @handle, or reopen the one the pair already has."""
    recipient, group_uuid = selectors.conversation_find_by_handle(user=request.user, handle=handle)
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _send_allowed(request, form):
        try:
            sent = services.conversation_start(
                sender=request.user, handle=recipient.handle, body=form.cleaned_data["message"]
            )
        except Invalid as error:
            _attach(form, error)
        else:
            return redirect(_conversation_url(sent.group_uuid))
    elif group_uuid is not None and request.method != "POST":
        return redirect(_conversation_url(group_uuid))
    context = {
        "other": selectors.person_from_user(recipient),
        "form": form,
        "handle_form": HandleForm(),
    }
    return render(request, "messaging/conversation.html", context, status=_form_status(form))


@login_required
def conversation_pick(request):
    """The "new message" form: a handle in, the conversation (new or existing) out."""
    form = HandleForm(request.GET or None)
    status = 200
    if form.is_valid():
        try:
            recipient, group_uuid = selectors.conversation_find_by_handle(
                user=request.user, handle=form.cleaned_data["handle"]
            )
        except NotFound as error:
            form.add_error("handle", str(error))
            status = 404
        except Invalid as error:
            _attach(form, error)
            status = 400
        else:
            if group_uuid is not None:
                return redirect(_conversation_url(group_uuid))
            return redirect("messaging:conversation_new", handle=recipient.handle)
    elif form.is_bound:
        status = 400
    return render(request, "messaging/new.html", {"handle_form": form}, status=status)
