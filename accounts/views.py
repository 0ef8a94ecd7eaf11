"""Login page (with a language switch for anonymous visitors) and the account page."""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import View
from django.views.i18n import set_language
from rest_framework.authtoken.models import Token

from .permissions import home_url_for
from .services import user_language_set
from .tokens import token_expires_at, token_is_expired, token_revoke, token_rotate

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

    def get_default_redirect_url(self):
        """Land each role where its day starts: agents on their review stream, everyone else home."""
        return home_url_for(self.request.user)

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


class AccountView(LoginRequiredMixin, View):
    """The user's own page: who they are, how long the session lasts, and their API token.

    A new token's key is shown once, in the response to the POST that made it (never in a
    message, which may be stored in a cookie); after that only its dates are shown.
    """

    template_name = "accounts/account.html"

    def get(self, request, new_key: str | None = None):
        token = Token.objects.filter(user=request.user).first()
        return render(request, self.template_name, {
            "token": token,
            "token_expires_at": token_expires_at(token=token) if token else None,
            "token_expired": token_is_expired(token=token) if token else False,
            "new_key": new_key,
            "session_expires_at": request.session.get_expiry_date(),
            "token_ttl_hours": int(settings.API_TOKEN_TTL.total_seconds() // 3600),
        })

    def post(self, request):
        if request.POST.get("action") == "revoke":
            if token_revoke(user=request.user):
                messages.success(request, _("API 令牌已撤销，使用它的程序需要重新获取。"))
            return redirect("account")
        if request.POST.get("action") == "rotate":
            return self.get(request, new_key=token_rotate(user=request.user).key)
        return redirect("account")


@login_required
def language_switch(request):
    """Django's set_language (cookie and redirect), and the choice kept on the profile for emails."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.method == "POST" and language in dict(settings.LANGUAGES):
        user_language_set(user=request.user, language=language)
    return response
