from django.contrib import admin

from .models import DailySales, IssueImpact, ReturnSpike, SalesImportJob
from .services import impact_measure


@admin.register(DailySales)
class DailySalesAdmin(admin.ModelAdmin):
    list_display = ["day", "product", "orders", "returns", "source", "updated_at"]
    list_filter = ["day"]
    search_fields = ["product__sku", "product__name"]
    raw_id_fields = ["product"]
    date_hierarchy = "day"


@admin.register(IssueImpact)
class IssueImpactAdmin(admin.ModelAdmin):
    """Admins set a per-issue window here; saving re-measures the impact with it."""

    list_display = ["issue", "action_date", "window_days", "status", "outcome", "regressed", "measured_at"]
    list_filter = ["status", "outcome", "regressed"]
    search_fields = ["issue__title", "action"]
    raw_id_fields = ["issue"]
    fields = ["issue", "action", "action_date", "window_days_override", "status", "verdict_zh", "verdict_en",
              "regressed", "regression_note"]
    readonly_fields = ["issue", "action", "action_date", "status", "verdict_zh", "verdict_en", "regressed",
                       "regression_note"]

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        impact_measure(issue_id=obj.issue_id, window_days=obj.window_days_override)


@admin.register(ReturnSpike)
class ReturnSpikeAdmin(admin.ModelAdmin):
    list_display = ["product", "window_end", "return_rate", "baseline_rate", "category_code", "issue", "issue_created"]
    raw_id_fields = ["product", "issue"]


@admin.register(SalesImportJob)
class SalesImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "original_name", "status", "created", "updated", "failed", "created_by", "created_at"]
    readonly_fields = ["errors", "warnings"]
