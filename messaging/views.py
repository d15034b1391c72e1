"""Pages. Each view reads through selectors, writes through services, and renders;
domain errors become pages in `messaging.middleware`."""

import re
import uuid
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from messaging import limits, presenters, rules, selectors, services
from messaging.errors import Forbidden, Invalid, NotFound, StoreUnavailable
from messaging.forms import HandleForm, MessageForm
from messaging.templatetags.cruddur import avatar_look
from messaging.types import ConversationDetail


def _attach(form, error: Invalid | Forbidden) -> None:
    """The error beside the field it concerns, or above the form; the draft stays."""
    if isinstance(error, Forbidden):
        form.add_error(None, str(error))
        form.refused = True
        return
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
    if getattr(form, "refused", False):
        return 403
    return 400 if form.errors else 200


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
    if request.method == "POST" and form.is_valid() and _send_allowed(request, form):
        try:
            services.message_create(
                sender=request.user, group_uuid=group_uuid, body=form.cleaned_data["message"]
            )
        except (Invalid, Forbidden) as error:
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
        people={person.uuid: person for c in inbox_page.items for person in c.members},
    )
    messages = detail.messages.items
    opened_newest = not cursor and bool(messages)
    if opened_newest:
        services.conversation_mark_read(user=request.user, group_uuid=group_uuid, detail=detail)
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
        "members": _members(
            presenters.person_from_user(request.user), *detail.conversation.members
        ),
        # "Seen" belongs under the newest message when it is the reader's own.
        "seen": bool(detail.seen_by),
        "seen_names": ", ".join(person.display_name for person in detail.seen_by)
        if detail.conversation.kind == "group"
        else "",
        "other_read_at": _last_read_at(detail),
        "blocked": detail.blocked,
        "nav_unread": selectors.inbox_unread_count(
            user=request.user,
            first_page=inbox_page,
            read_group_uuid=detail.conversation.group_uuid if opened_newest else None,
        ),
    }
    return render(request, "messaging/conversation.html", context, status=_form_status(form))


@login_required
def conversation_new(request, handle):
    """Start a conversation with @handle, or reopen the one the pair already has. One
    handle lookup per request: the page's GET finds the person, its POST leaves the
    lookup to the service."""
    recipient = selectors.user_get_by_handle(handle=handle)
    if recipient.pk == request.user.pk:
        raise Invalid("handle", rules.SELF_MESSAGE)
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _send_allowed(request, form):
        try:
            sent = services.conversation_open(
                sender=request.user, recipients=[recipient], body=form.cleaned_data["message"]
            )
        except (Invalid, Forbidden) as error:
            _attach(form, error)
        else:
            return redirect(_conversation_url(sent.group_uuid))
    elif request.method != "POST":
        group_uuid = selectors.conversation_find(user=request.user, others=[recipient])
        if group_uuid is not None:
            return redirect(_conversation_url(group_uuid))
    other = presenters.person_from_user(recipient)
    context = {
        "other": other,
        "form": form,
        "handle_form": HandleForm(),
        "page": selectors.inbox_list(user=request.user),
        "members": _members(presenters.person_from_user(request.user), other),
    }
    return render(request, "messaging/conversation.html", context, status=_form_status(form))


@login_required
def conversation_pick(request):
    """The "new message" form: one or more @handles in, the conversation out.

    One handle goes to the pair's conversation (or its first message). Several go to
    their group's conversation, or to a page for its first message, which POSTs back
    here with the handles and the message.
    """
    data = request.POST if request.method == "POST" else request.GET
    form = HandleForm(data or None)
    message_form = MessageForm(request.POST or None)
    if not form.is_valid():
        status = 400 if form.is_bound else 200
        return render(request, "messaging/new.html", {"handle_form": form}, status=status)
    handles = [text for text in re.split(r"[\s,]+", form.cleaned_data["handle"]) if text]
    try:
        others = _people_named(request.user, handles)
    except NotFound as error:
        form.add_error("handle", str(error))
        return render(request, "messaging/new.html", {"handle_form": form}, status=404)
    except Invalid as error:
        for message in error.message.split("\n"):
            form.add_error("handle", message)
        return render(request, "messaging/new.html", {"handle_form": form}, status=400)
    if len(others) == 1 and request.method != "POST":
        group_uuid = selectors.conversation_find(user=request.user, others=others)
        if group_uuid is not None:
            return redirect(_conversation_url(group_uuid))
        return redirect("messaging:conversation_new", handle=others[0].handle)
    if (
        request.method == "POST"
        and message_form.is_valid()
        and _send_allowed(request, message_form)
    ):
        try:
            sent = services.conversation_open(
                sender=request.user, recipients=others, body=message_form.cleaned_data["message"]
            )
        except (Invalid, Forbidden) as error:
            _attach(message_form, error)
        else:
            return redirect(_conversation_url(sent.group_uuid))
    elif request.method != "POST":
        group_uuid = selectors.conversation_find(user=request.user, others=others)
        if group_uuid is not None:
            return redirect(_conversation_url(group_uuid))
    context = {
        "other": presenters.person_from_user(others[0]),
        "new_members": [presenters.person_from_user(user) for user in others],
        "new_handles": " ".join(user.handle for user in others),
        "form": message_form,
        "handle_form": HandleForm(),
        "page": selectors.inbox_list(user=request.user),
        "members": _members(
            presenters.person_from_user(request.user),
            *(presenters.person_from_user(user) for user in others),
        ),
    }
    return render(
        request, "messaging/conversation.html", context, status=_form_status(message_form)
    )


def _last_read_at(detail: ConversationDetail) -> datetime | None:
    """When the other member of a pair last read (the page's script compares it with
    messages that arrive later); None for groups, which get `read` events per member."""
    if detail.conversation.kind != "direct" or not detail.conversation.member_states:
        return None
    return detail.conversation.member_states[0].last_read_at


def _people_named(user, handles: list[str]) -> list:
    """The users behind the typed handles (1 SQL query): Invalid lists every problem with
    the list itself, NotFound names every handle that is nobody's."""
    cleaned = rules.handles_clean(handles, own_handle=user.handle)
    problems = []
    for text in cleaned:
        try:
            rules.handle_clean(text)
        except NotFound:
            problems.append(f"@{text} is not a handle (3 to 30 letters, digits or underscores).")
    if problems:
        raise Invalid("handle", "\n".join(problems))
    found = selectors.users_by_handles(handles=cleaned)
    missing = [text for text in cleaned if text.lower() not in found]
    if missing:
        raise NotFound(" ".join(f"No user @{text}." for text in missing))
    return [found[text.lower()] for text in cleaned]


# --- people's controls: block, mute, hide -------------------------------------------


@login_required
def person(request, handle):
    """Someone's public profile: name, handle, bio and avatar, and (someone else's) a
    button to block or unblock them. 1 SQL query + 1 GetItem."""
    shown = selectors.user_get_by_handle(handle=handle)
    blocked: bool | None = False
    if shown.pk != request.user.pk:
        try:
            blocked = selectors.user_blocked(user=request.user, other=shown)
        except StoreUnavailable:
            # The profile lives in Postgres and still shows; a button whose state is
            # unknown does not.
            blocked = None
    return render(request, "accounts/person.html", {"person": shown, "blocked": blocked})


def _back(request, default: str) -> str:
    """Where a control's form came from (its `next`), if that is this site."""
    target = request.POST.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
@require_POST
def person_block(request, handle):
    """The block button (`action` block or unblock), on the profile and in a pair's
    conversation; back where it was pressed."""
    if request.POST.get("action") == "unblock":
        other = services.user_unblock(user=request.user, handle=handle)
    else:
        other = services.user_block(user=request.user, handle=handle)
    return redirect(_back(request, reverse("person", kwargs={"handle": other.handle})))


@login_required
@require_POST
def conversation_mute(request, group_uuid):
    services.conversation_mute(
        user=request.user, group_uuid=group_uuid, muted=request.POST.get("muted") != "0"
    )
    return redirect(_conversation_url(group_uuid))


@login_required
@require_POST
def conversation_hide(request, group_uuid):
    services.conversation_hide(user=request.user, group_uuid=group_uuid)
    return redirect("messaging:inbox")
