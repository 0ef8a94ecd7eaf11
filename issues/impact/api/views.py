"""REST API: orders and returns pushed by other systems, and the measured impacts."""
from __future__ import annotations

import django_filters
from django.conf import settings
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from feedback.api.filters import IdFilter

from ..models import DailySales, ImpactStatus, IssueImpact
from ..permissions import SalesPermission
from ..services import SalesValidationError, sales_push
from .serializers import DailySalesSerializer, IssueImpactSerializer, SalesItemSerializer, SalesPushResultSerializer


class DailySalesFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku")
    product_category = django_filters.CharFilter(field_name="product__product_category")
    date_from = django_filters.DateFilter(field_name="day", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="day", lookup_expr="lte")

    class Meta:
        model = DailySales
        fields = ["sku", "product_category", "date_from", "date_to"]


class SalesListCreateView(generics.ListAPIView):
    """GET: daily orders and returns, filtered by sku, product_category, date_from, date_to.

    POST: a batch (a JSON list, or {"items": [...]}) of {date, sku, orders, returns,
    return_reason?}, upserted by (date, sku): a row replaces what was stored for
    its day and SKU. All or nothing: any invalid item refuses the whole batch
    with 400 and the errors by item index. At most API_BATCH_MAX items.
    """

    permission_classes = [SalesPermission]
    serializer_class = DailySalesSerializer
    filterset_class = DailySalesFilter
    queryset = DailySales.objects.select_related("product").order_by("-day", "product__sku")

    @extend_schema(request=SalesItemSerializer(many=True), responses={200: SalesPushResultSerializer})
    def post(self, request, *args, **kwargs):
        items = request.data.get("items") if isinstance(request.data, dict) else request.data
        if not isinstance(items, list) or not items:
            return Response({"detail": gettext("请提交非空的列表")}, status=status.HTTP_400_BAD_REQUEST)
        limit = getattr(settings, "API_BATCH_MAX", 1000)
        if len(items) > limit:
            return Response({"detail": gettext("每批最多 %(limit)s 条") % {"limit": limit}},
                            status=status.HTTP_400_BAD_REQUEST)
        try:
            result = sales_push(items=items, source=f"api:{request.user.get_username()}"[:60])
        except SalesValidationError as exc:
            return Response({"detail": gettext("数据有误，未保存任何一条"), "errors": exc.errors},
                            status=status.HTTP_400_BAD_REQUEST)
        return Response({"created": result.created, "updated": result.updated, "warnings": result.warnings})


class ImpactFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ImpactStatus.choices)
    # An id, not a choice among existing issues: an issue without a measured impact (or one that does
    # not exist) lists nothing, as any other filter that matches nothing.
    issue = IdFilter(field_name="issue_id", help_text="Issue id: the impact measured for this issue.")
    issue__department__code = django_filters.CharFilter(field_name="issue__department__code")

    class Meta:
        model = IssueImpact
        fields = ["status", "issue", "issue__department__code"]


class ImpactListView(generics.ListAPIView):
    """The measured impact of every resolution, newest action first; filter by department, status, issue."""

    permission_classes = [IsAuthenticated]
    serializer_class = IssueImpactSerializer
    filterset_class = ImpactFilter
    queryset = IssueImpact.objects.select_related("issue", "issue__category", "issue__department")
