"""Serializers for the tickets API.

Input serializers only parse types; the business rules (empty or over-long
text, unknown channel, unknown SKU ...) live in ``feedback.services.ticket_validate``
so the API, the web form and the importer refuse the same things with the same words.
"""
from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from feedback.models import Category, Channel, Product, Ticket
from feedback.selectors import ticket_text_for
from feedback.services import TicketInput

from .fields import CodeRelatedField


class ProductSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["sku", "name", "product_category"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "name", "product_category", "created_at"]
        read_only_fields = ["id", "created_at"]


class CategorySerializer(serializers.ModelSerializer):
    default_department = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Category
        fields = ["code", "name_zh", "name_en", "description", "description_en", "default_department", "is_active"]
        read_only_fields = fields


class TicketSerializer(serializers.ModelSerializer):
    """A ticket as the API shows it; phone numbers in ``text`` are masked except for its filer and admins."""

    sku = serializers.CharField(source="sku_raw", read_only=True)
    product = ProductSummarySerializer(read_only=True, allow_null=True)
    category = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    predicted_category = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    confirmed_category = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    also_category = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True,
        help_text="A second complaint in the ticket, confirmed by an agent (POST .../also/ sets it). The ticket "
                  "still counts only under `category`; the issue library filters by this, never counts it.",
    )
    filed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "text",
            "channel",
            "sku",
            "product",
            "order_number",
            "external_source",
            "external_id",
            "received_at",
            "created_at",
            "triage_status",
            "category",
            "predicted_category",
            "prediction_confidence",
            "prediction_top",
            "prediction_terms",
            "model_version",
            "confirmed_category",
            "also_category",
            "issue",
            "filed_by",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Ticket) -> dict[str, Any]:
        request = self.context.get("request")
        return self.represent(instance, user=getattr(request, "user", None) or AnonymousUser())

    def represent(self, instance: Ticket, *, user) -> dict[str, Any]:
        """Serialise ``instance`` as ``user`` may read it, without reading this serializer's context."""
        data = super().to_representation(instance)
        data["text"] = ticket_text_for(ticket=instance, user=user)
        return data


@functools.cache
def _ticket_prototype() -> TicketSerializer:
    serializer = TicketSerializer()
    serializer.fields  # noqa: B018 - build the fields now, once per process
    return serializer


def ticket_data(ticket: Ticket, *, user) -> dict[str, Any]:
    """Return what TicketSerializer shows for ``ticket``, from fields built once per process.

    A ModelSerializer builds its 20 fields from the model on every instantiation: a
    quarter of the CPU of filing one ticket (cProfile, benchmarks/intake_profile.py).
    The fields hold no per-request state (the viewer is passed in, not read from
    the context), so one set serves every request.
    """
    return _ticket_prototype().represent(ticket, user=user)


class TicketCreatedSerializer(TicketSerializer):
    """The created ticket plus the service's warnings (e.g. an unknown SKU saved without a product)."""

    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "warnings"]
        read_only_fields = fields


class _ServiceCheckedChoiceField(serializers.ChoiceField):
    """Documents the choices in the schema but leaves refusing unknown values to ticket_validate."""

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            self.fail("invalid_choice", input=data)
        return str(data).strip()


@extend_schema_field({
    "type": "string", "minLength": 1, "maxLength": 5000, "pattern": r"\S",
    "description": "The complaint; not blank (surrounding whitespace is stripped), at most 5,000 characters.",
})
class TicketTextField(serializers.CharField):
    """Ticket text: a JSON string only (``0`` or ``true`` is refused, not saved as "0").

    Blank and length are left to ticket_validate, which owns them (and strips whitespace); the schema
    above states them so clients know.
    """

    def run_validation(self, data=serializers.empty):
        if data == "":
            return ""  # blank is refused by ticket_validate, in its words, like on the page
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TicketInputSerializer(serializers.Serializer):
    """The writable fields of one ticket, parsed into Python types for ``TicketInput``."""

    # No length or blank checks here: ticket_validate owns them (it also strips whitespace).
    text = TicketTextField(trim_whitespace=False)
    channel = _ServiceCheckedChoiceField(choices=Channel.choices, required=False, default=Channel.CHAT)
    sku = serializers.CharField(required=False, allow_blank=True, default="")
    order_number = serializers.CharField(required=False, allow_blank=True, default="")
    external_source = serializers.CharField(required=False, allow_blank=True, default="")
    external_id = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def to_ticket_input(self) -> TicketInput:
        return TicketInput(**self.validated_data)


class TicketBatchRequestSerializer(serializers.Serializer):
    """Documents the batch request; the view validates item by item to report errors by index."""

    tickets = serializers.ListField(child=TicketInputSerializer(), min_length=1, max_length=1000)


class BatchItemErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(allow_null=True, help_text="Position of the item in `tickets`, from 0.")
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class BatchErrorSerializer(serializers.Serializer):
    errors = BatchItemErrorSerializer(many=True)


class BatchDuplicateSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.IntegerField(help_text="The ticket this item duplicates (saved earlier or earlier in this batch).")


class BatchWarningSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    message = serializers.CharField()


class TicketBatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = BatchDuplicateSerializer(many=True)
    ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the created tickets, in the order of their items."
    )
    warnings = BatchWarningSerializer(many=True)


class DuplicateTicketSerializer(serializers.Serializer):
    detail = serializers.CharField()
    id = serializers.IntegerField(help_text="The ticket already saved with this external source and id.")


class ConfirmCategorySerializer(serializers.Serializer):
    category = CodeRelatedField(
        slug_field="code", queryset=Category.objects.filter(is_active=True), help_text="Category code, e.g. damaged."
    )


class AlsoCategorySerializer(serializers.Serializer):
    also_category = CodeRelatedField(
        slug_field="code", queryset=Category.objects.filter(is_active=True), allow_null=True,
        help_text="Category code of the second complaint, e.g. damaged; null clears it. Not the ticket's own category.",
    )
