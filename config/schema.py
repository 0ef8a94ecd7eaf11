"""The OpenAPI schema's view of errors (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]).

drf-spectacular documents only the success response of each operation; every operation can also
answer with DRF's error shape (config/errors.py): 400 for bad input, 401/403 without a login or the
role, 404 for an unknown id or page, and the public token endpoint 429 when logins are locked.
"""
from __future__ import annotations
from django.utils.translation import gettext, gettext_lazy

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": {},
    "description": 'DRF\'s error shape: {"detail": "..."} or {"field": ["message", ...]}.',
}
ERRORS = {
    "400": gettext_lazy("输入有误，按字段列出"),
    "401": gettext_lazy("未登录或令牌无效/过期"),
    "403": gettext_lazy("无权限"),
    "404": gettext_lazy("不存在"),
}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        public = not self.get_auth() or self.get_auth() == [{}]
        for code, description in ERRORS.items():
            if public and code in ("401", "403"):
                continue
            responses.setdefault(code, {"content": {"application/json": {"schema": ERROR_SCHEMA}},
                                        "description": description})
        if public:
            responses.setdefault("429", {"content": {"application/json": {"schema": ERROR_SCHEMA}},
                                         "description": gettext("登录失败次数过多，已锁定")})
        return responses
