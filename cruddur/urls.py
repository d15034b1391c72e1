from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static as static_url
from django.urls import include, path
from django.views.generic import RedirectView

from messaging import views as messaging_views


def home(request):
    return redirect("messaging:inbox" if request.user.is_authenticated else "accounts:login")


# JSON under /api/, the site's templates elsewhere.
handler400 = "messaging.api.exceptions.bad_request"
handler403 = "messaging.api.exceptions.permission_denied"
handler404 = "messaging.api.exceptions.page_not_found"
handler500 = "messaging.api.exceptions.server_error"

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    # Someone's profile carries the viewer's block control, so messaging serves it.
    path("people/<str:handle>", messaging_views.person, name="person"),
    # Browsers and feed readers ask for /favicon.ico whatever the page links.
    path("favicon.ico", RedirectView.as_view(url=static_url("img/favicon.ico"), permanent=True)),
    path("api/", include("messaging.api.urls")),
    path("", include("messaging.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
