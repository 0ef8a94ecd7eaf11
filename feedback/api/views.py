"""REST API for tickets, categories and products.

Thin views: parse the request, call one service from ``feedback.services`` (or
``feedback.classification``), serialise the result. Every view requires a
logged-in user (DEFAULT_PERMISSION_CLASSES); filing and correcting add role checks.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Paginator as DjangoPaginator
from django.db import IntegrityError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.lockout import lockout_response
from accounts.permissions import CanCorrectTickets, CanFileTickets, CanManageProducts
from accounts.tokens import token_issue
from feedback.models import Category, Product, Ticket
from feedback.pagination import CappedCountPaginator
from feedback.selectors import TicketFilters, ticket_list
from feedback.services import (
    AlsoCategoryError,
    DuplicateTicket,
    TicketInput,
    TicketValidationError,
    ticket_also_category_set,
    ticket_create,
    ticket_validate,
    tickets_bulk_create,
)

from .filters import TicketFilter
from .serializers import (
    AlsoCategorySerializer,
    BatchErrorSerializer,
    CategorySerializer,
    ConfirmCategorySerializer,
    DuplicateTicketSerializer,
    ProductSerializer,
    TicketBatchRequestSerializer,
    TicketBatchResultSerializer,
    TicketCreatedSerializer,
    TicketInputSerializer,
    TicketSerializer,
    ticket_data,
)


class TokenRequestSerializer(AuthTokenSerializer):
    """DRF's credentials, bounded: an over-long username is refused before it reaches the lockout table."""

    username = serializers.CharField(label="Username", max_length=150, write_only=True)
    password = serializers.CharField(label="Password", max_length=4096, write_only=True, trim_whitespace=False,
                                     style={"input_type": "password"})


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


@extend_schema_view(post=extend_schema(summary="Exchange a username and password for an API token", auth=[],
                                       request=TokenRequestSerializer, responses=TokenResponseSerializer))
class TokenView(ObtainAuthToken):
    """The only API view open to anonymous callers: send credentials, get `{"token": "..."}`.

    Use the token as `Authorization: Token <token>`. Tokens expire after API_TOKEN_TTL_HOURS (default
    a week): ask again for a new one. Repeated wrong passwords lock the username and the address
    (429) for LOGIN_LOCKOUT_MINUTES.
    """

    serializer_class = TokenRequestSerializer
    parser_classes = [JSONParser, FormParser]

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        valid = serializer.is_valid()
        # django-axes marks the request it was given, here DRF's Request, which its middleware never
        # sees: answer the lockout from here.
        if getattr(request, "axes_locked_out", False):
            return lockout_response(request)
        if not valid:
            raise ValidationError(serializer.errors)
        token = token_issue(user=serializer.validated_data["user"])
        return Response({"token": token.key})


class TicketPagination(PageNumberPagination):
    """Pages of tickets; a search (``q``) counts at most 500 matches (feedback.pagination) and says so in ``count_capped``."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        searching = bool(request.query_params.get("q", "").strip())
        self.django_paginator_class = CappedCountPaginator if searching else DjangoPaginator
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        if isinstance(self.page.paginator, CappedCountPaginator):
            response.data["count_capped"] = self.page.paginator.count_capped
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_capped"] = {
            "type": "boolean",
            "description": "Present on searches: true when more than 500 tickets match and count says 500 (narrow the search).",
        }
        return schema


@extend_schema_view(
    list=extend_schema(summary="List tickets, newest first, with filters"),
    retrieve=extend_schema(summary="One ticket"),
)
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Ticket.objects.all()  # for schema inspection; requests go through get_queryset
    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    pagination_class = TicketPagination
    lookup_value_regex = r"[0-9]{1,18}"  # anything else is a JSON 404, never a failed query

    def get_queryset(self) -> QuerySet[Ticket]:
        # The same selector as the pages, so a narrower visibility rule later applies to both.
        return ticket_list(user=self.request.user, filters=TicketFilters()).select_related("confirmed_category")

    def get_permissions(self):
        if self.action in ("create", "batch"):
            return [IsAuthenticated(), CanFileTickets()]
        if self.action in ("confirm", "also"):
            return [IsAuthenticated(), CanCorrectTickets()]
        return [IsAuthenticated()]

    @extend_schema(
        summary="File one ticket",
        description=(
            "Validated and saved by the same service as the web form and the importer. "
            "An unknown SKU is saved without a product and reported in `warnings`."
        ),
        request=TicketInputSerializer,
        responses={
            201: TicketCreatedSerializer,
            400: OpenApiResponse(description="Bad fields, keyed by field name: {\"text\": [\"...\"]}"),
            409: OpenApiResponse(DuplicateTicketSerializer, description="Same external source and id already saved"),
        },
    )
    def create(self, request: Request) -> Response:
        serializer = TicketInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.to_ticket_input()
        try:
            ticket = ticket_create(data=data, filed_by=request.user)
        except TicketValidationError as exc:
            raise ValidationError(exc.errors) from exc
        except DuplicateTicket as exc:
            return Response(
                {"detail": gettext("重复工单，已存在 #%(ticket)s") % {"ticket": exc.ticket.pk}, "id": exc.ticket.pk},
                status=status.HTTP_409_CONFLICT,
            )
        body = {**ticket_data(ticket, user=request.user), "warnings": data.warnings}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="File up to API_BATCH_MAX (1,000) tickets at once",
        description=(
            "Every item is validated first; if any is invalid nothing is saved and the response lists "
            "each problem by item index and field. Items whose external source and id were saved before, "
            "or appear earlier in the same batch, are reported in `duplicates` and not saved again."
        ),
        request=TicketBatchRequestSerializer,
        responses={
            201: TicketBatchResultSerializer,
            400: BatchErrorSerializer,
            409: OpenApiResponse(description="A concurrent import saved the same external id; nothing saved"),
        },
        filters=False,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="batch",
        parser_classes=[JSONParser],
        filter_backends=[],
        pagination_class=None,
    )
    def batch(self, request: Request) -> Response:
        try:
            payload = request.data
        except ParseError as error:  # answered in the batch's own error shape, like every other refusal
            return Response({"errors": [{"index": None, "field": "tickets", "message": str(error.detail)}]},
                            status=status.HTTP_400_BAD_REQUEST)
        items, problem = _batch_items(payload)
        if problem:
            return Response(
                {"errors": [{"index": None, "field": "tickets", "message": problem}]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        errors: list[dict[str, Any]] = []
        inputs: list[TicketInput] = []
        product_cache = _product_cache(items)
        # One serializer for every item, as TicketInputSerializer(many=True) does: a serializer per
        # item deep-copied its fields each time, half the CPU of a batch of 100 (cProfile).
        parser = TicketInputSerializer()
        for index, item in enumerate(items):
            try:
                data = TicketInput(**parser.run_validation(item))
            except ValidationError as exc:
                errors.extend(_indexed_errors(index, exc.detail))
                continue
            try:
                inputs.append(ticket_validate(data, product_cache=product_cache))
            except TicketValidationError as exc:
                errors.extend(
                    {"index": index, "field": field, "message": message} for field, message in exc.errors.items()
                )
        if errors:
            return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        try:
            result = _batch_save(inputs, filed_by=request.user)
        except IntegrityError:
            # A concurrent import saved one of these external ids first; the transaction saved nothing.
            return Response(
                {"detail": gettext("并发导入冲突，未保存任何工单，请重试")},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(result, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Confirm or correct a ticket's category",
        request=ConfirmCategorySerializer,
        responses={200: TicketSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def confirm(self, request: Request, pk: str) -> Response:
        from feedback.classification import ticket_confirm_category

        ticket = self.get_object()
        serializer = ConfirmCategorySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket_confirm_category(ticket=ticket, category=serializer.validated_data["category"], user=request.user)
        ticket = self.get_queryset().get(pk=ticket.pk)
        return Response(self.get_serializer(ticket).data)

    @extend_schema(
        summary="Set or clear a ticket's second category (also_category)",
        description=(
            "Records that the ticket is also about another category (a fake that also arrived broken). "
            "The ticket is not regrouped or counted twice: issues count it under `category` only. "
            "A category equal to the ticket's own is refused (400 naming `also_category`)."
        ),
        request=AlsoCategorySerializer,
        responses={200: TicketSerializer, 400: OpenApiResponse(description="{\"also_category\": [\"...\"]}")},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def also(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        serializer = AlsoCategorySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = serializer.validated_data["also_category"]
        try:
            ticket_also_category_set(ticket_id=ticket.pk, code=category.code if category else None, user=request.user)
        except AlsoCategoryError as error:
            raise ValidationError({error.field: [error.message]}) from error
        ticket = self.get_queryset().get(pk=ticket.pk)
        return Response(self.get_serializer(ticket).data)


def _batch_items(payload: Any) -> tuple[list[Any], str | None]:
    """Return the list under ``tickets``, or why the whole request is refused before looking at any item."""
    items = payload.get("tickets") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        return [], gettext("请求体须为 {\"tickets\": [...]}")
    if not items:
        return [], gettext("tickets 为空")
    limit = settings.API_BATCH_MAX
    if len(items) > limit:
        return [], gettext("一次最多 %(limit)s 条工单，收到 %(count)s 条") % {"limit": limit, "count": len(items)}
    return items, None


def _product_cache(items: list[Any]) -> dict[str, Product | None]:
    """Look up every SKU of the batch in one query, so validation never queries per item."""
    # Only SKUs that can pass validation reach the database: a NUL byte is refused by PostgreSQL
    # itself (a 500), and the item's own validation names the bad field anyway.
    skus = {
        item["sku"].strip() for item in items
        if isinstance(item, dict) and isinstance(item.get("sku"), str) and item["sku"].strip()
        and "\x00" not in item["sku"] and len(item["sku"].strip()) <= 64
    }
    cache: dict[str, Product | None] = dict.fromkeys(skus)
    cache.update({p.sku: p for p in Product.objects.filter(sku__in=skus)} if skus else {})
    return cache


def _indexed_errors(index: int, errors: Any) -> list[dict[str, Any]]:
    if not isinstance(errors, dict):
        return [{"index": index, "field": None, "message": str(errors)}]
    flat = []
    for field, messages in errors.items():
        name = None if field == "non_field_errors" else field
        for message in messages if isinstance(messages, list) else [messages]:
            flat.append({"index": index, "field": name, "message": str(message)})
    return flat


def _batch_save(inputs: list[TicketInput], *, filed_by) -> dict[str, Any]:
    """Save validated items with tickets_bulk_create and say, per item index, what became of it."""
    first_index: dict[tuple[str, str], int] = {}
    repeats: dict[int, int] = {}  # index -> index of the first item with the same external id
    unique: list[tuple[int, TicketInput]] = []
    for index, data in enumerate(inputs):
        if data.external_id:
            key = (data.external_source, data.external_id)
            if key in first_index:
                repeats[index] = first_index[key]
                continue
            first_index[key] = index
        unique.append((index, data))

    # tickets_bulk_create looks duplicates up and inserts; bulk_create's own transaction makes the
    # insert all or nothing, and a duplicate that slips in between fails it with IntegrityError.
    created, existing = tickets_bulk_create(items=[data for _, data in unique], filed_by=filed_by)

    # Keyed items are matched to their rows by external id; the rest keep their order.
    existing_by_key = {(t.external_source, t.external_id): t.pk for t in existing}
    created_by_key = {(t.external_source, t.external_id): t.pk for t in created if t.external_id}
    unkeyed_ids = iter([t.pk for t in created if not t.external_id])
    saved_id: dict[int, int] = {}
    duplicates: list[dict[str, int]] = []
    ids: list[int] = []
    warnings: list[dict[str, Any]] = []
    for index, data in unique:
        key = (data.external_source, data.external_id)
        if data.external_id and key in existing_by_key:
            saved_id[index] = existing_by_key[key]
            duplicates.append({"index": index, "id": saved_id[index]})
            continue
        saved_id[index] = created_by_key[key] if data.external_id else next(unkeyed_ids)
        ids.append(saved_id[index])
        warnings.extend({"index": index, "message": message} for message in data.warnings)
    duplicates.extend({"index": index, "id": saved_id[first]} for index, first in repeats.items())
    duplicates.sort(key=lambda d: d["index"])
    return {"created": len(ids), "duplicates": duplicates, "ids": ids, "warnings": warnings}


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The triage taxonomy. Small and fixed, so not paginated."""

    queryset = Category.objects.select_related("default_department")
    serializer_class = CategorySerializer
    lookup_field = "code"
    pagination_class = None
    filter_backends: list = []


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("q", str, description="Part of the SKU or the product name.")]
    ),
    create=extend_schema(summary="Add a product (admins only)"),
)
class ProductViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    lookup_field = "sku"
    lookup_value_regex = r"[^/]+"
    filter_backends: list = []

    def get_permissions(self):
        if self.action == "create":
            return [IsAuthenticated(), CanManageProducts()]
        return [IsAuthenticated()]

    def get_queryset(self) -> QuerySet[Product]:
        queryset = super().get_queryset()
        query = self.request.query_params.get("q", "").strip()
        if query:
            queryset = queryset.filter(Q(sku__icontains=query) | Q(name__icontains=query))
        return queryset
