"""Pages. Each view reads through selectors, writes through services, and renders;
domain errors become pages in `messaging.middleware`."""

import uuid

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse

from messaging import selectors, services
from messaging.errors import Invalid, NotFound
from messaging.forms import HandleForm, MessageForm
from messaging.templatetags.cruddur import avatar_look


def _attach(form, error: Invalid) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _conversation_url(group_uuid) -> str:
    return reverse("messaging:conversation", kwargs={"group_uuid": group_uuid}) + "#latest"


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _members(*people) -> dict[str, dict]:
    """What the page's script needs to render a member's messages and notices."""
    return {
        str(person.uuid): {
            "handle": person.handle,
            "display_name": person.display_name,
            "initials": person.initials,
            "avatar_url": person.avatar_url,
            **avatar_look(person.uuid),
        }
        for person in people
    }


@login_required
def inbox(request):
    """The inbox page; `?fragment=list` is only its list (and badge count), which pages
    fetch to re-render the list when an `inbox` event arrives."""
    cursor = request.GET.get("cursor")
    page = selectors.inbox_list(user=request.user, cursor=cursor)
    nav_unread = selectors.inbox_unread_count(
        user=request.user, first_page=None if cursor else page
    )
    context = {
        "page": page,
        "handle_form": HandleForm(),
        "nav_unread": nav_unread,
        "cursor": cursor,
        "current": _uuid_or_none(request.GET.get("current")),
    }
    if request.GET.get("fragment") == "list":
        return render(request, "messaging/_inbox_list.html", context)
    return render(request, "messaging/inbox.html", context)


def inbox_slash(request):
    query = request.META.get("QUERY_STRING")
    return redirect(reverse("messaging:inbox") + (f"?{query}" if query else ""), permanent=True)


@login_required
def conversation(request, group_uuid):
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.message_create(
                sender=request.user, group_uuid=group_uuid, body=form.cleaned_data["message"]
            )
        except Invalid as error:
            _attach(form, error)
        else:
            return redirect(_conversation_url(group_uuid))
    cursor = request.GET.get("cursor")
    # The list beside the conversation is the (usually cached) first inbox page; its
    # names serve the conversation too, and it gives the badge its count.
    inbox_page = selectors.inbox_list(user=request.user)
    detail = selectors.conversation_detail(
        user=request.user,
        group_uuid=group_uuid,
        cursor=cursor,
        people={c.other.uuid: c.other for c in inbox_page.items},
    )
    messages = detail.messages.items
    opened_newest = not cursor and messages
    if opened_newest:
        services.conversation_mark_read(
            user=request.user,
            group_uuid=group_uuid,
            conversation=detail.conversation,
            through_sk=messages[-1].sk,
        )
    # "Seen" belongs under the newest message when it is the reader's own.
    other_read_at = None
    if opened_newest and messages[-1].sender.uuid == request.user.uuid:
        other_read_at = selectors.member_read_position(conversation=detail.conversation)
    other = detail.conversation.other
    context = {
        "conversation": detail.conversation,
        "other": other,
        "messages_page": detail.messages,
        "cursor": cursor,
        "form": form,
        "handle_form": HandleForm(),
        "page": inbox_page,
        "current": detail.conversation.group_uuid,
        "members": _members(selectors.person_from_user(request.user), other),
        "other_read_at": other_read_at,
        "seen": other_read_at is not None and other_read_at >= messages[-1].created_at,
        "nav_unread": selectors.inbox_unread_count(
            user=request.user,
            first_page=inbox_page,
            read_group_uuid=detail.conversation.group_uuid if opened_newest else None,
        ),
    }
    status = 400 if form.errors else 200
    return render(request, "messaging/conversation.html", context, status=status)


@login_required
def conversation_new(request, handle):
    """Start a conversation with @handle, or reopen the one the pair already has."""
    recipient, group_uuid = selectors.conversation_find_by_handle(user=request.user, handle=handle)
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
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
    other = selectors.person_from_user(recipient)
    context = {
        "other": other,
        "form": form,
        "handle_form": HandleForm(),
        "page": selectors.inbox_list(user=request.user),
        "members": _members(selectors.person_from_user(request.user), other),
    }
    status = 400 if form.errors else 200
    return render(request, "messaging/conversation.html", context, status=status)


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
