"""Reporting someone else's message, and staff resolving reports (django-postman's
moderation). A report is a Postgres row holding a snapshot of the message."""

import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from messaging import rules, selectors
from messaging.errors import Conflict, Forbidden
from messaging.models import MessageReport

OWN_MESSAGE = "You can't report your own message."
DELETED_MESSAGE = "This message was deleted; there is nothing left to report."
ALREADY_REPORTED = "You already reported this message."


def message_report(
    *,
    reporter: User,
    group_uuid: uuid.UUID | str,
    message_uuid: uuid.UUID | str,
    reason: object,
) -> MessageReport:
    """Report a message of another member: 1 BatchGetItem + 1 Query and 1 GetItem (the
    message, as a member reads it) + 1 SQL INSERT. Once per reporter and message (409
    Conflict on a second try, which the unique constraint decides, so two racing
    requests cannot both land)."""
    clean_reason = rules.report_reason_clean(reason)
    _, message = selectors.message_get(
        user=reporter, group_uuid=group_uuid, message_uuid=message_uuid
    )
    if message.sender_uuid == reporter.uuid:
        raise Forbidden(OWN_MESSAGE)
    if message.deleted:
        raise Forbidden(DELETED_MESSAGE)
    try:
        with transaction.atomic():
            return MessageReport.objects.create(
                reporter=reporter,
                group_uuid=message.group_uuid,
                message_uuid=message.uuid,
                sender_uuid=message.sender_uuid,
                body=message.body,
                reason=clean_reason,
            )
    except IntegrityError as exc:
        raise Conflict(ALREADY_REPORTED) from exc


def report_resolve(*, report: MessageReport, resolved_by: User) -> bool:
    """Mark an open report resolved: one conditional SQL UPDATE, so two staff resolving
    at once record one of them. False when it was already resolved."""
    now = timezone.now()
    updated = MessageReport.objects.filter(pk=report.pk, status=MessageReport.Status.OPEN).update(
        status=MessageReport.Status.RESOLVED, resolved_by=resolved_by, resolved_at=now
    )
    return updated == 1
