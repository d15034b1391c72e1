"""Writes, one module per area (Zulip's actions): messages, conversations, read state,
and the stream consumer's half. Every cross-item write is one transaction or one
conditional write, made by the gateway."""

from messaging.services.controls import (
    conversation_hide,
    conversation_mute,
    user_block,
    user_unblock,
)
from messaging.services.conversations import conversation_open, conversation_start, group_start
from messaging.services.fanout import inbox_fanout_apply
from messaging.services.live import typing_announce
from messaging.services.message_changes import message_delete, message_edit
from messaging.services.messages import message_create
from messaging.services.read_state import conversation_mark_read
from messaging.services.reports import message_report, report_resolve

__all__ = [
    "conversation_hide",
    "conversation_mark_read",
    "conversation_mute",
    "conversation_open",
    "conversation_start",
    "group_start",
    "inbox_fanout_apply",
    "message_create",
    "message_delete",
    "message_edit",
    "message_report",
    "report_resolve",
    "typing_announce",
    "user_block",
    "user_unblock",
]
