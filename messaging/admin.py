"""Staff views of conversations: read-only, from DynamoDB, under each user; and the
reports members make, which staff resolve.

Conversations live in DynamoDB, not in a model, so they get plain read-only views added
to the user admin (replacing accounts' registration with a subclass), which keeps
`accounts` free of any import from `messaging`.
"""

from typing import Any, cast

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from accounts.admin import UserAdmin
from accounts.models import User
from messaging import selectors, services
from messaging.errors import NotFound
from messaging.models import MessageReport
from messaging.presenters import DELETED_NAME
from messaging.templatetags.cruddur import exact_time


class MessagingUserAdmin(UserAdmin):
    list_display = (*UserAdmin.list_display, "conversations_link")

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> Any:
        return (*super().get_readonly_fields(request, obj), "conversations_link")

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        (name, options), *rest = fieldsets
        first = (name, {**options, "fields": (*options["fields"], "conversations_link")})
        return (first, *rest)

    @admin.display(description="Conversations")
    def conversations_link(self, user: User) -> str:
        if not user.pk:
            return "-"
        url = reverse("admin:accounts_user_conversations", args=[user.pk])
        return format_html('<a href="{}">View conversations (read-only)</a>', url)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:user_id>/conversations/",
                self.admin_site.admin_view(require_safe(self.conversations_view)),
                name="accounts_user_conversations",
            ),
            path(
                "<int:user_id>/conversations/<uuid:group_uuid>/",
                self.admin_site.admin_view(require_safe(self.conversation_messages_view)),
                name="accounts_user_conversation_messages",
            ),
            *super().get_urls(),
        ]

    def _viewable_user(self, request: HttpRequest, user_id: int) -> User:
        member = get_object_or_404(User, pk=user_id)
        if not self.has_view_permission(request, member):
            raise PermissionDenied
        return member

    def _context(self, request: HttpRequest, member: User, title: str) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "member": member,
            "title": title,
            "cursor": request.GET.get("cursor"),
        }

    def conversations_view(self, request: HttpRequest, user_id: int) -> HttpResponse:
        member = self._viewable_user(request, user_id)
        page = selectors.inbox_list(user=member, cursor=request.GET.get("cursor"))
        context = self._context(request, member, f"Conversations of @{member.handle}")
        context["page"] = page
        return TemplateResponse(request, "admin/accounts/user/conversations.html", context)

    def conversation_messages_view(
        self, request: HttpRequest, user_id: int, group_uuid: object
    ) -> HttpResponse:
        member = self._viewable_user(request, user_id)
        # Read only: reading here does not mark anything read for the member.
        detail = selectors.conversation_detail(
            user=member, group_uuid=str(group_uuid), cursor=request.GET.get("cursor")
        )
        handles = ", ".join(f"@{person.handle}" for person in detail.conversation.members)
        context = self._context(request, member, f"@{member.handle} with {handles}: messages")
        context.update({"conversation": detail.conversation, "page": detail.messages})
        return TemplateResponse(request, "admin/accounts/user/conversation_messages.html", context)


admin.site.unregister(User)
admin.site.register(User, MessagingUserAdmin)


@admin.register(MessageReport)
class MessageReportAdmin(admin.ModelAdmin):
    """Reports are made by members and resolved by staff: nothing here edits what was
    reported, and the reported message is read in context, through the selectors, as
    the reporter sees the conversation."""

    list_display = (
        "created_at",
        "reporter",
        "sender",
        "excerpt",
        "reason",
        "status",
        "resolved_by",
    )
    list_filter = ("status",)
    search_fields = ("reporter__handle", "reason", "body")
    actions = ("resolve",)
    fields = (
        "status",
        "created_at",
        "reporter",
        "sender",
        "reason",
        "body",
        "in_context",
        "group_uuid",
        "message_uuid",
        "resolved_by",
        "resolved_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> Any:
        # Open reports first: they are the work.
        return (
            super()
            .get_queryset(request)
            .select_related("reporter", "resolved_by")
            .order_by("-status", "-created_at")
        )

    @admin.display(description="Sender")
    def sender(self, report: MessageReport) -> str:
        person = selectors.people_by_uuid(uuids=[report.sender_uuid]).get(report.sender_uuid)
        return f"{person.display_name} (@{person.handle})" if person else DELETED_NAME

    @admin.display(description="Message as reported")
    def excerpt(self, report: MessageReport) -> str:
        return report.body if len(report.body) <= 80 else report.body[:79] + "…"

    @admin.display(description="In context (now)")
    def in_context(self, report: MessageReport) -> str:
        if report.reporter is None:
            return "The reporter's account is gone, so the conversation is not shown."
        try:
            messages = selectors.messages_around(
                user=report.reporter,
                group_uuid=report.group_uuid,
                message_uuid=report.message_uuid,
            )
        except NotFound:
            return "The message is no longer in the reporter's conversation."
        rows = format_html_join(
            "",
            "<tr{}><td>{}</td><td>{} (@{})</td><td>{}</td></tr>",
            (
                (
                    mark_safe(' class="selected"') if message.uuid == report.message_uuid else "",
                    exact_time(message.created_at),
                    message.sender.display_name,
                    message.sender.handle,
                    "(deleted)" if message.deleted else message.body,
                )
                for message in messages
            ),
        )
        return format_html(
            "<table><thead><tr><th>When (UTC)</th><th>From</th><th>Message</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    @admin.action(description="Mark the selected reports resolved")
    def resolve(self, request: HttpRequest, queryset: Any) -> None:
        # The admin site lets only signed-in staff this far.
        staff = cast(User, request.user)
        resolved = sum(
            services.report_resolve(report=report, resolved_by=staff) for report in queryset
        )
        self.message_user(request, f"{resolved} report(s) marked resolved.")
