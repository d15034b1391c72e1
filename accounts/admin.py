from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_safe

from accounts.models import User
from messaging import selectors


class UserChangeAdminForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("handle", "display_name", "email")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    list_display = (
        "handle",
        "display_name",
        "email",
        "date_joined",
        "is_staff",
        "conversations_link",
    )
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("handle", "email", "display_name")
    ordering = ("handle",)
    readonly_fields = ("uuid", "date_joined", "last_login", "conversations_link")
    fieldsets = (
        (None, {"fields": ("handle", "password", "uuid", "conversations_link")}),
        ("Profile", {"fields": ("display_name", "email", "bio", "avatar", "cognito_user_id")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("handle", "display_name", "email", "password1", "password2"),
            },
        ),
    )

    @admin.display(description="Conversations")
    def conversations_link(self, user):
        if not user.pk:
            return "-"
        url = reverse("admin:accounts_user_conversations", args=[user.pk])
        return format_html('<a href="{}">View conversations (read-only)</a>', url)

    def get_urls(self):
        # Conversations live in DynamoDB, not in a model, so they get plain read-only
        # views under the user rather than a ModelAdmin of their own.
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

    def _viewable_user(self, request, user_id: int) -> User:
        member = get_object_or_404(User, pk=user_id)
        if not self.has_view_permission(request, member):
            raise PermissionDenied
        return member

    def _context(self, request, member: User, title: str) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "member": member,
            "title": title,
            "cursor": request.GET.get("cursor"),
        }

    def conversations_view(self, request, user_id: int):
        member = self._viewable_user(request, user_id)
        page = selectors.inbox_list(user=member, cursor=request.GET.get("cursor"))
        context = self._context(request, member, f"Conversations of @{member.handle}")
        context["page"] = page
        return TemplateResponse(request, "admin/accounts/user/conversations.html", context)

    def conversation_messages_view(self, request, user_id: int, group_uuid):
        member = self._viewable_user(request, user_id)
        # Read only: reading here does not mark anything read for the member.
        detail = selectors.conversation_detail(
            user=member, group_uuid=group_uuid, cursor=request.GET.get("cursor")
        )
        other = detail.conversation.other
        context = self._context(request, member, f"@{member.handle} and @{other.handle}: messages")
        context.update({"conversation": detail.conversation, "page": detail.messages})
        return TemplateResponse(request, "admin/accounts/user/conversation_messages.html", context)
