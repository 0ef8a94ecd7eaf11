from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from accounts.views import AccountView, LanguageLoginView, language_switch
from config.security import api_docs_view
from feedback.views import health

urlpatterns = [
    path("health/", health, name="health"),
    path("accounts/login/", LanguageLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/me/", AccountView.as_view(), name="account"),
    # Anonymous visitors switch language on the login page (?lang=); everywhere else needs a login,
    # and the choice is kept on the profile: emails go out in it.
    path("i18n/setlang/", language_switch, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs_view(), name="api-docs"),
    path("api/", include("feedback.api.urls")),
    path("api/", include("issues.api.urls")),
    path("api/", include("issues.impact.api.urls")),
    path("imports/", include("feedback.imports.urls")),
    path("impact/", include("issues.impact.urls")),
    path("", include("feedback.urls")),
    path("", include("issues.urls")),
]

# JSON for /api/ paths, Django's pages elsewhere (config/errors.py).
handler404 = "config.errors.handler404"
handler500 = "config.errors.handler500"
