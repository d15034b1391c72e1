from django.conf import settings
from django.db.models import Q
from django.http import Http404
from django.views.generic import TemplateView
from postman.models import Message
from postman.views import ConversationView


class ConversationPage(ConversationView):
    """Postman's conversation page with the newest PAGE_SIZE messages of the thread (as
    shipped it renders every message of it, whatever the length)."""

    def get(self, request, *args, thread_id: int, **kwargs):
        self.filter = Q(thread=thread_id)
        newest = Message.objects.thread(request.user, self.filter).order_by("-sent_at", "-pk")
        self.msgs = list(reversed(newest[: settings.PAGE_SIZE]))
        if not self.msgs:
            raise Http404
        if any(m.recipient_id == request.user.pk and m.read_at is None for m in self.msgs):
            Message.objects.set_read(request.user, self.filter)
        # TemplateView's `get`, not postman's (which loads the whole thread again).
        return TemplateView.get(self, request, *args, **kwargs)
