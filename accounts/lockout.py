"""What a locked-out visitor sees (django-axes calls this: settings.AXES_LOCKOUT_CALLABLE).

The API gets DRF's JSON shape with 429, the login page is shown again with the message.
Both say how long the lock lasts, in the visitor's language (Chinese first).
"""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

LOCKED_STATUS = 429


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _("登录失败次数过多，该账户或地址已被锁定 %(minutes)d 分钟，请稍后再试。") % {"minutes": minutes}


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        # The API's messages carry both languages, like every other API error.
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        detail = (f"登录失败次数过多，已锁定 {minutes} 分钟 "
                  f"(too many failed logins: locked for {minutes} minutes, try again later)")
        return JsonResponse({"detail": detail}, status=LOCKED_STATUS, json_dumps_params={"ensure_ascii": False})
    context = {
        "form": AuthenticationForm(request),
        "lockout": lockout_message(),
        "languages": settings.LANGUAGES,
        "next": request.POST.get("next", ""),
    }
    return render(request, "registration/login.html", context, status=LOCKED_STATUS)
