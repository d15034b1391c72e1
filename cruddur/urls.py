from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path


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
    path("api/", include("messaging.api.urls")),
    path("", include("messaging.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
