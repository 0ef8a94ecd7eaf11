"""Login page that lets an anonymous visitor pick the language before logging in."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.utils import translation

LANGUAGE_QUERY_PARAMETER = "lang"


class LanguageLoginView(LoginView):
    """Django's LoginView, plus ``?lang=en`` / ``?lang=zh-hans`` to switch the language.

    The language switch everywhere else (``set_language``) needs a login, so the
    login page is the one place an anonymous visitor can change it. The choice
    is stored in the same cookie ``set_language`` uses, so it carries over
    after logging in.
    """

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get(self, request, *args, **kwargs):
        language = self._requested_language()
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = super().get(request, *args, **kwargs)
        if language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response

    def _requested_language(self) -> str | None:
        """Return the ?lang= value when it names one of settings.LANGUAGES, else None."""
        language = self.request.GET.get(LANGUAGE_QUERY_PARAMETER, "").lower()
        return language if language in dict(settings.LANGUAGES) else None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["languages"] = settings.LANGUAGES
        return context
