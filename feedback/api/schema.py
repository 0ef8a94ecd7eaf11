"""OpenAPI schema extensions: the schema states what the API will accept, so clients can trust it."""
from __future__ import annotations

from django.db import DatabaseError
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes

# A code list longer than this is left as a plain string (the schema stays small); the taxonomy's
# categories and departments are a few dozen.
ENUM_LIMIT = 200


class CodeRelatedFieldExtension(OpenApiSerializerFieldExtension):
    """A CodeRelatedField accepts exactly the codes that exist when the schema is generated: say so
    with an enum, instead of a bare string that the server then refuses as "does not exist"."""

    target_class = "feedback.api.fields.CodeRelatedField"

    def map_serializer_field(self, auto_schema, direction):
        schema = build_basic_type(OpenApiTypes.STR)
        field = self.target
        queryset = field.get_queryset()
        if direction == "request" and queryset is not None:
            codes = _codes(queryset.order_by(field.slug_field).values_list(field.slug_field, flat=True))
            if 0 < len(codes) <= ENUM_LIMIT:
                schema["enum"] = codes
        return schema


def _codes(values) -> list[str]:
    """The codes that exist, or none when the database cannot answer (``manage.py check`` generates
    the schema too, possibly before the database exists or is migrated): the schema then says "string"."""
    try:
        return list(values[: ENUM_LIMIT + 1])
    except DatabaseError:
        return []


# Query parameters that name a row by its code, whichever list endpoint they filter.
CODE_PARAMETERS = {
    "category": ("feedback", "Category"),
    "also_category": ("feedback", "Category"),
    "also": ("feedback", "Category"),
    "department": ("issues", "Department"),
    "issue__department__code": ("issues", "Department"),
}


def codes_and_limits_hook(result, generator, request, public):
    """drf-spectacular post-processing: state in the schema the rules the server enforces.

    * a query parameter that names a category or a department accepts the codes that exist;
    * a pushed list (POST /api/sales/) holds 1 to API_BATCH_MAX items.
    """
    from django.apps import apps
    from django.conf import settings

    codes: dict[tuple[str, str], list[str]] = {}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                model = CODE_PARAMETERS.get(parameter.get("name"))
                schema = parameter.get("schema", {})
                if parameter.get("in") != "query" or model is None or schema.get("type") != "string" or "enum" in schema:
                    continue
                if model not in codes:
                    codes[model] = _codes(apps.get_model(*model).objects.order_by("code").values_list("code", flat=True))
                if 0 < len(codes[model]) <= ENUM_LIMIT:
                    schema["enum"] = codes[model]
    sales = result.get("paths", {}).get("/api/sales/", {}).get("post", {})
    for media in sales.get("requestBody", {}).get("content", {}).values():
        if media.get("schema", {}).get("type") == "array":
            media["schema"].update(minItems=1, maxItems=getattr(settings, "API_BATCH_MAX", 1000))
    return result


def category_codes() -> list[str]:
    """The category codes (ENUM_NAME_OVERRIDES): `category` and `also_category` accept the same codes,
    and naming that set once keeps the schema from holding two enums for it (drf-spectacular warns)."""
    from django.apps import apps

    return _codes(apps.get_model("feedback", "Category").objects.order_by("code").values_list("code", flat=True))
