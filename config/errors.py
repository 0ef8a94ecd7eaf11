"""One error shape for the API: DRF's JSON, never Django's HTML pages.

- ``api_exception_handler`` (REST_FRAMEWORK["EXCEPTION_HANDLER"]): DRF's own handler, plus Django's
  ``ValidationError`` as a 400 and anything unexpected as a logged JSON 500 ``{"detail": ...}``.
- ``handler404`` / ``handler500`` (root URLconf): JSON for paths under /api/ (a URL that matches no
  route, or an error outside a DRF view), Django's pages elsewhere.
- ``RejectNulBytesMiddleware``: a NUL byte is never valid in a query parameter and PostgreSQL refuses it
  in a query, so it is answered with a 400 naming the parameter before any view runs.
"""
from __future__ import annotations

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views import defaults
from django.utils.translation import gettext_lazy
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger("config.errors")

SERVER_ERROR = gettext_lazy("服务器内部错误，已记录")
NOT_FOUND = gettext_lazy("未找到")
NUL_IN_PARAMETER = gettext_lazy("参数不能包含空字符 NUL")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Answer every exception raised in an API view with DRF's JSON shape."""
    response = exception_handler(exc, context)
    if response is not None:
        return response
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    request = context.get("request")
    logger.exception("unhandled error in %s %s", getattr(request, "method", "?"), getattr(request, "path", "?"))
    return Response({"detail": SERVER_ERROR}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": NOT_FOUND}, status=404, json_dumps_params={"ensure_ascii": False})
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": SERVER_ERROR}, status=500, json_dumps_params={"ensure_ascii": False})
    return defaults.server_error(request)


class RejectNulBytesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        names = [name for name, values in request.GET.lists() if "\x00" in name or any("\x00" in v for v in values)]
        if names:
            errors = {name.replace("\x00", "\\x00"): [NUL_IN_PARAMETER] for name in names}
            if _is_api(request):
                return JsonResponse(errors, status=400, json_dumps_params={"ensure_ascii": False})
            return HttpResponseBadRequest("; ".join(f"{name}: {NUL_IN_PARAMETER}" for name in errors))
        return self.get_response(request)
