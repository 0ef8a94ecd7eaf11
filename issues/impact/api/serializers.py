from rest_framework import serializers

from ..models import DailySales, IssueImpact


class DailySalesSerializer(serializers.ModelSerializer):
    date = serializers.DateField(source="day")
    sku = serializers.CharField(source="product.sku")
    product_category = serializers.CharField(source="product.product_category")
    return_rate = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = DailySales
        fields = ["date", "sku", "product_category", "orders", "returns", "return_rate", "return_reason", "source",
                  "updated_at"]


class SalesItemSerializer(serializers.Serializer):
    """One pushed row; documented for the schema, validated by the shared service."""

    date = serializers.CharField(help_text="2026-05-01, 2026/5/1 or 20260501")
    sku = serializers.CharField()
    orders = serializers.IntegerField(min_value=0)
    returns = serializers.IntegerField(min_value=0)
    return_reason = serializers.CharField(required=False, allow_blank=True, help_text="尺码偏小×3；色差×2")


class SalesPushResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    warnings = serializers.ListField(child=serializers.DictField())


class IssueImpactSerializer(serializers.ModelSerializer):
    issue_title = serializers.CharField(source="issue.title")
    category = serializers.CharField(source="issue.category.code")
    department = serializers.CharField(source="issue.department.code", default=None)

    class Meta:
        model = IssueImpact
        fields = [
            "id", "issue", "issue_title", "category", "department", "scope_label", "action", "action_date",
            "window_days", "status", "before_start", "before_end", "after_start", "after_end",
            "orders_before", "orders_after", "returns_before", "returns_after", "tickets_before", "tickets_after",
            "complaint_rate_before", "complaint_rate_after", "complaint_rate_change", "complaint_rate_p_value",
            "return_rate_before", "return_rate_after", "return_rate_change", "return_rate_p_value",
            "outcome", "effect", "verdict_zh", "verdict_en", "regressed", "regression_note", "measured_at",
            # The controlled measurement: how, against what, the changes' 95 % intervals, the old test's figures.
            "method", "controls", "complaint_rate_ci_low", "complaint_rate_ci_high", "return_rate_ci_low",
            "return_rate_ci_high", "details",
        ]
