from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from messaging import selectors


@login_required
def inbox(request):
    page = selectors.inbox_list(user=request.user, cursor=request.GET.get("cursor"))
    return render(request, "messaging/inbox.html", {"page": page})
