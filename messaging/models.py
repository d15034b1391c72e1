"""What messaging keeps in Postgres: reports of messages, for staff to resolve.

Messages themselves live in DynamoDB; a report copies what staff need to judge it (the
body as it was when reported, and who sent it), since the sender may edit or delete the
message afterwards.
"""

from django.conf import settings
from django.db import models


class MessageReport(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    # Kept when the reporter's account goes: the report still stands for staff.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="message_reports",
    )
    group_uuid = models.UUIDField("conversation")
    message_uuid = models.UUIDField("message")
    sender_uuid = models.UUIDField("sender")
    body = models.TextField("message as reported")
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "message_uuid"], name="one_report_per_reporter_and_message"
            )
        ]

    def __str__(self) -> str:
        return f"Report of message {self.message_uuid} ({self.get_status_display()})"
